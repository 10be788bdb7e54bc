"""What ``inspect`` shows of a bundle (pure): targets, groups, packages with origin, signers.

Both CLIs (the builder's ``netbundle inspect`` and the pyz's) render the same data: :func:`describe` builds the
JSON object, :func:`render_description` the human text from that object, so ``--json`` and the text never differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SignatureInvalidError
from . import minisign
from .results import with_format

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

    from .manifest import Manifest, Origin
    from .tar import VerifiedBundle
    from .trust import TrustPolicy


@dataclass(frozen=True)
class Description:
    """The result of ``inspect``: :func:`describe`'s object, rendered by :func:`render_description`."""

    data: Mapping[str, Any]

    def to_json(self) -> Dict[str, Any]:
        return with_format(self.data)

    def render_text(self) -> str:
        return render_description(self.data)


@dataclass(frozen=True)
class Verification:
    """The result of ``verify``: the description of a verified bundle, and its signers as the policy names them."""

    data: Mapping[str, Any]
    signer_labels: Tuple[str, ...]

    def to_json(self) -> Dict[str, Any]:
        return with_format(self.data)

    def render_text(self) -> str:
        d = self.data
        return "verified: {} {} (bundle {}), {} files, signed by {}".format(
            d["project"]["name"],
            d["project"]["version"],
            d["bundle_id"],
            d["files"],
            ", ".join(self.signer_labels),
        )


def verification(bundle: VerifiedBundle, policy: TrustPolicy) -> Verification:
    """The ``verify`` result of a bundle that :func:`netbundle.format.tar.verify_bundle` accepted."""
    ids = [key.key_id_hex for key in bundle.signers]
    labels = tuple(_signer_label(policy.describe(key), key.key_id_hex) for key in bundle.signers)
    return Verification(describe(bundle.manifest, bundle.manifest_sha256, ids, True), labels)


def inspection(manifest: Manifest, manifest_sha256: str, signatures: Mapping[str, bytes]) -> Description:
    """The ``inspect`` result of an unverified bundle (its signers are claims, not checks)."""
    return Description(describe(manifest, manifest_sha256, signer_ids(signatures), None))


def _signer_label(described: str, key_id_hex: str) -> str:
    """``name (KEYID)``, or the bare key id when the key has no name but its id (a plain .pub file)."""
    return key_id_hex if described == "{} ({})".format(key_id_hex, key_id_hex) else described


def signer_ids(signatures: Mapping[str, bytes]) -> List[str]:
    """The key ids named by a bundle's signature files (unverified: a claim, not a check)."""
    found = []
    for member in sorted(signatures):
        try:
            found.append(minisign.parse_signature(signatures[member].decode("utf-8"), member).key_id_hex)
        except (SignatureInvalidError, UnicodeDecodeError):
            found.append("malformed:" + member)
    return found


def describe(
    manifest: Manifest, manifest_sha256: str, signers: Sequence[str], verified: Optional[bool]
) -> Dict[str, Any]:
    """The inspect report: ``verified`` is True/False after a check, None when nothing was checked."""
    wheels = {f.path: f for f in manifest.files}
    return {
        "bundle_id": manifest.bundle_id,
        "project": {"name": manifest.project_name, "version": manifest.project_version},
        "format_version": manifest.format_version,
        "builder_version": manifest.builder_version,
        "build_time": manifest.build_time,
        "expires": manifest.expires,
        "manifest_sha256": manifest_sha256,
        "lock": {"content_hash": manifest.lock_content_hash, "sha256": manifest.lock_sha256},
        "verified": verified,
        "signers": list(signers),
        "groups": list(manifest.groups),
        "targets": [
            {
                "name": t.name,
                "python": t.python_version,
                "implementation": t.implementation,
                "platforms": list(t.platforms),
                "groups": sorted(t.locks),
            }
            for t in manifest.targets
        ],
        "packages": [
            {
                "name": p.name,
                "version": p.version,
                "groups": list(p.groups),
                "artifacts": [
                    {
                        "file": a.path.split("/")[-1],
                        "sha256": a.origin.sha256 if a.path not in wheels else wheels[a.path].sha256,
                        "targets": list(a.targets),
                        "origin": _origin_text(a.origin, a.path.split("/")[-1]),
                        "build_requirements": list(a.origin.build.requirements) if a.origin.build else [],
                    }
                    for a in p.artifacts
                ],
            }
            for p in manifest.packages
        ],
        "pip": _pip(manifest, wheels),
        "files": len(manifest.files),
        "payload_bytes": sum(f.size for f in manifest.files),
        "smoke": list(manifest.smoke),
        **_rehearse_settings(manifest),
    }


def _rehearse_settings(manifest: Manifest) -> Dict[str, Any]:
    """``skip_imports`` and ``rehearse_env``, only when the bundle sets them."""
    found = {}  # type: Dict[str, Any]
    if manifest.skip_imports:
        found["skip_imports"] = list(manifest.skip_imports)
    if manifest.rehearse_env:
        found["rehearse_env"] = dict(manifest.rehearse_env)
    return found


def _pip(manifest: Manifest, files: Mapping[str, Any]) -> Optional[Dict[str, str]]:
    """The carried pip wheel: its file, version (from the wheel name) and sha256."""
    if manifest.pip_wheel is None:
        return None
    name = manifest.pip_wheel.split("/")[-1]
    entry = files.get(manifest.pip_wheel)
    return {
        "file": name,
        "version": name.split("-")[1] if name.count("-") >= 2 else "",
        "sha256": entry.sha256 if entry is not None else "",
    }


def _origin_text(origin: Origin, bundled: str) -> str:
    """``index (source private)``, ``url https://…``, ``git … built from …``: where the bundled file came from."""
    if origin.url:
        where = "{} {}".format(origin.kind, origin.url)
    elif origin.kind == "index":
        where = "index ({})".format("source " + origin.source if origin.source else "default index")
    else:
        where = origin.kind
    if origin.filename != bundled:
        where += ", from {}".format(origin.filename)
    if origin.build is not None:
        where += ", built with {}".format(origin.build.backend)
        policy = origin.build.policy or {}
        if policy.get("glibc"):
            where += ", needs glibc {} ({})".format(
                policy["glibc"], policy.get("platform") or "no manylinux level"
            )
        if origin.build.requirements:
            where += " from {}".format(", ".join(origin.build.requirements))
    return where


def render_description(data: Mapping[str, Any]) -> str:
    """The human text of :func:`describe`'s object."""
    state = {
        True: "VERIFIED",
        False: "NOT VERIFIED",
        None: "NOT VERIFIED (inspect does not check signatures)",
    }
    lines = [
        "{} {}  bundle {}".format(data["project"]["name"], data["project"]["version"], data["bundle_id"]),
        "  {}; signed by: {}".format(state[data["verified"]], ", ".join(data["signers"]) or "nobody"),
        "  built {} by netbundle {}; format {}; {}".format(
            data["build_time"],
            data["builder_version"],
            data["format_version"],
            "expires {}".format(data["expires"]) if data.get("expires") else "no expiry",
        ),
        "  manifest sha256 {}; {} files, {} payload bytes (the listed files; the .tar is larger)".format(
            data["manifest_sha256"], data["files"], data["payload_bytes"]
        ),
        "  groups: {}".format(", ".join(data["groups"])),
        "  targets:",
    ]
    for target in data["targets"]:
        lines.append(
            "    {}: {} {} on {}".format(
                target["name"], target["implementation"], target["python"], ", ".join(target["platforms"])
            )
        )
    lines.append("  packages ({}):".format(len(data["packages"])))
    for package in data["packages"]:
        lines.append(
            "    {} {} [{}]".format(package["name"], package["version"], ", ".join(package["groups"]) or "-")
        )
        for artifact in package["artifacts"]:
            lines.append(
                "      {} <- {}  ({})".format(
                    artifact["file"], artifact["origin"], ", ".join(artifact["targets"])
                )
            )
    if data.get("pip"):
        lines.append("  pip: {} (sha256 {})".format(data["pip"]["version"], data["pip"]["sha256"]))
    if data["smoke"]:
        lines.append("  rehearsal smoke commands: " + "; ".join(data["smoke"]))
    if data.get("skip_imports"):
        lines.append("  rehearsal skips imports of: " + ", ".join(data["skip_imports"]))
    if data.get("rehearse_env"):
        lines.append(
            "  rehearsal environment: "
            + " ".join("{}={}".format(k, v) for k, v in sorted(data["rehearse_env"].items()))
        )
    return "\n".join(lines)
