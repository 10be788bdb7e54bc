"""minisign's public-key and signature formats, and verification as `minisign -V -H` does it, on both backends."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace

import pytest
from tests.support.minisign_keys import (
    MINISIGN_DATA,
    MINISIGN_KEY_ID_HEX,
    MINISIGN_LEGACY_SIG,
    MINISIGN_PUB,
    MINISIGN_SIG,
    fixed_key,
    flip_base64_line,
    legacy_signature,
    public,
    signature_bytes,
)

from netbundle.errors import InputError, SignatureInvalidError
from netbundle.format import ed25519, minisign

backends = pytest.mark.parametrize("backend", ed25519.BACKENDS)
DATA = b'{"format": 1, "project": "sample"}\n'


def test_key_id_is_printed_little_endian_uppercase() -> None:
    assert minisign.key_id_hex(bytes.fromhex("bc46f4cc3f884039")) == "3940883FCCF446BC"


def test_minisign_made_public_key_parses() -> None:
    key = minisign.parse_public_key(MINISIGN_PUB)
    assert key.key_id_hex == MINISIGN_KEY_ID_HEX
    assert key.comment == "minisign public key " + MINISIGN_KEY_ID_HEX
    assert minisign.render_public_key(key) == MINISIGN_PUB


@pytest.mark.parametrize(
    "text",
    [
        MINISIGN_PUB.splitlines()[1],  # the bare line `minisign -P` takes
        MINISIGN_PUB.replace("\n", "\r\n"),
        MINISIGN_PUB + "\n\n",
    ],
    ids=["bare line", "CRLF", "trailing blank lines"],
)
def test_public_key_spellings_parse_to_the_same_key(text: str) -> None:
    assert minisign.parse_public_key(text).key == minisign.parse_public_key(MINISIGN_PUB).key


def test_public_key_round_trip() -> None:
    key = public(fixed_key(1))
    parsed = minisign.parse_public_key(minisign.render_public_key(key))
    assert (parsed.key_id, parsed.key) == (key.key_id, key.key)
    assert parsed.comment == "minisign public key " + key.key_id_hex


def _pub_line(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "expected an 'untrusted comment:' line"),
        ("untrusted comment: x\nAAAA\nAAAA\n", "expected an 'untrusted comment:' line"),
        ("untrusted comment: x\nnot base64!\n", "bad base64"),
        (_pub_line(b"Ed" + bytes(8) + b"\x05" * 31), "bad base64"),
        (_pub_line(b"ED" + bytes(8) + b"\x05" * 32), "bad base64"),
        (_pub_line(b"Ed" + bytes(8) + (1).to_bytes(32, "little")), "small order"),
    ],
    ids=["empty", "three lines", "not base64", "short key", "wrong algorithm", "small-order key"],
)
def test_bad_public_keys_are_refused_naming_the_file(text: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem) as caught:
        minisign.parse_public_key(text, "keys/release.pub")
    assert caught.value.message.startswith("keys/release.pub ")


def test_minisign_made_signature_parses_and_renders_back() -> None:
    signature = minisign.parse_signature(MINISIGN_SIG)
    assert signature.algorithm == minisign.ALG_PREHASHED
    assert signature.key_id_hex == MINISIGN_KEY_ID_HEX
    assert signature.trusted_comment == "trusted vector comment"
    assert signature.untrusted_comment == "untrusted vector comment"
    assert minisign.render_signature(signature) == MINISIGN_SIG


@backends
def test_minisign_made_signature_verifies(backend: str) -> None:
    minisign.verify_signature(
        MINISIGN_DATA,
        minisign.parse_signature(MINISIGN_SIG),
        minisign.parse_public_key(MINISIGN_PUB),
        backend,
    )


@backends
def test_our_signature_verifies(backend: str) -> None:
    key = fixed_key(1)
    text = signature_bytes(DATA, key, "bundle sample 1.0.0").decode()
    signature = minisign.parse_signature(text)
    assert signature.trusted_comment == "bundle sample 1.0.0"
    minisign.verify_signature(DATA, signature, public(key), backend)


def _tampered(kind: str) -> tuple[bytes, str]:
    """(data, signature text) with one thing changed after signing."""
    text = signature_bytes(DATA, fixed_key(1)).decode()
    if kind == "data":
        return DATA.replace(b"sample", b"sampel"), text
    if kind == "signature":
        return DATA, flip_base64_line(text, 1, 20)
    if kind == "trusted comment":
        return DATA, text.replace("trusted comment: bundle test", "trusted comment: bundle test2")
    if kind == "global signature":
        return DATA, flip_base64_line(text, 3, 0)
    raise AssertionError(kind)


@backends
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("data", "the signed data or the signature was changed"),
        ("signature", "the signed data or the signature was changed"),
        ("trusted comment", "trusted comment .* was changed"),
        ("global signature", "trusted comment .* was changed"),
    ],
)
def test_any_change_after_signing_is_refused(backend: str, kind: str, message: str) -> None:
    data, text = _tampered(kind)
    with pytest.raises(SignatureInvalidError, match=message):
        minisign.verify_signature(data, minisign.parse_signature(text), public(fixed_key(1)), backend)


@backends
def test_a_signature_by_another_key_id_is_refused_before_any_math(backend: str) -> None:
    signature = minisign.parse_signature(signature_bytes(DATA, fixed_key(1)).decode())
    with pytest.raises(SignatureInvalidError, match=r"is by key .*, not by the given key"):
        minisign.verify_signature(DATA, signature, public(fixed_key(2)), backend)


@backends
def test_same_key_id_but_another_key_does_not_verify(backend: str) -> None:
    signature = minisign.parse_signature(signature_bytes(DATA, fixed_key(1)).decode())
    impostor = replace(public(fixed_key(2)), key_id=fixed_key(1).key_id)
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        minisign.verify_signature(DATA, signature, impostor, backend)


@backends
def test_legacy_signatures_are_refused_unless_allowed(backend: str) -> None:
    """Decision: netbundle signs prehashed only and, like `minisign -V -H`, refuses legacy `Ed` signatures."""
    key = minisign.parse_public_key(MINISIGN_PUB)
    legacy = minisign.parse_signature(MINISIGN_LEGACY_SIG)
    assert legacy.algorithm == minisign.ALG_LEGACY
    with pytest.raises(SignatureInvalidError, match="legacy non-prehashed") as caught:
        minisign.verify_signature(MINISIGN_DATA, legacy, key, backend)
    assert caught.value.hint
    minisign.verify_signature(MINISIGN_DATA, legacy, key, backend, allow_legacy=True)


@backends
def test_relabelling_the_algorithm_breaks_the_signature(backend: str) -> None:
    """A legacy signature presented as prehashed (or back) does not verify: the signed bytes differ."""
    key = fixed_key(1)
    legacy = minisign.parse_signature(legacy_signature(DATA, key).decode())
    as_prehashed = replace(legacy, algorithm=minisign.ALG_PREHASHED)
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        minisign.verify_signature(DATA, as_prehashed, public(key), backend)
    prehashed = minisign.parse_signature(signature_bytes(DATA, key).decode())
    with pytest.raises(SignatureInvalidError, match="does not verify"):
        minisign.verify_signature(
            DATA, replace(prehashed, algorithm=minisign.ALG_LEGACY), public(key), backend, True
        )


def _sig_line(algorithm: bytes, size: int = 72) -> str:
    return base64.b64encode((algorithm + bytes(size))[: size + 2]).decode()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("\n".join(MINISIGN_SIG.splitlines()[:3]), "expected 4 lines"),
        (MINISIGN_SIG.replace("trusted comment: ", "comment: "), "expected 4 lines"),
        (MINISIGN_SIG.replace("untrusted comment: ", "", 1), "expected 4 lines"),
        (MINISIGN_SIG.replace(MINISIGN_SIG.splitlines()[1], _sig_line(b"ED", 70)), "bad base64"),
        (MINISIGN_SIG.replace(MINISIGN_SIG.splitlines()[3], "AAAA"), "bad base64"),
        (MINISIGN_SIG.replace(MINISIGN_SIG.splitlines()[1], "!!"), "bad base64"),
        (
            MINISIGN_SIG.replace(MINISIGN_SIG.splitlines()[1], _sig_line(b"XX")),
            "unsupported signature algorithm",
        ),
    ],
    ids=[
        "truncated",
        "no trusted comment",
        "no untrusted comment",
        "short signature",
        "short global",
        "not base64",
        "unknown algorithm",
    ],
)
def test_malformed_signature_files_are_refused_naming_the_file(text: str, problem: str) -> None:
    with pytest.raises(SignatureInvalidError, match=problem) as caught:
        minisign.parse_signature(text, "netbundle/signatures/X.minisig")
    assert caught.value.message.startswith("netbundle/signatures/X.minisig ")


def test_signature_with_crlf_line_ends_parses() -> None:
    assert minisign.parse_signature(MINISIGN_SIG.replace("\n", "\r\n")) == minisign.parse_signature(
        MINISIGN_SIG
    )


def test_signed_message_is_blake2b_512_for_prehashed_and_the_data_for_legacy() -> None:
    assert minisign.signed_message(b"x", minisign.ALG_PREHASHED) == hashlib.blake2b(b"x").digest()
    assert minisign.signed_message(b"x", minisign.ALG_LEGACY) == b"x"
    assert minisign.global_message(b"s" * 64, "é") == b"s" * 64 + "é".encode()
