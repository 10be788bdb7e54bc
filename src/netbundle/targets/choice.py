"""Which file of each locked package a target installs (pure).

Only files listed in the lock are candidates: their hashes are what everything downstream pins. Among the wheels,
the one whose best tag ranks highest in the target's tag priority wins (a ``py3-none-any`` wheel serves every
target). With no fitting wheel, the package's sdist (or its git/path/url source) is chosen for a build on the
build host; with neither, the reason is reported with the tags that were available.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from netbundle.errors import TargetError
from netbundle.lock.model import LockedFile, LockedPackage, SelectedPackage
from netbundle.targets import Target

ChoiceKind = Literal["wheel", "sdist", "url", "file", "git", "directory"]
#: Kinds whose result is not a wheel from the lock and must be built on the build host.
BUILD_KINDS = frozenset({"sdist", "git", "directory"})


@dataclass(frozen=True, kw_only=True, slots=True)
class Choice:
    """The file (or source) that installs ``package`` on ``target``."""

    package: LockedPackage
    target: str
    kind: ChoiceKind
    file: LockedFile | None

    @property
    def needs_build(self) -> bool:
        return self.kind in BUILD_KINDS or (self.kind in ("url", "file") and not _is_wheel(self.file))


def _is_wheel(file: LockedFile | None) -> bool:
    return file is not None and file.is_wheel


def choose(package: LockedPackage, target: Target, ranks: dict[str, int]) -> Choice:
    """The best file of ``package`` for ``target`` (``ranks``: tag string -> priority, from target.tags()).

    :raises TargetError: nothing in the lock can serve this target.
    """
    source = package.source
    if source is not None and source.type in ("git", "directory"):
        return Choice(package=package, target=target.name, kind=source.type, file=None)
    if source is not None and source.type in ("url", "file"):
        file = package.files[0] if package.files else None
        if file is not None and file.is_wheel and _rank(file, ranks) is None:
            raise _no_fit(package, target)
        return Choice(package=package, target=target.name, kind=source.type, file=file)
    ranked = [(rank, f.filename, f) for f in package.wheels if (rank := _rank(f, ranks)) is not None]
    if ranked:
        return Choice(package=package, target=target.name, kind="wheel", file=min(ranked)[2])
    sdists = package.sdists
    if sdists:
        return Choice(
            package=package,
            target=target.name,
            kind="sdist",
            file=min(sdists, key=lambda f: f.filename),
        )
    raise _no_fit(package, target)


def _rank(file: LockedFile, ranks: dict[str, int]) -> int | None:
    try:
        tags = parse_wheel_filename(file.filename)[3]
    except InvalidWheelFilename:
        return None
    found = [ranks[str(tag)] for tag in tags if str(tag) in ranks]
    return min(found) if found else None


def _no_fit(package: LockedPackage, target: Target) -> TargetError:
    available = sorted({_tag_text(f) for f in package.wheels}) or ["no wheels"]
    shown = ", ".join(available[:6]) + (f" and {len(available) - 6} more" if len(available) > 6 else "")
    return TargetError(
        f"{package.name} {package.version}: no file in the lock fits target {target.name} ({target.label});"
        f" the lock has {shown}, and no sdist",
        hint="pin a version that publishes a wheel for this platform, or build one on a runner of that platform",
    )


def _tag_text(file: LockedFile) -> str:
    try:
        return ".".join(sorted(str(t) for t in parse_wheel_filename(file.filename)[3]))
    except InvalidWheelFilename:
        return file.filename


def choose_all(selected: Iterable[SelectedPackage], target: Target) -> tuple[Choice, ...]:
    """A choice for every selected package; every package that cannot be served is reported in one error."""
    ranks = {str(tag): index for index, tag in enumerate(target.tags())}
    choices, problems = [], []
    for item in selected:
        try:
            choices.append(choose(item.package, target, ranks))
        except TargetError as exc:
            problems.append(exc)
    if problems:
        if len(problems) == 1:
            raise problems[0]
        raise TargetError(
            f"{len(problems)} packages cannot be served for target {target.name}: "
            + "; ".join(p.message for p in problems),
            hint=problems[0].hint,
        )
    return tuple(choices)
