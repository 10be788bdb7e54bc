"""Refuse a wheel that would write outside the environment it is installed into, before pip or installer sees it.

A wheel is a zip whose members land under site-packages, its ``<name>-<version>.data/<scheme>/`` members under
the scheme's directory, and whose console and GUI scripts become files in ``bin/`` named after the entry point.
pip and pypa/installer join those names onto the target directories; a ``..`` or an absolute name in any of them
(or a separator in a script name, e.g. ``../../x``) escapes the venv, and as root that is anywhere. So every
wheel the bundle carries is checked here, by hand (no library checks all three before installing):

- every zip member name and every ``RECORD`` path: relative, ``/``-separated, no empty, ``.`` or ``..`` part,
  no backslash, no NUL or control character;
- a ``.data`` member's second part is one of the five schemes (``purelib``, ``platlib``, ``headers``,
  ``scripts``, ``data``);
- every ``console_scripts`` / ``gui_scripts`` name is a single file name.

Shipped in ``netbundle.pyz`` (Python 3.9 code, standard library only).
"""

from __future__ import annotations

import configparser
import csv
import io
import os
import re
import zipfile

from ..errors import BundleFormatError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable, List, Union

    from .tar import VerifiedBundle

#: The install schemes a wheel's ``.data`` directory may name (PEP 427, "the .data directory").
SCHEMES = ("purelib", "platlib", "headers", "scripts", "data")
#: Entry-point groups that become files in the scripts directory.
SCRIPT_GROUPS = ("console_scripts", "gui_scripts")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: RECORD and entry_points.txt larger than this are refused unread (a real one is a few hundred kB at most).
MAX_METADATA_BYTES = 16 * 1024 * 1024


def path_problem(name: str) -> str:
    """Why ``name`` (a zip member or RECORD path) could leave its install directory, or ``""`` when it cannot.

    >>> path_problem("pkg/__init__.py"), path_problem("../evil.py")
    ('', 'has a .. part')
    """
    if not name:
        return "is empty"
    if _CONTROL.search(name):
        return "contains a control character"
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "is absolute"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return "has a .. part"
    if any(part in ("", ".") for part in parts):
        return "has an empty or . part"
    return ""


def script_name_problem(name: str) -> str:
    """Why the entry-point script ``name`` is not one file name in ``bin/``, or ``""`` when it is."""
    if not name:
        return "is empty"
    if _CONTROL.search(name):
        return "contains a control character"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if name in (".", ".."):
        return "is . or .."
    return ""


def wheel_problems(names: Iterable[str], record: str, entry_points: str) -> List[str]:
    """Every reason a wheel with these zip ``names``, ``RECORD`` text and ``entry_points.txt`` text is unsafe."""
    problems = []
    for name in names:
        problem = path_problem(name) or _data_problem(name)
        if problem:
            problems.append("member {!r} {}".format(name, problem))
    for row in csv.reader(io.StringIO(record)):
        if row and (path_problem(row[0]) or _data_problem(row[0])):
            problems.append(
                "RECORD path {!r} {}".format(row[0], path_problem(row[0]) or _data_problem(row[0]))
            )
    problems.extend(_entry_point_problems(entry_points))
    return problems


def _data_problem(name: str) -> str:
    parts = name.split("/")
    if len(parts) >= 3 and parts[0].endswith(".data") and parts[1] not in SCHEMES:
        return "names the unknown install scheme {!r} (not one of {})".format(parts[1], ", ".join(SCHEMES))
    return ""


def _entry_point_problems(text: str) -> List[str]:
    if not text.strip():
        return []
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep the names as written
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        return ["entry_points.txt cannot be read: {}".format(str(exc).splitlines()[0])]
    problems = []
    for group in SCRIPT_GROUPS:
        if parser.has_section(group):
            for name in parser.options(group):
                problem = script_name_problem(name.strip())
                if problem:
                    problems.append("{} entry point {!r} {}".format(group, name, problem))
    return problems


def check_wheel(path: Union[str, os.PathLike[str]], label: str) -> None:
    """Refuse the wheel at ``path`` (called ``label`` in messages) if installing it could escape the venv.

    :raises BundleFormatError: the wheel is not a readable zip, or names a path or script outside the venv.
    """
    try:
        with zipfile.ZipFile(os.fspath(path)) as archive:
            names = archive.namelist()
            record = _read_metadata(archive, names, "RECORD")
            entry_points = _read_metadata(archive, names, "entry_points.txt")
    except (zipfile.BadZipFile, OSError, UnicodeDecodeError, ValueError) as exc:
        raise BundleFormatError(
            "wheel {} cannot be read: {}".format(label, exc), hint="rebuild the bundle from a clean cache"
        ) from None
    problems = wheel_problems(names, record, entry_points)
    if problems:
        more = "" if len(problems) == 1 else " (and {} more)".format(len(problems) - 1)
        raise BundleFormatError(
            "wheel {} would write outside the environment: {}{}".format(label, problems[0], more),
            hint="do not install this bundle; report the wheel to whoever built it",
        )


def _read_metadata(archive: zipfile.ZipFile, names: List[str], leaf: str) -> str:
    """The text of ``*.dist-info/<leaf>`` at the top of the wheel ("" when it is missing)."""
    for name in names:
        parts = name.split("/")
        if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == leaf:
            if archive.getinfo(name).file_size > MAX_METADATA_BYTES:
                raise ValueError("{} is larger than {} bytes".format(name, MAX_METADATA_BYTES))
            return archive.read(name).decode("utf-8")
    return ""


def check_bundle_wheels(bundle: VerifiedBundle) -> None:
    """:func:`check_wheel` on every wheel of a verified, staged bundle (the pip wheel in ``tools/`` too)."""
    for entry in bundle.manifest.files:
        if entry.path.endswith(".whl"):
            check_wheel(bundle.member_path(entry.path), entry.path)
