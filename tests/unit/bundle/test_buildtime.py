"""The build time orders releases: never a fixed epoch (issue 14, finding 1)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from netbundle.bundle.buildtime import build_epoch, expiry, parse_duration
from netbundle.errors import UsageError


def _git(root: Path, *argv: str, when: int) -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": f"@{when} +0000", "GIT_COMMITTER_DATE": f"@{when} +0000",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@localhost"}  # fmt: skip
    subprocess.run(["git", "-C", str(root), *argv], check=True, capture_output=True, env=env)


def test_the_lock_s_last_commit_time(tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    lock.write_text("x")
    (tmp_path / "pyproject.toml").write_text("y")
    _git(tmp_path, "init", "-q", when=0)
    _git(tmp_path, "add", "poetry.lock", when=0)
    _git(tmp_path, "commit", "-q", "-m", "lock", when=1_700_000_000)
    _git(tmp_path, "add", "pyproject.toml", when=0)
    _git(tmp_path, "commit", "-q", "-m", "later", when=1_750_000_000)
    assert build_epoch(tmp_path, lock) == 1_700_000_000


def test_the_project_s_commit_when_the_lock_is_not_committed(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("y")
    _git(tmp_path, "init", "-q", when=0)
    _git(tmp_path, "add", "pyproject.toml", when=0)
    _git(tmp_path, "commit", "-q", "-m", "p", when=1_760_000_000)
    lock = tmp_path / "poetry.lock"
    lock.write_text("x")
    assert build_epoch(tmp_path, lock) == 1_760_000_000


def test_the_lock_s_mtime_outside_git(tmp_path: Path) -> None:
    lock = tmp_path / "poetry.lock"
    lock.write_text("x")
    os.utime(lock, (1_770_000_000, 1_770_000_000))
    assert build_epoch(tmp_path, lock) == 1_770_000_000


@pytest.mark.parametrize(("text", "seconds"), [("90d", 90 * 86400), ("12h", 43200), ("2w", 14 * 86400)])
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["90", "1y", "-1d", "d", "９d", "1.5d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError, match="is not a duration"):
        parse_duration(text)


def test_an_expiry_already_past_is_refused_at_build_time() -> None:
    assert expiry(1_000, None) is None
    assert expiry(1_000, 100, now=1_050) == 1_100
    with pytest.raises(UsageError, match="would be expired already"):
        expiry(1_000, 100, now=1_100)
