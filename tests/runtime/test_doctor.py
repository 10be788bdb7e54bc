"""`doctor`: each check's outcome from plain values, and the command over a real small bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.bundles import host_target_name, make_bundle, make_keypair

from netbundle.errors import HostError
from netbundle.format.tar import read_unverified
from netbundle.format.trust import TrustPolicy
from netbundle.runtime import cli, doctor
from netbundle.runtime.host import HostInfo


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("doctor")
    key = make_keypair(root / "keys", "release")
    return make_bundle(root / "b.tar", keys=[key]), key.pub_path


def test_python_check() -> None:
    assert doctor.python_check((3, 9, 18), "/usr/bin/python3").status == doctor.OK
    old = doctor.python_check((3, 8, 18), "/usr/bin/python3")
    assert (old.status, old.detail) == (doctor.FAIL, "3.8.18 (/usr/bin/python3) is older than 3.9")


def test_venv_check() -> None:
    missing = doctor.venv_check(has_venv=False, has_ensurepip=False)
    assert missing.status == doctor.FAIL and "python3-venv" in (missing.hint or "")
    no_pip = doctor.venv_check(has_venv=True, has_ensurepip=False)
    assert no_pip.status == doctor.OK and "not needed" in no_pip.detail


@pytest.mark.parametrize(
    ("free", "writable", "needed", "status"),
    [(10, True, None, "ok"), (10, True, 5, "ok"), (4, True, 5, "fail"), (10, False, 5, "fail")],
    ids=["no-bundle", "enough", "too-little", "not-writable"],
)
def test_space_check(free: int, writable: bool, needed: int | None, status: str) -> None:
    assert doctor.space_check("/opt/netbundle/x", "/opt", free, writable, needed).status == status


def test_install_size_counts_the_staged_copy_and_the_unpacked_wheels(signed: tuple[Path, Path]) -> None:
    manifest = read_unverified(signed[0]).manifest
    payload = sum(f.size for f in manifest.files)
    target = manifest.targets[0]
    size = doctor.install_size(manifest, target)
    assert (
        payload + doctor.VENV_BASE_BYTES
        < size
        <= payload * (1 + doctor.UNPACKED_FACTOR) + doctor.VENV_BASE_BYTES
    )


def test_target_checks_say_why_a_target_does_not_fit(signed: tuple[Path, Path]) -> None:
    manifest = read_unverified(signed[0]).manifest
    host = HostInfo.current()
    (fits,) = doctor.target_checks(manifest, host, None, ())
    assert fits.status == doctor.OK and fits.detail.startswith(manifest.targets[0].name)
    other = HostInfo("3.7", host.implementation, host.tags, host.marker_environment)
    (unfit,) = doctor.target_checks(manifest, other, None, ())
    assert unfit.status == doctor.FAIL and "needs Python" in unfit.detail
    (unknown,) = doctor.target_checks(manifest, host, None, ("nope",))
    assert unknown.status == doctor.FAIL and "does not carry group nope" in unknown.detail


def test_trust_check_counts_the_bundles_trusted_signers(signed: tuple[Path, Path]) -> None:
    from netbundle.format.trust import load_trust

    policy = load_trust(signed[1])
    key_id = policy.keys[0].key_id_hex
    assert doctor.trust_check(policy, 0, [key_id]).status == doctor.OK
    assert doctor.trust_check(policy, 0, ["0123456789ABCDEF"]).status == doctor.FAIL
    assert doctor.trust_check(TrustPolicy(keys=()), 0, None).status == doctor.FAIL
    assert doctor.trust_check(None, 0, None).status == doctor.FAIL


def test_netns_check_is_a_warning_only() -> None:
    assert doctor.netns_check(False, "unshare is not installed").status == doctor.WARN


def test_doctor_command_on_a_bundle(
    signed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle, pub = signed
    argv = ["doctor", str(bundle), "--trust", str(pub), "--prefix", str(tmp_path / "p"), "--json"]
    assert cli.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == 1 and report["ok"] is True
    assert [c["name"] for c in report["checks"]] == ["python", "venv", "target", "space", "netns", "trust"]
    assert host_target_name() in report["checks"][2]["detail"]
    assert cli.main(argv[:-1]) == 0
    assert capsys.readouterr().out.rstrip().endswith("ready")


def test_doctor_fails_with_26_when_a_check_fails(
    signed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["doctor", str(signed[0]), "--prefix", str(tmp_path / "p")]) == HostError.exit_code
    out = capsys.readouterr().out
    assert "fail trust" in out and "NOT READY" in out


def test_install_preflight_refuses_too_little_space(
    signed: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import collections

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(doctor.shutil, "disk_usage", lambda path: usage(100, 99, 1))
    bundle, pub = signed
    prefix = tmp_path / "p"
    code = cli.main(["install", str(bundle), "--trust", str(pub), "--prefix", str(prefix), "--json"])
    assert code == HostError.exit_code
    captured = capsys.readouterr()
    assert captured.err.startswith("error: space: ")
    assert json.loads(captured.out)["error"]["kind"] == "HostError"
    assert not prefix.exists()
