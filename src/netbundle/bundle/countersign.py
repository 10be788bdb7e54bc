"""``netbundle sign``: add signatures to an existing bundle without rebuilding it (a promotion gate's step).

The bundle is verified first against the given trust policy (signatures, then every member), so a gate signs
only what it already trusts. The manifest bytes stay exactly the same, so every existing signature stays valid
and the set of signatures grows; the members are rewritten in the writer's canonical order (the same bytes as
:func:`netbundle.format.tar.write_bundle` would write for that content).
"""

from __future__ import annotations

import calendar
import hashlib
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from netbundle.bundle.builder import BuildResult
from netbundle.bundle.checksums import record_checksum
from netbundle.bundle.signing import sign, signature_member_name
from netbundle.errors import UsageError
from netbundle.format.tar import read_unverified, verify_bundle, write_bundle

if TYPE_CHECKING:
    from collections.abc import Sequence

    from netbundle.bundle.signing import SecretKey
    from netbundle.format.trust import TrustPolicy


def add_signatures(
    bundle: Path, output: Path, *, policy: TrustPolicy, sign_keys: Sequence[SecretKey]
) -> BuildResult:
    """Verify ``bundle`` against ``policy``, sign its manifest with each key, write the result to ``output``.

    ``output`` may be ``bundle`` itself (it is replaced atomically).

    :raises UsageError: no key, or a key that already signed the bundle.
    :raises BundleFormatError, IntegrityError, SignatureError: the bundle failed verification.
    """
    if not sign_keys:
        raise UsageError("sign needs at least one --sign-key")
    existing = read_unverified(bundle).signatures
    with tempfile.TemporaryDirectory(
        prefix="netbundle-sign-", dir=output.parent if output.parent.is_dir() else None
    ) as tmp:
        verified = verify_bundle(bundle, policy, Path(tmp) / "staging")
        manifest = verified.manifest
        added = {}
        for key in sign_keys:
            member = signature_member_name(key)
            if member in existing:
                raise UsageError(f"{bundle} is already signed by key {key.key_id_hex}")
            added[member] = sign(
                verified.manifest_bytes, key, trusted_comment=f"netbundle bundle {manifest.bundle_id}"
            )
        files = {f.path: verified.member_path(f.path) for f in manifest.files}
        epoch = calendar.timegm(time.strptime(manifest.build_time, "%Y-%m-%dT%H:%M:%SZ"))
        path = write_bundle(
            output,
            manifest=verified.manifest_bytes,
            signatures={**existing, **added},
            files=files,
            mtime=epoch,
        )
    return BuildResult(
        path=path,
        manifest=manifest,
        manifest_sha256=hashlib.sha256(verified.manifest_bytes).hexdigest(),
        size=path.stat().st_size,
        signers=tuple(sorted(_ids(existing) + [key.key_id_hex for key in sign_keys])),
        sha256=record_checksum(path),
    )


def _ids(signatures: dict[str, bytes]) -> list[str]:
    from netbundle.format.describe import signer_ids

    return signer_ids(signatures)
