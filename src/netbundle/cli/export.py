"""``netbundle export``: hash-pinned requirement files from pyproject.toml + poetry.lock, without Poetry.

The command only parses: :func:`netbundle.export.export_requirements` does the work.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from netbundle.cli._options import group_selection, project_option, selection_options
from netbundle.errors import UsageError
from netbundle.export import FORMATS, ExportRequest, export_requirements, write_export

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
    type=click.Choice(FORMATS),
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
    result = export_requirements(
        project_dir, request_from_params(params, fmt, output, target_names, index_url)
    )
    for exported in result.files:
        if exported.path is None:
            click.echo(exported.text, nl=False)
    write_export(result)


def request_from_params(
    params: dict[str, Any], fmt: str, output: Path | None, targets: tuple[str, ...], index_url: str | None
) -> ExportRequest:
    """The library request of the export command's options (``params``: the selection and hash/URL flags).

    :raises UsageError: --with-credentials (refused: netbundle never writes credentials).
    """
    if params.pop("with_credentials", False):
        raise UsageError(
            "--with-credentials is refused: netbundle never writes credentials into an export",
            hint="give them at run time as POETRY_HTTP_BASIC_<SOURCE>_USERNAME / _PASSWORD",
        )
    return ExportRequest(
        selection=group_selection(params),
        format=next(f for f in FORMATS if f == fmt),
        with_hashes=not params.pop("without_hashes"),
        with_urls=not params.pop("without_urls"),
        targets=tuple(targets),
        output=output,
        index_url=index_url,
        environ=dict(os.environ),
    )
