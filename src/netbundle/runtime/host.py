"""The host the installer runs on, and the choice of the bundle target that fits it.

:meth:`HostInfo.current` is the only place that asks the running interpreter what it is (through
``packaging.tags`` and ``packaging.markers``); :func:`choose_target` is pure and decides from plain values, so
tests pass fake tag lists.
"""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass

from packaging.tags import sys_tags
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from ..errors import BundleFormatError, TargetError, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

    from ..format.manifest import Manifest, TargetEntry

#: packaging's interpreter short names, as bundle targets spell the implementation.
_IMPLEMENTATIONS = {"cpython": "cp", "pypy": "pp"}


@dataclass(frozen=True)
class HostInfo:
    """What this host accepts: its Python version and implementation, and its wheel tags, best first."""

    python_version: str
    implementation: str
    tags: Tuple[str, ...]
    marker_environment: Mapping[str, str]

    @classmethod
    def current(cls) -> HostInfo:
        """The running interpreter (the only I/O of this module)."""
        from packaging.markers import default_environment

        name = sys.implementation.name
        return cls(
            python_version="{}.{}".format(*sys.version_info[:2]),
            implementation=_IMPLEMENTATIONS.get(name, name),
            tags=tuple(str(tag) for tag in sys_tags()),
            marker_environment={k: str(v) for k, v in default_environment().items()},
        )

    @property
    def label(self) -> str:
        """``cp39-manylinux_2_35_x86_64``: implementation, version and the best platform tag."""
        platform_tag = self.tags[0].split("-")[-1] if self.tags else platform.machine()
        return "{}{}-{}".format(self.implementation, self.python_version.replace(".", ""), platform_tag)

    def to_json(self) -> Dict[str, Any]:
        return {
            "python_version": self.python_version,
            "implementation": self.implementation,
            "label": self.label,
            "tags": list(self.tags),
            "marker_environment": dict(self.marker_environment),
        }


@dataclass(frozen=True)
class TargetFit:
    """Whether one bundle target fits the host; ``reasons`` say why not, ``rank`` orders fitting targets."""

    target: TargetEntry
    reasons: Tuple[str, ...]
    rank: int

    @property
    def fits(self) -> bool:
        return not self.reasons


def target_label(target: TargetEntry) -> str:
    """``cp311-manylinux_2_28_x86_64``, the way the builder names a target in its inline form."""
    platform_tag = target.platforms[0] if target.platforms else "any"
    return "{}{}-{}".format(target.implementation, target.python_version.replace(".", ""), platform_tag)


def evaluate_target(manifest: Manifest, target: TargetEntry, host: HostInfo) -> TargetFit:
    """Check one target against the host: Python version, implementation, and a host tag for every wheel.

    ``rank`` is the host-priority index of the target's own most specific tag, so that of two fitting targets
    (say manylinux_2_28 and manylinux_2_34 on a glibc 2.35 host) the more specific one wins.
    """
    reasons = []  # type: List[str]
    if _minor(target.python_version) != _minor(host.python_version):
        reasons.append(
            "needs Python {} (this host runs {})".format(target.python_version, host.python_version)
        )
    if target.implementation != host.implementation:
        reasons.append(
            "needs implementation {} (this host is {})".format(target.implementation, host.implementation)
        )
    if not reasons:
        unfit = _unfit_wheels(manifest, target.name, frozenset(host.tags))
        if unfit:
            shown = ", ".join(unfit[:3]) + (" and {} more".format(len(unfit) - 3) if len(unfit) > 3 else "")
            reasons.append("no host tag fits {}".format(shown))
    return TargetFit(target, tuple(reasons), _rank(target, host.tags))


def named_target(manifest: Manifest, name: str) -> TargetEntry:
    """The bundle's target called ``name``.

    :raises UsageError: the bundle has no such target; the hint lists the ones it has.
    """
    try:
        return manifest.target(name)
    except KeyError:
        raise UsageError(
            "bundle {} has no target {!r}".format(manifest.bundle_id, name),
            hint="its targets are: " + ", ".join(t.name for t in manifest.targets),
        ) from None


def choose_target(manifest: Manifest, host: HostInfo, wanted: Optional[str] = None) -> TargetEntry:
    """The bundle target to install on this host: ``wanted`` if given (and fitting), else the best fit.

    :raises UsageError: ``wanted`` is not a target of the bundle.
    :raises TargetError: no target (or not ``wanted``) fits; the message names the targets and the host.
    """
    candidates = [named_target(manifest, wanted)] if wanted is not None else list(manifest.targets)
    fits = [evaluate_target(manifest, target, host) for target in candidates]
    good = [fit for fit in fits if fit.fits]
    if good:
        # min() keeps the first of equal ranks: manifest order breaks ties.
        return min(good, key=lambda fit: fit.rank).target
    raise TargetError(_no_fit_message(fits, host), hint=_no_fit_hint(fits))


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _unfit_wheels(manifest: Manifest, target_name: str, host_tags: frozenset[str]) -> List[str]:
    """File names of the target's wheels that carry no tag this host supports (unparsable names included)."""
    unfit = []
    for package in manifest.packages:
        for artifact in package.artifacts:
            if target_name not in artifact.targets or not artifact.path.endswith(".whl"):
                continue
            filename = artifact.path.rsplit("/", 1)[-1]
            try:
                wheel_tags = parse_wheel_filename(filename)[3]
            except InvalidWheelFilename:
                unfit.append(filename)
                continue
            if not any(str(tag) in host_tags for tag in wheel_tags):
                unfit.append(filename)
    return unfit


def _rank(target: TargetEntry, host_tags: Tuple[str, ...]) -> int:
    """Index of the target's best own tag (interpreter-abi-platform) in the host's list; the end if none."""
    interpreter = "{}{}".format(target.implementation, target.python_version.replace(".", ""))
    own = {
        "{}-{}-{}".format(interpreter, abi, platform_tag)
        for abi in (target.abis or (interpreter,))
        for platform_tag in target.platforms
    }
    for index, tag in enumerate(host_tags):
        if tag in own:
            return index
    return len(host_tags)


def _no_fit_message(fits: List[TargetFit], host: HostInfo) -> str:
    first = " (first tag {})".format(host.tags[0]) if host.tags else ""
    return "bundle targets {}; this host is {}{}".format(
        ", ".join(target_label(fit.target) for fit in fits), host.label, first
    )


def _no_fit_hint(fits: List[TargetFit]) -> str:
    return "; ".join("{}: {}".format(fit.target.name, ", ".join(fit.reasons)) for fit in fits) + (
        "; build a bundle with a target for this host, or run with a Python the bundle targets"
    )


def select_groups(
    manifest: Manifest, target: TargetEntry, groups: Optional[Sequence[str]]
) -> Tuple[str, ...]:
    """``main``, then the asked groups in the bundle's order.

    :raises UsageError: a group the bundle does not carry. :raises BundleFormatError: no lock for a group.
    """
    asked = list(dict.fromkeys(groups or ()))
    unknown = [g for g in asked if g not in manifest.groups]
    if unknown:
        raise UsageError(
            "bundle {} does not carry group {}".format(manifest.bundle_id, ", ".join(unknown)),
            hint="it carries: " + ", ".join(manifest.groups),
        )
    chosen = ("main", *(g for g in manifest.groups if g != "main" and g in asked))
    missing = [g for g in chosen if g not in target.locks]
    if missing:
        raise BundleFormatError(
            "bundle {} has no lock for group {} on target {}".format(
                manifest.bundle_id, ", ".join(missing), target.name
            )
        )
    return chosen
