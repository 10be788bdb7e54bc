"""Ed25519 signature checks with the best library the host has.

The installer runs on hosts we do not control. ``cryptography`` (OpenSSL) is fast and is used when the host's
Python has it; otherwise the pure-Python ``ecdsa`` package shipped inside ``netbundle.pyz`` does the same check
(RFC 8032 verification, a few milliseconds per signature). Both answer the same question with the same result;
the tests run every signature case through both.

Public keys of small order (the eight torsion points, in any encoding) are refused before either backend runs:
with such a key the forged signature R = identity, S = 0 verifies for every message under both libraries, and
the two disagree on other forgeries (OpenSSL checks ``[S]B = R + [k]A``, ecdsa the cofactored
``[8][S]B = [8]R + [8][k]A``). What remains different between them is reachable only by the key's holder
(a signature whose R has a torsion component), never by a forger.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

#: The backends, fastest first.
BACKENDS = ("cryptography", "ecdsa")

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64

_P = 2**255 - 19
# The y coordinate of an order-8 point (libsodium's blocklist in crypto_core/ed25519/ref10/ed25519_ref10.c);
# the torsion points are exactly those with y in {0, 1, -1, Y8, -Y8}.
_Y8 = 2707385501144840649318225287225658788936804267575313519463743609750303402022
_SMALL_ORDER_Y = frozenset((0, 1, _P - 1, _Y8, _P - _Y8))


def available_backend() -> str:
    """The backend :func:`verify` uses by default: ``cryptography`` when importable, else ``ecdsa``."""
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: F401
    except ImportError:
        return "ecdsa"
    return "cryptography"


def verify(public_key: bytes, signature: bytes, message: bytes, backend: Optional[str] = None) -> bool:
    """Whether ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``.

    :param backend: ``"cryptography"``, ``"ecdsa"``, or None for :func:`available_backend`.
    Malformed keys and signatures (wrong length, not a curve point, a key of small order) are simply invalid:
    the answer is False.
    """
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    if has_small_order(public_key):
        return False
    chosen = backend or available_backend()
    if chosen == "cryptography":
        return _verify_cryptography(public_key, signature, message)
    if chosen == "ecdsa":
        return _verify_ecdsa(public_key, signature, message)
    raise ValueError("unknown Ed25519 backend {!r}; known: {}".format(chosen, ", ".join(BACKENDS)))


def has_small_order(public_key: bytes) -> bool:
    """Whether a 32-byte Ed25519 public key encodes a point of small order (a key no one holds a secret for).

    >>> has_small_order(bytes([1]) + bytes(31))
    True
    """
    y = int.from_bytes(public_key, "little") & ((1 << 255) - 1)
    return y % _P in _SMALL_ORDER_Y


def _verify_cryptography(public_key: bytes, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _verify_ecdsa(public_key: bytes, signature: bytes, message: bytes) -> bool:
    from ecdsa import Ed25519, VerifyingKey
    from ecdsa.errors import MalformedPointError
    from ecdsa.keys import BadSignatureError

    try:
        key = VerifyingKey.from_string(public_key, curve=Ed25519)
        return bool(key.verify(signature, message))
    except (BadSignatureError, MalformedPointError, ValueError, AssertionError):
        return False
