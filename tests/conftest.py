"""Shared fixtures for every test folder. Layer-specific fixtures live in each folder's own conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """The read-only fixtures beside the repository (real Poetry locks and their exports)."""
    if not SHARED_FIXTURES.is_dir():
        pytest.fail(f"{SHARED_FIXTURES} is missing: clone the repository with ../shared beside it")
    return SHARED_FIXTURES
