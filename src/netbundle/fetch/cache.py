"""A content-addressed file cache shared by every build: ``<root>/sha256/<aa>/<digest>``.

A file becomes visible only after its bytes hashed to its name (written to ``<root>/tmp`` first, then renamed), so
a failed or interrupted download leaves nothing behind, and a rebuild of an unchanged lock finds every file by the
hash the lock already gives, without asking any index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

from netbundle._atomic import atomic_output
from netbundle.errors import IntegrityError


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """``$NETBUNDLE_CACHE_DIR``, else ``$XDG_CACHE_HOME/netbundle``, else ``~/.cache/netbundle``."""
    if environ.get("NETBUNDLE_CACHE_DIR"):
        return Path(environ["NETBUNDLE_CACHE_DIR"])
    base = environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "netbundle"


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def store(self, sha256: str, write: Callable[[BinaryIO], object]) -> Path:
        """Run ``write`` on a temporary file, check its sha256, and move it into place."""
        final = self.path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(final) as handle:
            write(handle)
            handle.flush()
            handle.seek(0)
            # a real file object: file_digest reads it with readinto, which typing.BinaryIO does not declare
            actual = hashlib.file_digest(handle, "sha256").hexdigest()  # type: ignore[arg-type]
            if actual != sha256:
                raise IntegrityError(
                    f"cache: content hashed to {actual}, expected {sha256}; nothing was cached"
                )
        return final

    def store_file(self, source: Path, sha256: str) -> Path:
        """Copy a local file into the cache after checking its hash."""

        def copy(out: BinaryIO) -> None:
            with source.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    out.write(chunk)

        return self.store(sha256, copy)
