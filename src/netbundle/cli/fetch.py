"""``netbundle fetch``: the per-target wheelhouses and a machine-readable plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from netbundle.cli._options import fetch_request, project_option, selection_options, source_options
from netbundle.format.results import render_result

EPILOG = """
Examples:

\b
  netbundle fetch                                   # [tool.netbundle] groups and targets
  netbundle fetch --target cp311-manylinux_2_28_x86_64 --with junos -o build/wheelhouse
  netbundle fetch --index-url http://127.0.0.1:8080/simple/ --json
"""


@click.command(epilog=EPILOG)
@project_option
@selection_options
@source_options
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/wheelhouse"),
    show_default=True,
    help="Wheelhouse directory: one sub-directory per target, and plan.json.",
)
@click.option(
    "--no-build", is_flag=True, help="Do not build wheels for sdist-only, git and path dependencies."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary (docs/schemas/fetch.json).")
def fetch(project_dir: Path, output: Path, no_build: bool, as_json: bool, **params: Any) -> None:
    """Download every locked file the selected groups need, for every target, in parallel.

    Files come from the source the lock pins them to, are checked against the lock's sha256 and kept in a
    content-addressed cache, so a rebuild of an unchanged lock downloads nothing.
    """
    # imported here: `netbundle export` must run with only packaging and click installed (scripts/bootstrap)
    from netbundle.cli._progress import DownloadProgress
    from netbundle.wheelhouse import fetch_wheelhouse

    progress = DownloadProgress(terminal=None if not as_json else False)
    request = fetch_request(
        project_dir,
        output,
        params,
        build=not no_build,
        progress=progress.files,
        on_download=progress.downloaded,
    )
    try:
        result = fetch_wheelhouse(request)
    finally:
        progress.finish()
    click.echo(render_result(result, as_json))
