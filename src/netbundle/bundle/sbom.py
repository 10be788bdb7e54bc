"""The bundle's CycloneDX SBOM (``sbom/cyclonedx.json``): every package carried, with the hashes of its files.

Made with cyclonedx-python-lib from the manifest's data, so the SBOM and the manifest cannot disagree. It is
deterministic: the serial number is derived from the bundle's content (a UUID5), the timestamp is the build time,
and every bom-ref is the component's package URL (the library would otherwise draw random ones).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, Property, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from netbundle.format.manifest import PackageEntry

_NAMESPACE = uuid.UUID("6f1c3f7e-7a4e-5d0b-9a55-6e6574626e64")


def render_sbom(
    *,
    project: tuple[str, str],
    packages: Sequence[PackageEntry],
    hashes: Mapping[str, str],
    build_time: int,
    builder_version: str,
    identity: str,
) -> bytes:
    """CycloneDX 1.6 JSON for ``packages``; ``hashes`` maps bundle paths to sha256, ``identity`` seeds the serial."""
    bom = Bom(serial_number=uuid.uuid5(_NAMESPACE, identity))
    bom.metadata.timestamp = datetime.fromtimestamp(build_time, tz=UTC)
    bom.metadata.tools.components.add(
        Component(
            type=ComponentType.APPLICATION, name="netbundle", version=builder_version, bom_ref="netbundle"
        )
    )
    name, version = project
    root = _component(name, version, ComponentType.APPLICATION)
    bom.metadata.component = root
    for package in packages:
        is_root = package.name == name
        component = root if is_root else _component(package.name, package.version, ComponentType.LIBRARY)
        for artifact in sorted(package.artifacts, key=lambda a: a.path):
            component.hashes.add(HashType(alg=HashAlgorithm.SHA_256, content=hashes[artifact.path]))
            if artifact.origin.url:
                component.external_references.add(
                    ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(artifact.origin.url))
                )
            if artifact.origin.build is not None:
                component.properties.add(
                    Property(name="netbundle:built-from", value=artifact.origin.build.input_filename)
                )
        component.properties.add(Property(name="netbundle:groups", value=",".join(package.groups)))
        if not is_root:  # the project itself is the SBOM's subject (metadata.component), not one of its parts
            bom.components.add(component)
            bom.register_dependency(root, [component])
    text = JsonV1Dot6(bom).output_as_string(indent=None)
    # re-serialise with sorted keys so that equal BOMs are equal bytes
    return (json.dumps(json.loads(text), sort_keys=True, indent=1) + "\n").encode("utf-8")


def _component(name: str, version: str, kind: ComponentType) -> Component:
    purl = PackageURL(type="pypi", name=name, version=version)
    return Component(type=kind, name=name, version=version, purl=purl, bom_ref=purl.to_string())
