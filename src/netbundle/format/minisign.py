"""minisign's public-key and signature formats, and signature verification exactly as ``minisign -V`` does it.

Hand-written because no library the runtime may ship reads these formats; the layout follows minisign's
``src/minisign.h`` (``PubkeyStruct``, ``SigStruct``) and the checks follow ``verify()`` in ``src/minisign.c``:

- public key file: ``untrusted comment: …`` then base64(``"Ed"`` ‖ key id (8 bytes) ‖ Ed25519 key (32 bytes));
- signature file: ``untrusted comment: …``, base64(algorithm ‖ key id ‖ signature (64 bytes)),
  ``trusted comment: …``, base64(global signature (64 bytes));
- algorithm ``"ED"`` signs BLAKE2b-512(data) (minisign's default since 0.10), legacy ``"Ed"`` signs the data;
  netbundle signs with ``ED`` only and refuses ``Ed`` unless asked (as ``minisign -V -H`` does): a legacy
  signature over 64 bytes could otherwise pass for a prehashed one, and nothing netbundle verifies was ever
  signed the legacy way;
- the global signature signs signature ‖ trusted comment, so the trusted comment cannot be changed.

The key id is 8 random bytes; minisign prints it as a little-endian 64-bit number in uppercase hex.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from ..errors import InputError, SignatureInvalidError
from . import ed25519

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional

ALG_LEGACY = b"Ed"
ALG_PREHASHED = b"ED"
KEY_ID_BYTES = 8
UNTRUSTED_PREFIX = "untrusted comment: "
TRUSTED_PREFIX = "trusted comment: "
#: minisign refuses longer trusted comments (TRUSTEDCOMMENTMAXBYTES 8192, minus its prefix and the line end).
TRUSTED_COMMENT_MAX_BYTES = 8192 - len(TRUSTED_PREFIX) - 2
_PUBLIC_KEY_STRUCT = 2 + KEY_ID_BYTES + ed25519.PUBLIC_KEY_BYTES
_SIGNATURE_STRUCT = 2 + KEY_ID_BYTES + ed25519.SIGNATURE_BYTES


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key with minisign's 8-byte key id; ``comment`` is the untrusted comment of its file
    (or the key's name in a trust file), ``endorsed_by`` the endorser's key id for a key added by endorsement."""

    key_id: bytes
    key: bytes
    comment: str = ""
    #: In a trust policy, the key id of the key that endorsed this one (``endorsed`` line); empty otherwise.
    endorsed_by: bytes = b""
    #: With ``endorsed_by``: the endorsement as the trust file carries it (base64 of the minisign signature file),
    #: kept so that a policy written out again (the keys embedded in a pyz) still says who vouched for the key.
    endorsement: str = ""

    @property
    def key_id_hex(self) -> str:
        """The key id as minisign prints it (``minisign public key 3940883FCCF446BC``)."""
        return key_id_hex(self.key_id)

    def to_base64(self) -> str:
        """The key line of the .pub file (what ``minisign -P`` takes)."""
        return base64.b64encode(ALG_LEGACY + self.key_id + self.key).decode("ascii")


@dataclass(frozen=True)
class Signature:
    """A parsed .minisig file. ``signature`` signs the data (or its BLAKE2b-512 hash for ``ED``);
    ``global_signature`` signs ``signature`` followed by the trusted comment's UTF-8 bytes."""

    algorithm: bytes
    key_id: bytes
    signature: bytes
    untrusted_comment: str
    trusted_comment: str
    global_signature: bytes

    @property
    def key_id_hex(self) -> str:
        """The signer's key id as minisign prints it."""
        return key_id_hex(self.key_id)


def key_id_hex(key_id: bytes) -> str:
    """minisign's spelling of a key id: the 8 bytes read as a little-endian integer, 16 uppercase hex digits.

    >>> key_id_hex(bytes.fromhex("bc46f4cc3f884039"))
    '3940883FCCF446BC'
    """
    return key_id[::-1].hex().upper()


def parse_public_key(text: str, where: str = "public key") -> PublicKey:
    """Read a minisign .pub file (comment line + key line) or a bare key line (as given to ``minisign -P``).

    :param where: names the file in error messages.
    :raises InputError: the text is not a minisign Ed25519 public key.
    """
    lines = _content_lines(text)
    comment = ""
    if len(lines) == 2 and lines[0].startswith(UNTRUSTED_PREFIX):
        comment = lines[0][len(UNTRUSTED_PREFIX) :]
        lines = lines[1:]
    if len(lines) != 1:
        raise InputError(
            "{} is not a minisign public key (expected an 'untrusted comment:' line and a base64 line)".format(
                where
            )
        )
    raw = _b64(lines[0], _PUBLIC_KEY_STRUCT)
    if raw is None or raw[:2] != ALG_LEGACY:
        raise InputError("{} is not a minisign Ed25519 public key (bad base64 key line)".format(where))
    if ed25519.has_small_order(raw[2 + KEY_ID_BYTES :]):
        raise InputError("{} is not a usable Ed25519 public key (a point of small order)".format(where))
    return PublicKey(key_id=raw[2 : 2 + KEY_ID_BYTES], key=raw[2 + KEY_ID_BYTES :], comment=comment)


def render_public_key(key: PublicKey) -> str:
    """The .pub file text, as ``minisign -G`` writes it."""
    comment = key.comment or "minisign public key {}".format(key.key_id_hex)
    return "{}{}\n{}\n".format(UNTRUSTED_PREFIX, comment, key.to_base64())


def parse_signature(text: str, where: str = "signature") -> Signature:
    """Read a .minisig file.

    :raises SignatureInvalidError: the text is not a well-formed minisign signature (naming ``where``).
    """
    lines = _content_lines(text)
    if (
        len(lines) != 4
        or not lines[0].startswith(UNTRUSTED_PREFIX)
        or not lines[2].startswith(TRUSTED_PREFIX)
    ):
        raise SignatureInvalidError(
            "{} is not a minisign signature: expected 4 lines (untrusted comment, signature, trusted comment, "
            "global signature)".format(where)
        )
    raw = _b64(lines[1], _SIGNATURE_STRUCT)
    global_signature = _b64(lines[3], ed25519.SIGNATURE_BYTES)
    if raw is None or global_signature is None:
        raise SignatureInvalidError("{} is not a minisign signature: bad base64 signature line".format(where))
    if raw[:2] not in (ALG_PREHASHED, ALG_LEGACY):
        raise SignatureInvalidError(
            "{} uses an unsupported signature algorithm {!r} (expected ED or Ed)".format(where, raw[:2])
        )
    return Signature(
        algorithm=raw[:2],
        key_id=raw[2 : 2 + KEY_ID_BYTES],
        signature=raw[2 + KEY_ID_BYTES :],
        untrusted_comment=lines[0][len(UNTRUSTED_PREFIX) :],
        trusted_comment=lines[2][len(TRUSTED_PREFIX) :],
        global_signature=global_signature,
    )


def render_signature(signature: Signature) -> str:
    """The .minisig file text, as ``minisign -S`` writes it."""
    raw = signature.algorithm + signature.key_id + signature.signature
    return "{}{}\n{}\n{}{}\n{}\n".format(
        UNTRUSTED_PREFIX,
        signature.untrusted_comment,
        base64.b64encode(raw).decode("ascii"),
        TRUSTED_PREFIX,
        signature.trusted_comment,
        base64.b64encode(signature.global_signature).decode("ascii"),
    )


def signed_message(data: bytes, algorithm: bytes) -> bytes:
    """What the Ed25519 signature covers: BLAKE2b-512(data) for ``ED``, the data itself for legacy ``Ed``."""
    if algorithm == ALG_PREHASHED:
        return hashlib.blake2b(data, digest_size=64).digest()
    return data


def global_message(signature: bytes, trusted_comment: str) -> bytes:
    """What the global signature covers: the 64 signature bytes followed by the trusted comment."""
    return signature + trusted_comment.encode("utf-8")


def verify_signature(
    data: bytes,
    signature: Signature,
    key: PublicKey,
    backend: Optional[str] = None,
    allow_legacy: bool = False,
) -> None:
    """Check ``signature`` over ``data`` with ``key`` the way ``minisign -V -H`` does (prehashed algorithm, key id,
    signature, global signature over the trusted comment).

    :param backend: the Ed25519 backend (see :mod:`netbundle.format.ed25519`); None picks the best available.
    :param allow_legacy: also accept the legacy non-prehashed ``Ed`` algorithm (plain ``minisign -V``).
    :raises SignatureInvalidError: any check fails; the message names the key id.
    """
    if signature.algorithm != ALG_PREHASHED and not allow_legacy:
        raise SignatureInvalidError(
            "the signature by key {} uses minisign's legacy non-prehashed format, which netbundle does not "
            "accept".format(signature.key_id_hex),
            hint="sign with netbundle, or with minisign -S without -l",
        )
    if signature.key_id != key.key_id:
        raise SignatureInvalidError(
            "the signature is by key {}, not by the given key {}".format(signature.key_id_hex, key.key_id_hex)
        )
    message = signed_message(data, signature.algorithm)
    if not ed25519.verify(key.key, signature.signature, message, backend):
        raise SignatureInvalidError(
            "signature by key {} does not verify: the signed data or the signature was changed".format(
                key.key_id_hex
            )
        )
    comment = global_message(signature.signature, signature.trusted_comment)
    if not ed25519.verify(key.key, signature.global_signature, comment, backend):
        raise SignatureInvalidError(
            "the trusted comment of the signature by key {} does not verify: it was changed".format(
                key.key_id_hex
            )
        )


def _content_lines(text: str) -> List[str]:
    """The lines of a key or signature file: CR/LF line ends removed, trailing blank lines ignored."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _b64(line: str, size: int) -> Optional[bytes]:
    """Strict base64 of exactly ``size`` bytes, or None."""
    try:
        raw = base64.b64decode(line.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    return raw if len(raw) == size else None
