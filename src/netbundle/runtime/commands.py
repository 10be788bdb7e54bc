"""The installer CLI's command handlers: each takes the parsed options, calls one runtime function and renders.

Every result has ``to_json()`` (printed with ``--json``, carrying ``"format": 1``) and ``render_text()``
(:mod:`netbundle.format.results`). A handler returns the exit code; expected failures raise and
:func:`netbundle.runtime.cli.main` maps them. This module imports nothing from :mod:`netbundle.runtime.cli` (the
CLI's table names these handlers), and the runtime modules are imported inside the handlers so that a command
loads only what it uses.
"""

from __future__ import annotations

import sys
import time

from ..errors import EXIT_OK, render_error_lines
from ..format.results import dump_json, with_format
from . import DEFAULT_PREFIX_ROOT, PROG

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any, Dict, Optional

    from ..format.results import Result

#: ``diff --exit-code``: the bundles differ (as ``git diff --exit-code``).
EXIT_DIFFERENT = 1


def run_verify(args: argparse.Namespace) -> int:
    from ..format.describe import verification
    from ..format.freshness import check_freshness
    from ..format.tar import verify_bundle
    from .trusted import resolve_policy

    policy = resolve_policy(args.trust)
    bundle = verify_bundle(args.bundle, policy)
    check_freshness(bundle.manifest, time.time(), args.allow_expired)
    return render(verification(bundle, policy), args)


def run_inspect(args: argparse.Namespace) -> int:
    from ..format.describe import inspection
    from ..format.tar import read_unverified

    found = read_unverified(args.bundle)
    return render(inspection(found.manifest, found.manifest_sha256, found.signatures), args)


def run_diff(args: argparse.Namespace) -> int:
    from ..format.describe import signer_ids
    from ..format.diff import diff_manifests
    from ..format.tar import read_unverified

    before, after = read_unverified(args.old), read_unverified(args.new)
    result = diff_manifests(
        before.manifest, after.manifest, signer_ids(before.signatures), signer_ids(after.signatures)
    )
    render(result, args)
    return EXIT_DIFFERENT if args.exit_code and result.differ else EXIT_OK


def run_doctor(args: argparse.Namespace) -> int:
    from .doctor import DoctorRequest, doctor

    request = DoctorRequest(
        bundle=args.bundle,
        prefix=args.prefix,
        groups=tuple(args.group),
        target=args.target,
        trust_files=tuple(args.trust),
    )
    return render(doctor(request), args)


def run_install(args: argparse.Namespace) -> int:
    from .install import install
    from .progress import terminal_progress
    from .trusted import resolve_policy

    policy = resolve_policy(args.trust)
    prefix = args.prefix or default_prefix(args.bundle)
    if not args.skip_preflight:
        from .doctor import preflight

        preflight(args.bundle, prefix, tuple(args.group), args.target)
    if args.dry_run:
        from .plan import plan_install

        plan = plan_install(
            args.bundle,
            prefix,
            policy,
            tuple(args.group),
            args.target,
            allow_downgrade=args.allow_downgrade,
            force=args.force,
            allow_expired=args.allow_expired,
        )
        return render(plan, args)
    progress = None if args.json else terminal_progress()
    try:
        result = install(
            args.bundle,
            prefix,
            policy,
            tuple(args.group),
            args.target,
            allow_downgrade=args.allow_downgrade,
            force=args.force,
            keep=args.keep,
            progress=progress,
            allow_expired=args.allow_expired,
            engine=args.engine,
            compile_bytecode=not args.no_compile,
        )
    finally:
        if progress is not None:
            progress.close()
    return render(result, args)


def default_prefix(bundle_path: str) -> str:
    """``/opt/netbundle/<project>``: the project name is read from the (not yet verified) manifest.

    Safe before verification: the manifest parser accepts only normalized names (``[a-z0-9-]``), and install
    verifies the bundle before it writes anything but its lock and staging directory under the prefix.
    """
    from ..format.tar import read_unverified

    return "{}/{}".format(DEFAULT_PREFIX_ROOT, read_unverified(bundle_path).manifest.project_name)


def run_rollback(args: argparse.Namespace) -> int:
    from .generations import rollback

    return render(rollback(args.prefix, args.to), args)


def run_list(args: argparse.Namespace) -> int:
    from .generations import list_generations

    return render(list_generations(args.prefix), args)


def run_generations_remove(args: argparse.Namespace) -> int:
    from .generations import remove_generation

    return render(remove_generation(args.prefix, args.number), args)


def run_generations_keep(args: argparse.Namespace) -> int:
    from .generations import set_keep

    return render(set_keep(args.prefix, args.keep), args)


def run_check(args: argparse.Namespace) -> int:
    from .check import check

    policy = None
    if args.bundle is not None:
        from .trusted import resolve_policy

        policy = resolve_policy(args.trust)
    return render(check(args.prefix, args.bundle, policy), args)


def run_rehearse(args: argparse.Namespace) -> int:
    from .progress import terminal_progress
    from .rehearse import RehearsalRequest, rehearse
    from .trusted import resolve_policy

    resolve_policy(args.trust)  # fail early, before a scratch prefix exists, when no key is trusted
    request = RehearsalRequest(
        bundle=args.bundle,
        groups=tuple(args.group),
        target=args.target,
        smoke=tuple(args.smoke),
        report_dir=args.report,
        isolation=args.isolation,
        keep=args.keep,
        trust_files=tuple(args.trust),
        engine=args.engine,
        compile_bytecode=not args.no_compile,
    )
    progress = None if args.json else terminal_progress()
    try:
        result = rehearse(request, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    code = render(result, args)
    if result.failure():
        echo(render_error_lines(result.failure()), sys.stderr)
    return code


def run_ee_context(args: argparse.Namespace) -> int:
    import pathlib

    from . import eecontext

    result = eecontext.ee_context_from_bundle(
        args.bundle,
        pathlib.Path(args.output),
        tuple(args.trust),
        groups=tuple(args.group),
        target=args.target,
        base_image=args.base_image or eecontext.DEFAULT_BASE_IMAGE,
        python=args.python,
        machine=args.arch,
        python_path=args.python_path,
    )
    return render(result, args)


def run_trust_show(args: argparse.Namespace) -> int:
    from ..format.trustview import TrustSummary
    from .trusted import EMBEDDED_NAME, resolve_policy

    source = " + ".join([EMBEDDED_NAME, *args.trust]) if args.trust else EMBEDDED_NAME
    return render(TrustSummary(source, resolve_policy(args.trust)), args)


class VersionInfo:
    """The ``version`` result: the installer's version, the running Python and the Ed25519 backend (a plain
    class: this module is imported by every start, dataclasses would add about 30 ms)."""

    def __init__(self, netbundle: str, python: str, ed25519_backend: str) -> None:
        self.netbundle = netbundle
        self.python = python
        self.ed25519_backend = ed25519_backend

    def to_json(self) -> Dict[str, Any]:
        return with_format(
            {"netbundle": self.netbundle, "python": self.python, "ed25519_backend": self.ed25519_backend}
        )

    def render_text(self) -> str:
        return "{} {} (Python {}, Ed25519 via {})".format(
            PROG, self.netbundle, self.python, self.ed25519_backend
        )


def run_serve(args: argparse.Namespace) -> int:
    from .serve import DEFAULT_BIND, ServeInfo, ServeRequest, serve
    from .trusted import resolve_policy

    policy = resolve_policy(args.trust)
    request = ServeRequest(args.bundle, args.bind or DEFAULT_BIND, args.port, args.target, args.all_targets)

    def ready(info: ServeInfo) -> None:
        if args.json:
            echo(dump_json(with_format(info.to_json())))
        else:
            echo(info.render_text())
        sys.stdout.flush()  # a script waiting for the URL must see it now

    reason = serve(request, policy, ready, _log_line)
    echo("netbundle: {}, server stopped".format(reason), sys.stderr)
    return EXIT_OK


def _log_line(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def run_version(args: argparse.Namespace) -> int:
    from .. import __version__
    from ..format import ed25519

    python = "{}.{}.{}".format(*sys.version_info[:3])
    return render(VersionInfo(__version__, python, ed25519.available_backend()), args)


def render(result: Result, args: argparse.Namespace, text: Optional[str] = None) -> int:
    """Print a result (``to_json()`` with --json, else ``render_text()``; nothing with -q); return its exit code:
    the result's ``exit_code`` when it has one (a drift report, a failed rehearsal, a doctor report), else 0."""
    if getattr(args, "json", False):
        echo(dump_json(result.to_json()))
    elif not getattr(args, "quiet", False):
        echo(text if text is not None else result.render_text())
    return int(getattr(result, "exit_code", EXIT_OK))


def echo(text: str, stream: Any = None) -> None:
    """Write one line for a person (stdout unless ``stream``)."""
    (stream or sys.stdout).write(text + "\n")
