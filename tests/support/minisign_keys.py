"""Deterministic minisign keys and signatures for signature tests, plus vectors made by the real minisign 0.11.

The ``MINISIGN_*`` constants were written by ``minisign -G -W`` and ``minisign -S -W [-l]`` (a throwaway test key):
they pin our parsers and verifier to minisign's own bytes without running the tool.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from netbundle.bundle.signing import SecretKey, sign
from netbundle.format import minisign
from netbundle.format.minisign import PublicKey, Signature

MINISIGN_PUB = (
    "untrusted comment: minisign public key 2AC7DEB5D813D351\n"
    "RWRR0xPYtd7HKiRjgnX4SvIAecQQ//UUR3YpueTdmescVsCAtKvGWvuj\n"
)
MINISIGN_KEY_ID_HEX = "2AC7DEB5D813D351"
MINISIGN_SECRET_UNENCRYPTED = (
    "untrusted comment: my comment\n"
    "RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAUdMT2LXexypm2M8Ub59GaSTJDt3fPNNr5pRl"
    "PtdtN2e8/L7Fs6f8KSRjgnX4SvIAecQQ//UUR3YpueTdmescVsCAtKvGWvujAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
)
MINISIGN_DATA = b"netbundle test vector\n"
MINISIGN_SIG = (
    "untrusted comment: untrusted vector comment\n"
    "RURR0xPYtd7HKsSpvaCseGwLvb+ItxafCK2pfaeiSj480ye3aLMVUhXiSYgL19vl0vDE5LUHSsV7Qm8MB+R7La6CMSrAzMqZpgU=\n"
    "trusted comment: trusted vector comment\n"
    "dtBzc6hr1B3u2XhxIJyPzPDDQIeQ0vq18g21VhjFK63LY/vGJXnB1fylnh9DQHhMiUzLOid//trSkVeF9QwTDQ==\n"
)
MINISIGN_LEGACY_SIG = (
    "untrusted comment: signature from minisign secret key\n"
    "RWRR0xPYtd7HKpMWsUJBckKOWV1yF1ryeKhpTeyxsACnz05lGcTRP8vAXV+5pW45r89pZ9z3HSGHjFb/m+vxrTIbicVMNZErWgc=\n"
    "trusted comment: legacy comment\n"
    "mm659LmEhDOJUE/6Iu+7QLFRsTwEet77NgTMEiQ1E7lm+yawJNIFijWx7+cukyAxx6C9SMmLjcsEEzB6ROZADA==\n"
)


def fixed_key(n: int, comment: str = "") -> SecretKey:
    """A deterministic secret key (seed and key id derived from ``n``): fast, and stable across runs."""
    seed = hashlib.sha256(b"netbundle test key %d" % n).digest()
    private = Ed25519PrivateKey.from_private_bytes(seed)
    key_id = hashlib.sha256(b"key id %d" % n).digest()[: minisign.KEY_ID_BYTES]
    return SecretKey(key_id=key_id, secret=seed + private.public_key().public_bytes_raw(), comment=comment)


def public(key: SecretKey, name: str = "") -> PublicKey:
    """The public key of ``key`` (``name`` as its comment, as a trust file sets it)."""
    return PublicKey(key_id=key.key_id, key=key.secret[32:], comment=name)


def signature_bytes(data: bytes, key: SecretKey, trusted_comment: str = "bundle test") -> bytes:
    """A prehashed minisign signature file over ``data``."""
    return sign(data, key, trusted_comment=trusted_comment)


def legacy_signature(data: bytes, key: SecretKey, trusted_comment: str = "legacy") -> bytes:
    """A legacy (non-prehashed ``Ed``) minisign signature file, as ``minisign -S -l`` writes."""
    private = Ed25519PrivateKey.from_private_bytes(key.secret[:32])
    raw = private.sign(data)
    parsed = Signature(
        algorithm=minisign.ALG_LEGACY,
        key_id=key.key_id,
        signature=raw,
        untrusted_comment="legacy",
        trusted_comment=trusted_comment,
        global_signature=private.sign(minisign.global_message(raw, trusted_comment)),
    )
    return minisign.render_signature(parsed).encode()


def flip_base64_line(text: str, line: int, byte: int) -> str:
    """``text`` with one bit flipped in byte ``byte`` of the base64 content of line ``line`` (0-based)."""
    lines = text.split("\n")
    raw = bytearray(base64.b64decode(lines[line]))
    raw[byte] ^= 0x01
    lines[line] = base64.b64encode(bytes(raw)).decode()
    return "\n".join(lines)
