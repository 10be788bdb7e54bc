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
    raw = canonical_json(data)
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
        manifest = parse_manifest(canonical_json(data))
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


def test_rehearse_skip_imports_and_env_round_trip_and_are_absent_by_default() -> None:
    plain = parse_manifest(render_manifest(make_manifest()))
    assert (plain.skip_imports, plain.rehearse_env) == ((), {})
    assert json.loads(render_manifest(make_manifest()))["rehearse"] == {"smoke": list(make_manifest().smoke)}
    configured = replace(
        make_manifest(), skip_imports=("legacy*",), rehearse_env={"DJANGO_SETTINGS_MODULE": "s"}
    )
    parsed = parse_manifest(render_manifest(configured))
    assert parsed.skip_imports == ("legacy*",) and parsed.rehearse_env == {"DJANGO_SETTINGS_MODULE": "s"}


def test_a_rehearse_env_that_would_change_the_isolation_is_refused() -> None:
    data = json.loads(render_manifest(make_manifest()))
    data["rehearse"]["env"] = {"PYTHONPATH": "/evil", "OK": 1}
    with pytest.raises(ManifestError) as info:
        parse_manifest(canonical_json(data))
    assert any("PYTHONPATH may not be set" in p for p in info.value.problems)
    assert "$.rehearse.env.OK: expected a string" in info.value.problems


def test_build_requirements_round_trip_and_a_1_0_manifest_without_them_still_reads() -> None:
    manifest = make_manifest()
    (package,) = manifest.packages
    (artifact,) = package.artifacts
    pins = ("setuptools==80.9.0 sha256:" + "d" * 64, "wheel==0.45.1")
    build = replace(artifact.origin.build, requirements=pins)  # type: ignore[type-var]
    with_pins = replace(
        manifest,
        packages=(
            replace(package, artifacts=(replace(artifact, origin=replace(artifact.origin, build=build)),)),
        ),
    )
    assert parse_manifest(render_manifest(with_pins)) == with_pins
    data = manifest_to_dict(make_manifest())
    del data["packages"][0]["artifacts"][0]["origin"]["build"]["requirements"]  # as a 1.0 builder wrote it
    assert parse_manifest(canonical_json(data)).packages[0].artifacts[0].origin.build.requirements == ()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "pin", ["setuptools", "setuptools==1 sha256:xyz", "a==1\n--index-url http://evil", 7]
)
def test_a_malformed_build_requirement_is_refused_with_its_path(pin: object) -> None:
    data = manifest_to_dict(make_manifest())
    data["packages"][0]["artifacts"][0]["origin"]["build"]["requirements"] = [pin]
    with pytest.raises(ManifestError) as info:
        parse_manifest(canonical_json(data))
    assert "$.packages[0].artifacts[0].origin.build.requirements[0]" in "\n".join(info.value.problems)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda raw: raw.rstrip(b"\n"), "not canonical JSON"),
        (lambda raw: raw + b"\n", "not canonical JSON"),
        (lambda raw: json.dumps(json.loads(raw), indent=1).encode() + b"\n", "not canonical JSON"),
        (
            lambda raw: raw.replace(b'"bundle_id"', b'"bundle_id":"x","bundle_id"', 1),
            "duplicate key 'bundle_id'",
        ),
        (lambda raw: raw.replace(b'"size":5', b'"size":NaN', 1), "NaN is not JSON"),
        (lambda raw: raw.replace(b'"size":5', b'"size":5.0', 1), "size: expected an integer"),
        (lambda raw: raw.replace(b'"demo"', b'"\\u0064emo"', 1), "not canonical JSON"),
        (lambda raw: b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (lambda raw: raw[:-2] + b',"x":' + b"[" * 5000 + b"]" * 5000 + b"}\n", "nested too deeply"),
    ],
    ids=[
        "no-newline",
        "two-newlines",
        "indented",
        "duplicate-key",
        "nan",
        "float",
        "escaped",
        "deep",
        "deep-extra",
    ],
)
def test_only_the_canonical_bytes_parse(mutate: object, message: str) -> None:
    raw = render_manifest(make_manifest())
    bad = mutate(raw)  # type: ignore[operator]
    with pytest.raises(ManifestError, match=message) as info:
        parse_manifest(bad)
    assert info.value.exit_code == 10


def test_a_non_string_lock_path_is_a_problem_not_a_crash() -> None:
    data = manifest_to_dict(make_manifest())
    data["targets"][0]["locks"]["main"] = ["locks/py311/requirements-main.txt"]
    with pytest.raises(ManifestError, match=r"locks\.main: \['locks"):
        parse_manifest(canonical_json(data))


@pytest.mark.parametrize("version", ["1.0\n", "1.0\n--find-links x", "1.0 **PASSED**", "", "１.0"])
def test_project_and_package_versions_are_pep_440_shaped(version: str) -> None:
    for where in ("project", "package"):
        data = manifest_to_dict(make_manifest())
        if where == "project":
            data["project"]["version"] = version
        else:
            data["packages"][0]["version"] = version
        with pytest.raises(ManifestError, match="not a PEP 440 version"):
            parse_manifest(canonical_json(data))


def test_a_name_with_a_trailing_newline_is_not_a_name() -> None:
    data = manifest_to_dict(make_manifest())
    data["targets"][0]["name"] = "py311\n"
    with pytest.raises(ManifestError, match="not a target name"):
        parse_manifest(canonical_json(data))
