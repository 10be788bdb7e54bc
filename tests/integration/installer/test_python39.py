"""The installer runtime on a real CPython 3.9 (the floor), when this machine has one.

The runtime and the pure-Python packages the pyz ships (packaging, installer, ecdsa + six) are copied into a
directory that the 3.9 interpreter puts first on sys.path, and a cp39 bundle is installed, checked and rolled
back there: real 3.9 venv, real bundled pip, Ed25519 through ecdsa (3.9 has no cryptography here).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.integration.installer.conftest import MakeBundle
from tests.support.bundles import KeyPair

import netbundle

pytestmark = pytest.mark.integration

RUNTIME_PACKAGES = ("packaging", "installer", "ecdsa", "six")
CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
from netbundle.runtime.check import check
from netbundle.runtime.install import install
from netbundle.format.trust import load_trust

bundle, prefix, policy = sys.argv[2], sys.argv[3], load_trust(sys.argv[4])
print(install(bundle, prefix, policy, engine=sys.argv[5]).render_text())
report = check(prefix, bundle, policy)
print(report.render_text())
sys.exit(report.exit_code)
"""


def find_python39() -> str | None:
    """``$NETBUNDLE_PYTHON39``, else a pyenv 3.9, else ``python3.9`` on PATH (if it runs)."""
    candidates = [os.environ.get("NETBUNDLE_PYTHON39", "")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3.9")))
    candidates.append(shutil.which("python3.9") or "")
    for candidate in filter(None, candidates):
        done = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"], check=False,
                              capture_output=True, text=True)  # fmt: skip
        if done.returncode == 0 and done.stdout.strip() == "(3, 9)":
            return candidate
    return None


PYTHON39 = find_python39()


def runtime_path(directory: Path) -> Path:
    """A sys.path entry holding netbundle and the runtime's pure-Python dependencies, nothing else."""
    import importlib.util

    directory.mkdir()
    shutil.copytree(Path(netbundle.__file__).parent, directory / "netbundle")
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, name
        origin = Path(spec.origin)
        if origin.name == "__init__.py":
            shutil.copytree(origin.parent, directory / name)
        else:
            shutil.copy(origin, directory / origin.name)
    return directory


@pytest.mark.skipif(PYTHON39 is None, reason="no CPython 3.9 on this machine (set NETBUNDLE_PYTHON39)")
@pytest.mark.parametrize("engine", ["pip", "installer"])
def test_install_and_check_on_python39(
    tmp_path: Path, bundle: MakeBundle, release_key: KeyPair, engine: str
) -> None:
    assert PYTHON39 is not None
    path = bundle(target="cp39-linux_x86_64")
    prefix = tmp_path / "p"
    done = subprocess.run(
        [PYTHON39, "-I", "-c", CHILD, str(runtime_path(tmp_path / "lib")), str(path), str(prefix),
         str(release_key.pub_path), engine],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "target cp39-linux_x86_64" in done.stdout
    assert "no drift" in done.stdout
    version = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", "import alpha, sys; print(sys.version_info[:2])"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert version.strip() == "(3, 9)"
