"""``netbundle ee-context`` wiring: verification first, the written context, errors and their exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.support.bundles import KeyPair, host_target_name, make_bundle, make_keypair

from netbundle.cli import cli

PACKAGES = (("netops-core", "1.0"), ("junos-tool", "0.3"), ("cisco-tool", "2.0"))
GROUPS = {"main": ["netops-core"], "junos": ["junos-tool"], "cisco": ["cisco-tool"]}


@pytest.fixture
def key(tmp_path: Path) -> KeyPair:
    return make_keypair(tmp_path / "keys")


@pytest.fixture
def bundle(tmp_path: Path, key: KeyPair) -> Path:
    return make_bundle(tmp_path / "b.tar", packages=PACKAGES, groups=GROUPS, keys=[key], with_pip=False)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_ee_context_writes_a_verified_context(tmp_path: Path, bundle: Path, key: KeyPair) -> None:
    out = tmp_path / "ee"
    code, stdout, stderr = run(
        "ee-context", str(bundle), "--trust", str(key.pub_path), "--group", "junos", "-o", str(out), "--json"
    )
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["target"] == host_target_name()
    assert result["groups"] == ["main", "junos"]
    assert result["wheels"] == ["junos_tool-0.3-py3-none-any.whl", "netops_core-1.0-py3-none-any.whl"]
    assert sorted(p.name for p in (out / "netbundle").iterdir()) == [
        "bundle.json",
        "requirements-junos.txt",
        "requirements-main.txt",
        "wheels",
    ]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # staging removed


def test_ee_context_refuses_an_untrusted_bundle_and_writes_nothing(tmp_path: Path, bundle: Path) -> None:
    other = make_keypair(tmp_path / "other", "other")
    code, _, stderr = run(
        "ee-context", str(bundle), "--trust", str(other.pub_path), "-o", str(tmp_path / "ee")
    )
    assert code == 14, stderr
    assert not (tmp_path / "ee").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_ee_context_refuses_a_non_empty_output(tmp_path: Path, bundle: Path, key: KeyPair) -> None:
    (tmp_path / "ee").mkdir()
    (tmp_path / "ee" / "x").write_text("keep")
    code, _, stderr = run("ee-context", str(bundle), "--trust", str(key.pub_path), "-o", str(tmp_path / "ee"))
    assert code == 2
    assert "is not an empty directory" in stderr


def test_ee_context_names_the_groups_it_carries(tmp_path: Path, bundle: Path, key: KeyPair) -> None:
    code, _, stderr = run(
        "ee-context",
        str(bundle),
        "--trust",
        str(key.pub_path),
        "--group",
        "arista",
        "-o",
        str(tmp_path / "ee"),
    )
    assert code == 2
    assert "does not carry group arista" in stderr
    assert "hint: it carries: cisco, junos, main" in stderr
