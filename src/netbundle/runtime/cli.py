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
from dataclasses import dataclass

from ..errors import EXIT_INTERRUPTED, NetbundleError, UsageError, interrupted_json, iter_error_classes
from ..format.results import dump_json
from . import DEFAULT_PREFIX_ROOT, MIN_PYTHON, PROG, commands

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

    Handler = Callable[[argparse.Namespace], int]
    AddOptions = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class CommandSpec:
    """One installer command: its name, one-line summary, options, handler and the exit codes it can return
    besides 0, 1, 2 (usage) and 130 (interrupted). A command with ``children`` only groups sub-commands."""

    name: str
    summary: str
    add_options: AddOptions
    handler: Optional[Handler] = None
    codes: Tuple[int, ...] = ()
    children: Tuple[CommandSpec, ...] = ()


# --- options ---------------------------------------------------------------------------------------------------


class _SplitAppend(argparse.Action):
    """``--group a,b`` and ``--group a --group b`` both: comma-separated values, repeatable (one grammar with the
    builder's ``--with a,b``)."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: Any = None
    ) -> None:
        found = list(getattr(namespace, self.dest, None) or [])
        found.extend(name.strip() for name in str(values).split(",") if name.strip())
        setattr(namespace, self.dest, found)


def _bundle(p: argparse.ArgumentParser) -> None:
    p.add_argument("bundle", metavar="BUNDLE", help="the bundle .tar file")


def _trust(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--trust",
        metavar="FILE",
        action="append",
        default=[],
        help="a trust file or minisign .pub file, added to the keys embedded in the pyz (repeatable)",
    )


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout (docs/schemas/)")


def _groups(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--group",
        "--with",
        dest="group",
        metavar="G[,G]",
        action=_SplitAppend,
        default=[],
        help="groups besides main: comma-separated and/or repeated (--group a,b or --group a --group b)",
    )


def _target(p: argparse.ArgumentParser, default: str = "the best fit for this host") -> None:
    p.add_argument("--target", metavar="NAME", help="the bundle target to use (default: {})".format(default))


def _prefix(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--prefix", metavar="DIR", required=True, help="the install prefix (holds the generations)"
    )


def _optional_prefix(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--prefix",
        metavar="DIR",
        help="the install prefix (default: {}/<project name from the manifest>)".format(DEFAULT_PREFIX_ROOT),
    )


def _keep(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--keep", metavar="N", type=_positive, help=what)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("{!r} is not a whole number".format(text)) from None
    if value < 1:
        raise argparse.ArgumentTypeError("{} is not 1 or more".format(value))
    return value


def _verify_options(p: argparse.ArgumentParser) -> None:
    _bundle(p)
    _trust(p)
    _json(p)


def _inspect_options(p: argparse.ArgumentParser) -> None:
    _bundle(p)
    _json(p)


def _diff_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", metavar="OLD", help="the bundle in use")
    p.add_argument("new", metavar="NEW", help="the bundle to review")
    p.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 1 when the bundles differ, 0 when not (as git diff does)",
    )
    _json(p)


def _install_options(p: argparse.ArgumentParser) -> None:
    _bundle(p)
    _optional_prefix(p)
    _groups(p)
    _target(p)
    _trust(p)
    p.add_argument("--allow-downgrade", action="store_true", help="install even if the bundle is older")
    p.add_argument(
        "--force",
        action="store_true",
        help="make a new generation even when this bundle, target and groups are current (repairs drift)",
    )
    _keep(p, "keep this many complete generations after the install (default: the prefix's setting, else 5)")
    p.add_argument(
        "--skip-preflight", action="store_true", help="do not run doctor's host checks before installing"
    )
    _json(p)


def _rollback_options(p: argparse.ArgumentParser) -> None:
    _prefix(p)
    p.add_argument("--to", metavar="GEN", type=int, help="the generation number (default: the previous one)")
    _json(p)


def _prefix_json_options(p: argparse.ArgumentParser) -> None:
    _prefix(p)
    _json(p)


def _remove_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("number", metavar="N", type=int, help="the generation number (see `list`)")
    _prefix_json_options(p)


def _keep_setting_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("keep", metavar="N", type=_positive, help="complete generations installs keep")
    _prefix_json_options(p)


def _check_options(p: argparse.ArgumentParser) -> None:
    _prefix(p)
    p.add_argument(
        "bundle", metavar="BUNDLE", nargs="?", help="also compare with this bundle (verified first)"
    )
    _trust(p)
    _json(p)


def _rehearse_options(p: argparse.ArgumentParser) -> None:
    _bundle(p)
    _groups(p)
    _target(p)
    p.add_argument(
        "--smoke", metavar="CMD", action="append", default=[], help="another smoke command (repeatable)"
    )
    p.add_argument(
        "--report", metavar="DIR", default=".", help="write rehearsal.json and .md here (default: .)"
    )
    p.add_argument(
        "--isolation",
        choices=("auto", "netns", "guard"),
        default="auto",
        help="netns: a network namespace without interfaces (unshare -n); guard: a socket guard in every Python "
        "process; auto (default): netns when it works here, else guard",
    )
    p.add_argument("--keep", action="store_true", help="keep the scratch prefix (its path is in the report)")
    _trust(p)
    _json(p)


def _ee_context_options(p: argparse.ArgumentParser) -> None:
    _bundle(p)
    p.add_argument(
        "-o", "--output", metavar="DIR", required=True, help="a new or empty directory for the context"
    )
    _groups(p)
    _target(p, "the one fitting the image")
    p.add_argument("--base-image", metavar="IMAGE", help="the EE base image (default: awx-ee:latest)")
    p.add_argument("--python", metavar="X.Y", help="the base image's Python, to pick the target")
    p.add_argument(
        "--arch", metavar="MACHINE", default="x86_64", help="the image's machine (default: x86_64)"
    )
    p.add_argument(
        "--python-path", metavar="PATH", help="the image's interpreter (default: /usr/bin/pythonX.Y)"
    )
    _trust(p)
    _json(p)


def _doctor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("bundle", metavar="BUNDLE", nargs="?", help="also check this bundle against the host")
    _optional_prefix(p)
    _groups(p)
    _target(p)
    _trust(p)
    _json(p)


def _trust_show_options(p: argparse.ArgumentParser) -> None:
    _trust(p)
    _json(p)


def _no_options(p: argparse.ArgumentParser) -> None:
    """A command group: its sub-commands carry the options."""


_SIGNATURE_CODES = (3, 10, 11, 12, 13, 14, 15)
_c = commands

COMMANDS: Tuple[CommandSpec, ...] = (
    CommandSpec("verify", "check a bundle's signatures and every file; write nothing", _verify_options,
                _c.run_verify, _SIGNATURE_CODES),
    CommandSpec("inspect", "show a bundle's manifest WITHOUT verifying it", _inspect_options, _c.run_inspect,
                (3, 10)),
    CommandSpec("diff", "what changed from bundle OLD to NEW (neither is verified)", _diff_options,
                _c.run_diff, (3, 10)),
    CommandSpec("doctor", "check this host (and a bundle) before an install: Python, venv, target, space, keys",
                _doctor_options, _c.run_doctor, (3, 10, 25)),
    CommandSpec("install", "verify, then install a bundle as a new generation of a prefix", _install_options,
                _c.run_install, (*_SIGNATURE_CODES, 6, 20, 21, 24, 25)),
    CommandSpec("rollback", "make an earlier generation of a prefix current", _rollback_options,
                _c.run_rollback, (24,)),
    CommandSpec("list", "list a prefix's generations", _prefix_json_options, _c.run_list, (24,)),
    CommandSpec("generations", "list, remove and keep a prefix's generations", _no_options, codes=(24,),
                children=(
                    CommandSpec("list", "list a prefix's generations", _prefix_json_options, _c.run_list, (24,)),
                    CommandSpec("remove", "remove generation N (never the current one)", _remove_options,
                                _c.run_generations_remove, (24,)),
                    CommandSpec("keep", "set how many complete generations installs keep in this prefix",
                                _keep_setting_options, _c.run_generations_keep, (24,)),
                )),
    CommandSpec("check", "drift: compare a prefix with its receipt (and a bundle)", _check_options,
                _c.run_check, (*_SIGNATURE_CODES, 22, 24)),
    CommandSpec("rehearse", "DR rehearsal: offline install into a scratch prefix, checks, report",
                _rehearse_options, _c.run_rehearse, (3, 10, 23)),
    CommandSpec("ee-context", "an ansible-builder build context that installs the bundle offline",
                _ee_context_options, _c.run_ee_context, (*_SIGNATURE_CODES, 6)),
    CommandSpec("trust", "the keys this pyz trusts", _no_options, codes=(3,), children=(
        CommandSpec("show", "list the embedded trusted keys (and --trust files), threshold, endorsements",
                    _trust_show_options, _c.run_trust_show, (3,)),
    )),
    CommandSpec("version", "show the installer's version", _json, _c.run_version),
)  # fmt: skip


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


def subcommand_names() -> List[str]:
    """Every runnable command's full name (``generations remove``), for the docs test."""
    return sorted(HANDLERS)
