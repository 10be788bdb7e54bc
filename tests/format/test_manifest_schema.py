"""The published JSON Schema (docs/manifest.schema.json) agrees with the manifest the code writes and reads."""

from __future__ import annotations

import copy
import json
import tarfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.support.bundles import make_bundle, make_keypair

from netbundle.format.manifest import ManifestError, parse_manifest

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "manifest.schema.json").read_text())


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("schema")
    bundle = make_bundle(
        tmp / "b.tar",
        packages=[("alpha", "1.0"), ("beta", "2.0")],
        groups={"main": ["alpha"], "junos": ["beta"]},
        keys=[make_keypair(tmp)],
        smoke=["alpha --help"],
    )
    with tarfile.open(bundle) as tar:
        return json.loads(tar.extractfile("netbundle/manifest.json").read())  # type: ignore[union-attr]


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_written_manifest_validates(manifest: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(manifest)


def _set(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    node: Any = changed
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return changed


_DELETE = object()

# Each mutation is refused by BOTH the schema and the parser: they describe the same format.
MUTATIONS = {
    "format major 2": ("format_version", "2.0"),
    "bad sha256": ("files.0.sha256", "XYZ"),
    "negative size": ("files.0.size", -1),
    "float size": ("files.0.size", 1.5),
    "unsafe path": ("files.0.path", "wheels/../../etc/passwd"),
    "unknown kind": ("files.0.kind", "script"),
    "missing targets": ("targets", _DELETE),
    "no main group": ("groups", ["junos"]),
    "unknown origin kind": ("packages.0.artifacts.0.origin.kind", "ftp"),
    "bad build time": ("build_time", "yesterday"),
    "project name not normalised": ("project.name", "Sample_Project"),
}


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_schema_and_parser_refuse_the_same_mutations(manifest: dict[str, Any], case: str) -> None:
    path, value = MUTATIONS[case]
    bad = _set(manifest, path, value)
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(bad)
    with pytest.raises(ManifestError):
        parse_manifest(json.dumps(bad).encode())
