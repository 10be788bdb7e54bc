"""Fixtures for integration tests: the real-world corpus (see scripts/prepare-corpus)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / ".cache" / "corpus"
CORPUS_TARGETS = ["cp39-manylinux_2_28_x86_64", "cp311-manylinux_2_28_x86_64", "cp311-manylinux_2_28_aarch64"]


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """What pip picked for netops-sample on each benchmark target, downloaded by scripts/prepare-corpus."""
    missing = [t for t in CORPUS_TARGETS if not (CORPUS / t / ".complete").is_file()]
    if missing or not (CORPUS / "all").is_dir():
        pytest.fail(
            f"the corpus is not prepared ({', '.join(missing) or 'all/'}): run scripts/prepare-corpus"
        )
    return CORPUS


@pytest.fixture(scope="session")
def netops_sample() -> Path:
    return REPO.parent / "shared" / "fixtures" / "netops-sample"
