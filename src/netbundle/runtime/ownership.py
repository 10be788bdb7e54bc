"""Who may change an install prefix: only the installing user (or root), never another user or group.

An install often runs as root. If another user owns the prefix (pre-created it), or can write to it or to a
directory above it, that user can repoint ``current``, plant a symlink in ``logs/`` that root then writes through,
or swap a generation while pip runs. So before a prefix is used, the prefix, its ``generations/`` and ``logs/``
directories and its ``.lock`` and marker files, and every directory above the prefix, must be owned by the
installing user or root, and not be writable by other users (a directory above may be world-writable only with
the sticky bit, like ``/tmp``). Files in the prefix are opened with ``O_NOFOLLOW`` (and new ones ``O_EXCL``): a
symlink planted in their place is refused, never followed.
"""

from __future__ import annotations

import contextlib
import os
import stat

from ..errors import PrefixError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import pathlib
    from typing import Iterable

#: Entries of a prefix that are checked like the prefix itself (``current`` and the other links are the
#: prefix's own symlinks: their owner is checked, not their target).
CHECKED_ENTRIES = (".netbundle-prefix", ".lock", "generations", "logs", "current")


def ownership_problem(st: os.stat_result, uid: int, gid: int, *, above: bool = False) -> str:
    """Why a file with status ``st`` must not be trusted by user ``uid`` (group ``gid``), or ``""``.

    ``above``: a directory above the prefix, which may be world-writable when sticky (``/tmp``).

    >>> import os
    >>> ownership_problem(os.stat_result((0o40777, 0, 0, 0, 1000, 1000, 0, 0, 0, 0)), 0, 0)
    'it is owned by uid 1000, not by uid 0 or root'
    """
    if st.st_uid not in (uid, 0):
        return "it is owned by uid {}, not by uid {} or root".format(st.st_uid, uid)
    if stat.S_ISLNK(st.st_mode):
        return ""  # a symlink's own mode bits mean nothing; its owner was checked
    sticky = stat.S_ISDIR(st.st_mode) and bool(st.st_mode & stat.S_ISVTX)
    if st.st_mode & stat.S_IWOTH and not (above and sticky):
        return "it is writable by every user (mode {:o})".format(stat.S_IMODE(st.st_mode))
    if st.st_mode & stat.S_IWGRP and st.st_gid not in (gid, 0) and not (above and sticky):
        return "it is writable by group {} (mode {:o})".format(st.st_gid, stat.S_IMODE(st.st_mode))
    return ""


def check_prefix_ownership(prefix: pathlib.Path) -> None:
    """Refuse ``prefix`` unless it, its own entries and every directory above it pass :func:`ownership_problem`.

    :raises PrefixError: naming the path and what is wrong with it.
    """
    uid, gid = os.geteuid(), os.getegid()
    real = prefix.resolve()
    for directory in _above(real):
        with contextlib.suppress(FileNotFoundError):  # a prefix not created yet: check what exists above it
            _check(directory, directory.stat(), uid, gid, above=True)
    for path in (real, *(real / name for name in CHECKED_ENTRIES)):
        with contextlib.suppress(FileNotFoundError):
            _check(path, path.lstat(), uid, gid)


def _above(path: pathlib.Path) -> Iterable[pathlib.Path]:
    return reversed(path.parents)


def _check(path: pathlib.Path, st: os.stat_result, uid: int, gid: int, above: bool = False) -> None:
    problem = ownership_problem(st, uid, gid, above=above)
    if problem:
        raise PrefixError(
            "refusing prefix: {} is not safe: {}".format(path, problem),
            hint="use a prefix that only this user (or root) owns and can write, e.g. chown -R and chmod go-w it",
        )


def open_private(path: pathlib.Path, flags: int) -> int:
    """``os.open`` of a file inside the prefix with ``O_NOFOLLOW`` (mode 0600 when created).

    A symlink in its place is refused (``ELOOP``), never followed.
    :raises PrefixError: the path is a symlink or cannot be opened.
    """
    try:
        return os.open(str(path), flags | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        if path.is_symlink():
            raise PrefixError(
                "refusing to write {}: it is a symlink".format(path),
                hint="remove the link; something planted it in the prefix",
            ) from None
        raise PrefixError("cannot open {}: {}".format(path, exc.strerror)) from None


def create_log(path: pathlib.Path) -> int:
    """A new log file at ``path`` (0600, ``O_EXCL|O_NOFOLLOW``); a leftover file or link of that name goes first."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # unlink never follows a symlink: a planted link is removed, its target untouched
    return open_private(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
