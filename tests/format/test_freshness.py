"""Signed expiry and future-dated bundles (issue 14, finding 2)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from netbundle.errors import FreshnessError
from netbundle.format.freshness import FUTURE_TOLERANCE, check_freshness, freshness_problem
from netbundle.format.manifest import (
    FORMAT_VERSION,
    ManifestError,
    canonical_json,
    manifest_to_dict,
    parse_manifest,
    parse_timestamp,
    render_manifest,
)

from .test_manifest import make_manifest

BUILT = parse_timestamp("2026-01-01T00:00:00Z")


@pytest.mark.parametrize(
    ("expires", "now", "problem"),
    [
        (None, BUILT + 10**9, ""),  # no expiry: fresh forever
        ("2026-04-01T00:00:00Z", BUILT + 86400, ""),
        ("2026-04-01T00:00:00Z", parse_timestamp("2026-04-01T00:00:00Z"), "expired at 2026-04-01T00:00:00Z"),
        (None, BUILT - FUTURE_TOLERANCE + 1, ""),  # a clock a little behind the build host's
        (None, BUILT - FUTURE_TOLERANCE - 1, "is dated 2026-01-01T00:00:00Z, in the future"),
    ],
)
def test_freshness(expires: str | None, now: int, problem: str) -> None:
    manifest = replace(make_manifest(), expires=expires)
    found = freshness_problem(manifest, now)
    assert (problem in found) if problem else found == ""
    if problem:
        with pytest.raises(FreshnessError, match=problem) as info:
            check_freshness(manifest, now)
        assert info.value.exit_code == 16 and info.value.hint and "--allow-expired" in info.value.hint
        check_freshness(manifest, now, allow_expired=True)


def test_expires_is_signed_in_format_1_1_and_round_trips() -> None:
    assert FORMAT_VERSION == "1.1"
    manifest = replace(make_manifest(), format_version=FORMAT_VERSION, expires="2026-04-01T00:00:00Z")
    raw = render_manifest(manifest)
    assert b'"expires":"2026-04-01T00:00:00Z"' in raw
    assert parse_manifest(raw) == manifest
    assert b"expires" not in render_manifest(replace(manifest, expires=None))


@pytest.mark.parametrize(
    ("value", "message"),
    [("2025-12-31T00:00:00Z", "is not after the build time"), ("soon", "not YYYY-MM-DDTHH:MM:SSZ")],
)
def test_a_bad_expiry_is_refused(value: str, message: str) -> None:
    data = manifest_to_dict(make_manifest())
    data["expires"] = value
    with pytest.raises(ManifestError, match=message):
        parse_manifest(canonical_json(data))
