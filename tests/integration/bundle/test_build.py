"""`netbundle build` / verify / inspect / diff against real local indexes, real signatures and real minisign."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.support.bundles import make_keypair, pinned_pips, pip_wheel
from tests.support.projects import Pkg, write_project
from tests.support.schemas import assert_valid
from tests.support.simple_index import serve
from tests.support.wheels import make_wheel

from netbundle.cli import cli

PASSWORD = "s3cr3t-index-pw"
TARGETS = ["--target", "cp311-manylinux_2_28_x86_64", "--target", "cp39-manylinux_2_28_x86_64"]
MINISIGN = shutil.which("minisign")


def _project(
    root: Path, public_url: str, private_url: str, files: dict[str, Path], pure_version: str
) -> Path:
    return write_project(
        root,
        [
            Pkg("pure", pure_version, [files[f"pure-{pure_version}"]]),
            Pkg("plat", "2.0", [files["plat-linux"]]),
            Pkg("vendor-sdk", "3.0", [files["vendor-sdk"]], groups=["junos"],
                source={"type": "legacy", "url": private_url, "reference": "private"}),
        ],
        sources=[{"name": "private", "url": private_url, "priority": "explicit"}],
        dependencies=["pure", "plat"],
        netbundle='\n[tool.poetry.group.junos.dependencies]\nvendor-sdk = { version = "*", source = "private" }\n'
        '\n[tool.netbundle]\ngroups = ["junos"]\n[tool.netbundle.rehearse]\nsmoke = ["python -c pass"]\n',
    )  # fmt: skip


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    public, private = tmp_path / "public", tmp_path / "private"
    files = {
        "pure-1.0": make_wheel(public, "pure", "1.0"),
        "pure-1.1": make_wheel(public, "pure", "1.1"),
        "plat-linux": make_wheel(public, "plat", "2.0", tag="cp39-abi3-manylinux_2_17_x86_64"),
        "vendor-sdk": make_wheel(private, "vendor-sdk", "3.0"),
    }
    shutil.copy2(pip_wheel(), public / pip_wheel().name)
    for pinned in pinned_pips().glob("pip-*.whl"):
        shutil.copy2(pinned, public / pinned.name)
    keys = [make_keypair(tmp_path / "keys", "release"), make_keypair(tmp_path / "keys", "ci")]
    with serve(public) as pub, serve(private, auth=("ops", PASSWORD)) as priv:
        project = _project(tmp_path / "project", pub.url, priv.url, files, "1.0")
        yield {
            "project": project,
            "public": pub,
            "private": priv,
            "files": files,
            "tmp": tmp_path,
            "keys": keys,
        }


def run(
    world: dict,
    *args: str,
    cache: str = "cache",
    project: Path | None = None,
    env: dict[str, str] | None = None,
):  # type: ignore[no-untyped-def, type-arg]
    env = {"POETRY_HTTP_BASIC_PRIVATE_USERNAME": "ops", "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": PASSWORD,
           "SOURCE_DATE_EPOCH": "1767225600", **(env or {})}  # fmt: skip
    argv = ["build", "-P", str(project or world["project"]), "--index-url", world["public"].url,
            "--cache-dir", str(world["tmp"] / cache), *TARGETS, *args]  # fmt: skip
    return CliRunner().invoke(cli, argv, env=env)


def members(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def test_build_then_verify_with_ours_and_stock_minisign(world: dict) -> None:  # type: ignore[type-arg]
    release, ci = world["keys"]
    out = world["tmp"] / "dist" / "site.tar"
    result = run(
        world, "--sign-key", str(release.key_path), "--sign-key", str(ci.key_path), "-o", str(out), "--json"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert_valid("build", summary)
    assert summary["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert summary["tar_bytes"] == out.stat().st_size > summary["payload_bytes"]
    assert (out.parent / "SHA256SUMS").read_text() == f"{summary['sha256']}  site.tar\n"
    checked = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], check=False, cwd=out.parent, capture_output=True, text=True
    )
    assert checked.returncode == 0 and checked.stdout == "site.tar: OK\n"
    assert summary["groups"] == ["junos", "main"]
    assert sorted(summary["signers"]) == sorted([release.public.key_id_hex, ci.public.key_id_hex])
    trust = world["tmp"] / "trust.txt"
    trust.write_text(
        f"netbundle-trust 1\nthreshold 2\nkey release {release.public.to_base64()}\nkey ci {ci.public.to_base64()}\n"
    )
    verified = CliRunner().invoke(cli, ["verify", str(out), "--trust", str(trust)])
    assert verified.exit_code == 0, verified.output
    assert "verified: demo 1.0.0" in verified.output
    found = members(out)
    names = list(found)
    assert names[0] == "netbundle/manifest.json"
    assert names[1:3] == sorted(n for n in names if n.startswith("netbundle/signatures/"))
    assert names[3:] == sorted(names[3:])
    if MINISIGN is None:
        pytest.fail("minisign is not installed: run scripts/install-test-tools")
    (world["tmp"] / "manifest.json").write_bytes(found["netbundle/manifest.json"])
    for key in (release, ci):
        sig = world["tmp"] / f"{key.public.key_id_hex}.minisig"
        sig.write_bytes(found[f"netbundle/signatures/{key.public.key_id_hex}.minisig"])
        check = subprocess.run(
            [MINISIGN, "-V", "-p", str(key.pub_path), "-m", str(world["tmp"] / "manifest.json"), "-x", str(sig)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert check.returncode == 0, check.stderr
        assert f"netbundle bundle {summary['bundle_id']}" in check.stdout


def test_bundle_contents_locks_and_provenance(world: dict) -> None:  # type: ignore[type-arg]
    out = world["tmp"] / "site.tar"
    assert run(world, "--sign-key", str(world["keys"][0].key_path), "-o", str(out)).exit_code == 0
    found = members(out)
    manifest = json.loads(found["netbundle/manifest.json"])
    files = {f["path"]: f for f in manifest["files"]}
    for path, data in found.items():
        if path in files:
            assert files[path]["sha256"] == hashlib.sha256(data).hexdigest()
            assert files[path]["size"] == len(data)
    assert set(files) == {p for p in found if not p.startswith("netbundle/")}
    junos = found["locks/cp39-manylinux_2_28_x86_64/requirements-junos.txt"].decode()
    sdk_sha = hashlib.sha256(world["files"]["vendor-sdk"].read_bytes()).hexdigest()
    assert f"vendor-sdk==3.0 \\\n    --hash=sha256:{sdk_sha}" in junos
    assert not any(";" in line for line in junos.splitlines() if not line.startswith("#"))  # marker-free
    main = found["locks/cp311-manylinux_2_28_x86_64/requirements-main.txt"].decode()
    assert "pure==1.0" in main and "plat==2.0" in main and "vendor-sdk" not in main
    sdk = next(p for p in manifest["packages"] if p["name"] == "vendor-sdk")
    assert sdk["groups"] == ["junos"]
    assert sdk["artifacts"][0]["origin"] == {
        "kind": "index", "source": "private", "filename": "vendor_sdk-3.0-py3-none-any.whl",
        "sha256": sdk_sha, "url": None, "build": None,
    }  # fmt: skip
    # the pinned pip for a cp39 + cp311 bundle (26.x from 26.1 on needs 3.10), never the index's newest
    assert manifest["pip_wheel"] == "tools/pip-26.0.1-py3-none-any.whl"
    assert manifest["rehearse"] == {"smoke": ["python -c pass"]}
    assert manifest["build_time"] == "2026-01-01T00:00:00Z"
    pylock = found["locks/cp311-manylinux_2_28_x86_64/pylock.toml"].decode()
    assert 'path = "../../wheels/plat-2.0-cp39-abi3-manylinux_2_17_x86_64.whl"' in pylock
    sbom = json.loads(found["sbom/cyclonedx.json"])
    assert {c["name"] for c in sbom["components"]} == {"pure", "plat", "vendor-sdk"}


def test_bundle_holds_no_credential_path_or_user(world: dict) -> None:  # type: ignore[type-arg]
    out = world["tmp"] / "site.tar"
    assert run(world, "--sign-key", str(world["keys"][0].key_path), "-o", str(out)).exit_code == 0
    raw = out.read_bytes()
    forbidden = [PASSWORD, "ops:", str(world["tmp"]), str(Path.home()), str(Path.cwd())]
    for text in forbidden:
        assert text.encode() not in raw, text
    with tarfile.open(out) as tar:
        for member in tar.getmembers():
            assert (member.uid, member.gid, member.uname, member.gname) == (0, 0, "", "")
            assert member.mode == 0o644 and member.mtime == 1767225600


def test_same_inputs_give_identical_bytes_with_different_caches(world: dict) -> None:  # type: ignore[type-arg]
    key = str(world["keys"][0].key_path)
    first, second = world["tmp"] / "a.tar", world["tmp"] / "b.tar"
    assert run(world, "--sign-key", key, "-o", str(first), cache="cache-a").exit_code == 0
    assert run(world, "--sign-key", key, "-o", str(second), cache="cache-b").exit_code == 0
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()


def test_diff_after_updating_one_package_shows_exactly_that(world: dict) -> None:  # type: ignore[type-arg]
    key = str(world["keys"][0].key_path)
    old, new = world["tmp"] / "old.tar", world["tmp"] / "new.tar"
    assert run(world, "--sign-key", key, "-o", str(old)).exit_code == 0
    updated = _project(
        world["tmp"] / "project-updated", world["public"].url, world["private"].url, world["files"], "1.1"
    )
    assert run(world, "--sign-key", key, "-o", str(new), project=updated).exit_code == 0
    result = CliRunner().invoke(cli, ["diff", str(old), str(new), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    changes = {
        (c["target"], c["name"], c["change"], c["old_version"], c["new_version"]) for c in data["packages"]
    }
    assert changes == {
        ("cp311-manylinux_2_28_x86_64", "pure", "upgraded", "1.0", "1.1"),
        ("cp39-manylinux_2_28_x86_64", "pure", "upgraded", "1.0", "1.1"),
    }
    assert data["hash_changes"] == 0 and data["signers"]["added"] == []
    text = CliRunner().invoke(cli, ["diff", str(old), str(new)]).output
    assert "^ pure 1.0 -> 1.1 [main]" in text


def test_diff_flags_a_changed_file_at_the_same_version(world: dict) -> None:  # type: ignore[type-arg]
    key = str(world["keys"][0].key_path)
    old, new = world["tmp"] / "old.tar", world["tmp"] / "new.tar"
    assert run(world, "--sign-key", key, "-o", str(old)).exit_code == 0
    # the same version re-published with other bytes (and a lock that follows it)
    rebuilt = make_wheel(world["tmp"] / "republished", "pure", "1.0", payload="x = 1\n")
    shutil.copy2(rebuilt, world["files"]["pure-1.0"])
    updated = _project(
        world["tmp"] / "project-2", world["public"].url, world["private"].url, world["files"], "1.0"
    )
    assert (
        run(world, "--sign-key", str(world["keys"][1].key_path), "-o", str(new), project=updated).exit_code
        == 0
    )
    text = CliRunner().invoke(cli, ["diff", str(old), str(new)]).output
    assert "!! 2 package file(s) changed WITHOUT a version change" in text
    assert "SIGNERS CHANGED" in text


@pytest.mark.parametrize(
    ("case", "code"),
    [("wrong-key", 14), ("unsigned", 12), ("threshold", 15), ("manifest-edited", 13), ("file-flipped", 11)],
)
def test_verify_refusals_have_distinct_exit_codes(world: dict, case: str, code: int) -> None:  # type: ignore[type-arg]
    release, ci = world["keys"]
    out = world["tmp"] / "site.tar"
    signing = ["--unsigned"] if case == "unsigned" else ["--sign-key", str(release.key_path)]
    assert run(world, *signing, "-o", str(out)).exit_code == 0
    trust = release.pub_path
    if case == "wrong-key":
        trust = ci.pub_path
    if case == "threshold":
        trust = world["tmp"] / "trust.txt"
        trust.write_text(
            f"netbundle-trust 1\nthreshold 2\nkey a {release.public.to_base64()}\nkey b {ci.public.to_base64()}\n"
        )
    if case in ("manifest-edited", "file-flipped"):
        _rewrite(out, "netbundle/manifest.json" if case == "manifest-edited" else "locks/")
    result = CliRunner().invoke(cli, ["verify", str(out), "--trust", str(trust)])
    assert result.exit_code == code, result.output


def _rewrite(bundle: Path, prefix: str) -> None:
    """Flip one byte in the first member whose name starts with ``prefix`` (sizes unchanged)."""
    found = members(bundle)
    name = next(n for n in found if n.startswith(prefix))
    data = bytearray(found[name])
    data[len(data) // 2] ^= 0x01
    found[name] = bytes(data)
    with tarfile.open(bundle, "w", format=tarfile.PAX_FORMAT) as tar:
        for member, content in found.items():
            info = tarfile.TarInfo(member)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def test_failed_build_leaves_no_bundle_and_no_partial_file(world: dict) -> None:  # type: ignore[type-arg]
    out = world["tmp"] / "dist" / "site.tar"
    out.parent.mkdir()
    os.remove(world["files"]["plat-linux"])  # the index no longer serves a locked file
    result = run(world, "--sign-key", str(world["keys"][0].key_path), "-o", str(out))
    assert result.exit_code == 5, result.output
    assert list(out.parent.iterdir()) == []


def test_build_refuses_to_run_unsigned_by_accident(world: dict) -> None:  # type: ignore[type-arg]
    result = run(world, "-o", str(world["tmp"] / "x.tar"))
    assert result.exit_code == 2
    assert "no --sign-key given" in result.output


def test_merge_of_per_target_parts_equals_the_combined_build(world: dict) -> None:  # type: ignore[type-arg]
    release = world["keys"][0]
    key = ["--sign-key", str(release.key_path)]
    combined = world["tmp"] / "combined.tar"
    assert run(world, *key, "-o", str(combined)).exit_code == 0
    parts = []
    for target in ("cp311-manylinux_2_28_x86_64", "cp39-manylinux_2_28_x86_64"):
        part = world["tmp"] / f"part-{target}.tar"
        # inline targets: each part names the combined build's pip (the cp39 target's), as merge requires
        argv = ["build", "-P", str(world["project"]), "--index-url", world["public"].url, "--cache-dir",
                str(world["tmp"] / "cache"), "--target", target, "--pip-version", "26.0.1", *key, "-o", str(part)]  # fmt: skip
        env = {"POETRY_HTTP_BASIC_PRIVATE_USERNAME": "ops", "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": PASSWORD,
               "SOURCE_DATE_EPOCH": "1767225600"}  # fmt: skip
        assert CliRunner().invoke(cli, argv, env=env).exit_code == 0
        parts.append(str(part))
    merged = world["tmp"] / "merged.tar"
    result = CliRunner().invoke(
        cli, ["merge", *parts, "--trust", str(release.pub_path), *key, "-o", str(merged), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert_valid("build", json.loads(result.output))
    assert json.loads(result.output)["targets"] == [
        "cp311-manylinux_2_28_x86_64",
        "cp39-manylinux_2_28_x86_64",
    ]
    assert members(merged)["netbundle/manifest.json"] == members(combined)["netbundle/manifest.json"]
    assert merged.read_bytes() == combined.read_bytes()


def test_merge_refuses_parts_of_another_lock(world: dict) -> None:  # type: ignore[type-arg]
    release = world["keys"][0]
    key = ["--sign-key", str(release.key_path)]
    old, new = world["tmp"] / "old.tar", world["tmp"] / "new.tar"
    assert run(world, *key, "-o", str(old)).exit_code == 0
    updated = _project(world["tmp"] / "p2", world["public"].url, world["private"].url, world["files"], "1.1")
    assert run(world, *key, "-o", str(new), project=updated).exit_code == 0
    out = world["tmp"] / "merged.tar"
    result = CliRunner().invoke(
        cli, ["merge", str(old), str(new), "--trust", str(release.pub_path), *key, "-o", str(out)]
    )
    assert result.exit_code == 3, result.output
    assert "lock sha256" in result.output
    assert not out.exists()
    untrusted = CliRunner().invoke(
        cli, ["merge", str(old), str(old), "--trust", str(world["keys"][1].pub_path), *key, "-o", str(out)]
    )
    assert untrusted.exit_code == 14


def test_selection_without_main_is_refused(world: dict) -> None:  # type: ignore[type-arg]
    result = run(
        world,
        "--only",
        "junos",
        "--sign-key",
        str(world["keys"][0].key_path),
        "-o",
        str(world["tmp"] / "x.tar"),
    )
    assert result.exit_code == 2
    assert "but not main" in result.output


def test_key_made_by_stock_minisign_signs_a_bundle_we_verify(world: dict) -> None:  # type: ignore[type-arg]
    if MINISIGN is None:
        pytest.fail("minisign is not installed: run scripts/install-test-tools")
    keys = world["tmp"] / "minisign-keys"
    keys.mkdir()
    made = subprocess.run(
        [MINISIGN, "-G", "-W", "-p", str(keys / "ms.pub"), "-s", str(keys / "ms.key")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    out = world["tmp"] / "site.tar"
    assert run(world, "--sign-key", str(keys / "ms.key"), "-o", str(out)).exit_code == 0
    verified = CliRunner().invoke(cli, ["verify", str(out), "--trust", str(keys / "ms.pub")])
    assert verified.exit_code == 0, verified.output


def _encrypted_key(world: dict, password: str) -> Path:  # type: ignore[type-arg]
    from tests.support.minisign_keys import fixed_key

    from netbundle.bundle import signing

    path = world["tmp"] / "keys" / "locked.key"
    path.write_text(
        signing.render_secret_key(fixed_key(7), password=password, opslimit=32768, memlimit=8 << 20)
    )
    return path


def test_an_encrypted_key_unlocked_during_the_build_signs_it(world: dict) -> None:  # type: ignore[type-arg]
    from tests.support.minisign_keys import fixed_key

    out = world["tmp"] / "site.tar"
    key = _encrypted_key(world, "pw")
    result = run(
        world, "--sign-key", f"{key}:NB_TEST_KEY_PW", "-o", str(out), "--json", env={"NB_TEST_KEY_PW": "pw"}
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["signers"] == [fixed_key(7).key_id_hex]


def test_a_wrong_password_fails_the_build_and_writes_nothing(world: dict) -> None:  # type: ignore[type-arg]
    out = world["tmp"] / "dist" / "site.tar"
    out.parent.mkdir()
    key = _encrypted_key(world, "pw")
    result = run(world, "--sign-key", f"{key}:NB_TEST_KEY_PW", "-o", str(out), env={"NB_TEST_KEY_PW": "nope"})
    assert result.exit_code == 3, result.output
    assert "locked.key: wrong password" in result.output
    assert list(out.parent.iterdir()) == []
