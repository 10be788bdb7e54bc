"""The builder CLI (``netbundle ...``): thin click commands over the library.

Each command parses options, calls one library function and prints its result (``render_text()``, or
``to_json()`` with ``--json``: :mod:`netbundle.format.results`). Errors of the
:class:`~netbundle.errors.NetbundleError` tree, and click's own usage errors, become ``error: …`` / ``hint: …``
lines (the installer's format) and the documented exit code; with ``--json`` the JSON error object
(``docs/schemas/error.json``) is printed on stdout too. Ctrl-C exits 130. Anything else is a bug and keeps its
traceback. ``-v``/``-q`` are accepted before or after the subcommand.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from netbundle import __version__
from netbundle.errors import EXIT_INTERRUPTED, NetbundleError, UsageError, interrupted_json

_LEVEL_KEY = "netbundle.log_level"
#: Loggers of libraries whose INFO lines are noise for a person (pypa/build's "Installing packages in isolated
#: environment ..."): shown only with -v.
_BACKEND_LOGGERS = ("build",)
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 120}


class NetbundleGroup(click.Group):
    """The root group: one error format for every failure, -v/-q on every command, untruncated --help."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:  # tests that want the exception object
            return super().main(args, prog_name, standalone_mode=False, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            # without standalone mode click returns ctx.exit()'s code (diff --exit-code) instead of exiting
            code = super().main(argv, prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.UsageError as exc:
            if exc.ctx is not None:
                click.echo(exc.ctx.get_usage(), err=True)
            command = exc.ctx.command_path if exc.ctx is not None else "netbundle"
            _fail(UsageError(exc.format_message(), hint=f"see '{command} --help'"), argv)
        except click.ClickException as exc:
            _fail(NetbundleError(exc.format_message()), argv, exit_code=exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            click.echo("error: interrupted", err=True)
            if "--json" in argv:
                from netbundle.format.results import dump_json

                click.echo(dump_json(interrupted_json()))
            sys.exit(EXIT_INTERRUPTED)
        except NetbundleError as exc:
            if any(a in ("-v", "--verbose") for a in argv):
                import traceback

                click.echo(
                    "traceback (shown because of --verbose):\n" + traceback.format_exc().rstrip(), err=True
                )
            _fail(exc, argv)
        sys.exit(code if isinstance(code, int) else 0)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's whole first sentence (click cuts it at the terminal width)."""
        rows = [
            (name, command.get_short_help_str(limit=1_000))
            for name in self.list_commands(ctx)
            if (command := self.get_command(ctx, name)) is not None and not command.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _fail(exc: NetbundleError, argv: Sequence[str], exit_code: int | None = None) -> NoReturn:
    from netbundle.format.results import dump_json

    click.echo(exc.render_text(), err=True)
    if "--json" in argv:
        data = exc.to_json()
        if exit_code is not None:
            data["error"]["exit_code"] = exit_code
        click.echo(dump_json(data))
    sys.exit(exc.exit_code if exit_code is None else exit_code)


def _set_level(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """-v/-q wherever they appear: the last one given wins."""
    if not value:
        return
    level = logging.DEBUG if param.name == "verbose" else logging.WARNING
    ctx.find_root().meta[_LEVEL_KEY] = level
    _apply_level(level)


def _apply_level(level: int) -> None:
    logging.getLogger().setLevel(level)
    for name in _BACKEND_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if level <= logging.DEBUG else logging.WARNING)


def verbosity_options(command: click.Command) -> click.Command:
    """Add ``-v/--verbose`` and ``-q/--quiet`` to a command (and its sub-commands)."""
    names = {opt for param in command.params for opt in param.opts}
    if "-v" not in names:
        command.params.append(
            click.Option(
                ["-v", "--verbose"],
                is_flag=True,
                expose_value=False,
                callback=_set_level,
                help="Show debug logging, backend output and tracebacks of expected errors.",
            )
        )
        command.params.append(
            click.Option(
                ["-q", "--quiet"],
                is_flag=True,
                expose_value=False,
                callback=_set_level,
                help="Show only warnings and errors.",
            )
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            verbosity_options(sub)
    return command


@click.group(cls=NetbundleGroup, context_settings=CONTEXT)
@click.version_option(__version__, prog_name="netbundle")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """netbundle: build signed, offline-installable bundles from a Poetry project.

    Exit codes are listed in docs/reference/exit-codes.md; --json output is documented in docs/schemas/.
    """
    level = ctx.meta.get(_LEVEL_KEY, logging.INFO)
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)
    _apply_level(level)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="netbundle")


def _register() -> None:
    """Attach the subcommands (each lives in its own module; the list is netbundle.cli.commands.COMMANDS)."""
    from netbundle.cli.commands import COMMANDS

    for command in COMMANDS:
        cli.add_command(command)
    verbosity_options(cli)


_register()
