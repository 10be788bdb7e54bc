"""The dependency walk of a lock without per-package markers (lock-version 1.x and 2.0), as Poetry exports it.

Locks before 2.1 do not say which group needs a package nor under which marker, so ``poetry export`` walks the graph
from the project's requirements (poetry-plugin-export ``walker.py``, ``walk_dependencies`` and
``get_locked_package``). This module walks it the same way:

- breadth first from the selected groups' requirements (main first, then the groups in pyproject order), each
  ANDed with the project's Python constraint; a package's ``python-versions`` is ANDed into what it requires;
- each requirement of a locked package is split into the Python ranges its locked candidates care about (where
  their ``python-versions`` differ), and each range is looked up on its own;
- the candidate is the highest version whose ``python-versions`` covers the requirement's Python range and that the
  constraint allows; once a version of a package is chosen for some environments, a later requirement that
  overlaps them must choose it too. When two chosen versions overlap a requirement, or the version chosen before
  does not fit it, Poetry gives up and asks for a relock with Poetry 2; so does this walk;
- a direct reference of the project (path, git, url) takes only a package locked from that kind of source;
- a requirement of the project itself (a plugin that depends on the application) is skipped;
- extras: a dependency's ``extra`` comparisons are dropped (Poetry's ``without_extras``); an optional dependency is
  followed when an extra requested on its parent names it.

One deviation, on purpose: Poetry decides whether an extra names an optional dependency by comparing the whole
requirement, so ``urllib3[socks]`` misses ``pysocks (>=1.5.6,!=1.5.7,<2.0)`` spelled differently in the
dependency table, and its file lacks pysocks (pip then refuses it in hash mode). Here the name decides.

Marker questions (empty? which Python range?) are answered by :class:`netbundle.lock.space.MarkerSpace`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from netbundle.errors import LockError
from netbundle.lock import markers as m
from netbundle.lock.constraints import allows
from netbundle.lock.model import Lock, LockedPackage
from netbundle.lock.pyproject import MAIN_GROUP, Project, RootRequirement
from netbundle.lock.space import MarkerSpace

#: (name, version) -> (package, marker, groups that reach it): what :mod:`netbundle.lock.groups` consumes.
Found = dict[tuple[str, str], tuple[LockedPackage, m.Node, set[str]]]

_RELOCK = (
    "re-lock with Poetry 2 (`poetry lock` writes lock-version 2.1, which records each package's markers)"
)


@dataclass(frozen=True, slots=True)
class _Requirement:
    """One requirement on the walk's queue: a name, a version constraint and the marker it applies under."""

    name: str
    constraint: str
    extras: tuple[str, ...]
    marker: m.Node
    mask: int
    group: str
    #: who asked for it, for messages
    origin: str
    #: a direct reference's source type (root requirements only): only a package locked from it fits
    source_type: str | None = None


@dataclass(slots=True)
class _Decision:
    package: LockedPackage
    marker: m.Node
    mask: int
    groups: set[str]


def walk(project: Project, lock: Lock, groups: frozenset[str], extras: frozenset[str]) -> Found:
    """Every locked package the selected groups and extras need, with the marker under which each applies.

    :raises LockError: when the lock lacks a required package, or when Poetry's walk would give up (two locked
        versions of one package cannot be told apart for some environment).
    """
    return _Walk(project, lock, extras).run(_roots(project, lock, groups, extras))


def _roots(
    project: Project, lock: Lock, groups: frozenset[str], extras: frozenset[str]
) -> list[tuple[str, RootRequirement]]:
    """The selected groups' direct requirements, in Poetry's order; an optional one only when enabled.

    As poetry-plugin-export does, "optional" is the *locked* package's flag, and an extra enables the packages it
    names and everything they depend on (``get_extra_package_names``).
    """
    enabled = _extra_closure(project, lock, extras)
    found = []
    for name, group in project.groups.items():
        if name not in groups:
            continue
        for req in group.requirements:
            if (
                name == MAIN_GROUP
                and req.optional
                and req.name not in enabled
                and _locked_optional(lock, req.name)
            ):
                continue
            found.append((name, req))
    return found


def _extra_closure(project: Project, lock: Lock, extras: frozenset[str]) -> set[str]:
    stack = [name for extra in sorted(extras) for name in project.extras.get(extra, ())]
    seen: set[str] = set()
    while stack:
        name = stack.pop()
        if name in seen or not lock.find(name):
            continue
        seen.add(name)
        stack += [str(dep.name) for package in lock.find(name) for dep in package.dependencies]
    return seen


def _locked_optional(lock: Lock, name: str) -> bool:
    return all(p.optional for p in lock.find(name))


class _Walk:
    """State of one walk: the marker space, the candidates per name and the decisions taken so far."""

    def __init__(self, project: Project, lock: Lock, extras: frozenset[str]) -> None:
        self.root = project.name
        self.lock = lock
        self.extras = extras
        self.python = m.python_constraint(project.requires_python or lock.python_versions)
        self.dependency_markers = {
            (p.name, p.version, index): m.all_of(
                m.parse(dep.markers, where=f"{p.name} {p.version} -> {dep.name}"),
                m.python_constraint(dep.python_versions),
            )
            for p in lock.packages
            for index, dep in enumerate(p.dependencies)
        }
        self.package_python = {
            (p.name, p.version): m.python_constraint(p.python_versions) for p in lock.packages
        }
        root_markers = [
            m.parse(r.marker) for group in project.groups.values() for r in group.requirements if r.marker
        ]
        self.space = MarkerSpace(
            [self.python, *root_markers, *self.dependency_markers.values(), *self.package_python.values()]
        )
        self.candidates: dict[str, list[LockedPackage]] = {}
        for package in lock.packages:
            self.candidates.setdefault(package.name, []).append(package)
        for packages in self.candidates.values():
            packages.sort(key=_version_key, reverse=True)
        self.regions: dict[str, list[tuple[m.Node, int]]] = {}
        #: (name, version, requested extras) -> decision; Poetry keys its decisions by the package *with* its
        #: features, and looks earlier decisions up without them
        self.decided: dict[tuple[str, str, tuple[str, ...]], _Decision] = {}

    def run(self, roots: Sequence[tuple[str, RootRequirement]]) -> Found:
        queue: deque[_Requirement] = deque()
        for group, root in roots:
            marker = m.all_of(
                m.apply_extras(m.parse(root.marker, where=f"{self.root} {root.name}"), self.extras),
                self.python,
            )
            mask = self.space.mask(marker)
            if mask:
                queue.append(
                    _Requirement(
                        root.name,
                        root.constraint,
                        root.extras,
                        marker,
                        mask,
                        group,
                        f"group {group}",
                        root.source_type,
                    )
                )
        visited: set[tuple[str, str, tuple[str, ...], int]] = set()
        while queue:
            req = queue.popleft()
            key = (req.name, req.constraint, req.extras, req.mask)
            if key in visited or (req.name == self.root and self.root):
                continue
            visited.add(key)
            queue.extend(self._step(req))
        found: Found = {}
        for decision in self.decided.values():
            ident = (decision.package.name, decision.package.version)
            if ident in found:
                _, marker, groups = found[ident]
                found[ident] = (
                    decision.package,
                    m.any_of((marker, decision.marker)),
                    groups | decision.groups,
                )
            else:
                found[ident] = (decision.package, decision.marker, set(decision.groups))
        return {ident: (p, self._simplify(marker), g) for ident, (p, marker, g) in found.items()}

    def _step(self, req: _Requirement) -> Iterator[_Requirement]:
        package = self._choose(req)
        python = self.package_python[(package.name, package.version)]
        marker = m.all_of(req.marker, python)
        mask = req.mask & self.space.mask(python)
        self._decide(package, req, marker, mask)
        enabled = _enabled_by(package, req.extras)
        for index, dep in enumerate(package.dependencies):
            if dep.optional and str(dep.name) not in enabled:
                continue
            base = m.without_extras(
                m.all_of(self.dependency_markers[(package.name, package.version, index)], marker)
            )
            base_mask = self.space.mask(base)
            if not base_mask:
                continue
            if not self.lock.find(dep.name):
                if dep.name == self.root:
                    continue
                raise LockError(
                    f"{package.name} {package.version} needs {dep.name}, which is not in the lock",
                    hint="the lock is incomplete or stale: run `poetry lock`",
                )
            for region, region_mask in self._regions(dep.name):
                if base_mask & region_mask:
                    yield _Requirement(
                        str(dep.name),
                        dep.constraint,
                        dep.extras,
                        m.all_of(region, base),
                        base_mask & region_mask,
                        req.group,
                        f"{package.name} {package.version}",
                    )

    def _decide(self, package: LockedPackage, req: _Requirement, marker: m.Node, mask: int) -> None:
        key = (package.name, package.version, tuple(sorted(req.extras)))
        decision = self.decided.get(key)
        if decision is None:
            self.decided[key] = _Decision(package, marker, mask, {req.group})
        elif mask & ~decision.mask or req.group not in decision.groups:
            decision.marker = (
                decision.marker if not mask & ~decision.mask else m.any_of((decision.marker, marker))
            )
            decision.mask |= mask
            decision.groups.add(req.group)

    def _choose(self, req: _Requirement) -> LockedPackage:
        """poetry-plugin-export ``get_locked_package``: one locked package for this requirement, or a refusal."""
        candidates = self.candidates.get(req.name, [])
        if not candidates:
            raise LockError(
                f"{req.origin} needs {req.name}, which is not in the lock",
                hint="the lock is incomplete or stale: run `poetry lock`",
            )
        overlapping = [
            p
            for p in candidates
            if (d := self.decided.get((p.name, p.version, ()))) is not None and d.mask & req.mask
        ]
        locked = ", ".join(p.version for p in candidates)
        if len(overlapping) > 1:
            raise LockError(
                f"poetry.lock: {req.origin} requires {req.name} {req.constraint} where both "
                f"{' and '.join(p.version for p in overlapping)} were already chosen: the lock does not say which "
                "applies where; Poetry refuses this lock too",
                hint=_RELOCK,
            )
        compatible = [
            p
            for p in candidates
            if not req.mask & ~self.space.mask(self.package_python[(p.name, p.version)])
            and allows(req.constraint, p.version)
            and (req.source_type is None or (p.source is not None and p.source.type == req.source_type))
        ]
        if overlapping:
            chosen = [p for p in compatible if p is overlapping[0]]
            if not chosen:
                raise LockError(
                    f"poetry.lock: {req.origin} requires {req.name} {req.constraint} where {req.name} "
                    f"{overlapping[0].version} was already chosen (locked: {locked}): the lock does not say which "
                    "version applies where; Poetry refuses this lock too",
                    hint=_RELOCK,
                )
            compatible = chosen
        if not compatible:
            raise LockError(
                f"poetry.lock: {req.origin} requires {req.name} {req.constraint}, and no locked version of it "
                f"(locked: {locked}) fits that and every Python version it applies to; Poetry refuses this lock too",
                hint=_RELOCK,
            )
        return compatible[0]

    def _regions(self, name: str) -> list[tuple[m.Node, int]]:
        """poetry-plugin-export ``get_python_version_region_markers``: the Python ranges between every bound of
        the candidates' ``python-versions``."""
        if name in self.regions:
            return self.regions[name]
        blocks = [
            self.space.python_blocks(self.space.mask(self.package_python[(p.name, p.version)]))
            for p in self.candidates[name]
        ]
        count = len(self.space.pythons)
        runs: list[int] = []
        previous: tuple[int, ...] | None = None
        for index in range(count):
            vector = tuple(b >> index & 1 for b in blocks)
            if vector != previous:
                runs.append(0)
                previous = vector
            runs[-1] |= 1 << index
        self.regions[name] = [(self._python_marker(run), self.space.expand(run)) for run in runs]
        return self.regions[name]

    def _python_marker(self, blocks: int) -> m.Node:
        """A marker for a set of Python intervals, in Poetry's spelling (``python_version`` when the bound has no
        micro version)."""
        terms = []
        for low, high in self.space.python_runs(blocks):
            parts = [_bound(">=", low)] if low is not None else []
            parts += [_bound("<", high)] if high is not None else []
            terms.append(m.all_of(*(m.parse(p) for p in parts)))
        return m.any_of(terms)

    def _simplify(self, marker: m.Node) -> m.Node:
        """The marker, or an equivalent Python-only marker when it depends on Python alone (most do)."""
        mask = self.space.mask(marker)
        blocks = self.space.python_blocks(mask)
        if self.space.expand(blocks) != mask:
            return marker
        if mask & self.space.mask(self.python) == self.space.mask(self.python):
            return m.TRUE  # the project's own range: select_packages adds it
        return self._python_marker(blocks)


def _bound(op: str, version: Version) -> str:
    major, minor, micro = (*version.release, 0, 0, 0)[:3]
    if micro == 0:
        return f'python_version {op} "{major}.{minor}"'
    return f'python_full_version {op} "{major}.{minor}.{micro}"'


def _enabled_by(package: LockedPackage, requested: Sequence[str]) -> set[str]:
    """The optional dependencies that the extras requested on ``package`` name (by name, not by spelling)."""
    return {
        canonicalize_name(re.split(r"[\s(\[;<>=!~]", item, maxsplit=1)[0])
        for extra in requested
        for item in package.extras.get(canonicalize_name(extra), ())
    }


def _version_key(package: LockedPackage) -> tuple[int, Version | str]:
    try:
        return (1, Version(package.version))
    except InvalidVersion:
        return (0, package.version)
