"""The distributions installed in a venv, read fast: the header block of each ``*.dist-info/METADATA`` only.

``importlib.metadata`` parses a whole METADATA file with the ``email`` package every time a field is asked for
(the long description included): 0.1-0.2 s per pass over 200 distributions, and an install made several
passes (the dependency check asks for each field anew, the receipt reads them again). The fields the installer
needs (name, version, ``Requires-Dist``, ``Requires-Python``, ``Provides-Extra``) are all headers, and the header
block ends at the first blank line, so :func:`read_distributions` reads each file up to there, once, and parses
the lines with the rules the ``email`` parser applies to them (:func:`parse_headers`): the same values as
``importlib.metadata`` on this interpreter, folded lines included. Anything else (``.egg-info``, a METADATA-less
or requires.txt-only ``.dist-info``, a ``.dist-info`` file) is read by ``importlib.metadata`` itself.
"""

from __future__ import annotations

import importlib.metadata as importlib_metadata
import pathlib
import re
import sys
import textwrap
from dataclasses import dataclass
from typing import cast

from packaging.utils import canonicalize_name

from ..errors import InstallError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from email.message import Message
    from typing import BinaryIO, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

#: A header block larger than this is refused (a real one is a few kB; the description is not in it).
MAX_HEADER_BYTES = 16 * 1024 * 1024
_CHUNK = 16 * 1024
#: What the email parser takes for a header line (``email.feedparser.headerRE``).
_HEADER_LINE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")
#: The end of the header block in the raw bytes: a line ending followed by an empty line.
_BLANK_LINE = re.compile(rb"\r\n[\r\n]|\r(?!\n)[\r\n]|\n[\r\n]")
#: Since 3.10 importlib.metadata dedents folded values (``_adapters.Message._repair_headers``).
_REDENT = sys.version_info >= (3, 10)
_INFO_SUFFIXES = (".dist-info", ".egg-info")


@dataclass(frozen=True)
class DistInfo:
    """One installed distribution's header fields, as ``importlib.metadata`` gives them.

    ``name`` is canonical (PEP 503); ``version`` is None when the METADATA has no ``Version``, as
    ``Distribution.version`` is then.
    """

    name: str
    version: Optional[str]
    requires: Tuple[str, ...]
    requires_python: Optional[str]
    extras: Tuple[str, ...]
    path: str


def parse_headers(text: str) -> List[Tuple[str, str]]:
    """The ``(name, value)`` headers of a METADATA text, as ``email.message_from_string`` plus importlib.metadata
    find them (the text may stop anywhere after the header block; line endings are ``\\n``).

    >>> parse_headers("Name: a\\nRequires-Dist: b;\\n  extra == 'c'\\n\\nName: body")[1][0]
    'Requires-Dist'
    """
    lines = []
    for line in text.split("\n"):
        if not _HEADER_LINE.match(line):
            break
        lines.append(line)
    return [(name, _redent(value) if _REDENT else value) for name, value in _fields(lines)]


def _fields(lines: List[str]) -> Iterator[Tuple[str, str]]:
    """``email.feedparser.FeedParser._parse_headers`` with the compat32 policy, over lines without endings."""
    current: List[str] = []
    for number, line in enumerate(lines):
        if line[:1] in (" ", "\t"):
            if current:  # a first line that is a continuation is dropped
                current.append(line)
            continue
        if current:
            yield _field(current)
            current = []
        if line.startswith("From "):
            if number == len(lines) - 1:
                return  # the parser takes it for the body's first line
            continue  # an envelope line, not a header
        if line.find(":") > 0:
            current = [line]
    if current:
        yield _field(current)


def _field(lines: List[str]) -> Tuple[str, str]:
    name, value = lines[0].split(":", 1)
    return name, "\n".join([value.lstrip(" \t"), *lines[1:]]).rstrip("\r\n")


def _redent(value: str) -> str:
    return textwrap.dedent(" " * 8 + value) if value and "\n" in value else value


def read_header_text(path: pathlib.Path) -> Optional[str]:
    """The METADATA file's text up to its first blank line (all of it when there is none), line endings made
    ``\\n`` as ``read_text`` makes them; None when it is missing or empty (importlib then reads other files).

    :raises InstallError: it is not UTF-8 up to there, or its header block is over :data:`MAX_HEADER_BYTES`.
    """
    try:
        with path.open("rb") as stream:
            data = _read_header_bytes(stream, path)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return None
    if not data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InstallError(
            "cannot read {}: it is not UTF-8 ({})".format(path, exc.reason),
            hint="the wheel that installed it is broken; do not use this bundle",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_header_bytes(stream: BinaryIO, path: pathlib.Path) -> bytes:
    data = bytearray()
    while True:
        chunk = stream.read(_CHUNK)
        start = max(0, len(data) - 2)  # a blank line may straddle two chunks
        data += chunk
        found = _BLANK_LINE.search(data, start)
        if found:
            return bytes(data[: found.start() + 1])
        if not chunk:
            return bytes(data)
        if len(data) > MAX_HEADER_BYTES:
            raise InstallError(
                "cannot read {}: its header block is larger than {} bytes".format(path, MAX_HEADER_BYTES),
                hint="the wheel that installed it is broken; do not use this bundle",
            )


def read_distributions(site_dirs: Sequence[str]) -> List[DistInfo]:
    """Every distribution in ``site_dirs``, in ``importlib.metadata.distributions(path=...)`` order, the first of
    each name only (as on ``sys.path``); a METADATA without a ``Name`` is skipped.

    :raises InstallError: a METADATA cannot be read (not UTF-8, an oversized header block).
    """
    found: Dict[str, DistInfo] = {}
    for path in _candidates(site_dirs):
        info = _read_one(path)
        if info is not None and info.name and info.name not in found:
            found[info.name] = info
    return list(found.values())


def _candidates(site_dirs: Sequence[str]) -> Iterator[pathlib.Path]:
    """The ``*.dist-info``/``*.egg-info`` entries of each directory, in importlib.metadata's order."""
    for site in site_dirs:
        try:
            children = [path.name for path in pathlib.Path(site or ".").iterdir()]
        except OSError:
            continue
        chosen = [child for child in children if child.lower().endswith(_INFO_SUFFIXES)]
        for child in _importlib_order(chosen):
            yield pathlib.Path(site, child)


def _importlib_order(children: List[str]) -> List[str]:
    """3.9 walks the directory listing; 3.10+ groups the entries by their normalized name, in first-seen order
    (``importlib.metadata.Lookup``)."""
    if sys.version_info < (3, 10):
        return children
    groups: Dict[str, List[str]] = {}
    for child in children:
        stem = child.lower().rpartition(".")[0].partition("-")[0]
        groups.setdefault(re.sub(r"[-_.]+", "-", stem).lower().replace("-", "_"), []).append(child)
    return [child for group in groups.values() for child in group]


def _read_one(path: pathlib.Path) -> Optional[DistInfo]:
    if path.name.lower().endswith(".dist-info") and path.is_dir():
        text = read_header_text(path / "METADATA")
        if text is not None:
            headers = parse_headers(text)
            requires = _all(headers, "requires-dist")
            if requires or not (path / "requires.txt").exists():
                return _info(headers, requires, path)
    return _read_with_importlib(path)


def _info(headers: List[Tuple[str, str]], requires: Tuple[str, ...], path: pathlib.Path) -> DistInfo:
    name = _first(headers, "name")
    return DistInfo(
        name=canonicalize_name(name or ""),
        version=_first(headers, "version"),
        requires=requires,
        requires_python=_first(headers, "requires-python"),
        extras=_all(headers, "provides-extra"),
        path=str(path),
    )


def _first(headers: Iterable[Tuple[str, str]], key: str) -> Optional[str]:
    return next((value for name, value in headers if name.lower() == key), None)


def _all(headers: Iterable[Tuple[str, str]], key: str) -> Tuple[str, ...]:
    return tuple(value for name, value in headers if name.lower() == key)


def _read_with_importlib(path: pathlib.Path) -> Optional[DistInfo]:
    """The cases the fast path leaves to importlib.metadata (rare: wheels install ``.dist-info`` directories)."""
    dist = importlib_metadata.PathDistribution(path)
    try:
        metadata = dist.metadata
    except (
        TypeError,
        ValueError,
    ) as exc:  # no metadata file at all (importlib fails with TypeError), not UTF-8
        raise InstallError(
            "cannot read the metadata of {}: {}".format(path, exc),
            hint="the wheel that installed it is broken; do not use this bundle",
        ) from None
    headers = list(cast("Message", metadata).items())
    return _info(headers, tuple(dist.requires or ()), path)
