"""What a wheel will write, read from its zip directory before anything is unpacked (for :mod:`.wheelorder`).

Reads the central directory, ``WHEEL``, ``METADATA`` and ``entry_points.txt`` only: the destination path of every
member (``<name>.data/<scheme>/...`` members go to that scheme, the rest to purelib or platlib as ``WHEEL`` says),
each console or GUI script, and the distribution's ``Requires-Dist`` lines. Paths are only compared here; the
destination checks each one for safety when it is written.
"""

from __future__ import annotations

import configparser
import email.parser
import posixpath
import zipfile
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from ..errors import InstallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import pathlib
    from typing import List, Mapping, Tuple

_SCRIPT_SECTIONS = ("console_scripts", "gui_scripts")


@dataclass(frozen=True)
class WheelScan:
    """A wheel's distribution name, its requirements and the absolute paths it will write."""

    name: str
    requires: Tuple[str, ...]
    paths: Tuple[str, ...]
    #: how many ``.py`` files it puts in purelib/platlib (the modules a compiling install compiles)
    modules: int = 0


def scan_wheel(path: pathlib.Path, scheme: Mapping[str, str]) -> WheelScan:
    """Scan the wheel at ``path`` for the venv ``scheme`` (purelib, platlib, headers, scripts, data).

    :raises InstallError: not a readable wheel (no ``.dist-info`` with METADATA and WHEEL).
    """
    try:
        with zipfile.ZipFile(str(path)) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            info = _dist_info(names, path.name)
            wheel = email.parser.HeaderParser().parsestr(_text(archive, info + "/WHEEL"))
            metadata = email.parser.HeaderParser().parsestr(_text(archive, info + "/METADATA"))
            entry_points = (
                _text(archive, info + "/entry_points.txt") if info + "/entry_points.txt" in names else ""
            )
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise InstallError("cannot read {}: {}".format(path.name, exc)) from None
    root = scheme["purelib"] if (wheel.get("Root-Is-Purelib") or "").strip() == "true" else scheme["platlib"]
    data = info[: -len(".dist-info")] + ".data/"
    paths = [_destination(name, data, root, scheme) for name in names]
    libs = tuple(scheme[k] + "/" for k in ("purelib", "platlib"))
    modules = sum(1 for p in paths if p.endswith(".py") and p.startswith(libs))
    paths += [posixpath.join(scheme["scripts"], s) for s in _scripts(entry_points)]
    return WheelScan(
        name=canonicalize_name(metadata.get("Name") or ""),
        requires=tuple(metadata.get_all("Requires-Dist") or ()),
        paths=tuple(posixpath.normpath(p) for p in paths),
        modules=modules,
    )


def _dist_info(names: List[str], wheel: str) -> str:
    found = sorted(
        {n.split("/", 1)[0] for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")}
    )
    if len(found) != 1:
        raise ValueError("{} .dist-info directories with METADATA".format(len(found)))
    return found[0]


def _text(archive: zipfile.ZipFile, name: str) -> str:
    return archive.read(name).decode("utf-8", "replace")


def _destination(name: str, data: str, root: str, scheme: Mapping[str, str]) -> str:
    if name.startswith(data):
        parts = name[len(data) :].split("/", 1)
        if len(parts) == 2 and parts[0] in scheme:
            return posixpath.join(scheme[parts[0]], parts[1])
    return posixpath.join(root, name)


def _scripts(text: str) -> List[str]:
    if not text.strip():
        return []
    parser = configparser.ConfigParser(delimiters="=", interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except configparser.Error:
        return []  # pypa/installer reports a malformed file when it installs the wheel
    return [
        name
        for section in _SCRIPT_SECTIONS
        if parser.has_section(section)
        for name in parser.options(section)
    ]
