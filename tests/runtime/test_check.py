from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from netbundle.runtime.check import (
    CHANGED,
    EXTRA,
    MISSING,
    DistributionDrift,
    DriftReport,
    FileDrift,
    diff_distributions,
    diff_files,
    is_checked_entry,
    record_digest,
)


def test_diff_distributions_finds_missing_extra_and_changed() -> None:
    found = diff_distributions({"Alpha_X": "1.0", "beta": "2.0", "same": "1"}, {"alpha-x": "1.1", "gamma": "3", "same": "1"}, "receipt")  # fmt: skip
    assert [(d.name, d.kind, d.expected, d.installed) for d in found] == [
        ("alpha-x", CHANGED, "1.0", "1.1"),
        ("beta", MISSING, "2.0", None),
        ("gamma", EXTRA, None, "3"),
    ]
    assert [d.describe() for d in found] == [
        "alpha-x is 1.1, the receipt says 1.0",
        "beta 2.0 is missing (expected by the receipt)",
        "gamma 3 is installed but not in the receipt",
    ]


def test_no_drift_when_equal() -> None:
    assert diff_distributions({"a": "1"}, {"A": "1"}, "bundle") == []


def test_record_digest_matches_the_wheel_record_form() -> None:
    data = b"print('hi')\n"
    expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    assert record_digest(data) == "sha256=" + expected


@pytest.mark.parametrize(
    ("path", "spec", "checked"),
    [
        ("a/__init__.py", "sha256=abc", True),
        ("a/__pycache__/x.cpython-311.pyc", "sha256=abc", False),
        ("a-1.0.dist-info/RECORD", None, False),
        ("a-1.0.dist-info/INSTALLER", "", False),
        ("a/x.py", "md5=abc", False),
    ],
)
def test_which_record_entries_are_checked(path: str, spec: str | None, checked: bool) -> None:
    assert is_checked_entry(path, spec) is checked


def test_diff_files() -> None:
    expected = {"a/x.py": "sha256=1", "a/y.py": "sha256=2", "a/z.py": "sha256=3"}
    actual = {"a/x.py": "sha256=1", "a/y.py": "sha256=9", "a/z.py": None}
    assert diff_files("a", expected, actual) == [
        FileDrift("a", "a/y.py", CHANGED),
        FileDrift("a", "a/z.py", MISSING),
    ]


def test_report_exit_code_json_and_text(tmp_path: Path) -> None:
    clean = DriftReport(tmp_path, 2, "demo-1", (), (), 10, 3)
    assert (clean.has_drift, clean.exit_code) == (False, 0)
    assert clean.render_text().splitlines() == [
        f"no drift: generation 2 of {tmp_path} (bundle demo-1) vs its receipt",
        "10 files checked by RECORD hash, 3 skipped (.pyc or no hash in RECORD)",
    ]
    drift = DriftReport(
        tmp_path, 2, "demo-1", (DistributionDrift("a", MISSING, "1", None, "bundle"),),
        (FileDrift("b", "b/x.py", CHANGED),), 10, 3, bundle="b.tar",
    )  # fmt: skip
    assert (drift.has_drift, drift.exit_code) == (True, 22)
    assert drift.render_text().splitlines()[0].startswith("DRIFT: generation 2")
    assert drift.render_text().splitlines()[2:] == [
        "  a 1 is missing (expected by the bundle)",
        "  b: b/x.py changed",
    ]
    assert drift.to_json()["distributions"][0]["kind"] == "missing"
    assert drift.to_json()["files"] == [{"distribution": "b", "path": "b/x.py", "kind": "changed"}]
