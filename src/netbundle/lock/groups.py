"""Which locked packages a selection of groups and extras needs, and under which markers.

The selection flags mean what they mean to ``poetry export``: ``main`` is in unless ``--only`` leaves it out,
non-optional groups are in by default, ``--with`` adds optional groups, ``--without`` wins over ``--with``.

lock-version 2.1 records, per package, its groups and a marker per group, so selection is a filter (as
poetry-plugin-export's ``get_project_dependency_packages2``). Older locks (1.x, 2.0) record neither, so the engine
walks the graph from the project's direct requirements the way Poetry's exporter does (:mod:`netbundle.lock.walker`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from netbundle.errors import LockError
from netbundle.lock import markers as m
from netbundle.lock.model import Lock, SelectedPackage
from netbundle.lock.pyproject import MAIN_GROUP, Project
from netbundle.lock.walker import Found, walk


@dataclass(frozen=True, kw_only=True, slots=True)
class GroupSelection:
    """The export/build selection flags."""

    with_groups: tuple[str, ...] = ()
    without_groups: tuple[str, ...] = ()
    only_groups: tuple[str, ...] = ()
    all_groups: bool = False
    extras: tuple[str, ...] = ()
    all_extras: bool = False


def resolve_groups(project: Project, selection: GroupSelection) -> frozenset[str]:
    """The selected group names, as ``poetry export`` computes them (its default groups are just ``main``).

    ``--only`` wins over ``--with``/``--without``; ``--all-groups`` means ``--with`` every group; values may be
    comma-separated. Unknown names are a :class:`LockError`.
    """
    known = set(project.groups) | {MAIN_GROUP}
    flags = {
        "--with": _split(selection.with_groups),
        "--without": _split(selection.without_groups),
        "--only": _split(selection.only_groups),
    }
    for flag, names in flags.items():
        unknown = sorted(names - known)
        if unknown:
            raise LockError(
                f"{flag}: unknown group {', '.join(unknown)} in project {project.name or '(non-package)'}",
                hint="groups defined: " + ", ".join(sorted(known)),
            )
    if flags["--only"]:
        return frozenset(flags["--only"])
    with_groups = known if selection.all_groups else flags["--with"]
    return frozenset(({MAIN_GROUP} | with_groups) - flags["--without"])


def _split(values: Sequence[str]) -> set[str]:
    return {canonicalize_name(g.strip()) for value in values for g in value.split(",") if g.strip()}


def resolve_extras(project: Project, lock: Lock, selection: GroupSelection) -> frozenset[str]:
    """The selected root extras; unknown names are a :class:`LockError`."""
    if selection.all_extras:
        return frozenset(project.extras)
    wanted = _split(selection.extras)
    unknown = sorted(wanted - set(project.extras))
    if unknown:
        raise LockError(
            f"unknown extra {', '.join(unknown)} in project {project.name or '(non-package)'}",
            hint="extras defined: " + (", ".join(sorted(project.extras)) or "none"),
        )
    return frozenset(wanted)


def select_packages(project: Project, lock: Lock, selection: GroupSelection) -> tuple[SelectedPackage, ...]:
    """Every locked package the selection needs, with its marker (project Python range included)."""
    groups = resolve_groups(project, selection)
    extras = resolve_extras(project, lock, selection)
    python = m.python_constraint(project.requires_python or lock.python_versions)
    found = _filter(lock, groups, extras) if lock.has_group_markers else walk(project, lock, groups, extras)
    result = []
    for package, marker, via in found.values():
        combined = m.all_of(python, marker)
        if combined is m.FALSE:
            continue
        result.append(
            SelectedPackage(package=package, marker=m.render(combined) or None, groups=frozenset(via))
        )
    return tuple(sorted(result, key=lambda s: (s.package.name, _version_key(s.package.version))))


def select_for_environment(
    selected: Iterable[SelectedPackage], environment: Mapping[str, str], *, where: str = "target"
) -> tuple[SelectedPackage, ...]:
    """The packages whose marker holds in ``environment`` (a target's complete marker environment).

    :raises LockError: when two versions of one package both apply (an inconsistent lock).
    """
    chosen: dict[str, SelectedPackage] = {}
    for item in selected:
        if not m.evaluate(m.parse(item.marker), environment):
            continue
        previous = chosen.get(item.package.name)
        if previous is not None and previous.package.version != item.package.version:
            raise LockError(
                f"{where}: both {item.package.name} {previous.package.version} and {item.package.version} apply",
                hint="the lock's markers overlap for this environment: re-lock with a current Poetry",
            )
        chosen[item.package.name] = SelectedPackage(package=item.package, marker=None, groups=item.groups)
    return tuple(chosen[name] for name in sorted(chosen))


def _filter(lock: Lock, groups: frozenset[str], extras: frozenset[str]) -> Found:
    found: Found = {}
    for package in lock.packages:
        via = set(package.groups) & groups
        if not via:
            continue
        marker = m.any_of(
            m.parse(package.markers.get(g), where=f"{package.name} markers") for g in sorted(via)
        )
        marker = m.apply_extras(marker, extras)
        if marker is not m.FALSE:
            found[(package.name, package.version)] = (package, marker, via)
    return found


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)
