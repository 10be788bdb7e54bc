"""diff_manifests and describe on plain manifests (no tar, no I/O)."""

from __future__ import annotations

from dataclasses import replace

from netbundle.format.describe import describe, render_description
from netbundle.format.diff import (
    ADDED,
    DOWNGRADED,
    HASH_CHANGED,
    REMOVED,
    UPGRADED,
    diff_manifests,
    render_diff,
)
from netbundle.format.manifest import Artifact, FileEntry, Manifest, Origin, PackageEntry, TargetEntry

T1, T2 = "cp311-manylinux_2_28_x86_64", "cp39-manylinux_2_28_x86_64"


def manifest(
    packages: dict[str, tuple[str, str, tuple[str, ...]]], targets: tuple[str, ...] = (T1, T2)
) -> Manifest:
    """packages: name -> (version, sha256 char, groups); every package serves every target."""
    files, entries = [], []
    for name, (version, char, groups) in sorted(packages.items()):
        path = f"wheels/{name}-{version}-py3-none-any.whl"
        files.append(FileEntry(path, 10, char * 64, "wheel"))
        origin = Origin("index", "private" if name == "sdk" else None, path[7:], char * 64)
        entries.append(PackageEntry(name, version, groups, (Artifact(path, targets, origin),)))
    return Manifest(
        format_version="1.0", bundle_id="demo-1.0-" + "0" * 12, project_name="demo", project_version="1.0",
        builder_version="t", build_time="2026-01-01T00:00:00Z", lock_content_hash="c", lock_sha256="0" * 64,
        groups=("junos", "main"), extras=(),
        targets=tuple(TargetEntry(t, "3.11", "cp", (), ("manylinux_2_28_x86_64",), {}, {}, "") for t in targets),
        files=tuple(files), packages=tuple(entries),
    )  # fmt: skip


BASE = {"alpha": ("1.0", "a", ("main",)), "beta": ("2.0", "b", ("main",)), "sdk": ("3.0", "c", ("junos",))}


def changes(old: Manifest, new: Manifest) -> set[tuple[str, str, str]]:
    return {(c.target, c.name, c.change) for c in diff_manifests(old, new).packages}


def test_identical_bundles_have_no_changes() -> None:
    result = diff_manifests(manifest(BASE), manifest(BASE))
    assert result.packages == () and result.is_empty
    assert "no package changes" in render_diff(result)


def test_each_kind_of_change_per_target() -> None:
    new = dict(
        BASE, alpha=("1.1", "d", ("main",)), beta=("1.9", "e", ("main",)), gamma=("1.0", "f", ("junos",))
    )
    del new["sdk"]
    found = changes(manifest(BASE), manifest(new))
    expected = {("alpha", UPGRADED), ("beta", DOWNGRADED), ("gamma", ADDED), ("sdk", REMOVED)}
    assert found == {(t, name, kind) for t in (T1, T2) for name, kind in expected}


def test_same_version_other_bytes_is_flagged_loudly() -> None:
    new = dict(BASE, sdk=("3.0", "9", ("junos",)))
    result = diff_manifests(manifest(BASE), manifest(new))
    assert {c.change for c in result.packages} == {HASH_CHANGED}
    assert len(result.hash_changes) == 2
    text = render_diff(result)
    assert "!! 2 package file(s) changed WITHOUT a version change" in text
    assert f"!! sdk 3.0 [junos]: sha256 {'c' * 64} -> {'9' * 64}" in text


def test_target_and_signer_changes() -> None:
    old, new = manifest(BASE, (T1,)), manifest(BASE, (T1, T2))
    data = diff_manifests(old, new, ["AAAA"], ["AAAA", "BBBB"]).to_json()
    assert data["targets"] == {"added": [T2], "removed": []}
    assert data["signers"]["added"] == ["BBBB"]
    assert {c["name"] for c in data["packages"] if c["change"] == ADDED} == {"alpha", "beta", "sdk"}
    assert "SIGNERS CHANGED: added BBBB; removed none" in render_diff(
        diff_manifests(old, new, ["AAAA"], ["AAAA", "BBBB"])
    )


def test_describe_names_origin_and_verification_state() -> None:
    data = describe(manifest(BASE), "f" * 64, ["AAAA"], None)
    sdk = next(p for p in data["packages"] if p["name"] == "sdk")
    assert sdk["artifacts"][0]["origin"] == "index (source private)"
    text = render_description(data)
    assert "NOT VERIFIED" in text and "signed by: AAAA" in text
    verified = render_description(
        describe(replace(manifest(BASE), smoke=("netops --help",)), "f" * 64, ["AAAA"], True)
    )
    assert "VERIFIED; signed by: AAAA" in verified and "netops --help" in verified
