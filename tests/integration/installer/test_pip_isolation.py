"""No host pip configuration (pip.conf in any place pip reads, PIP_* variables) changes what install does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from tests.integration.installer.conftest import MakeBundle
from tests.integration.installer.prefixes import run_in_prefix
from tests.support.bundles import pip_wheel
from tests.support.wheels import make_wheel, sha256_of

from netbundle.format.trust import TrustPolicy
from netbundle.runtime.install import install
from netbundle.runtime.pip import pip_install_argv, run, scrubbed_env
from netbundle.runtime.venv import create_venv

pytestmark = pytest.mark.integration


def hostile_setup(tmp_path: Path, index_url: str) -> dict[str, str]:
    """pip.conf files in the global (XDG_CONFIG_DIRS), user (XDG_CONFIG_HOME) and PIP_CONFIG_FILE places,
    and PIP_* variables, each sending pip to an index, a find-links directory of look-alike wheels and an
    install target outside the venv."""
    evil = tmp_path / "evil"
    make_wheel(evil / "links", "alpha", "1.0", payload="EVIL = True\n")
    config = f"[global]\nindex-url = {index_url}\nfind-links = {evil / 'links'}\n[install]\ntarget = {evil / 'target'}\n"
    for place in ("xdg-global/pip", "xdg-home/pip", "explicit"):
        (tmp_path / place).mkdir(parents=True)
        (tmp_path / place / "pip.conf").write_text(config)
    return {
        "XDG_CONFIG_DIRS": str(tmp_path / "xdg-global"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-home"),
        "PIP_CONFIG_FILE": str(tmp_path / "explicit" / "pip.conf"),
        "PIP_INDEX_URL": index_url,
        "PIP_EXTRA_INDEX_URL": index_url,
        "PIP_FIND_LINKS": str(evil / "links"),
        "PIP_TARGET": str(evil / "target"),
        "PIP_NO_INDEX": "false",
        "PIP_REQUIRE_HASHES": "false",
    }


def test_the_hostile_configuration_does_change_an_unscrubbed_pip(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """Control: the same argv with the host's environment is steered by the hostile config (the setup is real)."""
    hostile = hostile_setup(tmp_path, httpserver.url_for("/simple/"))
    venv = create_venv(tmp_path / "venv", pip_wheel())
    wheel = make_wheel(tmp_path / "wheels", "alpha", "1.0")
    requirements = tmp_path / "req.txt"
    requirements.write_text(f"alpha==1.0 --hash=sha256:{sha256_of(wheel)}\n")
    argv = pip_install_argv(str(venv.python), [str(wheel.parent)], [str(requirements)])

    # The config files' find-links directory is searched first: pip takes the look-alike (the hash stops it
    # here; without --require-hashes it would be installed).
    done = run(argv, {**os.environ, **hostile})
    assert not done.ok
    assert f"Processing {tmp_path / 'evil' / 'links'}" in done.output

    clean = run(argv, scrubbed_env({**os.environ, **hostile}))
    assert clean.ok, clean.output
    assert not (tmp_path / "evil" / "target").exists()
    assert list(Path(venv.site_packages).glob("alpha-1.0.dist-info"))


def test_install_ignores_every_host_pip_setting(
    tmp_path: Path,
    bundle: MakeBundle,
    policy: TrustPolicy,
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in hostile_setup(tmp_path, httpserver.url_for("/simple/")).items():
        monkeypatch.setenv(key, value)
    prefix = tmp_path / "p"
    install(bundle(), prefix, policy)
    assert run_in_prefix(prefix, "import alpha; print(hasattr(alpha, 'EVIL'))") == "False"
    assert not (tmp_path / "evil" / "target").exists()
    assert httpserver.log == []  # nothing asked the index
