"""Both Ed25519 backends give the same answer: RFC 8032 vectors, tampering, malformed input, weak keys."""

from __future__ import annotations

import pytest
from ecdsa import Ed25519, VerifyingKey
from ecdsa.ellipticcurve import INFINITY

from netbundle.format import ed25519

# RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte 0x72).
VECTORS = [
    (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
]
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
Y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022
SMALL_ORDER_Y = [0, 1, P - 1, Y8, P - Y8]

backends = pytest.mark.parametrize("backend", ed25519.BACKENDS)


def flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@backends
@pytest.mark.parametrize(("key", "message", "signature"), VECTORS)
def test_rfc8032_vectors_verify(backend: str, key: str, message: str, signature: str) -> None:
    assert ed25519.verify(bytes.fromhex(key), bytes.fromhex(signature), bytes.fromhex(message), backend)


@backends
@pytest.mark.parametrize("part", ["key", "message", "signature R", "signature S"])
def test_one_flipped_bit_anywhere_fails(backend: str, part: str) -> None:
    key, message, signature = (bytes.fromhex(x) for x in VECTORS[1])
    if part == "key":
        key = flip(key, 5)
    elif part == "message":
        message = flip(message, 0)
    else:
        signature = flip(signature, 3 if part == "signature R" else 40)
    assert not ed25519.verify(key, signature, message, backend)


@backends
@pytest.mark.parametrize(("key_len", "sig_len"), [(31, 64), (33, 64), (32, 63), (32, 65), (0, 0)])
def test_wrong_lengths_are_invalid(backend: str, key_len: int, sig_len: int) -> None:
    key, message, signature = (bytes.fromhex(x) for x in VECTORS[1])
    assert not ed25519.verify((key * 2)[:key_len], (signature * 2)[:sig_len], message, backend)


@backends
def test_non_canonical_s_is_refused(backend: str) -> None:
    """S + L verifies the same equation; RFC 8032 requires refusing S >= L (no malleable signatures)."""
    key, message, signature = (bytes.fromhex(x) for x in VECTORS[1])
    s = int.from_bytes(signature[32:], "little")
    assert not ed25519.verify(key, signature[:32] + (s + L).to_bytes(32, "little"), message, backend)


@backends
@pytest.mark.parametrize("encoding", ["ff" * 32, (P + 3).to_bytes(32, "little").hex()])
def test_keys_that_are_not_points_are_invalid(backend: str, encoding: str) -> None:
    _, message, signature = (bytes.fromhex(x) for x in VECTORS[1])
    assert not ed25519.verify(bytes.fromhex(encoding), signature, message, backend)


def small_order_encodings() -> list[bytes]:
    """Every encoding (both sign bits, canonical and y + p where it fits in 255 bits) of the torsion points."""
    found = []
    for y in SMALL_ORDER_Y:
        for value in (y, y + P):
            if value < 2**255:
                found += [value.to_bytes(32, "little"), (value | 1 << 255).to_bytes(32, "little")]
    return found


@pytest.mark.parametrize("y", SMALL_ORDER_Y)
def test_the_small_order_list_is_the_torsion_subgroup(y: int) -> None:
    """Cross-check the constant with ecdsa's arithmetic: each listed y is a point P with 8P = identity."""
    point = VerifyingKey.from_string(y.to_bytes(32, "little"), curve=Ed25519).pubkey.point
    assert point * 8 == INFINITY


@backends
@pytest.mark.parametrize("key", small_order_encodings(), ids=lambda k: k.hex()[:8] + "…" + k.hex()[-2:])
def test_small_order_keys_are_refused_even_with_the_universal_forgery(backend: str, key: bytes) -> None:
    """With the identity key, R = identity and S = 0 verifies any message under both libraries' own checks."""
    assert ed25519.has_small_order(key)
    forgery = (1).to_bytes(32, "little") + bytes(32)
    assert not ed25519.verify(key, forgery, b"any message", backend)


def test_real_keys_are_not_small_order() -> None:
    assert not any(ed25519.has_small_order(bytes.fromhex(vector[0])) for vector in VECTORS)


def test_unknown_backend_is_a_programming_error() -> None:
    key, message, signature = (bytes.fromhex(x) for x in VECTORS[0])
    with pytest.raises(ValueError, match="unknown Ed25519 backend 'nacl'"):
        ed25519.verify(key, signature, message, "nacl")


def test_default_backend_is_cryptography_when_importable() -> None:
    assert ed25519.available_backend() == "cryptography"
    key, message, signature = (bytes.fromhex(x) for x in VECTORS[0])
    assert ed25519.verify(key, signature, message)
