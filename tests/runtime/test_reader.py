"""The bundle reader: signature first, then every member, nothing staged unless it all checks out."""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.support.bundles import KeyPair, make_bundle, make_keypair

from netbundle.runtime import reader, trust
from netbundle.runtime.errors import (
    BundleFormatError,
    IntegrityError,
    NetbundleError,
    SignatureInvalidError,
    SignatureMissingError,
    UntrustedSignerError,
)

Member = tuple[tarfile.TarInfo, bytes]


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, KeyPair]:
    key = make_keypair(tmp_path / "keys")
    bundle = make_bundle(tmp_path / "b.tar", packages=[("alpha", "1.0"), ("beta", "2.0")], keys=[key])
    return bundle, key


def read_members(bundle: Path) -> list[Member]:
    with tarfile.open(bundle) as tar:
        return [(m, tar.extractfile(m).read() if m.isreg() else b"") for m in tar.getmembers()]  # type: ignore[union-attr]


def write_members(bundle: Path, items: list[Member], declared: dict[str, int] | None = None) -> None:
    """Write a tar by hand (so that a header may declare a size its data does not have)."""
    out = bytearray()
    for info, data in items:
        info.size = (declared or {}).get(info.name, len(data)) if info.isreg() else 0
        out += info.tobuf(format=tarfile.PAX_FORMAT)
        if info.isreg():
            out += data + b"\0" * (-len(data) % tarfile.BLOCKSIZE)
    out += b"\0" * (2 * tarfile.BLOCKSIZE)
    bundle.write_bytes(bytes(out))


def _flip(name_prefix: str) -> Callable[[list[Member]], list[Member]]:
    def mutate(items: list[Member]) -> list[Member]:
        index = next(i for i, (info, data) in enumerate(items) if info.name.startswith(name_prefix) and data)
        info, data = items[index]
        flipped = bytearray(data)
        flipped[len(flipped) // 2] ^= 0x20
        return [*items[:index], (info, bytes(flipped)), *items[index + 1 :]]

    return mutate


def _special(
    kind: bytes, name: str = "wheels/evil.whl", link: str = "/etc/passwd"
) -> Callable[[list[Member]], list[Member]]:
    def mutate(items: list[Member]) -> list[Member]:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = link
        return [*items, (info, b"")]

    return mutate


def _extra(name: str) -> Callable[[list[Member]], list[Member]]:
    def mutate(items: list[Member]) -> list[Member]:
        return [*items, (tarfile.TarInfo(name), b"surprise")]

    return mutate


def _drop(prefix: str) -> Callable[[list[Member]], list[Member]]:
    def mutate(items: list[Member]) -> list[Member]:
        index = next(i for i, (info, _) in enumerate(items) if info.name.startswith(prefix))
        return items[:index] + items[index + 1 :]

    return mutate


def _duplicate(prefix: str) -> Callable[[list[Member]], list[Member]]:
    def mutate(items: list[Member]) -> list[Member]:
        found = next(item for item in items if item[0].name.startswith(prefix))
        return [*items, found]

    return mutate


def _manifest_second(items: list[Member]) -> list[Member]:
    return [items[1], items[0], *items[2:]]


def _grow(prefix: str) -> Callable[[list[Member]], list[Member]]:
    def mutate(items: list[Member]) -> list[Member]:
        return [(i, d + b"\0" * 4096 if i.name.startswith(prefix) else d) for i, d in items]

    return mutate


CASES: dict[str, tuple[Callable[[list[Member]], list[Member]], type[NetbundleError]]] = {
    "wheel byte flipped": (_flip("wheels/"), IntegrityError),
    "lock byte flipped": (_flip("locks/"), IntegrityError),
    "pip wheel byte flipped": (_flip("tools/"), IntegrityError),
    "manifest edited": (_flip("netbundle/manifest.json"), SignatureInvalidError),
    "signature edited": (_flip("netbundle/signatures/"), SignatureInvalidError),
    "signature removed": (_drop("netbundle/signatures/"), SignatureMissingError),
    "wheel missing": (_drop("wheels/"), IntegrityError),
    "wheel grown (size differs)": (_grow("wheels/"), IntegrityError),
    "unknown member": (_extra("wheels/extra-1.0-py3-none-any.whl"), BundleFormatError),
    "member outside the layout": (_extra("etc/cron.d/x"), BundleFormatError),
    "duplicate member": (_duplicate("wheels/"), BundleFormatError),
    "path traversal": (_extra("wheels/../../escape"), BundleFormatError),
    "absolute path": (_extra("/tmp/escape"), BundleFormatError),
    "symlink member": (_special(tarfile.SYMTYPE), BundleFormatError),
    "hardlink member": (_special(tarfile.LNKTYPE), BundleFormatError),
    "device member": (_special(tarfile.CHRTYPE), BundleFormatError),
    "fifo member": (_special(tarfile.FIFOTYPE), BundleFormatError),
    "directory member": (_special(tarfile.DIRTYPE, name="wheels"), BundleFormatError),
    "manifest not first": (_manifest_second, BundleFormatError),
}


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
