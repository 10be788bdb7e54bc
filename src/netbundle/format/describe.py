"""What ``inspect`` shows of a bundle (pure): targets, groups, packages with origin, signers.

Both CLIs (the builder's ``netbundle inspect`` and the pyz's) render the same data: :func:`describe` builds the
JSON object, :func:`render_description` the human text from that object, so ``--json`` and the text never differ.
"""

from __future__ import annotations

from ..errors import SignatureInvalidError
from . import minisign

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Mapping, Optional, Sequence

    from .manifest import Manifest, Origin


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
                    }
                    for a in p.artifacts
                ],
            }
            for p in manifest.packages
        ],
        "files": len(manifest.files),
        "bytes": sum(f.size for f in manifest.files),
        "smoke": list(manifest.smoke),
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
        "  manifest sha256 {}; {} files, {} bytes".format(
            data["manifest_sha256"], data["files"], data["bytes"]
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
    if data["smoke"]:
        lines.append("  rehearsal smoke commands: " + "; ".join(data["smoke"]))
    return "\n".join(lines)
