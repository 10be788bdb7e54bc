"""The bundle reader: signature first, then every member, nothing staged unless it all checks out."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from tests.support.bundles import KeyPair, make_bundle, make_keypair
from tests.support.tamper import CASES, read_members, write_members

from netbundle.errors import (
    BundleFormatError,
    IntegrityError,
    UntrustedSignerError,
)
from netbundle.format import tar as reader
from netbundle.format import trust


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, KeyPair]:
    key = make_keypair(tmp_path / "keys")
    bundle = make_bundle(tmp_path / "b.tar", packages=[("alpha", "1.0"), ("beta", "2.0")], keys=[key])
    return bundle, key


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_mutation_is_refused_and_nothing_stays_staged(
    tmp_path: Path, signed: tuple[Path, KeyPair], case: str
) -> None:
    bundle, key = signed
    mutate, error = CASES[case]
    write_members(bundle, mutate(read_members(bundle)))
    staging = tmp_path / "staging"
    with pytest.raises(error) as raised:
        reader.verify_bundle(bundle, trust.load_trust(key.pub_path), staging)
    assert raised.value.exit_code == error.exit_code
    assert not staging.exists()


def test_truncated_bundle_is_refused(tmp_path: Path, signed: tuple[Path, KeyPair]) -> None:
    bundle, key = signed
    data = bundle.read_bytes()
    bundle.write_bytes(data[: len(data) // 2])
    with pytest.raises((BundleFormatError, IntegrityError)):
        reader.verify_bundle(bundle, trust.load_trust(key.pub_path), tmp_path / "staging")
    assert not (tmp_path / "staging").exists()


@pytest.mark.parametrize("where", ["inside the last member", "after the last header", "inside a header"])
def test_a_cut_anywhere_is_refused_and_names_the_damage(
    tmp_path: Path, signed: tuple[Path, KeyPair], where: str
) -> None:
    bundle, key = signed
    with tarfile.open(bundle) as tar:
        last = tar.getmembers()[-1]
    cut = {
        "inside the last member": last.offset_data + max(last.size // 2, 1),
        "after the last header": last.offset_data,
        "inside a header": last.offset + 100,
    }[where]
    bundle.write_bytes(bundle.read_bytes()[:cut])
    with pytest.raises((BundleFormatError, IntegrityError)) as raised:
        reader.verify_bundle(bundle, trust.load_trust(key.pub_path), tmp_path / "staging")
    assert "truncated" in str(raised.value) or last.name in str(raised.value)
    assert not (tmp_path / "staging").exists()


def test_untrusted_signer_is_refused_before_anything_is_read(
    tmp_path: Path, signed: tuple[Path, KeyPair]
) -> None:
    bundle, _ = signed
    stranger = make_keypair(tmp_path / "other", "stranger")
    with pytest.raises(UntrustedSignerError):
        reader.verify_bundle(bundle, trust.load_trust(stranger.pub_path), tmp_path / "staging")


def test_size_bomb_is_refused_from_the_header(tmp_path: Path, signed: tuple[Path, KeyPair]) -> None:
    bundle, key = signed
    items = read_members(bundle)
    name = next(info.name for info, _ in items if info.name.startswith("wheels/"))
    # the header claims 1 GiB; the data behind it is the real wheel: refused before any of it is read
    write_members(bundle, items, declared={name: 1 << 30})
    with pytest.raises(IntegrityError, match="bytes, the manifest says"):
        reader.verify_bundle(bundle, trust.load_trust(key.pub_path), tmp_path / "staging")
    assert not (tmp_path / "staging").exists()


def test_good_bundle_is_staged_private_and_complete(tmp_path: Path, signed: tuple[Path, KeyPair]) -> None:
    bundle, key = signed
    staging = tmp_path / "staging"
    verified = reader.verify_bundle(bundle, trust.load_trust(key.pub_path), staging)
    assert [k.key_id_hex for k in verified.signers] == [key.public.key_id_hex]
    assert staging.stat().st_mode & 0o777 == 0o700
    for entry in verified.manifest.files:
        staged = verified.member_path(entry.path)
        assert staged.stat().st_size == entry.size
        assert staged.stat().st_mode & 0o777 == 0o600
    unverified = reader.read_unverified(bundle)
    assert unverified.manifest == verified.manifest
    assert list(unverified.signatures) == [f"netbundle/signatures/{key.public.key_id_hex}.minisig"]


def test_non_empty_staging_is_refused(tmp_path: Path, signed: tuple[Path, KeyPair]) -> None:
    bundle, key = signed
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "keep.txt").write_text("mine")
    with pytest.raises(BundleFormatError):
        reader.verify_bundle(bundle, trust.load_trust(key.pub_path), staging)
    assert (staging / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("content", [b"", b"not a tar at all" * 100])
def test_not_a_bundle(tmp_path: Path, signed: tuple[Path, KeyPair], content: bytes) -> None:
    _, key = signed
    path = tmp_path / "junk.tar"
    path.write_bytes(content)
    with pytest.raises(BundleFormatError):
        reader.verify_bundle(path, trust.load_trust(key.pub_path))
