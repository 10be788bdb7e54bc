"""check: drift of the current generation against its receipt and the bundle, on a real install."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.integration.installer.conftest import MakeBundle

from netbundle.errors import PrefixError, UsageError
from netbundle.format.trust import TrustPolicy
from netbundle.runtime.check import check
from netbundle.runtime.install import install

pytestmark = pytest.mark.integration


@pytest.fixture
def installed(tmp_path: Path, bundle: MakeBundle, policy: TrustPolicy) -> tuple[Path, Path]:
    path = bundle(packages=[("alpha", "1.0"), ("beta", "2.0")])
    install(path, tmp_path / "p", policy)
    return tmp_path / "p", path


def test_a_fresh_install_has_no_drift(installed: tuple[Path, Path], policy: TrustPolicy) -> None:
    prefix, path = installed
    report = check(prefix, path, policy)
    assert not report.has_drift, report.render_text()
    assert report.files_checked > 100  # pip's own files are checked too
    assert report.files_skipped > 0  # RECORD itself, INSTALLER written by the installers
    assert report.bundle == str(path)


def test_an_edited_file_in_site_packages_is_drift(installed: tuple[Path, Path]) -> None:
    prefix, _ = installed
    module = next((prefix / "current").glob("lib/python*/site-packages/alpha/__init__.py"))
    module.write_text(module.read_text() + "import os  # patched in place\n")
    (module.parent / "__pycache__").mkdir(exist_ok=True)
    (module.parent / "__pycache__" / "x.pyc").write_bytes(b"not checked")
    report = check(prefix)
    assert [(f.distribution, f.path, f.kind) for f in report.files] == [
        ("alpha", "alpha/__init__.py", "changed")
    ]
    assert report.exit_code == 22


def test_an_uninstalled_distribution_is_drift_against_receipt_and_bundle(
    installed: tuple[Path, Path], policy: TrustPolicy
) -> None:
    prefix, path = installed
    subprocess.run(
        [str(prefix / "bin" / "python"), "-m", "pip", "uninstall", "-y", "-q", "beta"],
        check=True,
        capture_output=True,
    )
    report = check(prefix, path, policy)
    assert [(d.name, d.kind, d.against) for d in report.distributions] == [
        ("beta", "missing", "receipt"),
        ("beta", "missing", "bundle"),
    ]
    assert "beta 2.0 is missing (expected by the bundle)" in report.render_text()


def test_a_newer_bundle_shows_what_would_change(
    installed: tuple[Path, Path], bundle: MakeBundle, policy: TrustPolicy
) -> None:
    prefix, _ = installed
    newer = bundle("newer", version="2.0.0", packages=[("alpha", "1.1"), ("beta", "2.0")])
    report = check(prefix, newer, policy)
    assert [(d.name, d.kind, d.expected, d.installed) for d in report.distributions] == [
        ("alpha", "changed", "1.1", "1.0")
    ]


def test_check_needs_a_current_generation_and_a_policy_for_a_bundle(
    tmp_path: Path, installed: tuple[Path, Path]
) -> None:
    prefix, path = installed
    with pytest.raises(UsageError, match="needs a trust policy"):
        check(prefix, path)
    with pytest.raises(PrefixError, match="is not a netbundle prefix"):
        check(tmp_path / "elsewhere")


def test_files_no_record_owns_are_drift(installed: tuple[Path, Path], policy: TrustPolicy) -> None:
    prefix, path = installed
    generation = (prefix / "current").resolve()
    subprocess.run(
        [str(prefix / "bin" / "python"), "-c", "import alpha, pip"], check=True
    )  # writes __pycache__
    assert not check(prefix, path, policy).has_drift
    site = next(generation.glob("lib/python*/site-packages"))
    planted = [
        site / "sitecustomize.py",
        site / "zz-evil.pth",
        site / "usercustomize.py",
        generation / "bin" / "x",
    ]
    for file in planted:
        file.write_text("import os\n")
    (site / "__pycache__").mkdir()
    (site / "__pycache__" / "sitecustomize.cpython-311.pyc").write_bytes(b"cached")
    report = check(prefix)
    expected = sorted(str(p.relative_to(generation)) for p in planted)
    expected.append(str((site / "__pycache__" / "sitecustomize.cpython-311.pyc").relative_to(generation)))
    assert sorted(report.unowned) == sorted(expected)
    assert report.exit_code == 22
    assert "sitecustomize.py: no RECORD owns this file" in report.render_text()
    assert report.to_json()["unowned"] == list(report.unowned)
