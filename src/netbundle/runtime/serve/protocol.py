"""The server's HTTP decisions, as pure functions: which resource a request path names, which page type an
``Accept`` header gets (PEP 691), which byte range a ``Range`` header asks for, whether an ``ETag`` matches.

Written by hand because the standard library has none of them (``http.server`` serves directories, which is
exactly what this server must not do). Nothing here reads a socket or a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from .index import FILES_PREFIX, METADATA_SUFFIX, PAGE_TYPES, SIMPLE_PREFIX, normalize_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Container, List, Optional, Tuple

#: Route kinds.
PAGE = "page"
FILE = "file"
METADATA = "metadata"
REDIRECT = "redirect"
NOT_FOUND = "not-found"
REFUSED = "refused"


@dataclass(frozen=True)
class Route:
    """What a request path names: ``kind`` and its key (the page path, a file name, or a redirect location)."""

    kind: str
    key: str = ""
    reason: str = ""


def route(target: str, pages: Container[str], files: Container[str]) -> Route:
    """The resource a request target names, given the page paths and file names that exist.

    Only exact names of existing pages and files are reachable. Anything that looks like an attempt to name
    something else (a ``..`` or ``.`` segment in any encoding, a backslash, a NUL or control byte, an empty
    segment, an absolute URI or a path not starting with ``/``) is REFUSED with the reason, not merely not found.
    """
    path = target.split("?", 1)[0].split("#", 1)[0]
    reason = unsafe_reason(path)
    if reason:
        return Route(REFUSED, reason=reason)
    path = unquote(path, errors="strict")
    if path in ("/", SIMPLE_PREFIX[:-1]):
        return Route(REDIRECT, SIMPLE_PREFIX)
    if path.startswith(SIMPLE_PREFIX):
        return _project_route(path, pages)
    if path.startswith(FILES_PREFIX):
        name = path[len(FILES_PREFIX) :]
        if name in files:
            return Route(FILE, name)
        if name.endswith(METADATA_SUFFIX) and name[: -len(METADATA_SUFFIX)] in files:
            return Route(METADATA, name[: -len(METADATA_SUFFIX)])
    return Route(NOT_FOUND)


def _project_route(path: str, pages: Container[str]) -> Route:
    if path in pages:
        return Route(PAGE, path)
    rest = path[len(SIMPLE_PREFIX) :].rstrip("/")
    if "/" not in rest:
        wanted = SIMPLE_PREFIX + normalize_name(rest) + "/"
        if wanted in pages:  # PEP 503: a non-normalized name (or a missing slash) redirects to the real page
            return Route(REDIRECT, wanted)
    return Route(NOT_FOUND)


def unsafe_reason(raw_path: str) -> str:
    """Why a raw (still percent-encoded) request path is refused; empty when it is acceptable."""
    if not raw_path.startswith("/"):
        return "not an origin-form path"
    decoded = raw_path
    for _ in range(3):  # also catch double and triple encoding (%252e%252e)
        try:
            decoded = unquote(decoded, errors="strict")
        except UnicodeDecodeError:
            return "not UTF-8 after percent-decoding"
        if "\\" in decoded:
            return "a backslash"
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in decoded):
            return "a control character"
        segments = decoded.split("/")[1:]
        if any(s in (".", "..") for s in segments):
            return "a dot segment"
        if any(s == "" for s in segments[:-1]):
            return "an empty segment"
        if "%" not in decoded:
            break
    return ""


# --- content negotiation (PEP 691) ---------------------------------------------------------------------------------


def negotiate(accept: Optional[str]) -> Optional[str]:
    """The page type to send for an ``Accept`` header; None: none is acceptable (406).

    No header means ``text/html`` (PEP 691: clients that do not ask get the legacy format). Each offered type
    gets the quality of the most specific range that matches it; the highest quality wins, then the most
    specific match, then the server's order: JSON first for a client that names the types, legacy HTML first for
    one that only sends a wildcard (a browser, curl).
    """
    if accept is None or not accept.strip():
        return PAGE_TYPES[-1]
    ranges = _parse_accept(accept)
    best: Optional[Tuple[float, int, int]] = None
    chosen = None
    for order, offered in enumerate(PAGE_TYPES):
        match = _quality(offered, ranges)
        if match is None or match[0] <= 0:
            continue
        # exact matches follow the server's order (JSON first); a wildcard alone gets the legacy HTML first
        score = (match[0], match[1], -order if match[1] == 2 else order)
        if best is None or score > best:
            best, chosen = score, offered
    return chosen


def _parse_accept(accept: str) -> List[Tuple[str, float]]:
    ranges = []
    for item in accept.split(","):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        if not media:
            continue
        quality = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        ranges.append((media, quality))
    return ranges


def _quality(offered: str, ranges: List[Tuple[str, float]]) -> Optional[Tuple[float, int]]:
    """``(quality, specificity)`` of the most specific range matching ``offered`` (2 exact, 1 type/*, 0 */*)."""
    main = offered.split("/", 1)[0]
    found: Optional[Tuple[float, int]] = None
    for media, quality in ranges:
        specificity = 2 if media == offered else 1 if media == main + "/*" else 0 if media == "*/*" else -1
        if specificity >= 0 and (found is None or specificity > found[1]):
            found = (quality, specificity)
    return found


# --- conditional and range requests (RFC 9110) ---------------------------------------------------------------------


def etag_matches(header: Optional[str], etag: str) -> bool:
    """``If-None-Match``: does any listed tag match ``etag`` (weak comparison), or is it ``*``?"""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    wanted = _opaque(etag)
    return any(_opaque(tag) == wanted for tag in re.findall(r'(?:W/)?"[^"]*"', header))


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


#: The answer to a Range header: serve it all, serve one range, or 416.
FULL = "full"
PARTIAL = "partial"
UNSATISFIABLE = "unsatisfiable"


@dataclass(frozen=True)
class ByteRange:
    """``kind`` is FULL, PARTIAL (``first``..``last`` inclusive) or UNSATISFIABLE."""

    kind: str
    first: int = 0
    last: int = -1


_RANGE = re.compile(r"^bytes=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def parse_range(
    header: Optional[str], size: int, if_range: Optional[str] = None, etag: str = ""
) -> ByteRange:
    """The byte range to send for a ``Range`` header on a body of ``size`` bytes.

    Only a single range is honoured: several ranges, or a header that does not parse, are ignored (FULL), which
    RFC 9110 allows. An ``If-Range`` that is not our exact ``etag`` also means FULL (the client's copy is stale).
    """
    if header is None or (if_range is not None and if_range.strip() != etag):
        return ByteRange(FULL, 0, size - 1)
    match = _RANGE.match(header.strip())
    if match is None:
        return ByteRange(FULL, 0, size - 1)
    start, end = match.groups()
    if not start and not end:
        return ByteRange(FULL, 0, size - 1)
    if not start:  # a suffix: the last N bytes
        length = int(end)
        if length == 0 or size == 0:
            return ByteRange(UNSATISFIABLE)
        return ByteRange(PARTIAL, max(size - length, 0), size - 1)
    first = int(start)
    if end and int(end) < first:  # not a valid range-spec: ignored
        return ByteRange(FULL, 0, size - 1)
    if first >= size:
        return ByteRange(UNSATISFIABLE)
    return ByteRange(PARTIAL, first, min(int(end), size - 1) if end else size - 1)
