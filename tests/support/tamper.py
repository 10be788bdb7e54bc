"""Mutations of a bundle tar, one per attack or accident, for the reader's and the installer's tamper suites.

``CASES`` maps a description to (mutation, the error class it must be refused with). ``read_members`` and
``write_members`` take a tar apart and put it together by hand, so a header may lie about its data.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

from netbundle.errors import (
    BundleFormatError,
    IntegrityError,
    NetbundleError,
    SignatureInvalidError,
    SignatureMissingError,
)

Member = tuple[tarfile.TarInfo, bytes]


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


def _cut_inside_manifest(data: bytes) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        first = tar.next()
    assert first is not None
    return data[: first.offset_data + first.size // 2]


def _hidden_member(data: bytes) -> bytes:
    """One more member after the tar's end blocks: tarfile stops at the zero block and never sees it."""
    info = tarfile.TarInfo("wheels/hidden-1.0-py3-none-any.whl")
    info.size = 4
    return data + info.tobuf(format=tarfile.PAX_FORMAT) + b"evil" + b"\0" * (tarfile.BLOCKSIZE - 4)


def _padding_byte(data: bytes) -> bytes:
    """A byte in the zero padding after the manifest's data: tarfile never reads it, no hash covers it."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        first = tar.next()
    assert first is not None and first.size % tarfile.BLOCKSIZE
    at = first.offset_data + first.size
    return data[:at] + b"x" + data[at + 1 :]


#: Mutations of the bundle's bytes (cuts and appended data), with the error each must be refused with.
BYTE_CASES: dict[str, tuple[Callable[[bytes], bytes], type[NetbundleError]]] = {
    "cut inside the manifest": (_cut_inside_manifest, BundleFormatError),
    "data appended after the end": (lambda data: data + b"appended", BundleFormatError),
    "member hidden after the end blocks": (_hidden_member, BundleFormatError),
    "megabytes of zeros appended": (lambda data: data + b"\0" * (2 * 1024 * 1024), BundleFormatError),
    "data in a member's padding": (_padding_byte, BundleFormatError),
}
