from __future__ import annotations

import json
from dataclasses import replace

import pytest

from netbundle.format.manifest import (
    Artifact,
    BuildInfo,
    FileEntry,
    Manifest,
    ManifestError,
    Origin,
    PackageEntry,
    TargetEntry,
    canonical_json,
    is_safe_member_path,
    manifest_to_dict,
    parse_manifest,
    render_manifest,
)

SHA_A = "a" * 64
SHA_B = "b" * 64


def make_manifest() -> Manifest:
    target = TargetEntry(
        name="py311",
        python_version="3.11",
        implementation="cp",
        abis=("cp311",),
        platforms=("manylinux_2_28_x86_64",),
        marker_environment={"python_version": "3.11", "sys_platform": "linux"},
        locks={"main": "locks/py311/requirements-main.txt"},
        pylock="locks/py311/pylock.toml",
    )
    built = Origin(
        "index", None, "six-1.0.tar.gz", SHA_B, build=BuildInfo("six-1.0.tar.gz", SHA_B, "setuptools")
    )
    return Manifest(
        format_version="1.0",
        bundle_id="demo-1.0-0123456789ab",
        project_name="demo",
        project_version="1.0",
        builder_version="0.1.0",
        build_time="2026-01-01T00:00:00Z",
        lock_content_hash="c" * 64,
        lock_sha256=SHA_A,
        groups=("main",),
        extras=(),
        targets=(target,),
        files=(
            FileEntry("locks/py311/pylock.toml", 5, SHA_B, "pylock"),
            FileEntry("locks/py311/requirements-main.txt", 5, SHA_B, "lock"),
            FileEntry("wheels/six-1.0-py3-none-any.whl", 10, SHA_A, "wheel"),
        ),
        packages=(
            PackageEntry(
                "six", "1.0", ("main",), (Artifact("wheels/six-1.0-py3-none-any.whl", ("py311",), built),)
            ),
        ),
    )


def test_round_trip_is_identity() -> None:
    manifest = make_manifest()
    raw = render_manifest(manifest)
    assert parse_manifest(raw) == manifest
    assert render_manifest(parse_manifest(raw)) == raw


def test_member_order_does_not_change_the_bytes() -> None:
    manifest = make_manifest()
    shuffled = replace(manifest, files=tuple(reversed(manifest.files)))
    assert render_manifest(shuffled) == render_manifest(manifest)


def test_rendering_is_canonical() -> None:
    raw = render_manifest(make_manifest())
    assert raw.endswith(b"\n")
    data = json.loads(raw)
    assert raw == (json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n").encode()


def test_canonical_json_refuses_floats() -> None:
    with pytest.raises(TypeError, match=r"\$\.a\[1\]"):
        canonical_json({"a": [1, 2.5]})


def test_every_problem_is_collected_with_its_path() -> None:
    data = manifest_to_dict(make_manifest())
    data["files"][0]["sha256"] = "nothex"
    data["files"][1]["path"] = "../escape"
    data["packages"][0]["groups"] = ["nope"]
    del data["build_time"]
    with pytest.raises(ManifestError) as info:
        parse_manifest(json.dumps(data).encode())
    problems = "\n".join(info.value.problems)
    assert "$.files[0].sha256" in problems
    assert "$.files[1].path" in problems
    assert "$.packages[0].groups" in problems
    assert "$.build_time: missing" in problems


@pytest.mark.parametrize(
    ("version", "ok"),
    [("1.0", True), ("2.0", False), ("0.9", False), ("one", False)],
)
def test_format_major_version_is_enforced(version: str, ok: bool) -> None:
    data = manifest_to_dict(make_manifest())
    data["format_version"] = version
    raw = json.dumps(data).encode()
    if ok:
        assert parse_manifest(raw).format_version == version
    else:
        with pytest.raises(ManifestError, match="format_version"):
            parse_manifest(raw)


def test_newer_minor_warns_and_ignores_unknown_keys() -> None:
    data = manifest_to_dict(make_manifest())
    data["format_version"] = "1.7"
    data["future_field"] = {"x": 1}
    with pytest.warns(UserWarning, match="newer"):
        manifest = parse_manifest(json.dumps(data).encode())
    assert manifest.extra == {"future_field": {"x": 1}}


def test_lock_reference_must_be_a_lock_file() -> None:
    manifest = make_manifest()
    bad_target = replace(manifest.targets[0], locks={"main": "wheels/six-1.0-py3-none-any.whl"})
    with pytest.raises(ManifestError, match="not a lock file"):
        render_manifest(replace(manifest, targets=(bad_target,)))


def test_origin_url_with_credentials_is_refused() -> None:
    data = manifest_to_dict(make_manifest())
    data["packages"][0]["artifacts"][0]["origin"]["url"] = "https://user:secret@example.invalid/x.whl"
    with pytest.raises(ManifestError, match="credentials"):
        parse_manifest(json.dumps(data).encode())


@pytest.mark.parametrize(
    ("path", "safe"),
    [
        ("wheels/a-1-py3-none-any.whl", True),
        ("locks/t1/requirements-main.txt", True),
        ("/etc/passwd", False),
        ("wheels/../etc", False),
        ("wheels/./a.whl", False),
        ("netbundle/manifest.json", False),
        ("other/a.whl", False),
        ("wheels", False),
        ("wheels//a.whl", False),
        ("wheels/a\\b.whl", False),
    ],
)
def test_member_paths(path: str, safe: bool) -> None:
    assert is_safe_member_path(path) is safe


def test_not_json() -> None:
    with pytest.raises(ManifestError, match="not UTF-8 JSON"):
        parse_manifest(b"\xff")
