"""netbundle.pyz built once per test session by the real scripts/build-pyz, with an embedded trusted key."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.support.bundles import KeyPair, make_bundle, make_keypair

REPO = Path(__file__).resolve().parents[3]
BUILD_PYZ = REPO / "scripts" / "build-pyz"


@dataclass(frozen=True)
class BuiltPyz:
    path: Path
    key: KeyPair  # embedded in the pyz
    bundle: Path  # signed by ``key``


def build_pyz(output: Path, *trust: Path) -> Path:
    argv = [sys.executable, str(BUILD_PYZ), "-o", str(output)]
    for path in trust:
        argv += ["--trust", str(path)]
    subprocess.run(argv, check=True, capture_output=True, text=True)
    return output


@pytest.fixture(scope="session")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> BuiltPyz:
    root = tmp_path_factory.mktemp("pyz")
    key = make_keypair(root / "keys", "release")
    path = build_pyz(root / "netbundle.pyz", key.pub_path)
    bundle = make_bundle(root / "site.tar", packages=(("alpha", "1.0"), ("beta", "2.0")), keys=[key])
    return BuiltPyz(path, key, bundle)
