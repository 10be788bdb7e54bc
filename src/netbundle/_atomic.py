"""The one way netbundle writes a file or a directory that someone may read while it is written.

Every output (bundle, lock export, key, receipt, report, cache entry) is written under a temporary name in the
target's own directory, flushed and fsynced, renamed over the target, and the directory is fsynced: a crash or a
kill leaves either the old file or the new one, never a torn one. Shipped in ``netbundle.pyz`` (Python 3.9 code,
standard library only).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import tempfile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import BinaryIO, Union

    PathLike = Union[str, "os.PathLike[str]"]

#: The suffix of every temporary file and directory this module makes (easy to find after a power cut).
PARTIAL_SUFFIX = ".partial"


def fsync_dir(directory: PathLike) -> None:
    """Make a rename or creation inside ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(os.fspath(directory), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_output(path: PathLike, *, mode: int = 0o644) -> Iterator[BinaryIO]:
    """Yield a binary file that becomes ``path`` (with ``mode``) only when the block finishes without error.

    The temporary file lives next to ``path``; on any error (or interrupt) it is removed and ``path`` is untouched.
    """
    target = pathlib.Path(path)
    fd, name = tempfile.mkstemp(prefix="." + target.name + ".", suffix=PARTIAL_SUFFIX, dir=target.parent)
    temporary = pathlib.Path(name)
    try:
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        temporary.chmod(mode)
        temporary.replace(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    fsync_dir(target.parent)


def write_atomic(path: PathLike, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically and durably (see :func:`atomic_output`)."""
    with atomic_output(path, mode=mode) as handle:
        handle.write(data)


@contextlib.contextmanager
def atomic_directory(path: PathLike) -> Iterator[pathlib.Path]:
    """Yield an empty staging directory that replaces the directory ``path`` when the block succeeds.

    An existing ``path`` is moved aside and removed only after the new one is in place; on error the staging
    directory is removed and ``path`` is untouched.
    """
    target = pathlib.Path(path)
    staging = pathlib.Path(
        tempfile.mkdtemp(prefix="." + target.name + ".", suffix=PARTIAL_SUFFIX, dir=target.parent)
    )
    try:
        yield staging
        old = None
        if target.exists():
            old = pathlib.Path(
                tempfile.mkdtemp(prefix="." + target.name + ".", suffix=".old", dir=target.parent)
            )
            target.replace(old / target.name)
        staging.replace(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    fsync_dir(target.parent)
