"""The install prefix: numbered generations, the atomically switched ``current`` link, receipts, and a lock.

Layout (documented in ``docs/reference/installer.md``)::

    <prefix>/.netbundle-prefix           marks the directory as a netbundle prefix
    <prefix>/.lock                       flock(2) against concurrent runs
    <prefix>/current -> generations/0003-<bundle id[:12]>
    <prefix>/bin -> current/bin          (also lib, lib64, pyvenv.cfg: the prefix acts as the current venv)
    <prefix>/generations/NNNN-<id>/      a venv, complete once its receipt.json exists
    <prefix>/logs/                       pip output of every install
    <prefix>/.staging-XXXX/              a bundle being verified (removed after each run)

A generation is complete when ``receipt.json`` exists (written last, atomically). A generation directory is
built at its final path, not renamed into place, because a venv is not relocatable: its scripts name their
interpreter by absolute path. Directories without a receipt that ``current`` does not point to are leftovers of
a killed run and are removed by the next run that holds the lock.
"""

from __future__ import annotations

import contextlib
import errno
import os
import pathlib
import re
import shutil
from dataclasses import dataclass, replace

from .._atomic import fsync_dir, write_atomic
from ..errors import PrefixError
from .receipt import RECEIPT, Receipt, read_receipt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

MARKER = ".netbundle-prefix"
MARKER_TEXT = "netbundle-prefix 1\n"
LOCK = ".lock"
CURRENT = "current"
GENERATIONS = "generations"
STAGING_PREFIX = ".staging-"
#: Fixed links into ``current``: with ``pyvenv.cfg`` and the library directories the prefix itself is the current
#: venv, so ``<prefix>/bin/python`` is that venv's interpreter (Python finds a venv by the pyvenv.cfg beside or
#: above the path it was started by, without resolving symlinks). ``lib64`` is for platlibdir=lib64 builds.
PREFIX_LINKS = ("bin", "lib", "lib64", "pyvenv.cfg")
#: Complete generations kept besides ``current``'s; older ones are removed after a successful install.
KEEP_GENERATIONS = 5
_GENERATION = re.compile(r"^(\d{4,})-([A-Za-z0-9._-]+)$")


@dataclass(frozen=True)
class Generation:
    """A complete generation of a prefix."""

    number: int
    name: str
    path: pathlib.Path
    receipt: Receipt
    current: bool

    def to_json(self) -> Dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "path": str(self.path),
            "current": self.current,
            "receipt": self.receipt.to_json(),
        }


def generation_name(number: int, bundle_id: str) -> str:
    """``0007-netops-1.4.0`` (the bundle id shortened to 12 characters)."""
    return "{:04d}-{}".format(number, bundle_id[:12])


def parse_generation_name(name: str) -> Optional[int]:
    """The number of a generation directory name, or None for anything else."""
    found = _GENERATION.match(name)
    return int(found.group(1)) if found else None


# --- the prefix and its lock ---------------------------------------------------------------------------------------


def open_prefix(prefix: Union[str, os.PathLike[str]], create: bool = False) -> pathlib.Path:
    """The absolute prefix path, after checking it is a netbundle prefix (creating it when ``create``).

    :raises PrefixError: missing (and not ``create``), not a directory, or a non-empty directory that is not a
        netbundle prefix (netbundle never takes over a directory it did not make).
    """
    path = pathlib.Path(prefix).absolute()
    marker = path / MARKER
    if marker.is_file():
        return path
    if not create:
        raise PrefixError(
            "{} is not a netbundle prefix (no {})".format(path, MARKER),
            hint="give the --prefix a bundle was installed into",
        )
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise PrefixError(
            "{} exists and is not a netbundle prefix".format(path),
            hint="choose a new or empty directory as --prefix",
        )
    try:
        (path / GENERATIONS).mkdir(parents=True, exist_ok=True)
        write_atomic(marker, MARKER_TEXT.encode("ascii"))
    except OSError as exc:
        raise PrefixError("cannot create prefix {}: {}".format(path, exc.strerror)) from None
    return path


@contextlib.contextmanager
def prefix_lock(prefix: pathlib.Path) -> Iterator[None]:
    """Hold the prefix's exclusive lock for the block; fail at once when another run holds it."""
    import fcntl  # POSIX only, like the rest of the installer

    try:
        handle = (prefix / LOCK).open("a")
    except OSError as exc:
        raise PrefixError("cannot open the lock of prefix {}: {}".format(prefix, exc.strerror)) from None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise PrefixError(
                    "prefix {} is locked by another netbundle run".format(prefix),
                    hint="wait for it to finish; the lock is released when that process exits",
                ) from None
            raise PrefixError("cannot lock prefix {}: {}".format(prefix, exc.strerror)) from None
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# --- reading generations -----------------------------------------------------------------------------------------


def current_name(prefix: pathlib.Path) -> Optional[str]:
    """The generation directory name ``current`` points to, or None before the first install."""
    try:
        target = os.fspath((prefix / CURRENT).readlink())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PrefixError("{}/{} is not a symlink: {}".format(prefix, CURRENT, exc.strerror)) from None
    return target.rstrip("/").rsplit("/", 1)[-1]


def read_generations(prefix: pathlib.Path) -> List[Generation]:
    """The complete generations of a prefix, oldest first."""
    active = current_name(prefix)
    found = []
    for number, path in _generation_dirs(prefix):
        receipt = read_receipt(path)
        if receipt is not None:
            found.append(Generation(number, path.name, path, receipt, path.name == active))
    return found


def current_generation(prefix: pathlib.Path) -> Optional[Generation]:
    for generation in read_generations(prefix):
        if generation.current:
            return generation
    return None


def _generation_dirs(prefix: pathlib.Path) -> List[Tuple[int, pathlib.Path]]:
    root = prefix / GENERATIONS
    if not root.is_dir():
        return []
    dirs = []
    for path in root.iterdir():
        number = parse_generation_name(path.name)
        if number is not None and path.is_dir() and not path.is_symlink():
            dirs.append((number, path))
    return sorted(dirs)


# --- changing generations ----------------------------------------------------------------------------------------


def new_generation_dir(prefix: pathlib.Path, bundle_id: str) -> pathlib.Path:
    """The path for the next generation (one past the highest number ever present); not created."""
    numbers = [number for number, _ in _generation_dirs(prefix)]
    return prefix / GENERATIONS / generation_name(max(numbers, default=0) + 1, bundle_id)


def switch_current(prefix: pathlib.Path, name: str) -> None:
    """Point ``current`` at ``generations/<name>`` atomically (a new symlink renamed over the old one)."""
    for link in PREFIX_LINKS:
        _replace_symlink(prefix / link, "{}/{}".format(CURRENT, link))
    _replace_symlink(prefix / CURRENT, "{}/{}".format(GENERATIONS, name))


def _replace_symlink(link: pathlib.Path, target: str) -> None:
    if link.is_symlink() and os.fspath(link.readlink()) == target:
        return
    temporary = link.with_name(".{}.{}.tmp".format(link.name, os.getpid()))
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(target)
    temporary.replace(link)
    fsync_dir(link.parent)


def clean_leftovers(prefix: pathlib.Path) -> List[str]:
    """Remove staging directories and incomplete generations (not ``current``) left by killed runs.

    Call only while holding :func:`prefix_lock`. Returns the removed names.
    """
    removed = []
    active = current_name(prefix)
    for path in sorted(prefix.glob(STAGING_PREFIX + "*")):
        remove_tree(path)
        removed.append(path.name)
    for _, path in _generation_dirs(prefix):
        if path.name != active and not (path / RECEIPT).exists():
            remove_tree(path)
            removed.append("{}/{}".format(GENERATIONS, path.name))
    return removed


def prune(prefix: pathlib.Path, keep: int = KEEP_GENERATIONS) -> List[str]:
    """Remove the oldest complete generations beyond the newest ``keep`` (never ``current``)."""
    generations = read_generations(prefix)
    removed = []
    for generation in generations[: max(len(generations) - keep, 0)]:
        if not generation.current:
            remove_tree(generation.path)
            removed.append(generation.name)
    return removed


def remove_tree(path: pathlib.Path) -> None:
    """Remove a directory tree (or a file/link); a missing path is fine."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(str(path))


# --- rollback ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RollbackResult:
    """The generation made current by a rollback, and the one it replaced."""

    previous: Generation
    current: Generation

    def to_json(self) -> Dict[str, Any]:
        return {"from": self.previous.to_json(), "to": self.current.to_json()}

    def render_text(self) -> str:
        return render_rollback(self)


def rollback(prefix: Union[str, os.PathLike[str]], to: Optional[int] = None) -> RollbackResult:
    """Make an earlier generation current: the one before ``current``, or generation number ``to``.

    :raises PrefixError: not a prefix, locked, nothing to roll back to, or no generation ``to``.
    """
    path = open_prefix(prefix)
    with prefix_lock(path):
        generations = read_generations(path)
        active = next((g for g in generations if g.current), None)
        if active is None:
            raise PrefixError("prefix {} has no current generation".format(path))
        chosen = _rollback_choice(generations, active, to, path)
        switch_current(path, chosen.name)
    return RollbackResult(replace(active, current=False), replace(chosen, current=True))


def _rollback_choice(
    generations: List[Generation], active: Generation, to: Optional[int], prefix: pathlib.Path
) -> Generation:
    numbers = ", ".join(str(g.number) for g in generations)
    if to is None:
        older = [g for g in generations if g.number < active.number]
        if not older:
            raise PrefixError(
                "prefix {}: generation {} is the oldest kept; nothing to roll back to".format(
                    prefix, active.number
                ),
                hint="generations: " + numbers,
            )
        return older[-1]
    for generation in generations:
        if generation.number == to:
            return generation
    raise PrefixError("prefix {} has no generation {}".format(prefix, to), hint="generations: " + numbers)


# --- rendering ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationList:
    """The complete generations of a prefix, oldest first (the ``list`` command's result)."""

    prefix: pathlib.Path
    generations: Tuple[Generation, ...]

    def to_json(self) -> Dict[str, Any]:
        return {"prefix": str(self.prefix), "generations": [g.to_json() for g in self.generations]}

    def render_text(self) -> str:
        return render_generations(list(self.generations))


def list_generations(prefix: Union[str, os.PathLike[str]]) -> GenerationList:
    """The generations of an existing prefix (no lock: reading is safe while an install runs).

    :raises PrefixError: not a netbundle prefix, or a damaged receipt.
    """
    path = open_prefix(prefix)
    return GenerationList(path, tuple(read_generations(path)))


def render_generations(generations: List[Generation]) -> str:
    """One line per generation, ``*`` marking current."""
    if not generations:
        return "no generations installed"
    lines = []
    for g in generations:
        r = g.receipt
        lines.append(
            "{} {:>4}  {} {}  target {}  groups {}  installed {}".format(
                "*" if g.current else " ",
                g.number,
                r.project,
                r.version,
                r.target,
                ",".join(r.groups),
                r.installed_at,
            )
        )
    return "\n".join(lines)


def render_rollback(result: RollbackResult) -> str:
    return "rolled back from generation {} ({} {}) to generation {} ({} {})".format(
        result.previous.number,
        result.previous.receipt.project,
        result.previous.receipt.version,
        result.current.number,
        result.current.receipt.project,
        result.current.receipt.version,
    )
