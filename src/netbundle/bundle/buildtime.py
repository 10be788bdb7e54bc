"""The build time a bundle is stamped with, and its optional expiry.

The build time orders releases (installers refuse an older bundle as a downgrade), so it must say when the
release was made, not a constant: ``SOURCE_DATE_EPOCH`` when set (reproducible builds set it), else the last
commit time of ``poetry.lock`` (or of the project, when the lock is not committed), else the lock's modification
time. All of these are properties of the inputs, so two builds of the same commit give the same bytes.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from netbundle.errors import UsageError

_DURATION = re.compile(r"^([0-9]{1,6})([hdw])\Z")
_UNIT_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400}


def build_epoch(project_root: Path, lock_path: Path) -> int:
    """The build time when ``SOURCE_DATE_EPOCH`` is not set: the last commit time of the lock, else of the
    project, else the lock's modification time (epoch seconds)."""
    for paths in ([str(lock_path)], []):
        committed = _last_commit_time(project_root, paths)
        if committed is not None:
            return committed
    return int(lock_path.stat().st_mtime)


def _last_commit_time(root: Path, paths: list[str]) -> int | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "log", "-1", "--format=%ct", "--", *paths],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = done.stdout.strip()
    return int(text) if done.returncode == 0 and text.isascii() and text.isdigit() else None


def parse_duration(text: str) -> int:
    """Seconds of ``90d``, ``12h`` or ``2w`` (``--expires``).

    :raises UsageError: another spelling.

    >>> parse_duration("90d")
    7776000
    """
    found = _DURATION.match(text.strip())
    if found is None:
        raise UsageError(f"--expires {text!r} is not a duration", hint="use e.g. 90d, 12h or 2w")
    return int(found.group(1)) * _UNIT_SECONDS[found.group(2)]


def expiry(epoch: int, seconds: int | None, now: float | None = None) -> int | None:
    """The expiry time ``seconds`` after the build time, refused when it has already passed."""
    if seconds is None:
        return None
    expires = epoch + seconds
    if expires <= (time.time() if now is None else now):
        raise UsageError(
            f"the bundle would be expired already: built at {epoch} (epoch), expiring {seconds} s later",
            hint="a longer --expires, or SOURCE_DATE_EPOCH=$(date +%s) to date the build now",
        )
    return expires
