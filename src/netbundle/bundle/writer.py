"""The deterministic bundle tar: the same members give the same bytes, on any machine, at any time.

Layout rules (``docs/bundle-format.md``): uncompressed POSIX.1-2001 (pax) tar; the manifest first, then the
signature files in name order, then every other member in path order; regular files only (no directory entries);
mode 0644, uid/gid 0, empty user/group names, one mtime for all (``SOURCE_DATE_EPOCH``). The reader
(:mod:`netbundle.runtime.reader`) depends on the first two rules to check signatures before reading further.

The file is written under a temporary name next to the output and renamed into place, so an interrupted build
never leaves a partial bundle at the output path.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from netbundle.runtime.manifest import MANIFEST_PATH, SIGNATURE_DIR, FileEntry, is_safe_member_path

if TYPE_CHECKING:
    from collections.abc import Mapping

_CHUNK = 1024 * 1024


#: A member's bytes: in memory, or the file that holds them.
Content = bytes | Path


def _size(content: Content) -> int:
    return len(content) if isinstance(content, bytes) else content.stat().st_size


def _open(content: Content) -> BinaryIO:
    return io.BytesIO(content) if isinstance(content, bytes) else content.open("rb")


def file_entry(path: str, kind: str, content: Content) -> FileEntry:
    """The manifest entry of a member: its size and sha256, read from the content itself."""
    digest = hashlib.sha256()
    size = 0
    with _open(content) as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileEntry(path=path, size=size, sha256=digest.hexdigest(), kind=kind)


def write_bundle(
    out: Path,
    *,
    manifest: bytes,
    signatures: Mapping[str, bytes],
    files: Mapping[str, Content],
    mtime: int,
) -> Path:
    """Write the bundle tar to ``out`` atomically and return ``out``.

    ``signatures`` maps member names under ``netbundle/signatures/`` to signature file bytes; ``files`` maps the
    manifest's file paths to their content.
    """
    members: list[tuple[str, Content]] = [(MANIFEST_PATH, manifest)]
    for name in sorted(signatures):
        if not name.startswith(SIGNATURE_DIR) or "/" in name[len(SIGNATURE_DIR) :]:
            raise ValueError(f"signature member outside {SIGNATURE_DIR}: {name}")
        members.append((name, signatures[name]))
    for path in sorted(files):
        if not is_safe_member_path(path):
            raise ValueError(f"unsafe bundle member path: {path}")
        members.append((path, files[path]))
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            for name, content in members:
                _add(tar, name, content, mtime)
        Path(temporary).chmod(0o644)
        Path(temporary).replace(out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return out


def _add(tar: tarfile.TarFile, name: str, content: Content, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = _size(content)
    info.mtime = mtime
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    with _open(content) as stream:
        tar.addfile(info, stream)
