"""Fixtures for the installer's integration tests: a trusted key, a bundle factory, prefix helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.support.bundles import KeyPair, make_bundle, make_keypair

from netbundle.format.trust import TrustPolicy

MakeBundle = Callable[..., Path]


@pytest.fixture(scope="session")
def release_key(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return make_keypair(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="session")
def policy(release_key: KeyPair) -> TrustPolicy:
    return TrustPolicy(keys=(release_key.public,))


@pytest.fixture
def bundle(tmp_path: Path, release_key: KeyPair) -> MakeBundle:
    """``bundle("name", packages=..., ...)``: a bundle signed by the trusted key, written under tmp_path."""

    def make(name: str = "bundle", **options: Any) -> Path:
        options.setdefault("keys", (release_key,))
        return make_bundle(tmp_path / f"{name}.tar", **options)

    return make
