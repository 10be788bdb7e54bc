"""Fixtures of the serve tests: a small signed bundle (three tiny wheels); the sample bundle comes from
tests/integration/conftest.py."""

from __future__ import annotations

import pytest
from tests.integration.serve.servers import SmallBundle
from tests.support.bundles import make_bundle, make_keypair


@pytest.fixture(scope="session")
def small_bundle(tmp_path_factory: pytest.TempPathFactory) -> SmallBundle:
    root = tmp_path_factory.mktemp("serve-small")
    key = make_keypair(root / "keys")
    packages = (("alpha", "1.0"), ("beta", "2.0"), ("gamma-lib", "3.0"))
    bundle = make_bundle(root / "site.tar", packages=packages, keys=[key], requires={"alpha": ["beta"]})
    return SmallBundle(bundle, key)
