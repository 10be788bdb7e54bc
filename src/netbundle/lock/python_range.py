"""The project's Python constraint against the targets a bundle or an export is made for."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from netbundle.errors import LockError
from netbundle.lock import markers as m
from netbundle.lock.model import Lock
from netbundle.lock.pyproject import Project


class _Target(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def python_full_version(self) -> str: ...

    def marker_environment(self) -> Mapping[str, str]: ...


def project_python(project: Project, lock: Lock) -> str:
    """The project's Python constraint as Poetry reads it (pyproject.toml, else the lock's ``python-versions``)."""
    return project.requires_python or lock.python_versions


def check_targets_python(project: Project, lock: Lock, targets: Iterable[_Target], *, where: str) -> None:
    """Refuse a target whose Python the project does not allow: its bundle would hold almost nothing.

    :raises LockError: naming the target, its Python and the constraint (exit 3).
    """
    constraint = project_python(project, lock)
    allowed = m.python_constraint(constraint)
    outside = [t for t in targets if not m.evaluate(allowed, t.marker_environment())]
    if outside:
        names = ", ".join(f"{t.name} (Python {t.python_full_version})" for t in outside)
        raise LockError(
            f"{where}: target {names} is outside the project's Python constraint {constraint!r}",
            hint=f"pick a target whose Python {constraint!r} allows, or widen the constraint and run `poetry lock`",
        )
