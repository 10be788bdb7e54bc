"""Fixtures for running the CI templates' shell steps locally: a local index, a password-protected CI key, a
copy of the sample project per run, and a YAML reader.

YAML: the project's own .venv has no YAML parser (no dependency needs one), so the templates are read with the
PyYAML that ``scripts/install-ansible-builder`` installs, hash-pinned, into ``.venv-ansible/``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.bundles import pinned_pips
from tests.support.simple_index import serve

from netbundle.bundle.signing import generate_keypair

REPO = Path(__file__).resolve().parents[3]
TEMPLATES = REPO / "ci-templates"
SAMPLE = REPO / "sample-bundles" / "netops-automation"
CORPUS_ALL = REPO / ".cache" / "corpus" / "all"
YAML_PYTHON = REPO / ".venv-ansible" / "bin" / "python"
PASSWORD = "ci-secret-password"


@dataclass(frozen=True)
class CIKey:
    secret_text: str
    key_path: Path
    pub_path: Path


def load_yaml(path: Path) -> Any:
    if not YAML_PYTHON.is_file():
        pytest.fail(
            f"{YAML_PYTHON} is missing: run scripts/install-ansible-builder (YAML parser for this test)"
        )
    code = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"
    out = subprocess.run(
        [str(YAML_PYTHON), "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


@pytest.fixture(scope="session")
def index_url() -> Iterator[str]:
    if not CORPUS_ALL.is_dir():
        pytest.fail(f"{CORPUS_ALL} is missing: run scripts/prepare-corpus")
    with serve(CORPUS_ALL, also=(pinned_pips(),)) as index:
        yield index.url


@pytest.fixture(scope="session")
def ci_key(tmp_path_factory: pytest.TempPathFactory) -> CIKey:
    """A password-protected signing key, as a CI secret holds it (cheap scrypt parameters for the test)."""
    directory = tmp_path_factory.mktemp("ci-key")
    secret, public = generate_keypair(
        comment="ci test key", password=PASSWORD, opslimit=32768, memlimit=8 * 1024 * 1024
    )
    (directory / "release.key").write_bytes(secret)
    (directory / "release.pub").write_bytes(public)
    return CIKey(secret.decode(), directory / "release.key", directory / "release.pub")


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One netbundle cache for every template run (the first build is cold, the next ones warm, as in CI)."""
    return tmp_path_factory.mktemp("netbundle-cache")


@pytest.fixture
def project(tmp_path: Path, ci_key: CIKey) -> Path:
    """A checkout of the sample project with the trusted public key committed next to pyproject.toml."""
    checkout = tmp_path / "checkout"
    shutil.copytree(SAMPLE, checkout, ignore=shutil.ignore_patterns("__pycache__", "dist", "build"))
    shutil.copyfile(ci_key.pub_path, checkout / "netbundle-release.pub")
    return checkout


@pytest.fixture
def ci_env(tmp_path: Path, index_url: str, shared_cache: Path) -> dict[str, str]:
    """What every CI runner would provide: netbundle on PATH, an index (a mirror), the key's password."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    return {
        "PATH": f"{REPO / '.venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
        "NETBUNDLE_INDEX_URL": index_url,
        # PEP 517 builds (the project's wheel, sdist-only packages) take their build tools from the same index
        "PIP_INDEX_URL": index_url,
        "PIP_CONFIG_FILE": "/dev/null",
        "NETBUNDLE_CACHE_DIR": str(shared_cache),
        "SOURCE_DATE_EPOCH": "1767225600",
        "NETBUNDLE_SIGN_KEY_PASSWORD": PASSWORD,
    }
