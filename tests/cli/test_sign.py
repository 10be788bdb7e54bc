"""`netbundle sign` (a countersignature without a rebuild), per-key password variables, `trust init`,
`diff --exit-code`, and SHA256SUMS beside what the builder writes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.support.bundles import KeyPair, make_bundle, make_keypair
from tests.support.minisign_keys import fixed_key

from netbundle.bundle import signing
from netbundle.bundle.checksums import parse_sums, record_checksum
from netbundle.cli import cli, keys
from netbundle.format import trust
from netbundle.format.tar import read_unverified, verify_bundle

LOW = {"opslimit": 32768, "memlimit": 8 << 20}


def invoke(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(argv), env=env, prog_name="netbundle")
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ci_and_prod(tmp_path: Path) -> tuple[KeyPair, KeyPair, Path]:
    ci, prod = make_keypair(tmp_path / "keys", "ci"), make_keypair(tmp_path / "keys", "prod")
    return ci, prod, make_bundle(tmp_path / "dist" / "site.tar", keys=[ci])


def test_sign_adds_a_signature_and_keeps_the_manifest_bytes(
    ci_and_prod: tuple[KeyPair, KeyPair, Path],
) -> None:
    ci, prod, bundle = ci_and_prod
    before = read_unverified(bundle)
    code, out, err = invoke(
        "sign", str(bundle), "--trust", str(ci.pub_path), "--sign-key", str(prod.key_path), "--json"
    )
    assert code == 0, err
    after = read_unverified(bundle)
    assert after.manifest_bytes == before.manifest_bytes
    assert set(before.signatures) < set(after.signatures) and len(after.signatures) == 2
    both = trust.TrustPolicy(keys=(ci.public, prod.public), threshold=2)
    assert {k.key_id for k in verify_bundle(bundle, both).signers} == {ci.public.key_id, prod.public.key_id}
    data = json.loads(out)
    assert data["format"] == 1 and sorted(data["signers"]) == sorted(
        [ci.public.key_id_hex, prod.public.key_id_hex]
    )
    assert parse_sums((bundle.parent / "SHA256SUMS").read_text()) == {"site.tar": data["sha256"]}


def test_sign_refuses_an_untrusted_bundle_and_a_second_signature_by_one_key(
    ci_and_prod: tuple[KeyPair, KeyPair, Path],
) -> None:
    ci, prod, bundle = ci_and_prod
    original = bundle.read_bytes()
    code, _, err = invoke(
        "sign", str(bundle), "--trust", str(prod.pub_path), "--sign-key", str(prod.key_path)
    )
    assert code == 14 and "error: " in err
    code, _, err = invoke("sign", str(bundle), "--trust", str(ci.pub_path), "--sign-key", str(ci.key_path))
    assert code == 2 and "already signed by key" in err
    assert bundle.read_bytes() == original


@pytest.mark.integration
def test_stock_minisign_verifies_every_signature_after_sign(
    ci_and_prod: tuple[KeyPair, KeyPair, Path], tmp_path: Path
) -> None:
    tool = shutil.which("minisign")
    if tool is None:
        pytest.fail("minisign is not installed: run scripts/install-test-tools")
    ci, prod, bundle = ci_and_prod
    signed = tmp_path / "promoted.tar"
    code, _, err = invoke(
        "sign", str(bundle), "--trust", str(ci.pub_path), "--sign-key", str(prod.key_path), "-o", str(signed)
    )
    assert code == 0, err
    found = read_unverified(signed)
    manifest = tmp_path / "manifest.json"
    manifest.write_bytes(found.manifest_bytes)
    for key in (ci, prod):
        sig = tmp_path / f"{key.public.key_id_hex}.minisig"
        sig.write_bytes(found.signatures[signing.signature_member_name(key.public)])
        done = subprocess.run([tool, "-V", "-p", str(key.pub_path), "-m", str(manifest), "-x", str(sig)],
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def test_each_sign_key_can_name_its_own_password_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = []
    for n, password in ((1, "ci-pw"), (2, "prod-pw")):
        path = tmp_path / f"k{n}.key"
        path.write_text(signing.render_secret_key(fixed_key(n), password=password, **LOW))
        paths.append(path)
    monkeypatch.setenv("CI_PW", "ci-pw")
    monkeypatch.setenv("PROD_PW", "prod-pw")
    monkeypatch.setattr(keys, "_interactive", lambda: False)
    loaded = keys.load_signing_keys([f"{paths[0]}:CI_PW", f"{paths[1]}:PROD_PW"], "UNSET_DEFAULT_VARIABLE")
    assert [k.key_id for k in loaded] == [fixed_key(1).key_id, fixed_key(2).key_id]


def test_parse_key_spec() -> None:
    assert keys.parse_key_spec("ci.key:CI_PW", "DEFAULT") == (Path("ci.key"), "CI_PW")
    assert keys.parse_key_spec("ci.key", "DEFAULT") == (Path("ci.key"), "DEFAULT")
    assert keys.parse_key_spec(Path("odd:NAME"), "DEFAULT") == (Path("odd:NAME"), "DEFAULT")


def test_trust_init_writes_a_trust_file_that_loads(tmp_path: Path) -> None:
    ci, prod = make_keypair(tmp_path, "ci"), make_keypair(tmp_path, "prod")
    out = tmp_path / "trust.txt"
    argv = [
        "trust",
        "init",
        "--key",
        str(ci.pub_path),
        "--key",
        str(prod.pub_path),
        "--threshold",
        "2",
        "-o",
        str(out),
    ]
    code, _, err = invoke(*argv)
    assert code == 0, err
    policy = trust.load_trust(out)
    assert (policy.names, policy.threshold) == (("ci", "prod"), 2)
    assert invoke(*argv)[0] == 3  # never overwritten without --force
    assert invoke(*argv, "--force")[0] == 0
    code, _, err = invoke("trust", "init", "--key", str(ci.pub_path), "--threshold", "2")
    assert code == 2 and "needs at least 2 keys" in err


def test_diff_exit_code(tmp_path: Path) -> None:
    old = make_bundle(tmp_path / "old.tar", packages=(("alpha", "1.0"),))
    new = make_bundle(tmp_path / "new.tar", packages=(("alpha", "1.1"),), version="1.1.0")
    assert invoke("diff", str(old), str(old), "--exit-code")[0] == 0
    assert invoke("diff", str(old), str(new), "--exit-code")[0] == 1
    assert invoke("diff", str(old), str(new))[0] == 0


def test_record_checksum_keeps_the_other_lines(tmp_path: Path) -> None:
    (tmp_path / "a.tar").write_bytes(b"a")
    (tmp_path / "netbundle.pyz").write_bytes(b"pyz")
    record_checksum(tmp_path / "a.tar")
    record_checksum(tmp_path / "netbundle.pyz")
    (tmp_path / "a.tar").write_bytes(b"changed")
    record_checksum(tmp_path / "a.tar")
    done = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["a.tar: OK", "netbundle.pyz: OK"]
