"""``netbundle build``, ``verify``, ``inspect``, ``diff``, ``merge``, ``sign``: make a signed bundle and review it.

``verify``, ``inspect`` and ``diff`` print the very result objects the pyz prints (:mod:`netbundle.format`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from netbundle.cli._options import fetch_request, project_option, selection_options, source_options
from netbundle.cli.keys import load_signing_keys, sign_key_options, start_unlocking
from netbundle.format.results import render_result

if TYPE_CHECKING:
    from netbundle.format.trust import TrustPolicy

BUILD_EPILOG = """
Examples:

\b
  netbundle build --sign-key release.key -o dist/site-bundle.tar
  netbundle build --with junos,arista --target cp39-manylinux_2_28_x86_64 --sign-key ci.key --sign-key release.key
  NETBUNDLE_SIGN_KEY_PASSWORD=... netbundle build --sign-key release.key --json
  netbundle build --sign-key ci.key:CI_KEY_PASSWORD --sign-key prod.key:PROD_KEY_PASSWORD

The bundle's sha256 is recorded in SHA256SUMS beside it (check with `sha256sum -c SHA256SUMS`).
The build time is SOURCE_DATE_EPOCH, else the last commit time of poetry.lock (or of the project), else the
lock's modification time: the same inputs give a byte-identical bundle, and later releases are dated later
(installers refuse an older one as a downgrade). --expires 90d signs an expiry: installers refuse the bundle
after it (exit 16).
"""


@click.command(epilog=BUILD_EPILOG)
@project_option
@selection_options
@source_options
@sign_key_options
@click.option("--unsigned", is_flag=True, help="Build without a signature (installers refuse such a bundle).")
@click.option(
    "--pip-version",
    metavar="VERSION",
    help="The pip carried in tools/: a release pinned with its sha256 by netbundle's table or by "
    "[tool.netbundle] pip (default: the table's first that runs on every target).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("dist/bundle.tar"),
    show_default=True,
    help="The bundle file (written to a temporary name, then renamed; a device such as /dev/null is written "
    "through, - is standard output).",
)
@click.option(
    "--expires",
    metavar="DURATION",
    help="Sign an expiry this long after the build time (90d, 12h, 2w); installers refuse the bundle after it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary (docs/schemas/build.json).")
def build(
    project_dir: Path,
    sign_keys: tuple[str, ...],
    password_env: str,
    unsigned: bool,
    pip_version: str | None,
    output: Path,
    expires: str | None,
    as_json: bool,
    **params: Any,
) -> None:
    """Build one signed bundle: wheels for every target, the project's own wheels, locks, SBOM, pip.

    Everything the installer needs on the disconnected host is in the one .tar; its manifest lists every file's
    size and sha256 and is signed with each --sign-key (minisign format: `minisign -V` checks it too).
    """
    from netbundle.bundle.builder import BuildRequest, build_bundle
    from netbundle.errors import UsageError

    if not sign_keys and not unsigned:
        raise UsageError(
            "no --sign-key given",
            hint="sign with --sign-key KEY (netbundle keygen makes one), or pass --unsigned",
        )
    if sign_keys and unsigned:
        raise UsageError("--unsigned and --sign-key exclude each other")
    # passwords are asked now; scrypt (seconds, for an encrypted key) runs while the build downloads and builds
    pending = start_unlocking(sign_keys, password_env) if sign_keys else None
    from netbundle.cli._progress import DownloadProgress

    progress = DownloadProgress(terminal=None if not as_json else False)
    fetch = fetch_request(
        project_dir, output, params, progress=progress.files, on_download=progress.downloaded
    )
    from netbundle.bundle.buildtime import parse_duration

    request = BuildRequest(
        fetch=fetch,
        pending_keys=pending,
        pip_version=pip_version,
        expires_after=parse_duration(expires) if expires else None,
    )
    try:
        result = build_bundle(request)
    finally:
        progress.finish()
    # the bundle itself went to standard output (-o -): the summary goes to stderr
    click.echo(render_result(result, as_json), err=str(output) == "-")


def _trust_policy(trust_files: tuple[Path, ...]) -> TrustPolicy:
    from netbundle.errors import UsageError
    from netbundle.format.trust import load_trust, merge_policies

    if not trust_files:
        raise UsageError(
            "no --trust file given", hint="pass the trust file or the signer's .pub with --trust"
        )
    return merge_policies([load_trust(path) for path in trust_files])


@click.command()
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A trust file or a minisign .pub; repeatable (keys are merged, the highest threshold applies).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the report as JSON (docs/schemas/describe.json)."
)
def verify(bundle: Path, trust_files: tuple[Path, ...], as_json: bool) -> None:
    """Check the bundle's signatures against trusted keys, then every member's size and sha256.

    Exit 0 only when everything checks out; otherwise the exit code names the failure (see docs/reference/exit-codes.md).
    """
    from netbundle.format.describe import verification
    from netbundle.format.tar import verify_bundle

    policy = _trust_policy(trust_files)
    click.echo(render_result(verification(verify_bundle(bundle, policy), policy), as_json))


@click.command()
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="Print the report as JSON (docs/schemas/describe.json)."
)
def inspect(bundle: Path, as_json: bool) -> None:
    """Show a bundle's targets, groups, packages with their origin, and signers (nothing is verified)."""
    from netbundle.format.describe import inspection
    from netbundle.format.tar import read_unverified

    found = read_unverified(bundle)
    click.echo(render_result(inspection(found.manifest, found.manifest_sha256, found.signatures), as_json))


@click.command()
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="Print the differences as JSON (docs/schemas/diff.json)."
)
@click.option(
    "--exit-code", is_flag=True, help="Exit 1 when the bundles differ, 0 when not (as git diff does)."
)
@click.pass_context
def diff(ctx: click.Context, old: Path, new: Path, as_json: bool, exit_code: bool) -> None:
    """What changed from bundle OLD to bundle NEW, per target and group, for review before promotion.

    Packages added, removed, upgraded, downgraded; a file changed without a version change is flagged with "!!";
    signer changes are shown. Neither bundle is verified: run `netbundle verify` on the one you promote.
    """
    from netbundle.format.describe import signer_ids
    from netbundle.format.diff import diff_manifests
    from netbundle.format.tar import read_unverified

    before, after = read_unverified(old), read_unverified(new)
    result = diff_manifests(
        before.manifest, after.manifest, signer_ids(before.signatures), signer_ids(after.signatures)
    )
    click.echo(render_result(result, as_json))
    if exit_code and result.differ:
        ctx.exit(1)


@click.command()
@click.argument("parts", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keys the parts must be signed with (a trust file or a .pub); repeatable.",
)
@sign_key_options
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The merged bundle.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary (docs/schemas/build.json).")
def merge(
    parts: tuple[Path, ...],
    trust_files: tuple[Path, ...],
    sign_keys: tuple[str, ...],
    password_env: str,
    output: Path,
    as_json: bool,
) -> None:
    """Combine bundles built from the same lock on different runners (e.g. an aarch64 runner) into one.

    Each part is verified first; parts whose project, lock, groups or pip differ are refused, as is a file or
    target that two parts describe differently. The result is re-signed with --sign-key.
    """
    from netbundle.bundle.merge import merge_bundles

    result = merge_bundles(
        parts, output, policy=_trust_policy(trust_files), sign_keys=load_signing_keys(sign_keys, password_env)
    )
    click.echo(render_result(result, as_json), err=str(output) == "-")  # -o -: the bundle is on stdout


SIGN_EPILOG = """
Examples:

\b
  netbundle sign dist/site-1.4.0.tar --trust ci.pub --sign-key prod.key:PROD_KEY_PASSWORD
  netbundle sign dist/site-1.4.0.tar --trust trust.txt --sign-key prod.key -o promoted/site-1.4.0.tar

The manifest bytes stay the same: every earlier signature stays valid (`minisign -V` checks each one).
"""


@click.command(epilog=SIGN_EPILOG)
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--trust",
    "trust_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keys the bundle must already be signed with (a trust file or a .pub); repeatable.",
)
@sign_key_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the signed bundle here (default: replace BUNDLE, atomically).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary (docs/schemas/build.json).")
def sign(
    bundle: Path,
    trust_files: tuple[Path, ...],
    sign_keys: tuple[str, ...],
    password_env: str,
    output: Path | None,
    as_json: bool,
) -> None:
    """Add signatures to a bundle without rebuilding it (a promotion gate's countersignature).

    The bundle is verified against --trust first (signatures, then every file); each --sign-key then signs the
    unchanged manifest, and the bundle is rewritten with the grown signature set. SHA256SUMS is updated.
    """
    from netbundle.bundle.countersign import add_signatures

    policy = _trust_policy(trust_files)
    result = add_signatures(
        bundle, output or bundle, policy=policy, sign_keys=load_signing_keys(sign_keys, password_env)
    )
    click.echo(render_result(result, as_json))
