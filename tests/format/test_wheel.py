"""Wheels that would write outside the venv are refused before pip or installer sees them (issue 14, finding 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.wheels import make_wheel

from netbundle.errors import BundleFormatError
from netbundle.format.wheel import check_wheel, path_problem, script_name_problem, wheel_problems


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("pkg/__init__.py", ""),
        ("pkg-1.0.data/scripts/tool", ""),
        ("../evil.py", "has a .. part"),
        ("pkg/../../evil.py", "has a .. part"),
        ("/etc/cron.d/x", "is absolute"),
        ("C:/x", "is absolute"),
        ("pkg\\..\\x", "contains a backslash"),
        ("pkg//x", "has an empty or . part"),
        ("pkg/./x", "has an empty or . part"),
        ("pkg/x\n", "contains a control character"),
        ("", "is empty"),
    ],
)
def test_path_rules(name: str, problem: str) -> None:
    assert path_problem(name) == problem


@pytest.mark.parametrize(
    ("name", "problem"),
    [("tool", ""), ("tool-3.11", ""), ("../../x", "contains a path separator"), ("a\\b", "contains a path separator"),
     ("..", "is . or .."), ("x\ty", "contains a control character"), ("", "is empty")],
)  # fmt: skip
def test_script_name_rules(name: str, problem: str) -> None:
    assert script_name_problem(name) == problem


def test_data_scheme_must_be_known() -> None:
    problems = wheel_problems(["p-1.data/etc/passwd", "p-1.data/scripts/ok"], "", "")
    expected = (
        "member 'p-1.data/etc/passwd' names the unknown install scheme 'etc' (not one of purelib, platlib, "
    )
    assert problems == [expected + "headers, scripts, data)"]


def test_record_paths_are_checked() -> None:
    record = "p/__init__.py,sha256=x,1\n../../../usr/lib/evil.py,sha256=y,2\n"
    assert wheel_problems([], record, "") == ["RECORD path '../../../usr/lib/evil.py' has a .. part"]


@pytest.mark.parametrize("group", ["console_scripts", "gui_scripts"])
def test_a_script_name_with_separators_is_refused_and_names_the_wheel(tmp_path: Path, group: str) -> None:
    wheel = make_wheel(tmp_path, "alpha", "1.0", extra_files={
        "{dist}.dist-info/entry_points.txt": f"[{group}]\nok = alpha:main\n../../x = alpha:main\n"})  # fmt: skip
    with pytest.raises(BundleFormatError, match=rf"wheel wheels/{wheel.name} would write outside the environment: "
                       rf"{group} entry point '../../x' contains a path separator") as info:  # fmt: skip
        check_wheel(wheel, f"wheels/{wheel.name}")
    assert info.value.exit_code == 10


def test_a_clean_wheel_and_other_entry_point_groups_pass(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "alpha", "1.0", extra_files={
        "{dist}.dist-info/entry_points.txt": "[console_scripts]\nalpha = alpha:main\n[other]\n../x = a:b\n"})  # fmt: skip
    check_wheel(wheel, "alpha")


def test_an_unreadable_wheel_is_a_format_error(tmp_path: Path) -> None:
    (tmp_path / "x.whl").write_bytes(b"not a zip")
    with pytest.raises(BundleFormatError, match=r"wheel x\.whl cannot be read"):
        check_wheel(tmp_path / "x.whl", "x.whl")


def test_the_real_pip_wheel_passes() -> None:
    from tests.support.bundles import pip_wheel

    check_wheel(pip_wheel(), "tools/pip.whl")
