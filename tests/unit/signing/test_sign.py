"""Signing data and endorsing keys: what the builder writes, the runtime verifies on both backends."""

from __future__ import annotations

import pytest
from tests.support.minisign_keys import fixed_key, public

from netbundle.bundle import signing
from netbundle.errors import UsageError
from netbundle.format import ed25519, minisign, trust

backends = pytest.mark.parametrize("backend", ed25519.BACKENDS)
DATA = b'{"format": 1}\n'


@backends
def test_signature_is_prehashed_and_verifies(backend: str) -> None:
    key = fixed_key(1)
    text = signing.sign(DATA, key, trusted_comment="sample-project 1.0.0 sha256:abc").decode()
    parsed = minisign.parse_signature(text)
    assert parsed.algorithm == minisign.ALG_PREHASHED
    assert parsed.key_id == key.key_id
    assert parsed.untrusted_comment == signing.DEFAULT_SIGNATURE_COMMENT
    assert parsed.trusted_comment == "sample-project 1.0.0 sha256:abc"
    minisign.verify_signature(DATA, parsed, key.public_key, backend)


def test_signing_is_deterministic() -> None:
    """Ed25519 signatures are deterministic, so rebuilding a bundle gives identical signature members."""
    assert signing.sign(DATA, fixed_key(1), trusted_comment="t") == signing.sign(
        DATA, fixed_key(1), trusted_comment="t"
    )


def test_the_longest_trusted_comment_minisign_accepts() -> None:
    longest = "x" * minisign.TRUSTED_COMMENT_MAX_BYTES
    assert minisign.parse_signature(signing.sign(DATA, fixed_key(1), trusted_comment=longest).decode())
    with pytest.raises(UsageError, match="longer than"):
        signing.sign(DATA, fixed_key(1), trusted_comment=longest + "x")


@pytest.mark.parametrize("field", ["trusted_comment", "untrusted_comment"])
def test_comments_must_be_one_line(field: str) -> None:
    options = {"trusted_comment": "t", field: "two\nlines"}
    with pytest.raises(UsageError, match="must be one line"):
        signing.sign(DATA, fixed_key(1), **options)


def test_signature_member_name_uses_the_printed_key_id() -> None:
    key = fixed_key(1)
    expected = f"netbundle/signatures/{key.key_id_hex}.minisig"
    assert signing.signature_member_name(key) == expected
    assert signing.signature_member_name(key.public_key) == expected


@backends
def test_endorse_writes_a_trust_line_that_the_runtime_accepts(backend: str) -> None:
    old, new = fixed_key(1), fixed_key(2)
    line = signing.endorse(public(new), old, name="release-2027", endorser_name="release-2026")
    assert line.startswith(f"endorsed release-2027 {public(new).to_base64()} by release-2026 ")
    assert line.endswith("\n")
    text = f"{trust.TRUST_HEADER}\nkey release-2026 {public(old).to_base64()}\n{line}"
    parsed = trust.parse_trust(text, "trust.txt", backend)
    assert parsed.names == ("release-2026", "release-2027")
    assert parsed.keys[1].key == new.public_key.key
