"""``netbundle export``: hash-pinned requirement files from pyproject.toml + poetry.lock, without Poetry."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from netbundle.cli._options import group_selection, project_option, selection_options
from netbundle.errors import UsageError
from netbundle.lock.export import ExportOptions, has_credentials, render_requirements
from netbundle.lock.files import write_text_atomic
from netbundle.lock.groups import select_for_environment, select_packages
from netbundle.lock.model import LockedFile, LockedPackage, SelectedPackage
from netbundle.lock.project import LoadedProject, load_project
from netbundle.lock.python_range import check_targets_python
from netbundle.targets import resolve_targets, targets_from_config

_log = logging.getLogger(__name__)

EPILOG = """
Examples:

\b
  netbundle export -o requirements.txt                 # main group, like `poetry export --with-hashes`
  netbundle export --with junos,cisco -E yaml -o req.txt
  netbundle export -f constraints.txt --only test
  netbundle export --target rhel9-py39 -o rhel9.txt      # marker-free, for one configured target
  netbundle export --target cp311-manylinux_2_28_x86_64 --target ee-arm -o locks/   # one file per target
"""


@click.command(epilog=EPILOG)
@project_option
@selection_options
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(["requirements.txt", "constraints.txt", "pylock.toml"]),
    default="requirements.txt",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Write here (default: stdout); with several --target, a directory.",
)
@click.option("--without-hashes", is_flag=True, help="Leave out the --hash options.")
@click.option("--without-urls", is_flag=True, help="Leave out the index lines.")
@click.option(
    "--target",
    "target_names",
    multiple=True,
    metavar="TARGET",
    help="Evaluate markers for this target (a [tool.netbundle.targets] name, or e.g. cp311-manylinux_2_28_x86_64)"
    " and write marker-free output. With several targets, -o names a directory (one TARGET.txt each).",
)
@click.option(
    "--index-url", help="pylock.toml only: the default index to find file URLs on (else as for fetch)."
)
@click.option("--with-credentials", is_flag=True, hidden=True)
def export(
    project_dir: Path,
    fmt: str,
    output: Path | None,
    target_names: tuple[str, ...],
    index_url: str | None,
    **params: Any,
) -> None:
    """Export the locked requirements of the selected groups and extras.

    The packages, versions and hashes are those `poetry export --with-hashes` selects for the same lock and
    flags. Credentials are never written.
    """
    if params.pop("with_credentials"):
        raise UsageError(
            "--with-credentials is refused: netbundle never writes credentials into an export",
            hint="give them at run time as POETRY_HTTP_BASIC_<SOURCE>_USERNAME / _PASSWORD",
        )
    options = ExportOptions(
        format="constraints.txt" if fmt == "constraints.txt" else "requirements.txt",
        with_hashes=not params.pop("without_hashes"),
        with_urls=not params.pop("without_urls"),
    )
    loaded = load_project(project_dir)
    selected = select_packages(loaded.pyproject, loaded.lock, group_selection(params))
    _warn_credentials(loaded.pyproject.sources, [s.package.source.url for s in selected if s.package.source])

    def render(items: Sequence[SelectedPackage]) -> str:
        if fmt == "pylock.toml":
            return _render_pylock(loaded, items, index_url)
        return render_requirements(
            items, sources=loaded.pyproject.sources, project_root=loaded.root, options=options
        )

    if not target_names:
        _emit(output, render(selected))
        return
    targets = resolve_targets(target_names, targets_from_config(loaded.pyproject.netbundle.targets))
    check_targets_python(loaded.pyproject, loaded.lock, targets, where=str(loaded.pyproject_path))
    if len(targets) > 1 and (output is None or output.suffix):
        raise UsageError("several --target values need -o DIR (one file per target)", hint="add -o locks/")
    for target in targets:
        items = select_for_environment(selected, target.marker_environment(), where=f"target {target.name}")
        name = (
            f"pylock.{target.name}.toml" if fmt == "pylock.toml" else f"{target.name}.txt"
        )  # PEP 751 naming
        path = output / name if output is not None and len(targets) > 1 else output
        _emit(path, render(items))


def _render_pylock(loaded: LoadedProject, items: Sequence[SelectedPackage], index_url: str | None) -> str:
    """PEP 751 output; file URLs are looked up on each package's own source (the lock does not record them)."""
    from netbundle.fetch.sources import SourceIndexes, source_name
    from netbundle.lock.pylock import render_pylock

    indexes = SourceIndexes.for_project(loaded, index_url=index_url, environ=dict(os.environ))

    def locate(package: LockedPackage, file: LockedFile) -> dict[str, str]:
        return {"url": indexes.get(source_name(package)).file_url(package.name, file.filename, file.sha256)}

    python = loaded.pyproject.requires_python or loaded.lock.python_versions
    return render_pylock(
        items,
        locate=locate,
        requires_python=python,
        index_for=lambda package: indexes.url_of(source_name(package)),
    )


def _emit(output: Path | None, text: str) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        write_text_atomic(output, text)
        _log.info("wrote %s", output)


def _warn_credentials(sources: Any, urls: list[str]) -> None:
    for url in [s.url for s in sources] + urls:
        if has_credentials(url):
            _log.warning("a source URL carries credentials; they are left out of the export")
            return
