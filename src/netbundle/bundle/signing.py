"""The builder's half of signatures: minisign secret keys (plain or scrypt-encrypted), key generation, signing.

Hand-written to match minisign byte for byte (``src/minisign.c``: ``generate``, ``encrypt_key``,
``decrypt_key``, ``sign``), because no Python library writes minisign's key and signature files. The Ed25519
arithmetic is ``cryptography``'s; scrypt is the standard library's (OpenSSL).

Secret key file: ``untrusted comment: …`` then base64 of 158 bytes::

    "Ed" | kdf ("Sc" scrypt, or two zero bytes: unencrypted) | "B2" (BLAKE2b checksum)
    | salt (32) | opslimit (u64 LE) | memlimit (u64 LE)
    | key id (8) | Ed25519 secret: seed (32) + public key (32) | checksum (32)

The last 104 bytes are XORed with scrypt(password, salt) when encrypted; the checksum is
BLAKE2b-256("Ed" | key id | secret), so a wrong password is detected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from netbundle.errors import InputError, UsageError
from netbundle.format import minisign, trust
from netbundle.format.layout import SIGNATURE_DIR, SIGNATURE_SUFFIX
from netbundle.format.minisign import PublicKey, Signature

KDF_SCRYPT = b"Sc"
KDF_NONE = b"\x00\x00"
CHECKSUM_BLAKE2B = b"B2"
#: minisign's defaults (libsodium's scryptsalsa208sha256 OPSLIMIT/MEMLIMIT_SENSITIVE): N=2^20, r=8, p=1, 1 GiB.
DEFAULT_OPSLIMIT = 33_554_432
DEFAULT_MEMLIMIT = 1_073_741_824
DEFAULT_PASSWORD_ENV = "NETBUNDLE_SIGN_KEY_PASSWORD"  # noqa: S105 (a variable's name, not a password)
DEFAULT_SIGNATURE_COMMENT = "signature from netbundle secret key"
_SECRET_KEY_STRUCT = 158
_ENCRYPTED_PART = 104  # key id + secret + checksum
_HEADER = struct.Struct("<2s2s2s32sQQ")
# hashlib.scrypt's maxmem is a C int.
_MAXMEM_LIMIT = 2**31 - 1


@dataclass(frozen=True, kw_only=True, slots=True)
class SecretKey:
    """A decrypted minisign secret key: ``secret`` is libsodium's 64-byte form (seed followed by public key)."""

    key_id: bytes
    secret: bytes = field(repr=False)
    comment: str = ""

    @property
    def public_key(self) -> PublicKey:
        """The matching public key (minisign's .pub content)."""
        return PublicKey(key_id=self.key_id, key=self.secret[32:])

    @property
    def key_id_hex(self) -> str:
        """The key id as minisign prints it."""
        return minisign.key_id_hex(self.key_id)


def scrypt_parameters(opslimit: int, memlimit: int) -> tuple[int, int, int]:
    """scrypt's (N, r, p) for minisign's stored opslimit/memlimit: libsodium's ``pickparams``
    (crypto_pwhash/scryptsalsa208sha256/pwhash_scryptsalsa208sha256.c), step for step.

    >>> scrypt_parameters(DEFAULT_OPSLIMIT, DEFAULT_MEMLIMIT)
    (1048576, 8, 1)
    """
    opslimit = max(opslimit, 32768)
    r = 8
    cpu_bound = opslimit < memlimit // 32
    max_n = opslimit // (r * 4) if cpu_bound else memlimit // (r * 128)
    n_log2 = 1
    while n_log2 < 63 and (1 << n_log2) <= max_n // 2:
        n_log2 += 1
    if cpu_bound:
        return 1 << n_log2, r, 1
    max_rp = min((opslimit // 4) // (1 << n_log2), 0x3FFFFFFF)
    return 1 << n_log2, r, max_rp // r


def _keystream(password: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    n, r, p = scrypt_parameters(opslimit, memlimit)
    # OpenSSL needs 128*r*(N+p+2) bytes; minisign's default key takes just over 1 GiB.
    needed = 128 * r * (n + p + 2) + (1 << 20)
    if p < 1 or needed > _MAXMEM_LIMIT:
        raise InputError(f"the secret key's scrypt parameters (N={n}, r={r}, p={p}) are not supported")
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=needed, dklen=_ENCRYPTED_PART
    )


def _checksum(key_id: bytes, secret: bytes) -> bytes:
    return hashlib.blake2b(minisign.ALG_LEGACY + key_id + secret, digest_size=32).digest()


def _xor(data: bytes, stream: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def is_encrypted(text: str, where: str = "secret key") -> bool:
    """Whether a minisign secret key file needs a password (kdf ``Sc``)."""
    return _decode_secret(text, where)[1] == KDF_SCRYPT


def _decode_secret(text: str, where: str) -> tuple[str, bytes, bytes, bytes, int, int, bytes]:
    """(comment, kdf, checksum algorithm, salt, opslimit, memlimit, encrypted part) of a secret key file."""
    lines = [line.rstrip("\r") for line in text.strip().split("\n")]
    if len(lines) != 2 or not lines[0].startswith(minisign.UNTRUSTED_PREFIX):
        raise InputError(f"{where} is not a minisign secret key (expected a comment line and a base64 line)")
    try:
        raw = base64.b64decode(lines[1].strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _SECRET_KEY_STRUCT:
        raise InputError(f"{where} is not a minisign secret key (bad base64 key line)")
    alg, kdf, chk, salt, opslimit, memlimit = _HEADER.unpack_from(raw)
    if alg != minisign.ALG_LEGACY or chk != CHECKSUM_BLAKE2B or kdf not in (KDF_SCRYPT, KDF_NONE):
        raise InputError(f"{where} uses an unsupported algorithm ({alg!r}, {kdf!r}, {chk!r})")
    comment = lines[0][len(minisign.UNTRUSTED_PREFIX) :]
    return comment, kdf, chk, salt, opslimit, memlimit, raw[_HEADER.size :]


def parse_secret_key(text: str, *, password: str | None, where: str = "secret key") -> SecretKey:
    """Read a minisign secret key file (``minisign -G``, with or without ``-W``, or ``netbundle keygen``).

    :param password: needed when the key is encrypted; ignored otherwise.
    :raises InputError: malformed, encrypted without a password, wrong password or corrupt key.
    """
    comment, kdf, _chk, salt, opslimit, memlimit, part = _decode_secret(text, where)
    if kdf == KDF_SCRYPT:
        if password is None:
            raise InputError(
                f"{where} is encrypted and no password was given",
                hint=f"set {DEFAULT_PASSWORD_ENV} (or the variable named by --password-env)",
            )
        part = _xor(part, _keystream(password, salt, opslimit, memlimit))
    key_id, secret, checksum = part[:8], part[8:72], part[72:]
    # minisign leaves the checksum of an unencrypted key zero and does not check it; check it when present.
    if (kdf == KDF_SCRYPT or checksum != bytes(32)) and checksum != _checksum(key_id, secret):
        raise InputError(f"{where}: wrong password or corrupt key (the checksum does not match)")
    if _public_from_seed(secret[:32]) != secret[32:]:
        raise InputError(f"{where}: corrupt key (its public half does not match its seed)")
    return SecretKey(key_id=key_id, secret=secret, comment=comment)


def load_secret_key(path: Path | str, *, password: str | None = None) -> SecretKey:
    """Read a minisign secret key file from ``path`` (see :func:`parse_secret_key`)."""
    try:
        with open(path, encoding="utf-8") as handle:  # noqa: PTH123 (path may be a str)
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read secret key {path}: {exc}") from None
    return parse_secret_key(text, password=password, where=str(path))


def render_secret_key(
    key: SecretKey,
    *,
    password: str | None,
    opslimit: int = DEFAULT_OPSLIMIT,
    memlimit: int = DEFAULT_MEMLIMIT,
) -> str:
    """The secret key file text, encrypted with scrypt when ``password`` is given (as ``minisign -G``)."""
    checksum = _checksum(key.key_id, key.secret)
    part = key.key_id + key.secret + checksum
    if password is None:
        header = _HEADER.pack(minisign.ALG_LEGACY, KDF_NONE, CHECKSUM_BLAKE2B, bytes(32), 0, 0)
    else:
        salt = os.urandom(32)
        header = _HEADER.pack(minisign.ALG_LEGACY, KDF_SCRYPT, CHECKSUM_BLAKE2B, salt, opslimit, memlimit)
        part = _xor(part, _keystream(password, salt, opslimit, memlimit))
    comment = key.comment or "netbundle secret key " + key.key_id_hex
    body = base64.b64encode(header + part).decode("ascii")
    return f"{minisign.UNTRUSTED_PREFIX}{comment}\n{body}\n"


def generate_keypair(
    *,
    comment: str,
    password: str | None,
    opslimit: int = DEFAULT_OPSLIMIT,
    memlimit: int = DEFAULT_MEMLIMIT,
) -> tuple[bytes, bytes]:
    """A new key pair as (secret key file bytes, public key file bytes), in minisign's formats.

    :param comment: the secret key file's untrusted comment (the .pub gets minisign's own comment).
    :param password: encrypt the secret key with scrypt; None leaves it unencrypted (``minisign -W``).
    :param opslimit: scrypt cost as minisign stores it; lower it (e.g. 32768 with memlimit 8 MiB) only in tests.
    """
    _one_line(comment, "comment")
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    secret = seed + private.public_key().public_bytes_raw()
    key = SecretKey(key_id=os.urandom(minisign.KEY_ID_BYTES), secret=secret, comment=comment)
    secret_text = render_secret_key(key, password=password, opslimit=opslimit, memlimit=memlimit)
    public_text = minisign.render_public_key(key.public_key)
    return secret_text.encode("utf-8"), public_text.encode("utf-8")


def keypair_paths(prefix: Path | str) -> tuple[Path, Path]:
    """Where :func:`write_keypair` puts a key pair: ``PREFIX.key`` and ``PREFIX.pub``."""
    return Path(f"{prefix}.key"), Path(f"{prefix}.pub")


def write_keypair(
    prefix: Path | str, secret_text: bytes, public_text: bytes, *, force: bool
) -> tuple[Path, Path]:
    """Write ``PREFIX.key`` (mode 0600) and ``PREFIX.pub`` (0644), each to a temporary name then renamed.

    :raises InputError: a file exists and ``force`` is false, or the directory is not writable.
    """
    paths = keypair_paths(prefix)
    existing = [str(path) for path in paths if path.exists()]
    if existing and not force:
        raise InputError(f"{existing[0]} already exists", hint="use --force to overwrite")
    temps: list[Path] = []
    try:
        for path, data, mode in zip(paths, (secret_text, public_text), (0o600, 0o644), strict=True):
            temps.append(_write_temp(path, data, mode))
        for temp, path in zip(temps, paths, strict=True):
            temp.replace(path)
    except OSError as exc:
        raise InputError(f"cannot write the key pair {prefix}.key/.pub: {exc}") from None
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)
    return paths


def _write_temp(path: Path, data: bytes, mode: int) -> Path:
    """``data`` in a new file beside ``path`` (created 0600 by mkstemp, then given ``mode``)."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.chmod(name, mode)  # noqa: PTH101 (a str from mkstemp)
    return Path(name)


def sign(
    data: bytes,
    key: SecretKey,
    *,
    trusted_comment: str,
    untrusted_comment: str = DEFAULT_SIGNATURE_COMMENT,
) -> bytes:
    """A minisign signature file (prehashed ``ED``, with the global signature over the trusted comment).

    ``minisign -V -p KEY.pub -m FILE -x SIG`` accepts it and prints the trusted comment.
    """
    _one_line(trusted_comment, "trusted comment")
    _one_line(untrusted_comment, "untrusted comment")
    if len(trusted_comment.encode("utf-8")) > minisign.TRUSTED_COMMENT_MAX_BYTES:
        raise UsageError(f"the trusted comment is longer than {minisign.TRUSTED_COMMENT_MAX_BYTES} bytes")
    private = Ed25519PrivateKey.from_private_bytes(key.secret[:32])
    signature = private.sign(minisign.signed_message(data, minisign.ALG_PREHASHED))
    global_signature = private.sign(minisign.global_message(signature, trusted_comment))
    parsed = Signature(
        algorithm=minisign.ALG_PREHASHED,
        key_id=key.key_id,
        signature=signature,
        untrusted_comment=untrusted_comment,
        trusted_comment=trusted_comment,
        global_signature=global_signature,
    )
    return minisign.render_signature(parsed).encode("utf-8")


def signature_member_name(key: SecretKey | PublicKey) -> str:
    """Where a key's signature lives in a bundle: ``netbundle/signatures/<KEYID>.minisig``."""
    return f"{SIGNATURE_DIR}{minisign.key_id_hex(key.key_id)}{SIGNATURE_SUFFIX}"


def endorse(new_key: PublicKey, endorser: SecretKey, *, name: str, endorser_name: str) -> str:
    """The trust-file line ``endorsed NAME KEY by ENDORSER …`` vouching for ``new_key`` with ``endorser``."""
    comment = f"netbundle endorsement of {new_key.key_id_hex} ({name}) by {endorser.key_id_hex}"
    signature = sign(trust.endorsement_message(new_key), endorser, trusted_comment=comment)
    return trust.render_endorsement(name, new_key, endorser_name, signature.decode("utf-8"))


def password_from_env(var: str) -> str | None:
    """The secret key password from environment variable ``var`` (None when unset; an empty value counts)."""
    return os.environ.get(var)


def _public_from_seed(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def _one_line(text: str, what: str) -> None:
    if "\n" in text or "\r" in text:
        raise UsageError(f"the {what} must be one line")
