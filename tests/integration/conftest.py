"""Fixtures for integration tests: the real-world corpus (see scripts/prepare-corpus)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from tests.support.bundles import pinned_pips
from tests.support.simple_index import serve

from netbundle.bundle.signing import generate_keypair

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / ".cache" / "corpus"
SAMPLE_PROJECT = REPO / "sample-bundles" / "netops-automation"
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


@pytest.fixture(scope="session")
def sample_bundle(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> tuple[Path, Path]:
    """sample-bundles/netops-automation built and signed by the real `netbundle build` from a local index serving
    the corpus (all three targets, groups main+junos+cisco+arista): the bundle and the signer's .pub."""
    work = tmp_path_factory.mktemp("sample")
    secret, public = generate_keypair(comment="sample test key", password=None)
    (work / "k.key").write_bytes(secret)
    (work / "k.pub").write_bytes(public)
    with serve(corpus_dir / "all", also=(pinned_pips(),)) as index:
        # PEP 517 builds (the project, the sdist-only packages) take their build tools from the same index
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(work),
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": index.url,
        }
        argv = [str(REPO / ".venv" / "bin" / "netbundle"), "-q", "build", "-P", str(SAMPLE_PROJECT),
                "--index-url", index.url, "--cache-dir", str(work / "cache"), "--sign-key", str(work / "k.key"),
                "-o", str(work / "netops.tar")]  # fmt: skip
        run = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return work / "netops.tar", work / "k.pub"
