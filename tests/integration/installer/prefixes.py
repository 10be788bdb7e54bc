"""Helpers for looking at an install prefix from the installer's integration tests."""

from __future__ import annotations

import subprocess
from pathlib import Path


def run_in_prefix(prefix: Path, code: str) -> str:
    """Run ``code`` with the prefix's own interpreter (``<prefix>/bin/python``); return stdout."""
    done = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def prefix_entries(prefix: Path) -> list[str]:
    """Every name in the prefix and its generations directory: what a failed run must not change."""
    names = sorted(p.name for p in prefix.iterdir())
    return names + sorted("generations/" + p.name for p in (prefix / "generations").iterdir())
