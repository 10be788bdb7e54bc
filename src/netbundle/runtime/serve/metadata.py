"""The core-metadata file of a wheel (``<name>-<version>.dist-info/METADATA``), for PEP 658 ``.metadata`` URLs."""

from __future__ import annotations

import zipfile

from .index import normalize_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    import pathlib
    from typing import List, Optional

#: A METADATA file larger than this is not served (real ones are a few kB; the largest seen are ~200 kB).
MAX_METADATA_BYTES = 4 * 1024 * 1024


def read_core_metadata(wheel: pathlib.Path, filename: str) -> Optional[bytes]:
    """The METADATA bytes of the wheel at ``wheel`` (its file name is ``filename``), or None when the wheel has
    no single top-level ``.dist-info/METADATA`` that matches its name, or it is over :data:`MAX_METADATA_BYTES`.

    The wheel was verified against the signed manifest, so this is about wheels that are odd, not hostile: a
    wheel without usable metadata is still served, only without a ``.metadata`` file.
    """
    if not filename.endswith(".whl"):
        return None
    try:
        with zipfile.ZipFile(str(wheel)) as archive:
            info = _pick(archive.infolist(), filename)
            if info is None or info.file_size > MAX_METADATA_BYTES:
                return None
            return archive.read(info)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError):
        return None


def _pick(members: List[zipfile.ZipInfo], filename: str) -> Optional[zipfile.ZipInfo]:
    """The METADATA member of the wheel's own ``.dist-info`` directory (name and version from the file name)."""
    name, version = filename.split("-")[:2]
    wanted = "{}-{}".format(normalize_name(name), version.lower())
    found = [
        info
        for info in members
        if info.filename.count("/") == 1 and info.filename.endswith(".dist-info/METADATA")
    ]
    for info in found:
        directory = info.filename.split("/", 1)[0][: -len(".dist-info")]
        dist, _, dist_version = directory.rpartition("-")
        if "{}-{}".format(normalize_name(dist), dist_version.lower()) == wanted:
            return info
    return found[0] if len(found) == 1 else None
