"""The server's pure HTTP decisions: routes (and refusals), PEP 691 negotiation, byte ranges, ETags."""

from __future__ import annotations

import pytest

from netbundle.runtime.serve import protocol
from netbundle.runtime.serve.index import HTML_TYPE, JSON_TYPE, LEGACY_HTML_TYPE
from netbundle.runtime.serve.protocol import ByteRange, Route

PAGES = {"/simple/", "/simple/alpha/", "/simple/ruamel-yaml/"}
FILES = {"alpha-1.0-py3-none-any.whl", "alpha-1.0.tar.gz"}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/simple/", Route(protocol.PAGE, "/simple/")),
        ("/simple/alpha/", Route(protocol.PAGE, "/simple/alpha/")),
        ("/simple/alpha/?format=x", Route(protocol.PAGE, "/simple/alpha/")),
        ("/simple/Ruamel.YAML/", Route(protocol.REDIRECT, "/simple/ruamel-yaml/")),
        ("/simple/alpha", Route(protocol.REDIRECT, "/simple/alpha/")),
        ("/simple", Route(protocol.REDIRECT, "/simple/")),
        ("/", Route(protocol.REDIRECT, "/simple/")),
        ("/files/alpha-1.0-py3-none-any.whl", Route(protocol.FILE, "alpha-1.0-py3-none-any.whl")),
        (
            "/files/alpha-1.0-py3-none-any.whl.metadata",
            Route(protocol.METADATA, "alpha-1.0-py3-none-any.whl"),
        ),
        ("/files/alpha%2D1.0.tar.gz", Route(protocol.FILE, "alpha-1.0.tar.gz")),
        ("/simple/nothing/", Route(protocol.NOT_FOUND)),
        ("/files/", Route(protocol.NOT_FOUND)),
        ("/files/other.whl", Route(protocol.NOT_FOUND)),
        ("/wheels/alpha-1.0-py3-none-any.whl", Route(protocol.NOT_FOUND)),
        ("/netbundle/manifest.json", Route(protocol.NOT_FOUND)),
        ("/simple/alpha/extra/", Route(protocol.NOT_FOUND)),
    ],
)
def test_routes(target: str, expected: Route) -> None:
    assert protocol.route(target, PAGES, FILES) == expected


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("/files/../netbundle/manifest.json", "a dot segment"),
        ("/files/%2e%2e/netbundle/manifest.json", "a dot segment"),
        ("/files/%2E%2E%2Fnetbundle%2Fmanifest.json", "a dot segment"),
        ("/files/%252e%252e/etc/passwd", "a dot segment"),
        ("/files/%25252e%25252e/etc/passwd", "a dot segment"),
        ("/simple/./alpha/", "a dot segment"),
        ("/files/..%5c..%5cetc%5cpasswd", "a backslash"),
        ("/files/alpha\\..\\x", "a backslash"),
        ("/files/%00alpha", "a control character"),
        ("//etc/passwd", "an empty segment"),
        ("/files//etc/passwd", "an empty segment"),
        ("http://127.0.0.1/simple/", "not an origin-form path"),
        ("*", "not an origin-form path"),
        ("/files/%ff%fe", "not UTF-8 after percent-decoding"),
    ],
)
def test_hostile_paths_are_refused_with_a_reason(target: str, reason: str) -> None:
    assert protocol.route(target, PAGES, FILES) == Route(protocol.REFUSED, reason=reason)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, LEGACY_HTML_TYPE),
        ("", LEGACY_HTML_TYPE),
        # pip's header
        (f"{JSON_TYPE}, {HTML_TYPE}; q=0.1, text/html; q=0.01", JSON_TYPE),
        # uv's and old clients'
        (f"{JSON_TYPE}, {HTML_TYPE};q=0.2, text/html;q=0.01", JSON_TYPE),
        ("text/html", LEGACY_HTML_TYPE),
        (HTML_TYPE, HTML_TYPE),
        (f"{JSON_TYPE};q=0.5, {HTML_TYPE}", HTML_TYPE),
        ("*/*", LEGACY_HTML_TYPE),
        ("text/html,application/xhtml+xml,*/*;q=0.8", LEGACY_HTML_TYPE),
        (f"*/*, {JSON_TYPE}", JSON_TYPE),
        ("application/*", HTML_TYPE),
        (f"{JSON_TYPE};q=0, */*;q=0.1", LEGACY_HTML_TYPE),
        ("application/json", None),
        (f"{JSON_TYPE};q=0", None),
        ("image/png, text/plain", None),
        ("text/html;q=bogus", None),
    ],
)
def test_negotiation(accept: str | None, expected: str | None) -> None:
    assert protocol.negotiate(accept) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, ByteRange(protocol.FULL, 0, 99)),
        ("bytes=0-9", ByteRange(protocol.PARTIAL, 0, 9)),
        ("bytes=90-", ByteRange(protocol.PARTIAL, 90, 99)),
        ("bytes=90-500", ByteRange(protocol.PARTIAL, 90, 99)),
        ("bytes=-10", ByteRange(protocol.PARTIAL, 90, 99)),
        ("bytes=-500", ByteRange(protocol.PARTIAL, 0, 99)),
        ("Bytes=5-5", ByteRange(protocol.PARTIAL, 5, 5)),
        ("bytes = 5-5", ByteRange(protocol.FULL, 0, 99)),
        ("bytes=100-", ByteRange(protocol.UNSATISFIABLE)),
        ("bytes=100-200", ByteRange(protocol.UNSATISFIABLE)),
        ("bytes=-0", ByteRange(protocol.UNSATISFIABLE)),
        ("bytes=9-3", ByteRange(protocol.FULL, 0, 99)),
        ("bytes=0-1,5-6", ByteRange(protocol.FULL, 0, 99)),
        ("bytes=-", ByteRange(protocol.FULL, 0, 99)),
        ("items=0-1", ByteRange(protocol.FULL, 0, 99)),
        ("bytes=abc", ByteRange(protocol.FULL, 0, 99)),
    ],
)
def test_ranges(header: str | None, expected: ByteRange) -> None:
    assert protocol.parse_range(header, 100) == expected


def test_an_empty_body_has_no_satisfiable_range() -> None:
    assert protocol.parse_range("bytes=0-", 0) == ByteRange(protocol.UNSATISFIABLE)
    assert protocol.parse_range("bytes=-1", 0) == ByteRange(protocol.UNSATISFIABLE)


def test_if_range_with_another_etag_means_the_whole_body() -> None:
    assert protocol.parse_range("bytes=0-9", 100, '"old"', '"new"') == ByteRange(protocol.FULL, 0, 99)
    assert protocol.parse_range("bytes=0-9", 100, '"new"', '"new"') == ByteRange(protocol.PARTIAL, 0, 9)


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ('"abc"', True),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ('"x", W/"y"', False),
        ("*", True),
        ('"ab"', False),
        ("abc", False),
    ],
)
def test_if_none_match(header: str | None, matches: bool) -> None:
    assert protocol.etag_matches(header, '"abc"') is matches
