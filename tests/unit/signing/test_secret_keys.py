"""minisign secret keys (plain and scrypt-encrypted), key generation, and writing a key pair."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from tests.support.minisign_keys import (
    MINISIGN_KEY_ID_HEX,
    MINISIGN_PUB,
    MINISIGN_SECRET_UNENCRYPTED,
    fixed_key,
)

from netbundle.bundle import signing
from netbundle.errors import InputError, UsageError
from netbundle.format import minisign

#: Test-only scrypt cost (N=1024): minisign's default takes about 1 GiB and seconds.
LOW = {"opslimit": 32768, "memlimit": 8 << 20}


@pytest.mark.parametrize(
    ("opslimit", "memlimit", "expected"),
    [
        (signing.DEFAULT_OPSLIMIT, signing.DEFAULT_MEMLIMIT, (1 << 20, 8, 1)),
        (32768, 8 << 20, (1024, 8, 1)),
        (0, 8 << 20, (1024, 8, 1)),  # opslimit is raised to libsodium's minimum 32768
        (524288, 16 << 20, (16384, 8, 1)),
        (100000, 16 << 20, (2048, 8, 1)),
        (1 << 20, 1 << 20, (1024, 8, 32)),  # memory-bound: p grows with the remaining work
        (1 << 24, 4 << 20, (4096, 8, 128)),
        (0, 0, (2, 8, 512)),
    ],
)
def test_scrypt_parameters_follow_libsodium_pickparams(
    opslimit: int, memlimit: int, expected: tuple[int, int, int]
) -> None:
    """Expected values from libsodium 1.0.18's crypto_pwhash_scryptsalsa208sha256 (cross-checked by the
    integration test that calls the shared library)."""
    assert signing.scrypt_parameters(opslimit, memlimit) == expected


def test_plain_secret_key_round_trip() -> None:
    key = fixed_key(1, comment="release 2026")
    text = signing.render_secret_key(key, password=None)
    assert text.startswith("untrusted comment: release 2026\n")
    assert not signing.is_encrypted(text)
    assert signing.parse_secret_key(text, password=None) == key
    assert signing.parse_secret_key(text, password="ignored") == key


def test_encrypted_secret_key_round_trip() -> None:
    key = fixed_key(2)
    text = signing.render_secret_key(key, password="correct horse", **LOW)
    assert signing.is_encrypted(text)
    raw = base64.b64decode(text.splitlines()[1])
    assert raw[:6] == b"EdScB2"
    assert key.secret[:32] not in raw
    parsed = signing.parse_secret_key(text, password="correct horse")
    assert parsed.key_id == key.key_id
    assert parsed.secret == key.secret
    assert parsed.comment == "netbundle secret key " + key.key_id_hex


def test_two_encryptions_use_fresh_salts() -> None:
    key = fixed_key(2)
    assert signing.render_secret_key(key, password="pw", **LOW) != signing.render_secret_key(
        key, password="pw", **LOW
    )


def test_wrong_password_names_the_file() -> None:
    text = signing.render_secret_key(fixed_key(2), password="right", **LOW)
    with pytest.raises(InputError, match=r"^keys/ci\.key: wrong password or corrupt key"):
        signing.parse_secret_key(text, password="wrong", where="keys/ci.key")


def test_encrypted_key_without_password() -> None:
    text = signing.render_secret_key(fixed_key(2), password="right", **LOW)
    with pytest.raises(InputError, match=r"keys/ci\.key is encrypted and no password was given") as caught:
        signing.parse_secret_key(text, password=None, where="keys/ci.key")
    assert signing.DEFAULT_PASSWORD_ENV in (caught.value.hint or "")


def test_minisign_made_unencrypted_key_loads() -> None:
    """minisign -G -W leaves the checksum zero; the key still loads and matches its .pub."""
    key = signing.parse_secret_key(MINISIGN_SECRET_UNENCRYPTED, password=None)
    assert key.key_id_hex == MINISIGN_KEY_ID_HEX
    assert key.comment == "my comment"
    assert key.public_key.key == minisign.parse_public_key(MINISIGN_PUB).key


def _flipped(text: str, index: int) -> str:
    """``text`` (a secret key file) with one bit flipped in byte ``index`` of its decoded key line."""
    raw = bytearray(base64.b64decode(text.splitlines()[1]))
    raw[index] ^= 1
    return f"untrusted comment: x\n{base64.b64encode(bytes(raw)).decode()}\n"


PLAIN = signing.render_secret_key(fixed_key(3), password=None)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "expected a comment line and a base64 line"),
        ("untrusted comment: x\n", "expected a comment line and a base64 line"),
        ("untrusted comment: x\n!!!\n", "bad base64 key line"),
        ("untrusted comment: x\nAAAA\n", "bad base64 key line"),
        (_flipped(PLAIN, 0), "unsupported algorithm"),  # "Ed" -> "Ee"
        (_flipped(PLAIN, 2), "unsupported algorithm"),  # kdf
        (_flipped(PLAIN, 4), "unsupported algorithm"),  # checksum algorithm
        (_flipped(PLAIN, 60), "corrupt key"),  # key id: checksum
        (_flipped(PLAIN, 80), "corrupt key"),  # seed
        (_flipped(PLAIN, 130), "corrupt key"),  # checksum
    ],
    ids=["empty", "one line", "not base64", "short", "algorithm", "kdf", "checksum alg", "key id", "seed",
         "checksum"],
)  # fmt: skip
def test_malformed_secret_keys_are_refused(text: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem):
        signing.parse_secret_key(text, password=None)


def test_a_public_half_that_does_not_match_the_seed_is_refused() -> None:
    """An unencrypted key with a zero checksum (as minisign writes) is still checked: seed vs public half."""
    key = fixed_key(3)
    wrong = signing.SecretKey(key_id=key.key_id, secret=key.secret[:32] + fixed_key(4).secret[32:])
    text = signing.render_secret_key(wrong, password=None)
    raw = bytearray(base64.b64decode(text.splitlines()[1]))
    raw[-32:] = bytes(32)
    with pytest.raises(InputError, match="its public half does not match its seed"):
        signing.parse_secret_key(
            f"untrusted comment: x\n{base64.b64encode(bytes(raw)).decode()}\n", password=None
        )


def test_load_secret_key_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read secret key .*nope\.key"):
        signing.load_secret_key(tmp_path / "nope.key")


def test_generate_keypair_writes_matching_minisign_files() -> None:
    secret_text, public_text = signing.generate_keypair(comment="ci runner", password="pw", **LOW)
    key = signing.parse_secret_key(secret_text.decode(), password="pw")
    pub = minisign.parse_public_key(public_text.decode())
    assert (pub.key_id, pub.key) == (key.key_id, key.public_key.key)
    assert pub.comment == "minisign public key " + key.key_id_hex
    assert key.comment == "ci runner"


def test_generated_keys_differ() -> None:
    first = signing.generate_keypair(comment="", password=None)
    second = signing.generate_keypair(comment="", password=None)
    assert first[0] != second[0]


def test_a_multi_line_comment_is_refused() -> None:
    with pytest.raises(UsageError, match="comment must be one line"):
        signing.generate_keypair(comment="a\nb", password=None)


def test_write_keypair_modes_and_no_leftovers(tmp_path: Path) -> None:
    secret_path, public_path = signing.write_keypair(tmp_path / "release", b"S", b"P", force=False)
    assert (secret_path.name, public_path.name) == ("release.key", "release.pub")
    assert stat.S_IMODE(secret_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(public_path.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["release.key", "release.pub"]


def test_write_keypair_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    (tmp_path / "release.pub").write_bytes(b"old")
    with pytest.raises(InputError, match=r"release\.pub already exists") as caught:
        signing.write_keypair(tmp_path / "release", b"S", b"P", force=False)
    assert "--force" in (caught.value.hint or "")
    assert (tmp_path / "release.pub").read_bytes() == b"old"
    assert not (tmp_path / "release.key").exists()
    signing.write_keypair(tmp_path / "release", b"S", b"P", force=True)
    assert (tmp_path / "release.pub").read_bytes() == b"P"


def test_write_keypair_into_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write the key pair"):
        signing.write_keypair(tmp_path / "no" / "release", b"S", b"P", force=False)


def test_password_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NB_TEST_PW", raising=False)
    assert signing.password_from_env("NB_TEST_PW") is None
    monkeypatch.setenv("NB_TEST_PW", "")
    assert signing.password_from_env("NB_TEST_PW") == ""
