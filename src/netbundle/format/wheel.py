"""Refuse a wheel that would write outside the environment it is installed into, before pip or installer sees it.

A wheel is a zip whose members land under site-packages, its ``<name>-<version>.data/<scheme>/`` members under
the scheme's directory, and whose console and GUI scripts become files in ``bin/`` named after the entry point.
pip and pypa/installer join those names onto the target directories; a ``..`` or an absolute name in any of them
(or a separator in a script name, e.g. ``../../x``) escapes the venv, and as root that is anywhere. So every
wheel an install can write (the chosen target's and the pip wheel: :func:`check_install_wheels`; the builder
checks every wheel it bundles) is checked here, by hand (no library checks all three before installing):

- every zip member name and every ``RECORD`` path: relative, ``/``-separated, no empty, ``.`` or ``..`` part,
  no backslash, no NUL or control character;
- a ``.data`` member's second part is one of the five schemes (``purelib``, ``platlib``, ``headers``,
  ``scripts``, ``data``);
- every ``console_scripts`` / ``gui_scripts`` name is a single file name.

Shipped in ``netbundle.pyz`` (Python 3.9 code, standard library only).
"""

from __future__ import annotations

import bisect
import configparser
import csv
import io
import itertools
import os
import re
import zipfile
import zlib

from ..errors import BundleFormatError
from .locks import target_files

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable, Iterator, List, Union

    from .manifest import Manifest
    from .tar import VerifiedBundle

#: The install schemes a wheel's ``.data`` directory may name (PEP 427, "the .data directory").
SCHEMES = ("purelib", "platlib", "headers", "scripts", "data")
#: Entry-point groups that become files in the scripts directory.
SCRIPT_GROUPS = ("console_scripts", "gui_scripts")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: Every name :func:`path_problem` or the ``.data`` scheme check could refuse matches this (and a few they accept,
#: e.g. a trailing ``//``): a control character or backslash, an absolute or drive name, a ``.`` or ``..``
#: part, an empty part, an empty name, a ``.data`` member. Names it does not match are safe.
_SUSPECT = re.compile(r"[\x00-\x1f\x7f\\]|^/|^[A-Za-z]:|(?:^|/)\.\.?(?:/|$)|//|^$|^[^/]*\.data/")
#: In ``"\n" + "\n".join(names) + "\n"``, every :data:`_SUSPECT` name contains one of these, ending inside it:
#: a control character (not the line break), a backslash or a colon (a drive); an absolute name, an empty name,
#: an empty part, a ``.data`` directory; a ``.`` or ``..`` part.
_SUSPECT_CHARACTER = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\\:]")
_SUSPECT_PIECES = ("\n/", "\n\n", "//", ".data/")
_DOT_PART = re.compile(r"[\n/]\.\.?(?=[/\n])")
#: What zipfile raises for a zip it cannot read: a bad structure, a truncated or corrupt stream, and (as
#: NotImplementedError or RuntimeError) compression methods, versions and encryption it does not support.
_UNREADABLE = (
    zipfile.BadZipFile, OSError, UnicodeDecodeError, ValueError, EOFError, zlib.error, NotImplementedError,
    RuntimeError,
)  # fmt: skip
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
    for name in _suspects(list(names)):
        problem = path_problem(name) or _data_problem(name)
        if problem:
            problems.append("member {!r} {}".format(name, problem))
    try:
        paths = [row[0] for row in csv.reader(io.StringIO(record)) if row]
    except csv.Error as exc:  # e.g. a carriage return in a path: pip and installer could not read it either
        problems.append("RECORD cannot be read: {}".format(exc))
        paths = []
    for path in _suspects(paths):
        problem = path_problem(path) or _data_problem(path)
        if problem:
            problems.append("RECORD path {!r} {}".format(path, problem))
    problems.extend(_entry_point_problems(entry_points))
    return problems


def _suspects(names: List[str]) -> List[str]:
    """The names the full checks could object to, in order; the others are safe.

    A wheel has thousands of names, nearly all plain: one search over all of them at once (each on its own line)
    finds the few with a suspect feature; a name with a line break in it sends every name to :data:`_SUSPECT`.
    """
    text = "\n" + "\n".join(names) + "\n"
    if not names or text.count("\n") != len(names) + 1:
        return [name for name in names if _SUSPECT.search(name)]
    starts = list(itertools.accumulate([1] + [len(name) + 1 for name in names[:-1]]))
    found = {bisect.bisect_right(starts, end) - 1 for end in _suspect_ends(text)}
    return [names[index] for index in sorted(found)]


def _suspect_ends(text: str) -> Iterator[int]:
    """Where in ``text`` each suspect piece (:data:`_SUSPECT_PIECES`, :data:`_SUSPECT_CHARACTER`, a dot part)
    ends: substring searches, so the cost is one pass per piece over the text, not Python per name."""
    for piece in _SUSPECT_PIECES:
        at = text.find(piece)
        while at >= 0:
            yield at + len(piece) - 1
            at = text.find(piece, at + 1)
    patterns = [_SUSPECT_CHARACTER]
    if "/." in text or "\n." in text:  # a part starting with a dot: rare, except in a few wheels
        patterns.append(_DOT_PART)
    for pattern in patterns:
        for match in pattern.finditer(text):
            yield match.end() - 1


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
    except _UNREADABLE as exc:
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


def install_wheels(manifest: Manifest, target: str) -> List[str]:
    """The wheels an install of ``target`` can write: the files the manifest assigns to it (pip sees only those;
    verification checked that the target's locks pin nothing else; a member elsewhere with a pinned hash
    has the same bytes as one of these) and the bundle's pip wheel."""
    members = [path for path in target_files(manifest, target) if path.endswith(".whl")]
    if manifest.pip_wheel and manifest.pip_wheel not in members:
        members.append(manifest.pip_wheel)
    return members


def check_install_wheels(bundle: VerifiedBundle, target: str) -> None:
    """:func:`check_wheel` on every wheel an install of ``target`` can write (:func:`install_wheels`).

    :raises BundleFormatError: one of them is not a readable zip, or names a path or script outside the venv.
    """
    for member in install_wheels(bundle.manifest, target):
        check_wheel(bundle.member_path(member), member)
