"""Writing outputs safely: to a temporary file beside the target, then renamed into place (:mod:`netbundle._atomic`)."""

from __future__ import annotations

from pathlib import Path

from netbundle._atomic import write_atomic


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never a partial one."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)
