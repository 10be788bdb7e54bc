"""Run a command inside a private mount namespace with a small tmpfs (read-only or nearly full file systems).

The real file systems are never touched: ``unshare -m`` gives the child its own mount table, the tmpfs is mounted
on a directory under the test's ``tmp_path`` and disappears with the namespace.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def require_unshare() -> None:
    """Skip loudly where mount namespaces cannot be made (no unshare, or no privilege)."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed: cannot make a private mount namespace")
    probe = subprocess.run(["unshare", "-m", "true"], check=False, capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"unshare -m does not work here: {probe.stderr.decode(errors='replace').strip()}")


def run_on_tmpfs(
    mountpoint: Path, code: str, *, options: str = "size=64k", argv: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Mount a tmpfs with ``options`` on ``mountpoint`` in a new mount namespace and run Python ``code`` there."""
    require_unshare()
    mountpoint.mkdir(parents=True, exist_ok=True)
    script = (
        f"mount --make-rprivate / && mount -t tmpfs -o {shlex.quote(options)} tmpfs {shlex.quote(str(mountpoint))}"
        f" && exec {shlex.quote(sys.executable)} -c {shlex.quote(code)} "
        + " ".join(shlex.quote(a) for a in argv)
    )
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script], check=False, capture_output=True, text=True, timeout=120
    )
