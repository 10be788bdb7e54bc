"""What ``pip check`` checks, over a venv's installed metadata, with the shipped ``packaging``.

For every installed distribution: each ``Requires-Dist`` whose marker holds here (with no extra requested, as pip
evaluates it) names an installed distribution whose version satisfies the specifier (pre-releases allowed, like
pip), and one of the tags in its ``WHEEL`` file is supported by this interpreter. :func:`find_problems` is pure
(plain metadata in, messages out, worded like pip's); :func:`read_installed` is the I/O.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import InstallError
from .distinfo import read_distributions
from .wheelplan import wheel_tags_supported

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Mapping, Optional, Sequence, Tuple


@dataclass(frozen=True)
class InstalledDistribution:
    """The metadata ``pip check`` looks at: name, version, ``Requires-Dist`` lines, ``WHEEL`` tags."""

    name: str
    version: Optional[str]  # None: the METADATA has no Version (importlib.metadata's value then)
    requires: Tuple[str, ...]
    wheel_tags: Tuple[str, ...]


def read_installed(site_dirs: Sequence[str]) -> List[InstalledDistribution]:
    """Every distribution in ``site_dirs`` (the first of a name wins, as on ``sys.path``), sorted by name.

    The METADATA header blocks are read once each (:mod:`.distinfo`), not parsed whole by importlib.metadata.
    :raises InstallError: a METADATA cannot be read.
    """
    found = [
        InstalledDistribution(info.name, info.version, info.requires, _wheel_tags(info.path))
        for info in read_distributions(site_dirs)
    ]
    return sorted(found, key=lambda dist: dist.name)


def _wheel_tags(dist_info: str) -> Tuple[str, ...]:
    """The ``Tag:`` lines of the distribution's ``WHEEL`` file (none when it has none)."""
    path = pathlib.Path(dist_info, "WHEEL")
    try:
        wheel = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return ()  # what importlib.metadata's read_text leaves out
    except UnicodeDecodeError as exc:
        raise InstallError(
            "cannot read {}: it is not UTF-8 ({})".format(path, exc.reason),
            hint="the wheel that installed it is broken; do not use this bundle",
        ) from None
    return tuple(line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:"))


def find_problems(
    installed: Sequence[InstalledDistribution], environment: Mapping[str, str], host_tags: Sequence[str]
) -> List[str]:
    """pip check's findings, one message each (empty: the environment is consistent).

    >>> a = InstalledDistribution("a", "1.0", ("b>=2",), ())
    >>> find_problems([a], {}, ())
    ['a 1.0 requires b, which is not installed.']
    """
    versions = {dist.name: dist.version for dist in installed}
    problems: List[str] = []
    for dist in installed:
        if dist.wheel_tags and not wheel_tags_supported(dist.wheel_tags, host_tags):
            problems.append("{} {} is not supported on this platform".format(dist.name, dist.version))
        for line in dist.requires:
            problem = _requirement_problem(dist, line, versions, environment)
            if problem:
                problems.append(problem)
    return problems


def _requirement_problem(
    dist: InstalledDistribution,
    line: str,
    versions: Mapping[str, Optional[str]],
    environment: Mapping[str, str],
) -> Optional[str]:
    try:
        requirement = Requirement(line)
    except InvalidRequirement:
        return "{} {} has an invalid requirement {!r}".format(dist.name, dist.version, line)
    if requirement.marker is not None:
        context = dict(environment)
        context["extra"] = ""
        if not requirement.marker.evaluate(context):
            return None
    name = canonicalize_name(requirement.name)
    have = versions.get(name)
    if have is None:
        return "{} {} requires {}, which is not installed.".format(dist.name, dist.version, name)
    try:
        fits = requirement.specifier.contains(Version(have), prereleases=True)
    except InvalidVersion:
        fits = requirement.specifier.contains(have, prereleases=True)
    if not fits:
        return "{} {} has requirement {}, but you have {} {}.".format(
            dist.name, dist.version, requirement, name, have
        )
    return None
