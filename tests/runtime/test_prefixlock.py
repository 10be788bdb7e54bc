"""The prefix lock is held as long as any process holding its descriptor lives; stale owners are named
(issue 14, finding 7)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netbundle.errors import PrefixError
from netbundle.runtime import prefixlock

HOLD = "import sys, time; sys.stdout.write('held\\n'); sys.stdout.flush(); time.sleep(float(sys.argv[1]))"


def _child_holding(fd: int, seconds: float) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(seconds)], pass_fds=(fd,), stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline() == "held\n"
    return child


def test_a_live_owner_is_named_at_once(tmp_path: Path) -> None:
    with prefixlock.hold(tmp_path / ".lock"):
        started = time.monotonic()
        busy = rf"locked by another netbundle run \(pid {os.getpid()}\)"
        with pytest.raises(PrefixError, match=busy), prefixlock.hold(tmp_path / ".lock"):
            pytest.fail("two holders")
        assert time.monotonic() - started < 1


def test_a_child_keeps_the_lock_after_its_parent_released_it_and_a_stale_owner_is_waited_for(
    tmp_path: Path,
) -> None:
    lock = tmp_path / ".lock"
    script = (
        "import subprocess, sys\n"
        "from netbundle.runtime import prefixlock\n"
        f"with prefixlock.hold(__import__('pathlib').Path({str(lock)!r})) as fd:\n"
        f"    child = subprocess.Popen([sys.executable, '-c', {HOLD!r}, '4'], pass_fds=(fd,),\n"
        "                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(child.pid, flush=True)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    orphan = int(done.stdout.split()[0])  # the run is gone, the child it left still holds the lock
    assert prefixlock.is_alive(orphan)
    stale = r"left behind by a killed netbundle run \(pid \d+, now gone\)"
    with pytest.raises(PrefixError, match=stale), prefixlock.hold(lock, stale_wait=0.2):
        pytest.fail("the orphan still holds the lock")
    started = time.monotonic()
    with prefixlock.hold(lock) as fd:  # waits until the orphan exits, then takes it
        assert prefixlock.recorded_owner(fd) == os.getpid()
    assert time.monotonic() - started < prefixlock.STALE_WAIT_SECONDS


def test_a_planted_lock_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "victim").write_text("x")
    (tmp_path / ".lock").symlink_to(tmp_path / "victim")
    with pytest.raises(PrefixError, match="it is a symlink"), prefixlock.hold(tmp_path / ".lock"):
        pytest.fail("taken through a link")
    assert (tmp_path / "victim").read_text() == "x"


def test_pip_children_get_a_parent_death_signal() -> None:
    from netbundle.runtime.pip import parent_death_setup

    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux only")
    assert parent_death_setup() is not None
