from __future__ import annotations

import io
import os
import sys

from netbundle.runtime.pip import PipRun, pip_check_argv, pip_install_argv, run, scrubbed_env


def test_install_argv_is_offline_hash_checked_and_binary_only() -> None:
    argv = pip_install_argv("/v/bin/python", ["/s/wheels", "/s/dist"], ["/s/main.txt", "/s/junos.txt"])
    assert argv == [
        "/v/bin/python", "-I", "-m", "pip", "install", "--isolated", "--no-index",
        "--find-links", "/s/wheels", "--find-links", "/s/dist",
        "--require-hashes", "--only-binary=:all:", "--no-input", "--disable-pip-version-check", "--no-cache-dir",
        "--progress-bar=off", "-r", "/s/main.txt", "-r", "/s/junos.txt",
    ]  # fmt: skip
    assert "--no-deps" not in argv  # the resolver confirms the lock is complete for this host


def test_install_argv_upgrade() -> None:
    assert "--upgrade" in pip_install_argv("p", [], [], upgrade=True)


def test_check_argv() -> None:
    assert pip_check_argv("/v/bin/python")[:5] == ["/v/bin/python", "-I", "-m", "pip", "check"]


def test_scrubbed_env_drops_pip_settings_and_foreign_python_paths() -> None:
    env = scrubbed_env(
        {
            "PATH": "/usr/bin",
            "HOME": "/root",
            "PIP_INDEX_URL": "http://127.0.0.1:1/simple",
            "PIP_FIND_LINKS": "/evil",
            "pip_target": "/evil",
            "PIP_CONFIG_FILE": "/evil/pip.conf",
            "PYTHONPATH": "/evil",
            "PYTHONHOME": "/evil",
            "VIRTUAL_ENV": "/other",
            "PYTHONUSERBASE": "/evil",
        }
    )
    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "PIP_CONFIG_FILE": os.devnull,
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def test_pip_run_tail_and_ok() -> None:
    done = PipRun(["pip"], 1, "".join(f"line {i}\n" for i in range(30)))
    assert not done.ok
    assert done.tail(2) == "line 28\nline 29"


def test_run_captures_output_and_status_and_logs_the_command() -> None:
    log = io.StringIO()
    done = run([sys.executable, "-c", "import sys; print('hi'); sys.exit(3)"], dict(os.environ), log)
    assert (done.returncode, done.output, done.ok) == (3, "hi\n", False)
    assert log.getvalue().startswith("$ " + sys.executable)
    assert log.getvalue().endswith("hi\n")


def test_run_of_a_missing_program_is_an_install_error(tmp_path) -> None:
    import pytest

    from netbundle.errors import InstallError

    with pytest.raises(InstallError, match="cannot run"):
        run([str(tmp_path / "no-python")], {})


def test_a_started_command_runs_while_the_caller_works_and_is_collected_later() -> None:
    import time

    from netbundle.runtime.pip import start

    started = start([sys.executable, "-c", "print('checked'); raise SystemExit(3)"], dict(os.environ))
    time.sleep(0.2)  # the caller's own work; the command's output waits in its pipe
    log = io.StringIO()
    done = started.wait(log)
    assert (done.returncode, done.output, log.getvalue()) == (3, "checked\n", "checked\n")


def test_a_started_command_is_killed_with_its_process_group() -> None:
    import time
    from pathlib import Path

    from netbundle.runtime.pip import start

    code = (
        "import subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print(child.pid, flush=True); time.sleep(60)"
    )
    started = start([sys.executable, "-c", code], dict(os.environ))
    assert started.process.stdout is not None
    grandchild = int(started.process.stdout.readline())
    began = time.monotonic()
    started.kill()
    assert started.process.returncode is not None and time.monotonic() - began < 10

    def alive() -> bool:  # a killed process may stay a zombie until whoever adopted it reaps it
        try:
            return Path(f"/proc/{grandchild}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 5
    while alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive()
