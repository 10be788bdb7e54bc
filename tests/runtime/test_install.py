from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from netbundle.errors import BundleFormatError, DowngradeError, PrefixError, UsageError
from netbundle.format.manifest import Manifest, TargetEntry
from netbundle.runtime import generations as gens
from netbundle.runtime.install import (
    INSTALLED,
    UNCHANGED,
    InstallResult,
    _last_error,
    plan_against_current,
    select_groups,
)
from netbundle.runtime.receipt import Receipt

TARGET = TargetEntry(
    name="t",
    python_version="3.11",
    implementation="cp",
    abis=(),
    platforms=("linux_x86_64",),
    marker_environment={},
    locks={"main": "locks/t/requirements-main.txt", "junos": "locks/t/requirements-junos.txt"},
    pylock="locks/t/pylock.toml",
)
MANIFEST = Manifest(
    format_version="1.0",
    bundle_id="demo-2.0-aaaa",
    project_name="demo",
    project_version="2.0",
    builder_version="tests",
    build_time="2026-02-01T00:00:00Z",
    lock_content_hash="",
    lock_sha256="0" * 64,
    groups=("cisco", "junos", "main"),
    extras=(),
    targets=(TARGET,),
    files=(),
    packages=(),
)
CURRENT = Receipt(
    generation=3,
    bundle_id="demo-2.0-aaaa",
    project="demo",
    version="2.0",
    build_time="2026-02-01T00:00:00Z",
    manifest_sha256="0" * 64,
    signers=(),
    target="t",
    groups=("main",),
    distributions={},
    site_packages=(),
    netbundle_version="0.1.0",
    installed_at="2026-02-02T00:00:00Z",
)


@pytest.mark.parametrize(
    ("asked", "chosen"),
    [(None, ("main",)), (["junos"], ("main", "junos")), (["junos", "main", "junos"], ("main", "junos"))],
)
def test_main_is_always_installed_first(asked: list[str] | None, chosen: tuple[str, ...]) -> None:
    assert select_groups(MANIFEST, TARGET, asked) == chosen


def test_an_unknown_group_lists_the_carried_ones() -> None:
    with pytest.raises(UsageError, match="does not carry group arista") as caught:
        select_groups(MANIFEST, TARGET, ["arista"])
    assert caught.value.hint == "it carries: cisco, junos, main"


def test_a_carried_group_without_a_lock_for_the_target_is_a_format_error() -> None:
    with pytest.raises(BundleFormatError, match="no lock for group cisco on target t"):
        select_groups(MANIFEST, TARGET, ["cisco"])


def test_first_install_and_same_bundle() -> None:
    assert plan_against_current(MANIFEST, "t", ("main",), None) == INSTALLED
    assert plan_against_current(MANIFEST, "t", ("main",), CURRENT) == UNCHANGED
    assert plan_against_current(MANIFEST, "t", ("main",), CURRENT, force=True) == INSTALLED
    assert plan_against_current(MANIFEST, "t", ("main", "junos"), CURRENT) == INSTALLED


@pytest.mark.parametrize(
    ("current_version", "current_built", "refused"),
    [
        ("1.9", "2026-03-01T00:00:00Z", False),  # newer version, even if built earlier
        ("2.0", "2026-01-01T00:00:00Z", False),  # same version, newer build
        ("2.0", "2026-02-01T00:00:00Z", False),  # a rebuild with the same time
        ("2.1", "2026-01-01T00:00:00Z", True),  # lower version
        ("2.0", "2026-03-01T00:00:00Z", True),  # same version, older build
        ("2.0.0", "2026-03-01T00:00:00Z", True),  # versions compare as versions
    ],
)
def test_downgrades_are_refused_unless_allowed(
    current_version: str, current_built: str, refused: bool
) -> None:
    current = replace(CURRENT, bundle_id="demo-x", version=current_version, build_time=current_built)
    if refused:
        with pytest.raises(DowngradeError, match="is older than the current generation 3") as caught:
            plan_against_current(MANIFEST, "t", ("main",), current)
        assert caught.value.hint is not None and "--allow-downgrade" in caught.value.hint
        assert plan_against_current(MANIFEST, "t", ("main",), current, allow_downgrade=True) == INSTALLED
    else:
        assert plan_against_current(MANIFEST, "t", ("main",), current) == INSTALLED


def test_unparsable_versions_fall_back_to_the_build_time() -> None:
    current = replace(CURRENT, bundle_id="x", version="weird", build_time="2026-03-01T00:00:00Z")
    with pytest.raises(DowngradeError):
        plan_against_current(replace(MANIFEST, project_version="also-weird"), "t", ("main",), current)


def test_another_project_is_refused() -> None:
    with pytest.raises(PrefixError, match="prefix holds other, not demo"):
        plan_against_current(MANIFEST, "t", ("main",), replace(CURRENT, project="other"))


@pytest.mark.parametrize(
    ("output", "line"),
    [
        ("Looking in links\nERROR: Could not find a version\nERROR: No matching distribution\n", "ERROR: No matching distribution"),
        ("a\n\nlast words\n\n", "last words"),
        ("", "no output"),
    ],
)  # fmt: skip
def test_last_error_line(output: str, line: str) -> None:
    assert _last_error(output) == line


def test_install_result_text_and_json(tmp_path: Path) -> None:
    receipt = replace(CURRENT, distributions={"alpha": "1.0"}, signers=("ABCD",))
    generation = gens.Generation(3, "0003-demo", tmp_path, receipt, True)
    result = InstallResult(INSTALLED, tmp_path, generation, 2, tmp_path / "log")
    assert result.render_text().splitlines() == [
        f"installed demo 2.0 (bundle demo-2.0-aaaa) as generation 3 in {tmp_path}",
        "target t, groups main, 1 distributions; signed by ABCD",
        f"previous generation 2 kept (rollback with: rollback --prefix {tmp_path})",
    ]
    assert result.to_json()["previous_generation"] == 2
    same = InstallResult(UNCHANGED, tmp_path, generation, None, None)
    assert same.render_text().endswith(f"is already current in {tmp_path} as generation 3; nothing to do")
    assert same.to_json()["log"] is None
