"""One bundle, many hosts (issue 12): a bundle built by the real `netbundle build` from a local index, with targets
at manylinux 2_17, 2_28 and 2_34 for x86_64 and one aarch64 target, installs with the real pyz inside a network
namespace on every real CPython 3.9-3.13 this machine has, imports every top-level module, and `check` reports no
drift.

Its packages publish wheels at several levels (bcrypt 4.3.0: 2_17, 2_28 and 2_34; cryptography 43.0.3: 2_17 and
2_28; cffi: one per Python), plus a locally built sdist. Every x86_64 level of bcrypt is in the bundle's wheels/,
so an installer that showed pip more than the target's own files would fail here with a hash mismatch.
The bundle is built once per session and shared by every Python.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.integration.pyz.conftest import BuiltPyz
from tests.support.bundles import pinned_pips
from tests.support.projects import Pkg, write_project
from tests.support.pythons import INSTALLER_PYTHONS, find_python
from tests.support.simple_index import serve
from tests.support.wheels import make_sdist

from netbundle.runtime.rehearse.probes import IMPORT_PROBE, IMPORTS_MARKER

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
MATRIX = REPO / ".cache" / "corpus" / "matrix"
#: Python -> the x86_64 target it installs (one target per Python; the manylinux levels vary on purpose).
TARGETS = {
    "3.9": "cp39-manylinux_2_17_x86_64",
    "3.10": "cp310-manylinux_2_28_x86_64",
    "3.11": "cp311-manylinux_2_34_x86_64",
    "3.12": "cp312-manylinux_2_17_x86_64",
    "3.13": "cp313-manylinux_2_34_x86_64",
}
AARCH64 = "cp311-manylinux_2_28_aarch64"
PACKAGES = {"bcrypt": "4.3.0", "cryptography": "43.0.3", "cffi": "2.0.0", "pycparser": "2.23"}
TOP_LEVEL = {"bcrypt", "cryptography", "cffi", "_cffi_backend", "pycparser", "localpkg"}


@pytest.fixture(scope="session")
def matrix_bundle(tmp_path_factory: pytest.TempPathFactory, pyz: BuiltPyz) -> Path:
    if platform.machine() != "x86_64":
        pytest.skip(f"the matrix installs x86_64 targets; this host is {platform.machine()}")
    wheels = {name: sorted(MATRIX.glob(f"{name}-{version}-*.whl")) for name, version in PACKAGES.items()}
    if not all(wheels.values()):
        pytest.fail(f"the corpus matrix is not prepared ({MATRIX}): run scripts/prepare-corpus")
    work = tmp_path_factory.mktemp("matrix")
    files = work / "index"
    shutil.copytree(REPO / ".cache" / "corpus" / "build-tools", files, ignore=shutil.ignore_patterns(".*"))
    for pinned in pinned_pips().glob("pip-*.whl"):  # the bundle carries a pinned pip
        shutil.copy2(pinned, files / pinned.name)
    for paths in wheels.values():
        for path in paths:
            shutil.copy(path, files / path.name)
    sdist = make_sdist(files, "localpkg", "1.0")
    packages = [Pkg(name, version, wheels[name]) for name, version in PACKAGES.items()]
    project = write_project(work / "project", [*packages, Pkg("localpkg", "1.0", [sdist])])
    out = work / "matrix.tar"
    with serve(files) as index:
        env = {"PATH": os.environ["PATH"], "HOME": str(work), "PIP_CONFIG_FILE": os.devnull,
               "PIP_INDEX_URL": index.url}  # fmt: skip
        argv = [str(REPO / ".venv" / "bin" / "netbundle"), "-q", "build", "-P", str(project), "--index-url", index.url,
                "--cache-dir", str(work / "cache"), "--sign-key", str(pyz.key.key_path), "-o", str(out)]  # fmt: skip
        for target in [*TARGETS.values(), AARCH64]:
            argv += ["--target", target]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return out


def test_the_bundle_carries_every_level_once_and_each_target_its_own(
    matrix_bundle: Path, pyz: BuiltPyz
) -> None:
    shown = subprocess.run(["python3", str(pyz.path), "inspect", str(matrix_bundle), "--json"], capture_output=True,
                           text=True, check=True)  # fmt: skip
    data = json.loads(shown.stdout)
    text = json.dumps(data)
    for level in (
        "manylinux_2_17_x86_64",
        "manylinux_2_28_x86_64",
        "manylinux_2_34_x86_64",
        "manylinux_2_28_aarch64",
    ):
        assert f"bcrypt-4.3.0-cp39-abi3-{level}" in text, level


@pytest.mark.parametrize("version", INSTALLER_PYTHONS)
def test_installs_offline_on_every_cpython(
    version: str, matrix_bundle: Path, pyz: BuiltPyz, tmp_path: Path
) -> None:
    python = find_python(version)
    if python is None:
        pytest.skip(f"no CPython {version} on this machine (pyenv install {version}, or set NETBUNDLE_PYTHON"
                    f"{version.replace('.', '')}); the bundle's {TARGETS[version]} target was NOT tested")  # fmt: skip
    if shutil.which("unshare") is None:
        pytest.fail("no unshare: run scripts/install-test-tools")
    prefix = tmp_path / "prefix"
    offline = ["unshare", "-n", "--"]
    install = subprocess.run([*offline, python, str(pyz.path), "install", str(matrix_bundle), "--prefix", str(prefix),
                              "--json"], capture_output=True, text=True, check=False)  # fmt: skip
    assert install.returncode == 0, install.stderr + install.stdout
    receipt = json.loads(install.stdout)["generation"]["receipt"]
    assert receipt["target"] == TARGETS[version]
    assert {name: receipt["distributions"][name] for name in PACKAGES} == PACKAGES
    assert receipt["distributions"]["localpkg"] == "1.0"
    sites = [str(prefix / "current" / site) for site in receipt["site_packages"]]
    # the rehearsal's probe: import every top-level module of every installed distribution, offline
    imported = subprocess.run([*offline, str(prefix / "bin" / "python"), "-c", IMPORT_PROBE, *sites],
                              capture_output=True, text=True, check=False)  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    (line,) = [line for line in imported.stdout.splitlines() if line.startswith(IMPORTS_MARKER)]
    rows = json.loads(line[len(IMPORTS_MARKER) :])
    assert [row for row in rows if row[2] != "ok"] == []
    assert {module for _, module, _, _ in rows} >= TOP_LEVEL
    check = subprocess.run([*offline, python, str(pyz.path), "check", "--prefix", str(prefix), str(matrix_bundle),
                            "--json"], capture_output=True, text=True, check=False)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    report = json.loads(check.stdout)
    assert report["drift"] is False and report["distributions"] == [], report
