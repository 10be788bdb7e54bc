"""``install --dry-run`` (netbundle.runtime.plan): install's decisions without its effects, against real
bundles and real installs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.bundles import KeyPair, make_keypair

from netbundle.errors import DowngradeError, PrefixError, UntrustedSignerError
from netbundle.format.trust import TrustPolicy
from netbundle.runtime import cli
from netbundle.runtime.install import install
from netbundle.runtime.plan import plan_install

from .conftest import MakeBundle

pytestmark = pytest.mark.integration


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under root with its mode and mtime (symlinks not followed)."""
    found = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        found[str(path.relative_to(root))] = (st.st_mode, st.st_mtime_ns)
    return found


@pytest.fixture(autouse=True)
def private_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr("tempfile.tempdir", None)
    return tmp


def test_a_new_prefix_plans_exactly_what_install_then_does(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy, private_tmpdir: Path
) -> None:
    path = bundle(packages=[("alpha", "1.0"), ("beta", "2.0")], groups={"main": ["alpha"], "junos": ["beta"]})
    prefix = tmp_path / "prefix"
    plan = plan_install(path, prefix, policy, groups=["junos"])
    assert (plan.status, plan.current, plan.groups) == ("installed", None, ("main", "junos"))
    assert not prefix.exists() and list(private_tmpdir.iterdir()) == []  # nothing written, staging removed
    done = install(path, prefix, policy, groups=["junos"])
    assert dict(plan.distributions) == dict(done.generation.receipt.distributions)
    assert plan.target == done.generation.receipt.target
    assert plan.to_json()["previous_generation"] is None and plan.to_json()["generation"] is None


def test_the_current_bundle_is_unchanged_unless_forced_and_the_prefix_is_not_touched(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    path = bundle()
    prefix = tmp_path / "prefix"
    install(path, prefix, policy)
    before = snapshot(prefix)
    same = plan_install(path, prefix, policy)
    assert (same.status, same.to_json()["generation"]) == ("unchanged", 1)
    assert "nothing to do" in same.render_text()
    forced = plan_install(path, prefix, policy, force=True)
    assert (forced.status, forced.to_json()["previous_generation"]) == ("installed", 1)
    other_groups_or_newer = plan_install(
        bundle("new", version="1.1.0", packages=[("alpha", "1.1")]), prefix, policy
    )
    assert other_groups_or_newer.status == "installed"
    assert other_groups_or_newer.distributions["alpha"] == "1.1"
    assert "current: generation 1" in other_groups_or_newer.render_text()
    assert snapshot(prefix) == before


def test_install_refusals_are_the_same(tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy) -> None:
    prefix = tmp_path / "prefix"
    install(bundle("new", version="2.0.0"), prefix, policy)
    old = bundle("old", version="1.0.0")
    with pytest.raises(DowngradeError):
        plan_install(old, prefix, policy)
    assert plan_install(old, prefix, policy, allow_downgrade=True).status == "installed"
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    with pytest.raises(PrefixError, match="is not a netbundle prefix"):
        plan_install(old, tmp_path / "taken", policy)
    stranger = make_keypair(tmp_path, "stranger")
    with pytest.raises(UntrustedSignerError):
        plan_install(bundle("strange", keys=[stranger]), tmp_path / "fresh", policy)
    assert not (tmp_path / "fresh").exists()


def test_cli_dry_run_text_and_json(
    tmp_path: Path, bundle: MakeBundle, release_key: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bundle(packages=[("alpha", "1.0")])
    argv = ["install", str(path), "--prefix", str(tmp_path / "prefix"), "--trust", str(release_key.pub_path)]
    assert cli.main([*argv, "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("dry run: would install sample-project 1.0.0") and "  alpha==1.0" in text
    assert cli.main([*argv, "--dry-run", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["dry_run"], data["status"], data["distributions"]["alpha"]) == (True, "installed", "1.0")
    assert data["signers"] == [release_key.public.key_id_hex]
    assert not (tmp_path / "prefix").exists()


def test_a_wheel_install_would_refuse_is_refused_by_the_dry_run_too(
    tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy
) -> None:
    from netbundle.errors import BundleFormatError

    hostile = {"alpha": {"entry_points": "[console_scripts]\n../../../../escaped = alpha:x\n"}}
    with pytest.raises(
        BundleFormatError, match=r"wheel wheels/alpha-1.0-py3-none-any.whl would write outside"
    ):
        plan_install(bundle(wheel_options=hostile), tmp_path / "p", policy)
    assert not (tmp_path / "p").exists()
