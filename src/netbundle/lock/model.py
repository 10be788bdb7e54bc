"""The lock as values: what poetry.lock says, parsed, with no I/O and no Poetry.

These frozen dataclasses are the contract between the lock engine (``netbundle.lock``), the fetcher
(``netbundle.fetch``) and the bundle writer (``netbundle.bundle``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Mapping

    from netbundle._types import NormalizedName, Sha256

SourceType = Literal["legacy", "url", "file", "directory", "git"]
SourcePriority = Literal["primary", "supplemental", "explicit", "default", "secondary"]


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedFile:
    """One distribution file of a locked package, as listed in the lock's ``files``."""

    filename: str
    sha256: Sha256

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


@dataclass(frozen=True, kw_only=True, slots=True)
class PackageSource:
    """The lock's ``[package.source]``: where a package must come from.

    ``reference`` is the source *name* for ``legacy`` sources, the branch/tag/rev asked for with ``git``.
    ``url`` may carry credentials as written by the user; render it only through a redacting function.
    """

    type: SourceType
    url: str
    reference: str | None = None
    resolved_reference: str | None = None
    subdirectory: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DependencySpec:
    """One entry of a locked package's ``[package.dependencies]`` (a name may have several, split by markers)."""

    name: NormalizedName
    constraint: str = "*"
    markers: str | None = None
    extras: tuple[str, ...] = ()
    optional: bool = False
    python_versions: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LockedPackage:
    """One ``[[package]]`` of poetry.lock.

    ``groups`` and ``markers`` are filled only by lock-version 2.1 (Poetry 2); with 2.0 they are empty and the
    engine walks the dependency graph instead. ``markers`` maps a group to its marker (a plain string in the lock
    applies to every group of the package).
    """

    name: NormalizedName
    version: str
    description: str = ""
    optional: bool = False
    python_versions: str = "*"
    files: tuple[LockedFile, ...] = ()
    dependencies: tuple[DependencySpec, ...] = ()
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    source: PackageSource | None = None
    develop: bool = False
    groups: tuple[str, ...] = ()
    markers: Mapping[str, str] = field(default_factory=dict)

    @property
    def wheels(self) -> tuple[LockedFile, ...]:
        return tuple(f for f in self.files if f.is_wheel)

    @property
    def sdists(self) -> tuple[LockedFile, ...]:
        return tuple(f for f in self.files if not f.is_wheel)


@dataclass(frozen=True, kw_only=True, slots=True)
class Lock:
    """A parsed poetry.lock."""

    lock_version: str
    content_hash: str
    python_versions: str
    packages: tuple[LockedPackage, ...]
    #: The Poetry version named in the lock's ``@generated`` header, when there is one.
    poetry_version: str | None = None

    @property
    def has_group_markers(self) -> bool:
        """lock-version 2.1 and newer record each package's groups and markers (Poetry 2); older locks are walked."""
        major, _, minor = self.lock_version.partition(".")
        return (int(major), int(minor or 0)) >= (2, 1)

    def find(self, name: str) -> tuple[LockedPackage, ...]:
        """Every locked package with this (already normalised) name; several when split by markers."""
        return tuple(p for p in self.packages if p.name == name)


@dataclass(frozen=True, kw_only=True, slots=True)
class SelectedPackage:
    """A locked package chosen for an export or a bundle, with the marker under which it applies.

    ``marker`` is None when the package applies in every environment (or after per-target evaluation).
    ``groups`` are the selected groups that brought it in.
    """

    package: LockedPackage
    marker: str | None
    groups: frozenset[str]
