"""Ed25519 signature checks with the best library the host has.

The installer runs on hosts we do not control. ``cryptography`` (OpenSSL) is fast and is used when the host's
Python has it; otherwise the pure-Python ``ecdsa`` package shipped inside ``netbundle.pyz`` does the same check
(RFC 8032 verification, a few milliseconds per signature). Both answer the same question with the same result;
the tests run every signature case through both.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Optional

#: The backends, fastest first.
BACKENDS = ("cryptography", "ecdsa")

PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64


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
    Malformed keys and signatures (wrong length, not a curve point) are simply invalid: the answer is False.
    """
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != SIGNATURE_BYTES:
        return False
    chosen = backend or available_backend()
    if chosen == "cryptography":
        return _verify_cryptography(public_key, signature, message)
    if chosen == "ecdsa":
        return _verify_ecdsa(public_key, signature, message)
    raise ValueError("unknown Ed25519 backend {!r}; known: {}".format(chosen, ", ".join(BACKENDS)))


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
