"""Interoperability with the real minisign (Debian's /usr/bin/minisign, installed by scripts/install-test-tools):
its keys sign with us, our keys sign with it, and each side verifies the other's signatures."""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from netbundle.bundle import signing
from netbundle.errors import SignatureInvalidError
from netbundle.format import ed25519, minisign, trust

pytestmark = pytest.mark.integration
backends = pytest.mark.parametrize("backend", ed25519.BACKENDS)
LOW = {"opslimit": 32768, "memlimit": 8 << 20}
DATA = b'{"format": 1, "project": "sample-project", "version": "1.0.0"}\n'


@pytest.fixture(scope="module")
def tool() -> str:
    found = shutil.which("minisign")
    if found is None:
        pytest.fail("minisign is not installed: run scripts/install-test-tools")
    return found


def run(tool: str, *args: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool, *map(str, args)], check=False, input=stdin, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_bytes(DATA)
    return path


def minisign_keypair(tool: str, directory: Path, password: str | None = None) -> tuple[Path, Path]:
    secret, public = directory / "mk.key", directory / "mk.pub"
    if password is None:
        result = run(tool, "-G", "-W", "-p", public, "-s", secret, "-c", "minisign made")
    else:
        result = run(tool, "-G", "-p", public, "-s", secret, stdin=f"{password}\n{password}\n")
    assert result.returncode == 0, result.stderr
    return secret, public


def assert_minisign_accepts(tool: str, public: Path, data: Path, signature: Path, comment: str) -> None:
    result = run(tool, "-V", "-p", public, "-m", data, "-x", signature)
    assert result.returncode == 0, result.stderr + result.stdout
    assert f"Trusted comment: {comment}" in result.stdout


@backends
def test_an_unencrypted_minisign_key_signs_with_us(
    tool: str, tmp_path: Path, data: Path, backend: str
) -> None:
    secret_path, public_path = minisign_keypair(tool, tmp_path)
    key = signing.load_secret_key(secret_path)
    assert key.comment == "minisign made"
    signature = tmp_path / "ours.minisig"
    signature.write_bytes(signing.sign(DATA, key, trusted_comment="sample-project 1.0.0"))
    assert_minisign_accepts(tool, public_path, data, signature, "sample-project 1.0.0")
    policy = trust.load_trust(public_path)
    assert trust.verify_manifest(DATA, {"s.minisig": signature.read_bytes()}, policy, backend) == policy.keys


def test_a_password_protected_minisign_key_signs_with_us(tool: str, tmp_path: Path, data: Path) -> None:
    """The one test of minisign's own default scrypt cost (about 1 GiB, seconds): a key from `minisign -G`."""
    secret_path, public_path = minisign_keypair(tool, tmp_path, password="s3cret pass")
    text = secret_path.read_text()
    assert signing.is_encrypted(text)
    key = signing.parse_secret_key(text, password="s3cret pass", where=str(secret_path))
    signature = tmp_path / "ours.minisig"
    signature.write_bytes(signing.sign(DATA, key, trusted_comment="signed with a minisign key"))
    assert_minisign_accepts(tool, public_path, data, signature, "signed with a minisign key")
    assert minisign.parse_public_key(public_path.read_text()).key == key.public_key.key


@backends
def test_minisign_signatures_verify_with_us(tool: str, tmp_path: Path, data: Path, backend: str) -> None:
    secret_path, public_path = minisign_keypair(tool, tmp_path)
    sig_path = tmp_path / "theirs.minisig"
    result = run(tool, "-S", "-W", "-s", secret_path, "-m", data, "-x", sig_path, "-t", "by minisign")
    assert result.returncode == 0, result.stderr
    signature = minisign.parse_signature(sig_path.read_text())
    assert signature.algorithm == minisign.ALG_PREHASHED
    assert signature.trusted_comment == "by minisign"
    minisign.verify_signature(DATA, signature, minisign.parse_public_key(public_path.read_text()), backend)
    with pytest.raises(SignatureInvalidError):
        minisign.verify_signature(
            DATA + b"x", signature, minisign.parse_public_key(public_path.read_text()), backend
        )


@backends
def test_minisign_legacy_signatures_are_refused_unless_allowed(
    tool: str, tmp_path: Path, data: Path, backend: str
) -> None:
    secret_path, public_path = minisign_keypair(tool, tmp_path)
    sig_path = tmp_path / "legacy.minisig"
    assert run(tool, "-S", "-W", "-l", "-s", secret_path, "-m", data, "-x", sig_path).returncode == 0
    signature = minisign.parse_signature(sig_path.read_text())
    key = minisign.parse_public_key(public_path.read_text())
    with pytest.raises(SignatureInvalidError, match="legacy"):
        minisign.verify_signature(DATA, signature, key, backend)
    minisign.verify_signature(DATA, signature, key, backend, allow_legacy=True)
    # minisign -V -H refuses it the same way.
    assert run(tool, "-V", "-H", "-p", public_path, "-m", data, "-x", sig_path).returncode != 0


@pytest.mark.parametrize("password", [None, "pw"])
def test_our_keys_sign_with_minisign(tool: str, tmp_path: Path, data: Path, password: str | None) -> None:
    """Our keygen's files are minisign's: it signs with them (reading the password from stdin)."""
    secret_text, public_text = signing.generate_keypair(comment="ours", password=password, **LOW)
    secret_path, public_path = tmp_path / "ours.key", tmp_path / "ours.pub"
    secret_path.write_bytes(secret_text)
    public_path.write_bytes(public_text)
    sig_path = tmp_path / "m.minisig"
    args = ["-S", "-s", secret_path, "-m", data, "-x", sig_path, "-t", "minisign with our key"]
    result = run(tool, *args, stdin=f"{password}\n") if password else run(tool, "-W", *args)
    assert result.returncode == 0, result.stderr
    assert_minisign_accepts(tool, public_path, data, sig_path, "minisign with our key")
    for backend in ed25519.BACKENDS:
        minisign.verify_signature(
            DATA,
            minisign.parse_signature(sig_path.read_text()),
            minisign.parse_public_key(public_text.decode()),
            backend,
        )


def test_minisign_refuses_what_we_refuse(tool: str, tmp_path: Path, data: Path) -> None:
    """A changed trusted comment or changed data fails `minisign -V` too."""
    key = signing.parse_secret_key(
        signing.generate_keypair(comment="", password=None)[0].decode(), password=None
    )
    public_path = tmp_path / "k.pub"
    public_path.write_text(minisign.render_public_key(key.public_key))
    good = signing.sign(DATA, key, trusted_comment="original").decode()
    (tmp_path / "comment.minisig").write_text(
        good.replace("trusted comment: original", "trusted comment: changed")
    )
    (tmp_path / "good.minisig").write_text(good)
    (tmp_path / "other").write_bytes(DATA + b" ")
    assert run(tool, "-V", "-p", public_path, "-m", data, "-x", tmp_path / "comment.minisig").returncode != 0
    assert (
        run(
            tool, "-V", "-p", public_path, "-m", tmp_path / "other", "-x", tmp_path / "good.minisig"
        ).returncode
        != 0
    )


def test_an_endorsement_is_a_plain_minisign_signature(tool: str, tmp_path: Path) -> None:
    """Anyone can check an `endorsed` line with stock minisign: decode it, verify it over the endorsement text."""
    old = signing.parse_secret_key(
        signing.generate_keypair(comment="", password=None)[0].decode(), password=None
    )
    new = signing.parse_secret_key(
        signing.generate_keypair(comment="", password=None)[0].decode(), password=None
    )
    line = signing.endorse(new.public_key, old, name="new", endorser_name="old")
    (tmp_path / "endorsement.minisig").write_bytes(base64.b64decode(line.split()[-1]))
    (tmp_path / "message").write_bytes(trust.endorsement_message(new.public_key))
    (tmp_path / "old.pub").write_text(minisign.render_public_key(old.public_key))
    assert_minisign_accepts(
        tool,
        tmp_path / "old.pub",
        tmp_path / "message",
        tmp_path / "endorsement.minisig",
        f"netbundle endorsement of {new.key_id_hex} (new) by {old.key_id_hex}",
    )


@pytest.mark.parametrize(
    ("opslimit", "memlimit"),
    [
        (32768, 8 << 20),
        (0, 8 << 20),
        (524288, 16 << 20),
        (100000, 16 << 20),
        (1 << 20, 1 << 20),
        (1 << 22, 2 << 20),
    ],
)
def test_scrypt_parameters_derive_what_libsodium_derives(opslimit: int, memlimit: int) -> None:
    """Our (N, r, p) fed to OpenSSL's scrypt give the bytes libsodium's opslimit/memlimit API gives (minisign's)."""
    name = ctypes.util.find_library("sodium")
    if name is None:
        pytest.fail("libsodium is not installed (minisign depends on it): run scripts/install-test-tools")
    sodium = ctypes.CDLL(name)
    assert sodium.sodium_init() >= 0
    derive = sodium.crypto_pwhash_scryptsalsa208sha256
    derive.argtypes = [ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p, ctypes.c_ulonglong, ctypes.c_char_p,
                       ctypes.c_ulonglong, ctypes.c_size_t]  # fmt: skip
    out = ctypes.create_string_buffer(104)
    assert derive(out, 104, b"password", 8, b"s" * 32, opslimit, memlimit) == 0
    n, r, p = signing.scrypt_parameters(opslimit, memlimit)
    ours = hashlib.scrypt(b"password", salt=b"s" * 32, n=n, r=r, p=p, maxmem=2**31 - 1, dklen=104)
    assert ours == out.raw
