"""The real CPython interpreters this machine has, for tests that run the installer on each of them.

Looked for, per ``3.X``: ``$NETBUNDLE_PYTHON3X`` (e.g. ``NETBUNDLE_PYTHON312=/usr/bin/python3.12``), then pyenv's
``~/.pyenv/versions/3.X.*/bin/python3.X`` (newest patch first), then ``python3.X`` on PATH. A candidate counts only
if it runs and reports that version and CPython. ``scripts/list-pythons`` prints the result.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

#: The installer's floor up to the newest CPython the project supports.
INSTALLER_PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13")
_PROBE = "import platform, sys; print('%d.%d %s' % (sys.version_info[0], sys.version_info[1], platform.python_implementation()))"


def _patch_key(path: str) -> tuple[int, ...]:
    version = path.split("/versions/", 1)[-1].split("/", 1)[0]
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def candidates(version: str) -> list[str]:
    """Where an interpreter of ``version`` might be, in the order they are tried."""
    found = [os.environ.get("NETBUNDLE_PYTHON" + version.replace(".", ""), "")]
    pattern = os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python{version}")
    found += sorted(glob.glob(pattern), key=_patch_key, reverse=True)
    found.append(shutil.which(f"python{version}") or "")
    return [path for path in found if path]


def find_python(version: str) -> str | None:
    """The first candidate that runs and is CPython ``version``, or None."""
    for path in candidates(version):
        try:
            done = subprocess.run(
                [path, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=30, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0 and done.stdout.split() == [version, "CPython"]:
            return path
    return None


def find_pythons(versions: tuple[str, ...] = INSTALLER_PYTHONS) -> dict[str, str | None]:
    """``version -> interpreter path`` (None where this machine has none)."""
    return {version: find_python(version) for version in versions}
