"""The installer engine's choice of wheels: lock pins matched to bundle members by sha256, name, version, tags."""

from __future__ import annotations

import pytest

from netbundle.errors import BundleFormatError, InstallError
from netbundle.format.manifest import FileEntry, Manifest
from netbundle.runtime.wheelplan import (
    LockPin,
    choose_wheels,
    merge_pins,
    parse_lock,
    wheel_tags_supported,
)

A, B, C = "a" * 64, "b" * 64, "c" * 64
HOST = ("cp311-cp311-manylinux_2_28_x86_64", "cp311-abi3-manylinux_2_28_x86_64", "py3-none-any")


def manifest(*files: tuple[str, str, str]) -> Manifest:
    entries = tuple(FileEntry(path, 1, digest, kind) for path, digest, kind in files)
    return Manifest(
        "1.0", "p-1-x", "p", "1", "t", "2026-01-01T00:00:00Z", "0", "0", ("main",), (), (), entries, ()
    )


def test_parse_lock_reads_pins_hashes_and_markers() -> None:
    text = (
        "# netbundle: target t, group main\n"
        f"Foo_Bar[x]==1.0 \\\n    --hash=sha256:{A} \\\n    --hash=sha256:{B}\n"
        f'baz==2.0 ; python_version >= "3.9" \\\n    --hash=sha256:{C}  # comment\n'
    )
    pins = parse_lock(text, "locks/t/requirements-main.txt")
    assert pins == [
        LockPin("foo-bar", "1.0", (A, B), None, "locks/t/requirements-main.txt line 2"),
        LockPin("baz", "2.0", (C,), 'python_version >= "3.9"', "locks/t/requirements-main.txt line 5"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo==1.0\n", "has no --hash"),
        (f"foo>=1.0 --hash=sha256:{A}\n", "not a pinned requirement"),
        (f"foo==1.0 --hash=sha256:{A} --find-links http://x\n", "unexpected option --find-links"),
        ("--index-url http://x\n", "not a pinned requirement"),
        (f"foo==1.0 --hash=md5:{A}\n", "unexpected option"),
    ],
)
def test_parse_lock_refuses_anything_but_hash_pinned_lines(text: str, message: str) -> None:
    with pytest.raises(BundleFormatError, match=message):
        parse_lock(text, "r.txt")


def test_merge_pins_evaluates_markers_and_joins_groups() -> None:
    pins = [
        LockPin("a", "1", (A,), None, "main"),
        LockPin("a", "1", (A,), None, "dev"),
        LockPin("b", "1", (B,), 'python_version < "3"', "main"),
    ]
    assert [p.name for p in merge_pins(pins, {"python_version": "3.11"})] == ["a"]
    with pytest.raises(BundleFormatError, match=r"a is pinned to 1 .* and 2"):
        merge_pins([*pins, LockPin("a", "2", (A,), None, "dev")], {"python_version": "3.11"})


def test_choose_wheels_takes_the_member_with_the_hash_and_the_best_tag() -> None:
    m = manifest(
        ("wheels/foo-1.0-py3-none-any.whl", A, "wheel"),
        ("wheels/foo-1.0-cp311-abi3-manylinux_2_28_x86_64.whl", B, "wheel"),
        ("wheels/foo-1.0-cp311-cp311-macosx_11_0_arm64.whl", C, "wheel"),
        ("dist/p-1-py3-none-any.whl", "d" * 64, "dist"),
    )
    chosen = choose_wheels([LockPin("foo", "1.0", (A, B, C), None, "l")], m, HOST)
    assert [(c.member, c.sha256) for c in chosen] == [
        ("wheels/foo-1.0-cp311-abi3-manylinux_2_28_x86_64.whl", B)
    ]
    project = choose_wheels([LockPin("p", "1", ("d" * 64,), None, "l")], m, HOST)
    assert project[0].member == "dist/p-1-py3-none-any.whl"


@pytest.mark.parametrize(
    ("pin", "message"),
    [
        (
            LockPin("foo", "1.0", (C,), None, "l"),
            "bundled wheels with its hashes: foo-1.0-cp311-cp311-macosx",
        ),
        (LockPin("foo", "1.0", ("e" * 64,), None, "l"), "no bundled file has its hash"),
        (LockPin("bar", "1.0", (A,), None, "l"), "no wheel for bar==1.0"),  # the hash names another project
        (LockPin("foo", "2.0", (A,), None, "l"), "no wheel for foo==2.0"),
        (LockPin("tool", "1", ("f" * 64,), None, "l"), "no bundled file"),  # a non-wheel member
    ],
)
def test_choose_wheels_refuses_what_pip_would_refuse(pin: LockPin, message: str) -> None:
    m = manifest(
        ("wheels/foo-1.0-py3-none-any.whl", A, "wheel"),
        ("wheels/foo-1.0-cp311-cp311-macosx_11_0_arm64.whl", C, "wheel"),
        ("tools/tool-1-py3-none-any.whl", "f" * 64, "tool"),
    )
    with pytest.raises(InstallError, match=message):
        choose_wheels([pin], m, HOST)


def test_wheel_tags_supported_reads_compressed_tags() -> None:
    assert wheel_tags_supported(["py2.py3-none-any"], HOST)
    assert not wheel_tags_supported(["cp39-cp39-win_amd64", "bad"], HOST)
