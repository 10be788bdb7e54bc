"""``netbundle fetch``: the per-target wheelhouses and a machine-readable plan."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from netbundle.cli._options import fetch_request, project_option, selection_options, source_options

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
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def fetch(project_dir: Path, output: Path, no_build: bool, as_json: bool, **params: Any) -> None:
    """Download every locked file the selected groups need, for every target, in parallel.

    Files come from the source the lock pins them to, are checked against the lock's sha256 and kept in a
    content-addressed cache, so a rebuild of an unchanged lock downloads nothing.
    """
    # imported here: `netbundle export` must run with only packaging and click installed (scripts/bootstrap)
    from netbundle.wheelhouse import fetch_wheelhouse

    request = fetch_request(
        project_dir,
        output,
        params,
        build=not no_build,
        progress=_progress_line if sys.stderr.isatty() and not as_json else None,
    )
    result = fetch_wheelhouse(request)
    if request.progress is not None:
        click.echo("", err=True)
    summary = result.summary()
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    click.echo(
        f"{summary['files']} files ({summary['downloaded']} downloaded, {summary['cached']} from cache) -> {output}"
    )
    for name, count in result.summary()["targets"].items():  # type: ignore[attr-defined]
        click.echo(f"  {name}: {count} wheels")
    if result.built:
        click.echo("  built on this host: " + ", ".join(b.path.name for b in result.built.values()))
    elif result.plan.builds:
        click.echo("  needs a build (skipped, --no-build): " + ", ".join(summary["needs_build"]))  # type: ignore[arg-type]


def _progress_line(done: int, total: int) -> None:
    """A one-line progress display on a terminal (stderr); CI logs (not a TTY) stay quiet."""
    width = 30
    filled = width * done // max(total, 1)
    click.echo(f"\r  downloading [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", err=True, nl=False)
