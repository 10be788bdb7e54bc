"""``netbundle merge``: one bundle from parts built from the same lock on different runners, re-signed.

A typical use: an x86_64 runner builds the x86_64 targets and an aarch64 runner builds the aarch64 targets (with
wheels it built there from sdists); the merged bundle carries both. Every part is verified first (merging
re-signs, and nothing unverified may be re-signed). Parts must agree on the project, the lock (content-hash and
sha256), the groups, the extras and the pip wheel; a path present in several parts must have the same bytes in
each; a target present in several parts must be described identically. The SBOM and bundle id are recomputed.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from netbundle.bundle.builder import BuildResult, bundle_identity
from netbundle.bundle.sbom import render_sbom
from netbundle.bundle.signing import sign, signature_member_name
from netbundle.errors import InputError, UsageError
from netbundle.format.layout import SBOM_PATH
from netbundle.format.manifest import (
    Artifact,
    FileEntry,
    Manifest,
    PackageEntry,
    TargetEntry,
    parse_timestamp,
    render_manifest,
)
from netbundle.format.tar import VerifiedBundle, file_entry, verify_bundle, write_bundle

if TYPE_CHECKING:
    from collections.abc import Sequence

    from netbundle.bundle.signing import SecretKey
    from netbundle.format.trust import TrustPolicy


def merge_bundles(
    parts: Sequence[Path], output: Path, *, policy: TrustPolicy, sign_keys: Sequence[SecretKey]
) -> BuildResult:
    """Verify every part, merge them, sign the result with ``sign_keys`` and write it atomically to ``output``."""
    if len(parts) < 2:
        raise UsageError("merge needs at least two bundles")
    if not sign_keys:
        raise UsageError("merge re-signs the result: give at least one --sign-key")
    with tempfile.TemporaryDirectory(prefix="netbundle-merge-") as tmp:
        verified = [verify_bundle(part, policy, Path(tmp) / f"part-{i}") for i, part in enumerate(parts)]
        _check_compatible(verified)
        manifest, files = _merge(verified)
        data = render_manifest(manifest)
        signatures = {
            signature_member_name(key): sign(
                data, key, trusted_comment=f"netbundle bundle {manifest.bundle_id}"
            )
            for key in sign_keys
        }
        epoch = parse_timestamp(manifest.build_time)
        path = write_bundle(output, manifest=data, signatures=signatures, files=files, mtime=epoch)
    return BuildResult(
        path=path,
        manifest=manifest,
        manifest_sha256=hashlib.sha256(data).hexdigest(),
        size=path.stat().st_size,
        signers=tuple(key.key_id_hex for key in sign_keys),
    )


def _check_compatible(verified: Sequence[VerifiedBundle]) -> None:
    first = verified[0].manifest
    for other in verified[1:]:
        m = other.manifest
        for what, mine, theirs in (
            ("project", (first.project_name, first.project_version), (m.project_name, m.project_version)),
            ("lock sha256", first.lock_sha256, m.lock_sha256),
            ("lock content-hash", first.lock_content_hash, m.lock_content_hash),
            ("groups", first.groups, m.groups),
            ("extras", first.extras, m.extras),
            ("pip wheel", first.pip_wheel, m.pip_wheel),
            ("format", first.format_version, m.format_version),
        ):
            if mine != theirs:
                raise InputError(
                    f"{other.path}: its {what} ({theirs}) differs from {verified[0].path}'s ({mine})",
                    hint="merge only parts built from the same poetry.lock, groups and --pip-version",
                )


def _merge(verified: Sequence[VerifiedBundle]) -> tuple[Manifest, dict[str, Path | bytes]]:
    files: dict[str, Path | bytes] = {}
    entries: dict[str, FileEntry] = {}
    targets: dict[str, TargetEntry] = {}
    packages: dict[tuple[str, str], dict[str, Artifact]] = {}
    groups: dict[tuple[str, str], tuple[str, ...]] = {}
    for part in verified:
        for entry in part.manifest.files:
            if entry.kind == "sbom":
                continue
            known = entries.get(entry.path)
            if known is not None and known.sha256 != entry.sha256:
                raise InputError(f"{part.path}: {entry.path} differs from the same file in another part")
            entries[entry.path] = entry
            files[entry.path] = part.member_path(entry.path)
        for target in part.manifest.targets:
            if target.name in targets and targets[target.name] != target:
                raise InputError(
                    f"{part.path}: target {target.name} is described differently in another part"
                )
            targets[target.name] = target
        for package in part.manifest.packages:
            key = (package.name, package.version)
            groups[key] = package.groups
            artifacts = packages.setdefault(key, {})
            for artifact in package.artifacts:
                seen = artifacts.get(artifact.path)
                served = set(artifact.targets) | (set(seen.targets) if seen else set())
                artifacts[artifact.path] = replace(artifact, targets=tuple(sorted(served)))
    first = verified[0].manifest
    merged_packages = [
        PackageEntry(name=name, version=version, groups=groups[(name, version)], artifacts=tuple(a.values()))
        for (name, version), a in sorted(packages.items())
    ]
    build_time = max(part.manifest.build_time for part in verified)
    identity = bundle_identity(
        (first.project_name, first.project_version), first.lock_sha256, list(entries.values()), first.groups
    )
    sbom = render_sbom(
        project=(first.project_name, first.project_version),
        packages=merged_packages,
        hashes={path: entry.sha256 for path, entry in entries.items()},
        build_time=parse_timestamp(build_time),
        builder_version=first.builder_version,
        identity=identity,
    )
    files[SBOM_PATH] = sbom
    entries[SBOM_PATH] = file_entry(SBOM_PATH, "sbom", sbom)
    manifest = replace(
        first,
        bundle_id=f"{first.project_name}-{first.project_version}-{identity[:12]}",
        build_time=build_time,
        targets=tuple(targets[name] for name in sorted(targets)),
        files=tuple(entries[path] for path in sorted(entries)),
        packages=tuple(merged_packages),
        project_artifacts=tuple(sorted({p for part in verified for p in part.manifest.project_artifacts})),
        sbom=SBOM_PATH,
    )
    return manifest, files
