"""Export the locked requirements of a Poetry project (what ``netbundle export`` prints), without Poetry.

:func:`export_requirements` is the whole command as a library call: it loads the project, selects the groups and
extras the request names, and renders one text per output (stdout, a file, or one file per target). The
packages, versions and hashes are those ``poetry export --with-hashes`` selects for the same lock and flags
(tests/unit/lock/test_poetry_exports.py); credentials are never written. :func:`write_export` writes the files.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from netbundle.errors import UsageError
from netbundle.lock.export import ExportOptions, has_credentials, render_requirements
from netbundle.lock.files import write_text_atomic
from netbundle.lock.groups import GroupSelection, select_for_environment, select_packages
from netbundle.lock.model import LockedFile, LockedPackage, SelectedPackage
from netbundle.lock.project import LoadedProject, load_project
from netbundle.lock.python_range import check_targets_python
from netbundle.targets import resolve_targets, targets_from_config

_log = logging.getLogger(__name__)

ExportFormat = Literal["requirements.txt", "constraints.txt", "pylock.toml"]
FORMATS: tuple[ExportFormat, ...] = ("requirements.txt", "constraints.txt", "pylock.toml")


@dataclass(frozen=True, kw_only=True, slots=True)
class ExportRequest:
    """What to export: the selection and format flags of ``poetry export``, plus netbundle's targets.

    ``output`` is a file (or None: one text for stdout); with several ``targets`` it is a directory that gets one
    file per target. ``index_url`` and ``environ`` are used by ``pylock.toml`` only (to find file URLs).
    """

    selection: GroupSelection = field(default_factory=GroupSelection)
    format: ExportFormat = "requirements.txt"
    with_hashes: bool = True
    with_urls: bool = True
    targets: tuple[str, ...] = ()
    output: Path | None = None
    index_url: str | None = None
    environ: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class ExportedFile:
    """One rendered export: ``path`` None means stdout."""

    path: Path | None
    text: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ExportResult:
    files: tuple[ExportedFile, ...]

    @property
    def text(self) -> str:
        """The text of a single export (the one stdout gets)."""
        (only,) = self.files
        return only.text


def export_requirements(project_dir: Path, request: ExportRequest) -> ExportResult:
    """Render the export of the project in ``project_dir`` (nothing is written: see :func:`write_export`).

    :raises InputError, StaleLockError, LockError: the project or its lock cannot serve the request.
    :raises UsageError: several targets without a directory ``output``; an unknown target.
    """
    loaded = load_project(project_dir)
    selected = select_packages(loaded.pyproject, loaded.lock, request.selection)
    _warn_credentials(loaded, selected)
    if not request.targets:
        return ExportResult(
            files=(ExportedFile(path=request.output, text=_render(loaded, selected, request)),)
        )
    targets = resolve_targets(request.targets, targets_from_config(loaded.pyproject.netbundle.targets))
    check_targets_python(loaded.pyproject, loaded.lock, targets, where=str(loaded.pyproject_path))
    output = request.output
    if len(targets) > 1 and (output is None or output.suffix):
        raise UsageError("several --target values need -o DIR (one file per target)", hint="add -o locks/")
    files = []
    for target in targets:
        items = select_for_environment(selected, target.marker_environment(), where=f"target {target.name}")
        name = f"pylock.{target.name}.toml" if request.format == "pylock.toml" else f"{target.name}.txt"
        path = output / name if output is not None and len(targets) > 1 else output  # PEP 751 naming
        files.append(ExportedFile(path=path, text=_render(loaded, items, request)))
    return ExportResult(files=tuple(files))


def write_export(result: ExportResult) -> list[Path]:
    """Write every export that has a path (atomically); return the paths written."""
    written = []
    for exported in result.files:
        if exported.path is not None:
            write_text_atomic(exported.path, exported.text)
            _log.info("wrote %s", exported.path)
            written.append(exported.path)
    return written


def _render(loaded: LoadedProject, items: Sequence[SelectedPackage], request: ExportRequest) -> str:
    if request.format == "pylock.toml":
        return _render_pylock(loaded, items, request)
    options = ExportOptions(
        format="constraints.txt" if request.format == "constraints.txt" else "requirements.txt",
        with_hashes=request.with_hashes,
        with_urls=request.with_urls,
    )
    return render_requirements(
        items, sources=loaded.pyproject.sources, project_root=loaded.root, options=options
    )


def _render_pylock(loaded: LoadedProject, items: Sequence[SelectedPackage], request: ExportRequest) -> str:
    """PEP 751 output; file URLs are looked up on each package's own source (the lock does not record them)."""
    from netbundle.fetch.sources import SourceIndexes, source_name
    from netbundle.lock.pylock import render_pylock

    indexes = SourceIndexes.for_project(loaded, index_url=request.index_url, environ=dict(request.environ))

    def locate(package: LockedPackage, file: LockedFile) -> dict[str, str]:
        return {"url": indexes.get(source_name(package)).file_url(package.name, file.filename, file.sha256)}

    python = loaded.pyproject.requires_python or loaded.lock.python_versions
    return render_pylock(
        items,
        locate=locate,
        requires_python=python,
        index_for=lambda package: indexes.url_of(source_name(package)),
    )


def _warn_credentials(loaded: LoadedProject, selected: Sequence[SelectedPackage]) -> None:
    urls = [s.url for s in loaded.pyproject.sources]
    urls += [s.package.source.url for s in selected if s.package.source]
    if any(has_credentials(url) for url in urls):
        _log.warning("a source URL carries credentials; they are left out of the export")
