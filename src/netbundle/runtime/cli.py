"""The installer's command line (``python netbundle.pyz COMMAND ...``), with argparse.

This module parses and dispatches: :data:`COMMANDS` is the typed table of every command (name, summary, options,
handler, exit codes); the handlers live in :mod:`netbundle.runtime.commands`, which imports nothing from here
(the runtime modules a handler needs are imported inside it, so ``--help`` imports little more than argparse:
see benchmarks/pyz_startup.py). Expected failures (the :mod:`netbundle.errors` tree) become ``error: ...`` and
``hint: ...`` on stderr and the class's exit code, the same lines as the builder's; ``-v`` adds the traceback;
with ``--json`` the error object (docs/schemas/error.json) is also printed on stdout. Anything else is a bug and
keeps its traceback. Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import EXIT_INTERRUPTED, NetbundleError, UsageError, interrupted_json, iter_error_classes
from ..format.results import dump_json
from . import MIN_PYTHON, PROG, commands
from . import options as opt

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, Sequence, Tuple

    Handler = Callable[[argparse.Namespace], int]
    AddOptions = Callable[[argparse.ArgumentParser], None]


class CommandSpec:
    """One installer command: its name, one-line summary, options, handler and the exit codes it can return
    besides 0, 1, 2 (usage) and 130 (interrupted). A command with ``children`` only groups sub-commands.

    A plain class, not a dataclass: importing dataclasses (and inspect) would add about 30 ms to every start.
    """

    __slots__ = ("add_options", "children", "codes", "handler", "name", "summary")

    def __init__(
        self,
        name: str,
        summary: str,
        add_options: AddOptions,
        handler: Optional[Handler] = None,
        codes: Tuple[int, ...] = (),
        children: Tuple[CommandSpec, ...] = (),
    ) -> None:
        self.name = name
        self.summary = summary
        self.add_options = add_options
        self.handler = handler
        self.codes = codes
        self.children = children


_SIGNATURE_CODES = (3, 10, 11, 12, 13, 14, 15)
_c = commands

COMMANDS: Tuple[CommandSpec, ...] = (
    CommandSpec(
        "verify",
        "check a bundle's signatures and every file; write nothing",
        opt.verify_options,
        _c.run_verify,
        (*_SIGNATURE_CODES, 16),
    ),
    CommandSpec(
        "inspect",
        "show a bundle's manifest WITHOUT verifying it",
        opt.inspect_options,
        _c.run_inspect,
        (3, 10),
    ),
    CommandSpec(
        "diff",
        "what changed from bundle OLD to NEW (neither is verified)",
        opt.diff_options,
        _c.run_diff,
        (3, 10),
    ),
    CommandSpec(
        "doctor",
        "check this host (and a bundle) before an install: Python, venv, target, space, keys",
        opt.doctor_options,
        _c.run_doctor,
        (3, 10, 26),
    ),
    CommandSpec(
        "install",
        "verify, then install a bundle as a new generation of a prefix",
        opt.install_options,
        _c.run_install,
        (*_SIGNATURE_CODES, 6, 16, 20, 21, 24, 26),
    ),
    CommandSpec(
        "rollback",
        "make an earlier generation of a prefix current",
        opt.rollback_options,
        _c.run_rollback,
        (24,),
    ),
    CommandSpec("list", "list a prefix's generations", opt.prefix_json_options, _c.run_list, (24,)),
    CommandSpec(
        "generations",
        "list, remove and keep a prefix's generations",
        opt.no_options,
        codes=(24,),
        children=(
            CommandSpec("list", "list a prefix's generations", opt.prefix_json_options, _c.run_list, (24,)),
            CommandSpec(
                "remove",
                "remove generation N (never the current one)",
                opt.remove_options,
                _c.run_generations_remove,
                (24,),
            ),
            CommandSpec(
                "keep",
                "set how many complete generations installs keep in this prefix",
                opt.keep_setting_options,
                _c.run_generations_keep,
                (24,),
            ),
        ),
    ),
    CommandSpec(
        "check",
        "drift: compare a prefix with its receipt (and a bundle)",
        opt.check_options,
        _c.run_check,
        (*_SIGNATURE_CODES, 22, 24),
    ),
    CommandSpec(
        "rehearse",
        "DR rehearsal: offline install into a scratch prefix, checks, report",
        opt.rehearse_options,
        _c.run_rehearse,
        (3, 10, 23),
    ),
    CommandSpec(
        "ee-context",
        "an ansible-builder build context that installs the bundle offline",
        opt.ee_context_options,
        _c.run_ee_context,
        (*_SIGNATURE_CODES, 6),
    ),
    CommandSpec(
        "trust",
        "the keys this pyz trusts",
        opt.no_options,
        codes=(3,),
        children=(
            CommandSpec(
                "show",
                "list the embedded trusted keys (and --trust files), threshold, endorsements",
                opt.trust_show_options,
                _c.run_trust_show,
                (3,),
            ),
        ),
    ),
    CommandSpec(
        "serve",
        "verify, then serve a bundle read-only as a local package index",
        opt.serve_options,
        _c.run_serve,
        (*_SIGNATURE_CODES, 6, 25),
    ),
    CommandSpec("version", "show the installer's version", opt.json_option, _c.run_version),
)


def _flatten(specs: Sequence[CommandSpec], parent: str = "") -> Dict[str, CommandSpec]:
    found: Dict[str, CommandSpec] = {}
    for spec in specs:
        name = (parent + " " + spec.name).strip()
        found[name] = spec
        found.update(_flatten(spec.children, name))
    return found


#: Every command by its full name (``generations remove``), for dispatch and --help.
BY_NAME = _flatten(COMMANDS)
#: The handler of every runnable command (tests replace entries).
HANDLERS: Dict[str, Handler] = {name: s.handler for name, s in BY_NAME.items() if s.handler is not None}
#: Exit codes each command can return besides 0, 1, 2 and 130; shown in its --help.
COMMAND_CODES = {name: spec.codes for name, spec in BY_NAME.items()}


# --- the parser --------------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse with the one error format of both CLIs (``error: ...`` / ``hint: ...``; JSON with --json)."""

    json_errors = False

    def error(self, message: str) -> Any:
        self.print_usage(sys.stderr)
        exc = UsageError(message, hint="see '{} --help'".format(self.prog))
        _write_error(exc, self.json_errors)
        self.exit(UsageError.exit_code)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line (pure: building it imports nothing else)."""
    parser = _Parser(
        prog=PROG,
        description="Verify and install signed netbundle bundles offline (Python {}.{}+).".format(
            *MIN_PYTHON
        ),
        epilog=exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="show the installer's version and exit")
    _verbosity(parser, False)
    _add_commands(parser, COMMANDS, "")
    return parser


def _verbosity(p: argparse.ArgumentParser, default: Any) -> None:
    """``-v``/``-q`` before or after a command name (SUPPRESS: a sub-command must not reset the top's value)."""
    p.add_argument("-v", "--verbose", action="store_true", default=default, help="show tracebacks of errors")
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="print nothing on success but --json output",
    )


def _add_commands(parser: argparse.ArgumentParser, specs: Sequence[CommandSpec], parent: str) -> None:
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for spec in specs:
        name = (parent + " " + spec.name).strip()
        sub = subparsers.add_parser(
            spec.name,
            help=spec.summary,
            description=spec.summary,
            epilog=command_codes(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _verbosity(sub, argparse.SUPPRESS)
        spec.add_options(sub)
        sub.set_defaults(command=name)
        if spec.children:
            _add_commands(sub, spec.children, name)


def exit_code_table() -> str:
    """The exit codes the installer's commands use, one line each, from the error classes' docstrings."""
    used = {code for codes in COMMAND_CODES.values() for code in codes} | {1, UsageError.exit_code}
    by_code: Dict[int, type] = {}
    for cls in iter_error_classes():
        if cls.exit_code in used:
            by_code[cls.exit_code] = cls  # root first: the most specific class with a code wins
    lines = ["exit codes:", "  0    success"]
    for code in sorted(by_code):
        cls = by_code[code]
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        lines.append("  {:<4} {}: {}".format(code, cls.__name__, summary))
    lines.append("  {:<4} interrupted".format(EXIT_INTERRUPTED))
    return "\n".join(lines)


def command_codes(name: str) -> str:
    codes = ", ".join(str(code) for code in sorted(set(COMMAND_CODES[name])))
    extra = "; " + codes if codes else ""
    return "exit codes: 0 success, 1 other error, 2 usage{}; 130 interrupted (meanings: {} --help)".format(
        extra, PROG
    )


# --- running -----------------------------------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; return its exit code (the caller exits with it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    _Parser.json_errors = "--json" in argv
    args = parser.parse_args(argv)
    for name in ("verbose", "quiet"):
        setattr(args, name, getattr(args, name, False))
    if getattr(args, "version", False) and getattr(args, "command", None) is None:
        args.json = False
        return commands.run_version(args)
    handler = HANDLERS.get(getattr(args, "command", None) or "")
    if handler is None:
        _help_of(parser, getattr(args, "command", None)).print_help(sys.stderr)
        return UsageError.exit_code
    try:
        return int(handler(args))
    except NetbundleError as exc:
        return report_error(exc, args)
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        if getattr(args, "json", False):
            sys.stdout.write(dump_json(interrupted_json()) + "\n")
        return EXIT_INTERRUPTED


def _help_of(parser: argparse.ArgumentParser, command: Optional[str]) -> argparse.ArgumentParser:
    """The parser of a command group (``generations``) or the top parser."""
    current = parser
    for part in (command or "").split():
        sub = next(a for a in current._actions if isinstance(a, argparse._SubParsersAction))
        current = sub.choices[part]
    return current


def report_error(exc: NetbundleError, args: argparse.Namespace) -> int:
    """Write the error line (and hint; the traceback with -v; JSON with --json); return its exit code."""
    if getattr(args, "verbose", False):
        import traceback

        traceback.print_exc()
    _write_error(exc, bool(getattr(args, "json", False)))
    return exc.exit_code


def _write_error(exc: NetbundleError, as_json: bool) -> None:
    sys.stderr.write(exc.render_text() + "\n")
    if as_json:
        sys.stdout.write(dump_json(exc.to_json()) + "\n")
