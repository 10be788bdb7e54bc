"""The builder CLI (``netbundle ...``): thin click commands over the library.

Each command parses options, calls one library function and renders its result. Errors of the
:class:`~netbundle.errors.NetbundleError` tree become ``error: …`` / ``hint: …`` lines and the class's exit code;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from netbundle import __version__
from netbundle.errors import NetbundleError

_log = logging.getLogger("netbundle")


class NetbundleGroup(click.Group):
    """A click group that maps NetbundleError to a one-line message and its documented exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NetbundleError as exc:
            verbose = bool(ctx.obj and ctx.obj.get("verbose"))
            if verbose:
                _log.exception("traceback (shown because of --verbose)")
            click.echo(f"error: {exc.message}", err=True)
            if exc.hint:
                click.echo(f"hint: {exc.hint}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=NetbundleGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="netbundle")
@click.option("-v", "--verbose", is_flag=True, help="Show debug logging and tracebacks of expected errors.")
@click.option("-q", "--quiet", is_flag=True, help="Show only warnings and errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool, quiet: bool) -> None:
    """netbundle: build signed, offline-installable bundles from a Poetry project.

    Exit codes are listed in docs/reference/exit-codes.md.
    """
    ctx.ensure_object(dict)
    ctx.obj["verbose"] = verbose
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="netbundle")


def _register() -> None:
    """Attach the subcommands (each lives in its own module; the list is netbundle.cli.commands.COMMANDS)."""
    from netbundle.cli.commands import COMMANDS

    for command in COMMANDS:
        cli.add_command(command)


_register()
