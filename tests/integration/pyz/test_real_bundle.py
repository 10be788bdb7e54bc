"""End to end with the real sample: `netbundle build` of sample-bundles/netops-automation, then the pyz installs it
inside a network namespace with no interfaces; and the install-level tamper suite: every mutated bundle is
refused with its exit code while the installed generation stays current and nothing is left behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.tamper import BYTE_CASES, CASES, read_members, write_members

from .conftest import BuiltPyz

pytestmark = pytest.mark.integration

VENDOR_MODULES = "import jnpr.junos, ncclient, netmiko, pyeapi, httpx, netops_sample"


def pyz_run(pyz: Path, *argv: str, netns: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-I", str(pyz), *argv]
    if netns:
        command = ["unshare", "-n", *command]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("engine", ["pip", "installer"])
def test_real_bundle_installs_inside_a_network_namespace(
    pyz: BuiltPyz, sample_bundle: tuple[Path, Path], tmp_path: Path, engine: str
) -> None:
    if shutil.which("unshare") is None:
        pytest.fail("unshare is missing: run scripts/install-test-tools")
    probe = subprocess.run(["unshare", "-n", "true"], check=False)
    assert probe.returncode == 0, "network namespaces are not permitted here (need root or user namespaces)"
    bundle, pub = sample_bundle
    prefix = tmp_path / "prefix"
    groups = ["--group", "junos", "--group", "cisco", "--group", "arista"]
    done = pyz_run(pyz.path, "install", str(bundle), "--prefix", str(prefix), *groups, "--trust", str(pub), "--json",
                   "--engine", engine, netns=True)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "installed"
    receipt = json.dumps(result["generation"])
    assert f"cp{sys.version_info[0]}{sys.version_info[1]}-manylinux_2_28_x86_64" in receipt
    imported = subprocess.run(
        ["unshare", "-n", str(prefix / "current" / "bin" / "python"), "-c", VENDOR_MODULES],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    check = pyz_run(pyz.path, "check", "--prefix", str(prefix), netns=True)
    assert check.returncode == 0, check.stdout + check.stderr


def _state(prefix: Path) -> tuple[str, list[str]]:
    """Where ``current`` points, and every path under the prefix except inside the generations' venvs."""
    paths = sorted(
        str(p.relative_to(prefix)) for p in prefix.rglob("*") if len(p.relative_to(prefix).parts) <= 2
    )
    return os.readlink(prefix / "current"), paths


@pytest.fixture(scope="module")
def installed(pyz: BuiltPyz, tmp_path_factory: pytest.TempPathFactory) -> Path:
    prefix = tmp_path_factory.mktemp("tamper") / "prefix"
    done = pyz_run(pyz.path, "install", str(pyz.bundle), "--prefix", str(prefix))
    assert done.returncode == 0, done.stdout + done.stderr
    return prefix


@pytest.mark.parametrize("case", sorted(CASES))
def test_tampered_bundle_is_refused_and_the_installed_generation_stays(
    pyz: BuiltPyz, installed: Path, tmp_path: Path, case: str
) -> None:
    mutate, error = CASES[case]
    bundle = tmp_path / "tampered.tar"
    shutil.copy2(pyz.bundle, bundle)
    write_members(bundle, mutate(read_members(bundle)))
    before = _state(installed)
    done = pyz_run(pyz.path, "install", str(bundle), "--prefix", str(installed), "--allow-downgrade")
    assert done.returncode == error.exit_code, done.stdout + done.stderr
    assert done.stderr.startswith("error: ")
    assert _state(installed) == before  # current unchanged, no new generation, no staging left behind
    works = subprocess.run(
        [str(installed / "current" / "bin" / "python"), "-c", "import alpha, beta"], check=False
    )
    assert works.returncode == 0


def test_truncated_bundle_is_refused_and_the_installed_generation_stays(
    pyz: BuiltPyz, installed: Path, tmp_path: Path
) -> None:
    data = pyz.bundle.read_bytes()
    bundle = tmp_path / "truncated.tar"
    bundle.write_bytes(data[: len(data) * 2 // 3])
    before = _state(installed)
    done = pyz_run(pyz.path, "install", str(bundle), "--prefix", str(installed))
    assert done.returncode in (10, 11), done.stdout + done.stderr
    assert _state(installed) == before


@pytest.mark.parametrize("case", sorted(BYTE_CASES))
def test_cut_or_extended_bundle_is_refused_and_the_installed_generation_stays(
    pyz: BuiltPyz, installed: Path, tmp_path: Path, case: str
) -> None:
    mutate, error = BYTE_CASES[case]
    bundle = tmp_path / "damaged.tar"
    bundle.write_bytes(mutate(pyz.bundle.read_bytes()))
    before = _state(installed)
    done = pyz_run(pyz.path, "install", str(bundle), "--prefix", str(installed), "--allow-downgrade")
    assert done.returncode == error.exit_code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert _state(installed) == before
