"""Which locked packages a selection of groups and extras needs, and under which markers.

The selection flags mean what they mean to ``poetry export``: ``main`` is in unless ``--only`` leaves it out,
non-optional groups are in by default, ``--with`` adds optional groups, ``--without`` wins over ``--with``.

lock-version 2.1 records, per package, its groups and a marker per group, so selection is a filter (as
poetry-plugin-export's ``get_project_dependency_packages2``). lock-version 2.0 records neither, so the engine walks
the graph from the project's direct requirements: markers are ANDed along a path and ORed across paths, each
package's ``python-versions`` becomes a marker, and extras requested on a dependency enable its optional
dependencies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from netbundle.errors import LockError
from netbundle.lock import markers as m
from netbundle.lock.model import Lock, LockedPackage, SelectedPackage
from netbundle.lock.pyproject import MAIN_GROUP, Project, RootRequirement

_MAX_WALK_STEPS = 200_000

#: (name, version) -> (package, marker, groups that reach it)
_Found = dict[tuple[str, str], tuple[LockedPackage, m.Node, set[str]]]


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
    if lock.lock_version == "2.0":
        found = _walk(project, lock, groups, extras)
    else:
        found = _filter(lock, groups, extras)
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


def _filter(lock: Lock, groups: frozenset[str], extras: frozenset[str]) -> _Found:
    found: _Found = {}
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


# --- lock-version 2.0: walk the graph -------------------------------------------------------------------------------


def _walk(project: Project, lock: Lock, groups: frozenset[str], extras: frozenset[str]) -> _Found:
    found: _Found = {}
    queue: list[tuple[LockedPackage, m.Node, tuple[str, ...], str]] = []
    for group in sorted(groups):
        for req in _root_requirements(project, lock, group, extras):
            marker = m.apply_extras(m.parse(req.marker, where=f"{project.name} {req.name}"), extras)
            for package in _candidates(lock, req.name, req.constraint, where=f"group {group}"):
                queue.append((package, marker, req.extras, group))
    extras_seen: dict[tuple[str, str], set[tuple[str, ...]]] = {}
    steps = 0
    while queue:
        steps += 1
        if steps > _MAX_WALK_STEPS:
            raise LockError("the lock's dependency graph did not settle while propagating markers")
        package, marker, wanted_extras, group = queue.pop()
        marker = m.all_of(marker, m.python_constraint(package.python_versions))
        if marker is m.FALSE:
            continue
        key = (package.name, package.version)
        _, old_marker, via = found.get(key, (package, m.FALSE, set()))
        new_marker = m.any_of((old_marker, marker))
        seen = extras_seen.setdefault(key, set())
        if new_marker == old_marker and group in via and wanted_extras in seen:
            continue
        seen.add(wanted_extras)
        found[key] = (package, new_marker, via | {group})
        queue.extend(_children(lock, package, marker, wanted_extras, group))
    return found


def _root_requirements(
    project: Project, lock: Lock, group: str, extras: frozenset[str]
) -> list[RootRequirement]:
    """The group's direct requirements; an optional one only when a selected extra enables it.

    As poetry-plugin-export does for 2.0 locks, "optional" is the *locked* package's flag: a root extra's package
    that the lock marks non-optional (another group needs it) is exported without the extra.
    """
    reqs = list(project.groups[group].requirements)
    if group == MAIN_GROUP:
        enabled = {name for extra in extras for name in project.extras.get(extra, ())}
        reqs = [r for r in reqs if not r.optional or r.name in enabled or not _locked_optional(lock, r.name)]
    return reqs


def _locked_optional(lock: Lock, name: str) -> bool:
    return all(p.optional for p in lock.find(name))


def _children(
    lock: Lock, package: LockedPackage, marker: m.Node, wanted_extras: Sequence[str], group: str
) -> list[tuple[LockedPackage, m.Node, tuple[str, ...], str]]:
    enabled = {
        canonicalize_name(re.split(r"[\s(\[;<>=!~]", item, maxsplit=1)[0])
        for extra in wanted_extras
        for item in package.extras.get(canonicalize_name(extra), ())
    }
    requested = frozenset(canonicalize_name(e) for e in wanted_extras)
    children = []
    for dep in package.dependencies:
        if dep.optional and str(dep.name) not in enabled:
            continue
        # `extra == "x"` on a dependency refers to the extras requested on *this* package (httpx[socks]).
        dep_marker = m.apply_extras(m.parse(dep.markers, where=f"{package.name} -> {dep.name}"), requested)
        edge = m.all_of(marker, dep_marker)
        edge = m.all_of(edge, m.python_constraint(dep.python_versions))
        if edge is m.FALSE:
            continue
        for child in _candidates(lock, dep.name, dep.constraint, where=f"{package.name} {package.version}"):
            children.append((child, edge, dep.extras, group))
    return children


def _candidates(lock: Lock, name: str, constraint: str, *, where: str) -> tuple[LockedPackage, ...]:
    packages = lock.find(name)
    if not packages:
        raise LockError(
            f"{where} needs {name}, which is not in the lock",
            hint="the lock is incomplete or stale: run `poetry lock`",
        )
    if len(packages) == 1:
        return packages
    allowed = tuple(p for p in packages if _allows(constraint, p.version))
    return allowed or packages


def _allows(constraint: str, version: str) -> bool:
    """Does a Poetry version constraint (``^1.2``, ``~1.2``, ``>=1,<2``, ``1.*``, ``a || b``) allow ``version``?"""
    try:
        parsed = Version(version)
    except InvalidVersion:
        return True
    for alternative in re.split(r"\s*\|\|?\s*", constraint.strip()):
        try:
            if all(parsed in spec for spec in _specifiers(alternative)):
                return True
        except InvalidSpecifier:
            return True
    return False


def specifier_for(constraint: str) -> str | None:
    """A Poetry constraint (``^3.9``, ``>=3.8,<4``) as a PEP 440 specifier, or None when it has alternatives."""
    if "|" in constraint:
        return None
    try:
        specs = _specifiers(constraint)
    except (InvalidSpecifier, ValueError):
        return None
    return ",".join(str(spec) for spec in specs)


def _specifiers(text: str) -> list[SpecifierSet]:
    specs = []
    for part in [p for p in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", text.strip()) if p]:
        part = part.strip("() ")
        if part in ("", "*"):
            continue
        if part[0] in "^~" and not part.startswith("~="):
            base = part[1:].strip()
            release = [int(x) for x in re.findall(r"\d+", base)[:3]]
            if part[0] == "^":
                index = next((i for i, x in enumerate(release) if x != 0), len(release) - 1)
            else:
                index = min(1, len(release) - 1)
            upper = ".".join(str(x) for x in [*release[:index], release[index] + 1])
            specs.append(SpecifierSet(f">={base},<{upper}"))
        elif part[0].isdigit():
            specs.append(SpecifierSet(f"=={part}"))
        else:
            specs.append(SpecifierSet(part))
    return specs


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)
