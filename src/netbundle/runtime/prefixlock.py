"""The prefix lock: ``flock(2)`` on ``<prefix>/.lock``, held by the installer and by the pip it runs.

A flock belongs to the open file, not to a process: pip gets a copy of the lock's file descriptor, so the lock is
held until the installer *and* its pip are gone. If the installer is killed (``kill -9``, a lost SSH session), its
pip is killed too (parent-death signal, :mod:`netbundle.runtime.pip`), and the next run cannot start while that pip
is still writing into the prefix.

The lock file records the pid of the run that took it. When the lock is busy and that pid is gone, what holds the
lock is a leftover of a killed run (its pip, on its way out): the next run waits a few seconds for it, then names
it in the error. When the pid is alive, another run is installing and the error says so at once.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl  # POSIX only, like the rest of the installer
import os
import time

from ..errors import PrefixError
from .ownership import open_private

TYPE_CHECKING = False
if TYPE_CHECKING:
    import pathlib
    from typing import Iterator, Optional

#: How long a run waits for the leftover processes of a killed run to release the lock.
STALE_WAIT_SECONDS = 10.0
_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)


@contextlib.contextmanager
def hold(path: pathlib.Path, stale_wait: float = STALE_WAIT_SECONDS) -> Iterator[int]:
    """Hold the exclusive lock at ``path`` for the block; yield its file descriptor (to pass on to pip).

    :raises PrefixError: another live run holds it, or a killed run's leftover still holds it after
        ``stale_wait`` seconds, or the lock file cannot be opened (a symlink is refused).
    """
    fd = open_private(path, os.O_RDWR | os.O_CREAT)
    try:
        _acquire(fd, path, stale_wait)
        os.ftruncate(fd, 0)
        os.pwrite(fd, "{}\n".format(os.getpid()).encode("ascii"), 0)
        yield fd
    finally:
        # no LOCK_UN: it would release the lock for every copy of the descriptor, pip's too; the lock ends when
        # the last copy is closed
        os.close(fd)


def _acquire(fd: int, path: pathlib.Path, stale_wait: float) -> None:
    deadline = None  # type: Optional[float]
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in _BUSY:
                raise PrefixError("cannot lock prefix {}: {}".format(path.parent, exc.strerror)) from None
        owner = recorded_owner(fd)
        if owner is not None and is_alive(owner):
            raise PrefixError(
                "prefix {} is locked by another netbundle run (pid {})".format(path.parent, owner),
                hint="wait for it to finish; the lock is released when that process exits",
            )
        deadline = deadline if deadline is not None else time.monotonic() + stale_wait
        if time.monotonic() >= deadline:
            raise PrefixError(
                "prefix {} is locked by a process left behind by a killed netbundle run{}".format(
                    path.parent, " (pid {}, now gone)".format(owner) if owner else ""
                ),
                hint="a pip of that run still holds {}: find it with `fuser {}` and stop it".format(
                    path, path
                ),
            )
        time.sleep(0.05)


def recorded_owner(fd: int) -> Optional[int]:
    """The pid written into the lock file by the run that holds it (None when unreadable)."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isascii() and text.isdigit() else None


def is_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a zombie counts as gone: it holds no files)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/{}/stat".format(pid)) as stat:  # noqa: PTH123  # Linux only; absent elsewhere
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True
