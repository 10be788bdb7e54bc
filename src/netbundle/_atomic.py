"""The one way netbundle writes a file or a directory that someone may read while it is written.

Every output (bundle, lock export, key, receipt, report, cache entry) is written under a temporary name in the
target's own directory, flushed and fsynced, renamed over the target, and the directory is fsynced: a crash or a
kill leaves either the old file or the new one, never a torn one. Shipped in ``netbundle.pyz`` (Python 3.9 code,
standard library only).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import pathlib
import shutil
import stat
import sys
import tempfile

from .errors import OutputError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, BinaryIO, Union

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


#: The output name that means "standard output" (``-o -``).
STDOUT = "-"


def check_output(path: PathLike) -> str:
    """Say how ``path`` will be written, or refuse it before any work is done.

    Returns ``"replace"`` (a missing or regular file, replaced atomically), ``"device"`` (a character device such
    as ``/dev/null``, written through: renaming a file over it would replace the device) or ``"stdout"`` (``-``).
    A directory, a FIFO, a socket or a block device is refused, as is a parent that is not a directory.
    """
    if os.fspath(path) == STDOUT:
        return "stdout"
    try:
        found = pathlib.Path(path).stat()
    except FileNotFoundError:
        return "replace"  # a missing parent is reported by the write itself
    except NotADirectoryError:
        raise OutputError(
            "cannot write {}: a parent of it is a file, not a directory".format(path),
            hint="choose an output path inside a directory",
        ) from None
    except OSError as exc:
        raise _output_error(path, exc) from None
    if stat.S_ISREG(found.st_mode):
        return "replace"
    if stat.S_ISCHR(found.st_mode):
        return "device"
    kind = "a directory" if stat.S_ISDIR(found.st_mode) else "a special file (FIFO, socket or block device)"
    raise OutputError(
        "cannot write {}: it is {}, not a regular file".format(path, kind),
        hint="name a file to create or replace (or - for standard output)",
    )


def prepare_output(path: PathLike) -> str:
    """Check ``path`` as :func:`check_output` does, create its parent directories, and try a write beside it.

    Called before long work (a build) so that a read-only or missing output folder fails first, not last.
    """
    how = check_output(path)
    if how != "replace":
        return how
    parent = pathlib.Path(path).parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".probe.", suffix=PARTIAL_SUFFIX, dir=parent)
        os.close(fd)
        pathlib.Path(name).unlink()
    except OSError as exc:
        raise _output_error(path, exc) from None
    return how


def _output_error(path: PathLike, exc: OSError) -> OutputError:
    """One sentence for an ``OSError`` met while writing ``path`` (read-only, full, no permission, ...)."""
    reason = exc.strerror or str(exc)
    hint = "choose a writable output directory"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "free space on the file system of {} (or write elsewhere)".format(pathlib.Path(path).parent)
    return OutputError("cannot write {}: {}".format(path, reason), hint=hint)


#: Errors that can only come from writing (the ones a caller's block may also meet while it fills the file).
_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)


@contextlib.contextmanager
def atomic_output(path: PathLike, *, mode: int = 0o644) -> Iterator[BinaryIO]:
    """Yield a binary file that becomes ``path`` (with ``mode``) only when the block finishes without error.

    The temporary file lives next to ``path``; on any error (or interrupt) it is removed and ``path`` is untouched.
    A character device (``/dev/null``) is written through and ``-`` writes to standard output (never replaced);
    a directory or another special file is refused (:func:`check_output`). A file system that is read-only or
    full is reported as an :class:`~netbundle.errors.OutputError` naming ``path``.
    """
    how = check_output(path)
    if how != "replace":
        with _stream(path, how) as handle:
            yield handle
        return
    target = pathlib.Path(path)
    try:
        fd, name = tempfile.mkstemp(prefix="." + target.name + ".", suffix=PARTIAL_SUFFIX, dir=target.parent)
    except OSError as exc:
        raise _output_error(path, exc) from None
    temporary = pathlib.Path(name)
    try:
        with os.fdopen(fd, "w+b") as handle:
            yield handle
            _finish(path, handle)
        _rename(path, temporary, target, mode)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
            raise _output_error(path, exc) from None
        raise
    fsync_dir(target.parent)


def _finish(path: PathLike, handle: BinaryIO) -> None:
    try:
        handle.flush()
        os.fsync(handle.fileno())
    except OSError as exc:
        raise _output_error(path, exc) from None


def _rename(path: PathLike, temporary: pathlib.Path, target: pathlib.Path, mode: int) -> None:
    try:
        temporary.chmod(mode)
        temporary.replace(target)
    except OSError as exc:
        raise _output_error(path, exc) from None


@contextlib.contextmanager
def _stream(path: PathLike, how: str) -> Iterator[BinaryIO]:
    """Standard output or a character device, opened for writing without truncating or replacing it."""
    if how == "stdout":
        sys.stdout.flush()
        fd = os.dup(sys.stdout.fileno())
    else:
        fd = os.open(os.fspath(path), os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    raw = _Counting(fd)
    try:
        with io.BufferedWriter(raw) as handle:
            yield handle
    except OSError as exc:
        if exc.errno in _WRITE_ERRNOS:
            raise _output_error(path, exc) from None
        raise


class _Counting(io.RawIOBase):
    """A write-only file descriptor that knows how many bytes went through it (``tell`` works on a pipe)."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        count = os.write(self._fd, data)
        self._written += count
        return count

    def tell(self) -> int:
        return self._written

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


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
    if os.path.lexists(os.fspath(target)) and not target.is_dir():
        raise OutputError(
            "cannot write the directory {}: something that is not a directory is there".format(target),
            hint="name a new or existing directory",
        )
    try:
        staging = pathlib.Path(
            tempfile.mkdtemp(prefix="." + target.name + ".", suffix=PARTIAL_SUFFIX, dir=target.parent)
        )
    except OSError as exc:
        raise _output_error(path, exc) from None
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
