"""The installer's command line (``python netbundle.pyz COMMAND ...``), with argparse.

This module only parses: each command's handler lives in :mod:`netbundle.runtime.commands` (imported once a
command runs, so ``--help`` imports little more than argparse: see benchmarks/pyz_startup.py). Expected failures
(the :mod:`netbundle.errors` tree) become ``netbundle: error: ...`` and ``hint: ...`` on stderr and the
class's exit code; ``-v`` adds the traceback; with ``--json`` the error is also printed as JSON on stdout.
Anything else is a bug and keeps its traceback. Ctrl-C exits 130.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import EXIT_INTERRUPTED, NetbundleError, UsageError, iter_error_classes
from . import MIN_PYTHON

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Dict, Optional, Sequence, Tuple

PROG = "netbundle.pyz"
#: Where ``install`` puts a project when --prefix is not given (the project name comes from the manifest).
DEFAULT_PREFIX_ROOT = "/opt/netbundle"

#: Exit codes each command can return besides 0, 1, 2 (usage) and 130 (interrupted); shown in its --help.
_SIGNATURE_CODES = (3, 10, 11, 12, 13, 14, 15)
COMMAND_CODES = {
    "verify": _SIGNATURE_CODES,
    "inspect": (3, 10),
    "diff": (3, 10),
    "install": (*_SIGNATURE_CODES, 6, 20, 21, 24),
    "rollback": (24,),
    "list": (24,),
    "check": (*_SIGNATURE_CODES, 22, 24),
    "rehearse": (3, 10, 23),
    "ee-context": (*_SIGNATURE_CODES, 6),
    "version": (),
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one command; return its exit code (the caller exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "command", None) is None:
        parser.print_help(sys.stderr)
        return UsageError.exit_code
    try:
        from . import commands

        handler = getattr(commands, "run_" + args.command.replace("-", "_"))
        return int(handler(args))
    except NetbundleError as exc:
        return report_error(exc, args)
    except KeyboardInterrupt:
        sys.stderr.write("netbundle: interrupted\n")
        return EXIT_INTERRUPTED


def report_error(exc: NetbundleError, args: argparse.Namespace) -> int:
    """Write the error line (and hint; the traceback with -v; JSON with --json); return its exit code."""
    if getattr(args, "verbose", False):
        import traceback

        traceback.print_exc()
    sys.stderr.write("netbundle: error: {}\n".format(exc.message))
    if exc.hint:
        sys.stderr.write("hint: {}\n".format(exc.hint))
    if getattr(args, "json", False):
        error = {"class": type(exc).__name__, "exit_code": exc.exit_code, "message": exc.message}
        error["hint"] = exc.hint or ""
        sys.stdout.write(json.dumps({"error": error}, indent=2, sort_keys=True) + "\n")
    return exc.exit_code


# --- the parser ----------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The whole command line (pure: building it imports nothing else)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Verify and install signed netbundle bundles offline (Python {}.{}+).".format(
            *MIN_PYTHON
        ),
        epilog=exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of expected errors")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, summary, add_options in _COMMANDS:
        sub = subparsers.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=command_codes(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        # SUPPRESS: the subcommand's default must not overwrite a -v given before the command name.
        sub.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="tracebacks")
        add_options(sub)
        sub.set_defaults(command=name)
    return parser


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
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")


def _groups(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--group", metavar="G", action="append", default=[], help="a group besides main (repeatable)"
    )


def _target(p: argparse.ArgumentParser, default: str = "the best fit for this host") -> None:
    p.add_argument("--target", metavar="NAME", help="the bundle target to use (default: {})".format(default))


def _prefix(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--prefix", metavar="DIR", required=True, help="the install prefix (holds the generations)"
    )


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
    _json(p)


def _engine(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=("pip", "installer"),
        default="pip",
        help="pip (default): the bundle's pip installs the wheels; installer: pypa/installer unpacks them in "
        "parallel and a pip-check equivalent checks the result (faster; same verified wheels and locks)",
    )
    p.add_argument(
        "--no-compile", action="store_true", help="do not byte-compile the installed modules (.pyc)"
    )


def _install_options(p: argparse.ArgumentParser) -> None:
    _bundle(p)
    p.add_argument(
        "--prefix",
        metavar="DIR",
        help="the install prefix (default: {}/<project name from the manifest>)".format(DEFAULT_PREFIX_ROOT),
    )
    _groups(p)
    _target(p)
    _trust(p)
    p.add_argument("--allow-downgrade", action="store_true", help="install even if the bundle is older")
    _engine(p)
    _json(p)


def _rollback_options(p: argparse.ArgumentParser) -> None:
    _prefix(p)
    p.add_argument("--to", metavar="GEN", type=int, help="the generation number (default: the previous one)")
    _json(p)


def _list_options(p: argparse.ArgumentParser) -> None:
    _prefix(p)
    _json(p)


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
    _engine(p)
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


def _version_options(p: argparse.ArgumentParser) -> None:
    _json(p)


_COMMANDS: Tuple[Tuple[str, str, Callable[[argparse.ArgumentParser], None]], ...] = (
    ("verify", "check a bundle's signatures and every file; write nothing", _verify_options),
    ("inspect", "show a bundle's manifest WITHOUT verifying it", _inspect_options),
    ("diff", "what changed from bundle OLD to NEW (neither is verified)", _diff_options),
    ("install", "verify, then install a bundle as a new generation of a prefix", _install_options),
    ("rollback", "make an earlier generation of a prefix current", _rollback_options),
    ("list", "list a prefix's generations", _list_options),
    ("check", "drift: compare a prefix with its receipt (and a bundle)", _check_options),
    ("rehearse", "DR rehearsal: offline install into a scratch prefix, checks, report", _rehearse_options),
    ("ee-context", "an ansible-builder build context that installs the bundle offline", _ee_context_options),
    ("version", "show the installer's version", _version_options),
)
