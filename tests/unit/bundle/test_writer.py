"""The deterministic tar writer: order, metadata, atomicity."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from netbundle.bundle.builder import source_date_epoch
from netbundle.errors import UsageError
from netbundle.format.tar import file_entry, write_bundle

SIG = "netbundle/signatures/0123456789ABCDEF.minisig"


def write(out: Path, files: dict[str, bytes | Path], mtime: int = 315532800) -> Path:
    return write_bundle(out, manifest=b"{}\n", signatures={SIG: b"sig"}, files=files, mtime=mtime)


def test_member_order_and_metadata(tmp_path: Path) -> None:
    source = tmp_path / "w.whl"
    source.write_bytes(b"wheel")
    out = write(
        tmp_path / "b.tar",
        {"wheels/z.whl": source, "locks/t/requirements-main.txt": b"x", "dist/a.tar.gz": b"y"},
    )
    with tarfile.open(out) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == [
        "netbundle/manifest.json", SIG, "dist/a.tar.gz", "locks/t/requirements-main.txt", "wheels/z.whl"
    ]  # fmt: skip
    for m in members:
        assert (m.mode, m.uid, m.gid, m.uname, m.gname, m.mtime, m.type) == (
            0o644,
            0,
            0,
            "",
            "",
            315532800,
            tarfile.REGTYPE,
        )


def test_same_members_same_bytes_regardless_of_insertion_order(tmp_path: Path) -> None:
    files = {"wheels/a.whl": b"a", "wheels/b.whl": b"b", "sbom/cyclonedx.json": b"{}"}
    first = write(tmp_path / "1.tar", files)
    second = write(tmp_path / "2.tar", dict(reversed(list(files.items()))))
    assert first.read_bytes() == second.read_bytes()


def test_long_names_survive(tmp_path: Path) -> None:
    name = "wheels/" + "x" * 150 + "-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    out = write(tmp_path / "b.tar", {name: b"data"})
    with tarfile.open(out) as tar:
        assert name in tar.getnames()


@pytest.mark.parametrize("bad", ["../escape", "/abs/path", "wheels/../x", "unknown/top.txt"])
def test_unsafe_paths_are_refused_and_nothing_is_left(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="unsafe"):
        write(tmp_path / "b.tar", {bad: b"x"})
    assert list(tmp_path.iterdir()) == []


def test_file_entry_hashes_content(tmp_path: Path) -> None:
    entry = file_entry("wheels/a.whl", "wheel", b"abc")
    assert (entry.size, entry.sha256[:12]) == (3, "ba7816bf8f01")


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 315532800), ("", 315532800), ("1767225600", 1767225600), ("5", 315532800)]
)
def test_source_date_epoch(value: str | None, expected: int) -> None:
    environ = {} if value is None else {"SOURCE_DATE_EPOCH": value}
    assert source_date_epoch(environ) == expected


def test_source_date_epoch_must_be_a_number() -> None:
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH"):
        source_date_epoch({"SOURCE_DATE_EPOCH": "yesterday"})


def test_source_date_epoch_must_be_ascii_digits() -> None:
    with pytest.raises(UsageError, match="not a whole number"):
        source_date_epoch({"SOURCE_DATE_EPOCH": "\u00b2"})
