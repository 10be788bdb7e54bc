"""The options of each installer command (argparse), one function per command: :mod:`netbundle.runtime.cli`'s
table names them. Shared options (``--trust``, ``--group``, ``--prefix``, ``--json``) are defined once here.
"""

from __future__ import annotations

import argparse

from . import DEFAULT_PREFIX_ROOT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


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


def json_option(p: argparse.ArgumentParser) -> None:
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


def verify_options(p: argparse.ArgumentParser) -> None:
    _bundle(p)
    _trust(p)
    _allow_expired(p)
    json_option(p)


def inspect_options(p: argparse.ArgumentParser) -> None:
    _bundle(p)
    json_option(p)


def diff_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("old", metavar="OLD", help="the bundle in use")
    p.add_argument("new", metavar="NEW", help="the bundle to review")
    p.add_argument(
        "--exit-code",
        action="store_true",
        help="exit 1 when the bundles differ, 0 when not (as git diff does)",
    )
    json_option(p)


def _allow_expired(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-expired",
        action="store_true",
        help="accept a bundle past its signed expiry or dated in the future (exit 16 otherwise)",
    )


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


def install_options(p: argparse.ArgumentParser) -> None:
    _bundle(p)
    _optional_prefix(p)
    _groups(p)
    _target(p)
    _trust(p)
    p.add_argument("--allow-downgrade", action="store_true", help="install even if the bundle is older")
    _allow_expired(p)
    _engine(p)
    p.add_argument(
        "--force",
        action="store_true",
        help="make a new generation even when this bundle, target and groups are current (repairs drift)",
    )
    _keep(p, "keep this many complete generations after the install (default: the prefix's setting, else 5)")
    p.add_argument(
        "--skip-preflight", action="store_true", help="do not run doctor's host checks before installing"
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="verify, choose the target and show the plan (status, distributions); no venv, the prefix is "
        "not touched",
    )
    json_option(p)


def rollback_options(p: argparse.ArgumentParser) -> None:
    _prefix(p)
    p.add_argument("--to", metavar="GEN", type=int, help="the generation number (default: the previous one)")
    json_option(p)


def prefix_json_options(p: argparse.ArgumentParser) -> None:
    _prefix(p)
    json_option(p)


def remove_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("number", metavar="N", type=int, help="the generation number (see `list`)")
    prefix_json_options(p)


def keep_setting_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("keep", metavar="N", type=_positive, help="complete generations installs keep")
    prefix_json_options(p)


def check_options(p: argparse.ArgumentParser) -> None:
    _prefix(p)
    p.add_argument(
        "bundle", metavar="BUNDLE", nargs="?", help="also compare with this bundle (verified first)"
    )
    _trust(p)
    json_option(p)


def rehearse_options(p: argparse.ArgumentParser) -> None:
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
    json_option(p)


def ee_context_options(p: argparse.ArgumentParser) -> None:
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
    json_option(p)


def doctor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("bundle", metavar="BUNDLE", nargs="?", help="also check this bundle against the host")
    _optional_prefix(p)
    _groups(p)
    _target(p)
    _trust(p)
    json_option(p)


def trust_show_options(p: argparse.ArgumentParser) -> None:
    _trust(p)
    json_option(p)


def no_options(p: argparse.ArgumentParser) -> None:
    """A command group: its sub-commands carry the options."""


def serve_options(p: argparse.ArgumentParser) -> None:
    _bundle(p)
    _trust(p)
    p.add_argument(
        "--bind", metavar="ADDR", help="the address to listen on (default: 127.0.0.1; others get a warning)"
    )
    p.add_argument("--port", metavar="N", type=int, default=8000, help="the TCP port (default: 8000; 0: any)")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--target", metavar="NAME", help="serve this target's files (default: the best fit for this host)"
    )
    which.add_argument("--all-targets", action="store_true", help="serve the files of every target")
    p.add_argument(
        "--json", action="store_true", help="print the index URL (and what is served) as JSON when ready"
    )
