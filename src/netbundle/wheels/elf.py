"""What an ELF shared object needs from the system it is loaded on: its architecture, the libraries it names
(``DT_NEEDED``) and the symbol versions it requires of them (``.gnu.version_r``: ``GLIBC_2.34``, ``GLIBCXX_3.4.29``).

Written by hand on purpose: these are two small, fixed structures of the ELF gABI and the GNU symbol-versioning
extension (the "Elf_Verneed"/"Elf_Vernaux" records), read from section headers only. pyelftools or auditwheel would
do it too, but adding either means relocking the project's poetry.lock, which several branches change at once;
this reader is ~150 lines of struct unpacking with bounds checks, tested on real compiled objects
(tests/unit/wheels/test_elf.py). Nothing here runs code from the file or follows paths in it.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass

MAGIC = b"\x7fELF"
_SHT_DYNAMIC = 6
_SHT_GNU_VERNEED = 0x6FFFFFFE
_DT_NULL, _DT_NEEDED = 0, 1
#: e_machine -> the machine name of platform tags (``manylinux_2_28_<machine>``).
MACHINES = {3: "i686", 40: "armv7l", 62: "x86_64", 183: "aarch64", 21: "ppc64le", 22: "s390x", 243: "riscv64"}


class ElfError(ValueError):
    """The file starts like an ELF object but its headers cannot be read."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ElfNeeds:
    """What one ELF object needs: ``versions`` maps a library (``libc.so.6``) to the version names it requires."""

    machine: str
    needed: tuple[str, ...]
    versions: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class _Layout:
    """Byte order and word size: the struct formats of the headers this reader uses."""

    order: str
    header: str  # from e_type to e_shstrndx
    section: str
    dynamic: str


_LAYOUTS = {
    (1, 1): _Layout("<", "HHIIIIIHHHHHH", "IIIIIIIIII", "iI"),
    (2, 1): _Layout("<", "HHIQQQIHHHHHH", "IIQQQQIIQQ", "qQ"),
    (1, 2): _Layout(">", "HHIIIIIHHHHHH", "IIIIIIIIII", "iI"),
    (2, 2): _Layout(">", "HHIQQQIHHHHHH", "IIQQQQIIQQ", "qQ"),
}


@dataclass(frozen=True, slots=True)
class _Section:
    kind: int
    offset: int
    size: int
    link: int
    info: int


def is_elf(data: bytes) -> bool:
    return data[:4] == MAGIC


def read_needs(data: bytes) -> ElfNeeds:
    """The needs of the ELF object ``data``.

    :raises ElfError: not ELF, or headers that point outside the file.
    """
    if not is_elf(data) or len(data) < 16:
        raise ElfError("not an ELF file")
    layout = _LAYOUTS.get((data[4], data[5]))
    if layout is None:
        raise ElfError(f"unknown ELF class/byte order {data[4]}/{data[5]}")
    header = _unpack(layout.order + layout.header, data, 16)
    machine, shoff, shentsize, shnum = header[1], header[5], header[10], header[11]
    if shoff == 0 or shnum == 0:
        raise ElfError("no section headers (cannot read the versions it needs)")
    sections = [_section(layout, data, shoff + i * shentsize) for i in range(shnum)]
    needed: tuple[str, ...] = ()
    versions: dict[str, tuple[str, ...]] = {}
    for section in sections:
        if section.kind == _SHT_DYNAMIC:
            needed = _needed(layout, data, section, _strings(data, sections, section.link))
        elif section.kind == _SHT_GNU_VERNEED:
            versions = _verneed(layout, data, section, _strings(data, sections, section.link))
    return ElfNeeds(machine=MACHINES.get(machine, f"em{machine}"), needed=needed, versions=versions)


def _unpack(fmt: str, data: bytes, offset: int) -> tuple[int, ...]:
    size = struct.calcsize(fmt)
    if offset < 0 or offset + size > len(data):
        raise ElfError(f"header at {offset} lies outside the file")
    return struct.unpack_from(fmt, data, offset)


def _section(layout: _Layout, data: bytes, offset: int) -> _Section:
    fields = _unpack(layout.order + layout.section, data, offset)
    # sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link, sh_info, sh_addralign, sh_entsize
    return _Section(kind=fields[1], offset=fields[4], size=fields[5], link=fields[6], info=fields[7])


def _strings(data: bytes, sections: list[_Section], index: int) -> bytes:
    """The bytes of string table section ``index`` (``sh_link`` of the dynamic and verneed sections)."""
    if not 0 <= index < len(sections):
        raise ElfError(f"string table section {index} does not exist")
    table = sections[index]
    if table.offset + table.size > len(data):
        raise ElfError(f"string table section {index} lies outside the file")
    return data[table.offset : table.offset + table.size]


def _string(table: bytes, offset: int) -> str:
    if not 0 <= offset < len(table):
        raise ElfError(f"string at {offset} lies outside its table")
    end = table.find(b"\0", offset)
    return table[offset : end if end >= 0 else len(table)].decode("utf-8", "replace")


def _needed(layout: _Layout, data: bytes, section: _Section, strings: bytes) -> tuple[str, ...]:
    fmt = layout.order + layout.dynamic
    step = struct.calcsize(fmt)
    names = []
    for offset in range(section.offset, section.offset + section.size - step + 1, step):
        tag, value = _unpack(fmt, data, offset)
        if tag == _DT_NULL:
            break
        if tag == _DT_NEEDED:
            names.append(_string(strings, value))
    return tuple(names)


def _verneed(layout: _Layout, data: bytes, section: _Section, strings: bytes) -> dict[str, tuple[str, ...]]:
    """Walk the ``Elf_Verneed`` list (one per library, ``sh_info`` of them) and each one's ``Elf_Vernaux``."""
    found: dict[str, tuple[str, ...]] = {}
    offset = section.offset
    for _ in range(section.info):
        _version, count, file_name, aux, following = _unpack(layout.order + "HHIII", data, offset)
        names, at = [], offset + aux
        for _ in range(count):
            _hash, _flags, _other, name, next_aux = _unpack(layout.order + "IHHII", data, at)
            names.append(_string(strings, name))
            at += next_aux
        library = _string(strings, file_name)
        found[library] = found.get(library, ()) + tuple(names)
        if following == 0:
            break
        offset += following
    return found
