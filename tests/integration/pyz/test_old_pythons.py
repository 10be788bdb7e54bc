"""The pyz on Pythons older than its floor: one line naming the version and the interpreter, exit 26.

The launcher (scripts/build-pyz) is the first code any interpreter runs, so it must parse on Python 2.7 and on
3.x before 3.9 (RHEL 8's stock 3.6, for one). Each interpreter comes from pyenv; a missing one skips loudly.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from tests.integration.pyz.conftest import BuiltPyz

from netbundle.errors import HostError

pytestmark = pytest.mark.integration

PYENV = Path("/root/.pyenv/versions")
OLD = ("2.7.18", "3.6.15", "3.7.16", "3.8.18")


@pytest.mark.parametrize("version", OLD)
@pytest.mark.parametrize("argv", [["--help"], ["install", "b.tar"], []], ids=["help", "install", "bare"])
def test_an_old_python_gets_one_line_and_exit_26(pyz: BuiltPyz, version: str, argv: list[str]) -> None:
    python = PYENV / version / "bin" / "python"
    if not python.exists():
        pytest.skip(f"no Python {version} at {python}: install it with pyenv to test the launcher on it")
    done = subprocess.run([str(python), str(pyz.path), *argv], capture_output=True, text=True, check=False)
    assert done.returncode == HostError.exit_code == 26
    assert done.stdout == ""
    assert done.stderr == f"netbundle.pyz needs Python 3.9 or newer; this is {version} ({python})\n"


def test_build_pyz_records_the_sha256_beside_the_pyz(pyz: BuiltPyz) -> None:
    sums = (pyz.path.parent / "SHA256SUMS").read_text()
    digest = hashlib.sha256(pyz.path.read_bytes()).hexdigest()
    assert f"{digest}  {pyz.path.name}\n" in sums
    done = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], check=False, cwd=pyz.path.parent, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{pyz.path.name}: OK" in done.stdout
