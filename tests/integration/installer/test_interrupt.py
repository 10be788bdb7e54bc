"""An installer killed or stopped while pip runs leaves the previous generation working."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.integration.installer.conftest import MakeBundle
from tests.integration.installer.prefixes import prefix_entries, run_in_prefix
from tests.support.bundles import KeyPair

from netbundle.errors import PrefixError
from netbundle.format.trust import TrustPolicy
from netbundle.runtime.install import install

pytestmark = pytest.mark.integration

#: Runs install in a child process whose "pip install" is a process that says it started and then blocks, so
#: the test can stop the installer at a known point while its pip child is running.
CHILD = """
import pathlib, sys
from netbundle.runtime import install as inst
from netbundle.errors import NetbundleError
from netbundle.format.trust import load_trust

bundle, prefix, trust, started = sys.argv[1:5]
real_run = inst.run

def blocking_run(argv, env, log=None, **options):
    if "install" in argv:
        code = "import pathlib, time; pathlib.Path({!r}).write_text('pip'); time.sleep(600)".format(started)
        argv = [sys.executable, "-c", code]
    return real_run(argv, env, log, **options)

inst.run = blocking_run
try:
    inst.install(bundle, prefix, load_trust(trust))
except NetbundleError as exc:
    print(exc, file=sys.stderr)
    sys.exit(exc.exit_code)
"""


def start_blocked_install(
    tmp_path: Path, bundle: Path, prefix: Path, key: KeyPair
) -> tuple[subprocess.Popen[str], Path]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    started = tmp_path / "pip-started"
    child = subprocess.Popen(
        [sys.executable, str(script), str(bundle), str(prefix), str(key.pub_path), str(started)],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not started.exists():  # polls for a state, not for time: the deadline only bounds a hang
        assert child.poll() is None, child.communicate()[1]
        assert time.monotonic() < deadline, "pip never started"
        time.sleep(0.02)
    return child, started


@pytest.fixture
def installed_v1(tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy) -> tuple[Path, Path]:
    prefix = tmp_path / "p"
    install(bundle("v1", packages=[("alpha", "1.0")]), prefix, policy)
    return prefix, bundle("v2", version="2.0.0", packages=[("alpha", "2.0")])


def test_sigkill_during_pip_keeps_current_and_the_next_run_cleans_up(
    tmp_path: Path, installed_v1: tuple[Path, Path], release_key: KeyPair, policy: TrustPolicy
) -> None:
    prefix, v2 = installed_v1
    child, _ = start_blocked_install(tmp_path, v2, prefix, release_key)
    os.killpg(child.pid, signal.SIGKILL)  # the installer and its pip, like a lost SSH session's cgroup
    child.communicate()
    leftovers = [
        name for name in prefix_entries(prefix) if name.startswith((".staging-", "generations/0002-"))
    ]
    assert len(leftovers) == 2
    assert run_in_prefix(prefix, "import alpha; print(alpha.__version__)") == "1.0"

    result = install(v2, prefix, policy)  # the lock died with the killed run
    assert sorted(result.cleaned) == sorted(leftovers)
    assert result.generation.number == 2
    assert run_in_prefix(prefix, "import alpha; print(alpha.__version__)") == "2.0"


def test_sigterm_during_pip_removes_the_partial_generation(
    tmp_path: Path, installed_v1: tuple[Path, Path], release_key: KeyPair, policy: TrustPolicy
) -> None:
    prefix, v2 = installed_v1
    before = prefix_entries(prefix)
    child, _ = start_blocked_install(tmp_path, v2, prefix, release_key)
    with pytest.raises(PrefixError, match="locked by another netbundle run"):
        install(v2, prefix, policy)  # a second operator meanwhile
    child.send_signal(signal.SIGTERM)  # the installer only: it must stop its pip itself
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 20
    assert "install interrupted" in stderr
    assert prefix_entries(prefix) == before
    assert run_in_prefix(prefix, "import alpha; print(alpha.__version__)") == "1.0"
    leftover_pips = subprocess.run(
        ["pgrep", "-f", str(tmp_path / "pip-started")], check=False, capture_output=True, text=True
    )
    assert leftover_pips.stdout == ""


def _pip_pids(tmp_path: Path) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-f", str(tmp_path / "pip-started")], check=False, capture_output=True, text=True
    )
    return [int(pid) for pid in found.stdout.split()]


def test_kill_9_of_the_installer_alone_takes_its_pip_with_it(
    tmp_path: Path, installed_v1: tuple[Path, Path], release_key: KeyPair, policy: TrustPolicy
) -> None:
    prefix, v2 = installed_v1
    child, _ = start_blocked_install(tmp_path, v2, prefix, release_key)
    try:
        pips = [
            pid for pid in _pip_pids(tmp_path) if pid != child.pid
        ]  # the installer's argv names the file too
        assert len(pips) == 1
        assert os.getpgid(pips[0]) != os.getpgid(child.pid)  # pip runs in its own process group
        os.kill(child.pid, signal.SIGKILL)  # the installer only, not its group
        child.communicate()
        deadline = time.monotonic() + 30
        while _pip_pids(tmp_path):  # the parent-death signal kills pip; polls for that state, bounded
            assert time.monotonic() < deadline, "pip outlived the killed installer"
            time.sleep(0.02)
    finally:  # whatever failed, leave no sleeping stand-in behind
        for pid in [*_pip_pids(tmp_path), child.pid]:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    result = install(v2, prefix, policy)
    assert result.generation.number == 2
    assert run_in_prefix(prefix, "import alpha; print(alpha.__version__)") == "2.0"
