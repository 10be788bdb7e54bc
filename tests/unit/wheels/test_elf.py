"""The hand-written ELF reader against real objects: what gcc builds here (checked with binutils' readelf) and
the manylinux wheels of the corpus (checked against the level their publishers' auditwheel gave them)."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from netbundle.wheels.compat import combine, host_machine, target_glibc, wheel_policy
from netbundle.wheels.elf import ElfError, ElfNeeds, read_needs

MATRIX = Path(__file__).resolve().parents[3] / ".cache" / "corpus" / "matrix"
SOURCE = """
#include <pthread.h>
#include <unistd.h>
static void *run(void *arg) { return arg; }
int go(void) { pthread_t t; if (pthread_create(&t, 0, run, 0)) return 1; return pthread_join(t, 0) + (getpid() < 0); }
"""


@pytest.fixture(scope="module")
def shared_object(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("gcc") is None or shutil.which("readelf") is None:
        pytest.fail("no gcc/readelf: run scripts/install-test-tools")
    work = tmp_path_factory.mktemp("elf")
    (work / "t.c").write_text(SOURCE)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(work / "t.so"), str(work / "t.c")], check=True)
    return work / "t.so"


def readelf_versions(path: Path) -> dict[str, set[str]]:
    """library -> version names, from ``readelf -V`` (the reference this reader is checked against)."""
    out = subprocess.run(
        ["readelf", "-V", "-W", str(path)], capture_output=True, text=True, check=True
    ).stdout
    found: dict[str, set[str]] = {}
    library = ""
    for line in out.split("Version needs section", 1)[-1].splitlines():
        if (head := re.search(r"File: (\S+)", line)) is not None:
            library = head.group(1)
        elif (name := re.search(r"Name: (\S+)", line)) is not None and library:
            found.setdefault(library, set()).add(name.group(1))
    return found


def test_the_reader_agrees_with_readelf(shared_object: Path) -> None:
    needs = read_needs(shared_object.read_bytes())
    assert needs.machine == host_machine()
    assert "libc.so.6" in needs.needed
    assert {lib: set(names) for lib, names in needs.versions.items()} == readelf_versions(shared_object)


def test_headers_outside_the_file_are_an_error(shared_object: Path) -> None:
    data = shared_object.read_bytes()
    with pytest.raises(ElfError, match="outside the file"):
        read_needs(data[:200])
    with pytest.raises(ElfError, match="not an ELF file"):
        read_needs(b"#!/bin/sh\n")
    no_sections = bytearray(data)
    struct.pack_into("<Q", no_sections, 0x28, 0)  # e_shoff of an ELF64 file
    with pytest.raises(ElfError, match="no section headers"):
        read_needs(bytes(no_sections))


def test_corpus_wheels_need_no_newer_glibc_than_their_tags_say() -> None:
    wheels = sorted(MATRIX.glob("*manylinux*.whl"))
    if not wheels:
        pytest.fail(f"no manylinux wheels in {MATRIX}: run scripts/prepare-corpus")
    for wheel in wheels:
        policy = wheel_policy(wheel)
        levels = [target_glibc(tag) for tag in wheel.name[:-4].split("-")[-1].split(".")]
        best = max(level for level in levels if level is not None)
        assert policy.machine == best[1], wheel.name
        assert policy.glibc is not None and policy.glibc <= best[0], (wheel.name, policy)
        assert policy.libraries == () and policy.platform is not None, (wheel.name, policy)


def test_the_2_34_bcrypt_wheel_really_needs_2_34() -> None:
    (wheel,) = MATRIX.glob("bcrypt-4.3.0-cp39-abi3-manylinux_2_34_x86_64.whl") or [None]
    if wheel is None:
        pytest.fail(f"no bcrypt 4.3.0 manylinux_2_34 wheel in {MATRIX}: run scripts/prepare-corpus")
    policy = wheel_policy(wheel)
    assert policy.glibc == (2, 34) and policy.platform == "manylinux_2_34_x86_64"
    assert policy.elf_files == ("bcrypt/_bcrypt.abi3.so",)


def test_libstdcxx_needs_raise_the_level_and_unknown_ones_are_named() -> None:
    def needs(*versions: str, needed: tuple[str, ...] = ("libc.so.6", "libstdc++.so.6")) -> ElfNeeds:
        return ElfNeeds(machine="x86_64", needed=needed, versions={"libstdc++.so.6": versions})

    assert combine(["a.so"], [needs("GLIBC_2.17", "GLIBCXX_3.4.29")], [], []).glibc == (2, 34)
    assert combine(["a.so"], [needs("GLIBC_2.17", "GLIBCXX_3.4.19")], [], []).glibc == (2, 17)
    assert combine(["a.so"], [needs("GLIBCXX_3.4.50")], [], []).newer_than_known == ("GLIBCXX_3.4.50",)
    vendored = needs("GLIBC_2.17", needed=("libc.so.6", "libfoo-1a2b.so.1", "libssl.so.3"))
    assert combine(["a.so"], [vendored], [], ["libfoo-1a2b.so.1"]).libraries == ("libssl.so.3",)


def test_a_wheel_with_an_unreadable_elf_file_says_so(tmp_path: Path) -> None:
    wheel = tmp_path / "x-1.0-cp311-cp311-linux_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("x/_x.so", b"\x7fELF\x02\x01" + b"\0" * 10)
        zf.writestr("x/__init__.py", "")
    policy = wheel_policy(wheel)
    assert policy.unreadable == ("x/_x.so",) and policy.platform is None
