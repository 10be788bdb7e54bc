"""The installer CLI's command handlers: each takes the parsed options, calls one runtime function and renders.

``--json`` prints the result's JSON on stdout; otherwise the result's human text. Both come from the same result
object. A handler returns the exit code; expected failures raise and :func:`netbundle.runtime.cli.main` maps them.
Runtime modules are imported inside the handlers so that a command loads only what it uses.
"""

from __future__ import annotations

import json
import sys

from ..errors import EXIT_OK
from .cli import DEFAULT_PREFIX_ROOT, PROG

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any, Dict, Optional


def run_verify(args: argparse.Namespace) -> int:
    from ..format.describe import describe
    from ..format.tar import verify_bundle
    from .trusted import resolve_policy

    policy = resolve_policy(args.trust)
    bundle = verify_bundle(args.bundle, policy)
    manifest = bundle.manifest
    if args.json:
        signer_ids = [key.key_id_hex for key in bundle.signers]
        _print_json(describe(manifest, bundle.manifest_sha256, signer_ids, True))
        return EXIT_OK
    echo(
        "verified: {} {} (bundle {}), {} files, signed by {}".format(
            manifest.project_name,
            manifest.project_version,
            manifest.bundle_id,
            len(manifest.files),
            ", ".join(_signer_label(policy.describe(key), key.key_id_hex) for key in bundle.signers),
        )
    )
    return EXIT_OK


def run_inspect(args: argparse.Namespace) -> int:
    from ..format.describe import describe, render_description, signer_ids
    from ..format.tar import read_unverified

    found = read_unverified(args.bundle)
    data = describe(found.manifest, found.manifest_sha256, signer_ids(found.signatures), None)
    if args.json:
        _print_json(data)
    else:
        echo(render_description(data))
    return EXIT_OK


def run_diff(args: argparse.Namespace) -> int:
    from ..format.describe import signer_ids
    from ..format.diff import diff_manifests, render_diff
    from ..format.tar import read_unverified

    before, after = read_unverified(args.old), read_unverified(args.new)
    result = diff_manifests(
        before.manifest, after.manifest, signer_ids(before.signatures), signer_ids(after.signatures)
    )
    return render(result, args, render_diff(result))


def run_install(args: argparse.Namespace) -> int:
    from .install import install, render_install
    from .trusted import resolve_policy

    policy = resolve_policy(args.trust)
    prefix = args.prefix or default_prefix(args.bundle)
    result = install(
        args.bundle,
        prefix,
        policy,
        tuple(args.group),
        args.target,
        args.allow_downgrade,
        engine=args.engine,
        compile_bytecode=not args.no_compile,
    )
    return render(result, args, render_install(result))


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


def run_check(args: argparse.Namespace) -> int:
    from .check import check

    policy = None
    if args.bundle is not None:
        from .trusted import resolve_policy

        policy = resolve_policy(args.trust)
    return render(check(args.prefix, args.bundle, policy), args)


def run_rehearse(args: argparse.Namespace) -> int:
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
    result = rehearse(request)
    code = render(result, args)
    if result.failure():
        echo("netbundle: error: {}".format(result.failure()), sys.stderr)
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
    if args.json:
        _print_json(result.to_dict())
        return EXIT_OK
    echo("{}: target {}, groups {}".format(result.definition, result.target, ", ".join(result.groups)))
    echo(
        "  {} wheels; build it: cd {} && ansible-builder build -f {} -t IMAGE".format(
            len(result.wheels), result.out_dir, eecontext.DEFINITION_NAME
        )
    )
    return EXIT_OK


def run_version(args: argparse.Namespace) -> int:
    from .. import __version__
    from ..format import ed25519

    info = {
        "netbundle": __version__,
        "python": "{}.{}.{}".format(*sys.version_info[:3]),
        "ed25519_backend": ed25519.available_backend(),
    }
    if args.json:
        _print_json(info)
    else:
        echo(
            "{} {} (Python {}, Ed25519 via {})".format(
                PROG, info["netbundle"], info["python"], info["ed25519_backend"]
            )
        )
    return EXIT_OK


def _signer_label(described: str, key_id_hex: str) -> str:
    """``name (KEYID)``, or the bare key id when the key has no name but its id (a plain .pub file)."""
    return key_id_hex if described == "{} ({})".format(key_id_hex, key_id_hex) else described


def render(result: Any, args: argparse.Namespace, text: Optional[str] = None) -> int:
    """Print a runtime result (``to_json()`` for --json, else ``text`` or ``render_text()``); return its exit
    code: the result's ``exit_code`` when it has one (a drift report, a failed rehearsal), else 0."""
    if args.json:
        _print_json(result.to_json())
    else:
        echo(text if text is not None else result.render_text())
    return int(getattr(result, "exit_code", EXIT_OK))


def echo(text: str, stream: Any = None) -> None:
    """Write one line for a person (stdout unless ``stream``)."""
    (stream or sys.stdout).write(text + "\n")


def _print_json(data: Dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
