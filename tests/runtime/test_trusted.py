"""Embedded trust (the pyz resource) merged with --trust files."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.minisign_keys import fixed_key, public

from netbundle.errors import InputError
from netbundle.format.minisign import render_public_key
from netbundle.format.trust import TrustPolicy, render_trust
from netbundle.runtime import trusted

A, B, C = (public(fixed_key(n)) for n in (1, 2, 3))


def test_merge_keeps_each_key_once_and_the_highest_threshold() -> None:
    first = TrustPolicy(keys=(A, B), threshold=2, names=("a", "b"))
    second = TrustPolicy(keys=(B, C), threshold=1, names=("b-again", "c"))
    merged = trusted.merge_policies([first, second])
    assert [k.key_id for k in merged.keys] == [A.key_id, B.key_id, C.key_id]
    assert merged.names == ("a", "b", "c")
    assert merged.threshold == 2


def test_merge_renames_a_clashing_name() -> None:
    merged = trusted.merge_policies(
        [TrustPolicy(keys=(A,), names=("ops",)), TrustPolicy(keys=(B,), names=("ops",))]
    )
    assert merged.names == ("ops", f"ops-{B.key_id_hex}")


def test_merge_needs_a_policy() -> None:
    with pytest.raises(ValueError, match="at least one"):
        trusted.merge_policies([])


def test_no_key_at_all_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no trusted keys") as info:
        trusted.resolve_policy([])
    assert info.value.hint and "--trust" in info.value.hint


def test_source_tree_embeds_nothing() -> None:
    assert trusted.embedded_text() is None
    assert trusted.embedded_policy() is None


def test_resolve_merges_embedded_then_files(tmp_path: Path) -> None:
    pub = tmp_path / "c.pub"
    pub.write_text(render_public_key(C))
    embedded = TrustPolicy(keys=(A,), names=("release",))
    policy = trusted.resolve_policy([str(pub)], embedded=embedded)
    assert [k.key_id for k in policy.keys] == [A.key_id, C.key_id]


def test_embedded_resource_is_read_through_the_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    text = render_trust(TrustPolicy(keys=(A, B), threshold=2, names=("a", "b")))

    def get_data(package: str, resource: str) -> bytes:
        assert (package, resource) == ("netbundle.runtime", trusted.RESOURCE)
        return text.encode()

    monkeypatch.setattr(trusted.pkgutil, "get_data", get_data)
    policy = trusted.resolve_policy([])
    assert (policy.threshold, policy.names) == (2, ("a", "b"))


def test_broken_embedded_resource_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trusted.pkgutil, "get_data", lambda package, resource: b"\xff\xfe")
    with pytest.raises(InputError, match="not UTF-8"):
        trusted.embedded_policy()
