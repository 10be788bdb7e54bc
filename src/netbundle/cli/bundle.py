"""``netbundle build``, ``verify``, ``inspect``, ``diff``: make a signed bundle and review it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from netbundle.cli._options import fetch_request, project_option, selection_options, source_options
from netbundle.cli.keys import load_signing_keys, sign_key_options, start_unlocking

if TYPE_CHECKING:
    from netbundle.format.trust import TrustPolicy

BUILD_EPILOG = """
Examples:

\b
  netbundle build --sign-key release.key -o dist/site-bundle.tar
  netbundle build --with junos,arista --target cp39-manylinux_2_28_x86_64 --sign-key ci.key --sign-key release.key
  NETBUNDLE_SIGN_KEY_PASSWORD=... netbundle build --sign-key release.key --json

The build time is SOURCE_DATE_EPOCH (default 1980-01-01): the same inputs give a byte-identical bundle.
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
    help="The pip carried in tools/ (default: the newest that runs on every target).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("dist/bundle.tar"),
    show_default=True,
    help="The bundle file (written to a temporary name, then renamed).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def build(
    project_dir: Path,
    sign_keys: tuple[Path, ...],
    password_env: str,
    unsigned: bool,
    pip_version: str | None,
    output: Path,
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
    # scrypt (seconds, for an encrypted key) runs while the build downloads and builds; passwords are asked first
    request = BuildRequest(
        fetch=fetch_request(project_dir, output, params),
        pending_keys=start_unlocking(sign_keys, password_env) if sign_keys else None,
        pip_version=pip_version,
    )
    result = build_bundle(request)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
        return
    m = result.manifest
    click.echo(
        f"{result.path}: {m.bundle_id} ({len(m.packages)} packages, {len(m.files)} files, {result.size} bytes)"
    )
    click.echo(f"  targets: {', '.join(t.name for t in m.targets)}; groups: {', '.join(m.groups)}")
    click.echo(
        f"  manifest sha256 {result.manifest_sha256}; signed by: {', '.join(result.signers) or 'nobody'}"
    )


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
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(bundle: Path, trust_files: tuple[Path, ...], as_json: bool) -> None:
    """Check the bundle's signatures against trusted keys, then every member's size and sha256.

    Exit 0 only when everything checks out; otherwise the exit code names the failure (see docs/reference/exit-codes.md).
    """
    from netbundle.format.describe import describe
    from netbundle.format.tar import verify_bundle

    verified = verify_bundle(bundle, _trust_policy(trust_files))
    signers = [k.key_id_hex for k in verified.signers]
    if as_json:
        data = describe(verified.manifest, verified.manifest_sha256, signers, True)
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    m = verified.manifest
    click.echo(
        f"verified: {m.project_name} {m.project_version} (bundle {m.bundle_id}), {len(m.files)} files, signed by {', '.join(signers)}"
    )


@click.command()
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def inspect(bundle: Path, as_json: bool) -> None:
    """Show a bundle's targets, groups, packages with their origin, and signers (nothing is verified)."""
    from netbundle.format.describe import describe, render_description, signer_ids
    from netbundle.format.tar import read_unverified

    found = read_unverified(bundle)
    data = describe(found.manifest, found.manifest_sha256, signer_ids(found.signatures), None)
    click.echo(json.dumps(data, indent=2, sort_keys=True) if as_json else render_description(data))


@click.command()
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
def diff(old: Path, new: Path, as_json: bool) -> None:
    """What changed from bundle OLD to bundle NEW, per target and group, for review before promotion.

    Packages added, removed, upgraded, downgraded; a file changed without a version change is flagged with "!!";
    signer changes are shown. Neither bundle is verified: run `netbundle verify` on the one you promote.
    """
    from netbundle.format.describe import signer_ids
    from netbundle.format.diff import diff_manifests, render_diff
    from netbundle.format.tar import read_unverified

    before, after = read_unverified(old), read_unverified(new)
    result = diff_manifests(
        before.manifest, after.manifest, signer_ids(before.signatures), signer_ids(after.signatures)
    )
    click.echo(json.dumps(result.to_json(), indent=2, sort_keys=True) if as_json else render_diff(result))


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
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
def merge(
    parts: tuple[Path, ...],
    trust_files: tuple[Path, ...],
    sign_keys: tuple[Path, ...],
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
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
        return
    m = result.manifest
    click.echo(
        f"{result.path}: {m.bundle_id} ({', '.join(t.name for t in m.targets)}), signed by {', '.join(result.signers)}"
    )
