"""A generation's venv on a host without ensurepip (Debian/Ubuntu without python3-venv)."""

from __future__ import annotations

import ensurepip
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.bundles import pip_wheel

from netbundle.errors import InstallError
from netbundle.runtime.venv import create_venv, installed_versions

pytestmark = pytest.mark.integration

#: Stands in for ``python3`` on such a host: ``import ensurepip`` fails, the rest of the stdlib is there.
NO_ENSUREPIP = """#!{python} -I
import runpy, sys
sys.modules["ensurepip"] = None  # any import of ensurepip now raises ImportError
assert sys.argv[1:4] == ["-I", "-m", "venv"], sys.argv
sys.argv = ["venv"] + sys.argv[4:]
runpy.run_module("venv", run_name="__main__", alter_sys=True)
"""


@pytest.fixture
def python_without_ensurepip(tmp_path: Path) -> str:
    path = tmp_path / "python-no-ensurepip"
    path.write_text(NO_ENSUREPIP.format(python=sys.executable))
    path.chmod(0o755)
    return str(path)


def test_without_a_bundled_pip_wheel_the_hosts_ensurepip_is_used(tmp_path: Path) -> None:
    venv = create_venv(tmp_path / "venv", None)
    assert installed_versions([venv.site_packages])["pip"] == ensurepip.version()


def test_venv_gets_the_bundled_pip_without_ensurepip(tmp_path: Path, python_without_ensurepip: str) -> None:
    wheel = pip_wheel()
    venv = create_venv(tmp_path / "venv", wheel, python=python_without_ensurepip)
    version = wheel.name.split("-")[1]
    assert version != ensurepip.version()  # so the pip below cannot have come from ensurepip
    assert installed_versions([venv.site_packages]) == {"pip": version}
    done = subprocess.run(
        [str(venv.python), "-m", "pip", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith(f"pip {version} from {venv.site_packages}")
    script = (venv.path / "bin" / "pip").read_text().splitlines()[0]
    assert script == f"#!{venv.python}"


def test_a_damaged_pip_wheel_is_an_install_error(tmp_path: Path) -> None:
    broken = tmp_path / "pip-99.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip")
    with pytest.raises(InstallError, match=r"cannot install pip-99\.0-py3-none-any\.whl"):
        create_venv(tmp_path / "venv", broken)
