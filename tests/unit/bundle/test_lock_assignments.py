"""The builder asserts, before signing, that each target's locks pin only files assigned to that target."""

from __future__ import annotations

import pytest
from tests.runtime.test_locks import B, lock, manifest

from netbundle.bundle.builder import assert_lock_assignments
from netbundle.errors import BuildError


def test_the_builder_asserts_the_rule_before_signing() -> None:
    with pytest.raises(BuildError) as info:
        assert_lock_assignments(
            manifest(), {"locks/old/r.txt": lock(("bcrypt", "4.3.0", B)).encode(), "locks/new/r.txt": b""}
        )
    assert info.value.exit_code == 7 and "not a file the manifest assigns to target old" in info.value.message
