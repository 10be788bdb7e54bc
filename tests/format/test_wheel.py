"""Wheels that would write outside the venv are refused before pip or installer sees them (issue 14, finding 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


def reference_problems(names: list[str], record: str) -> list[str]:
    """The per-name loop ``wheel_problems`` ran before it screened the names in bulk (the exact checks only)."""
    import csv
    import io

    from netbundle.format.wheel import _data_problem

    problems = []
    for name in names:
        if path_problem(name) or _data_problem(name):
            problems.append(f"member {name!r} {path_problem(name) or _data_problem(name)}")
    try:
        rows = list(csv.reader(io.StringIO(record)))
    except csv.Error as exc:
        return [*problems, f"RECORD cannot be read: {exc}"]
    for row in rows:
        if row and (path_problem(row[0]) or _data_problem(row[0])):
            problems.append(f"RECORD path {row[0]!r} {path_problem(row[0]) or _data_problem(row[0])}")
    return problems


NAME_PARTS = st.sampled_from(
    ["pkg", "a.py", ".", "..", "", "x.data", "p-1.data", "scripts", "etc", ".hidden", "..x", "C:", "\\", "\n",
     "\x00", "\t", "\x7f", ":", " "]
)  # fmt: skip
NAMES = st.lists(st.lists(NAME_PARTS, max_size=4).map("/".join) | st.text(max_size=8), max_size=8)


@settings(max_examples=400, deadline=None)
@given(names=NAMES, record_names=NAMES)
def test_the_bulk_screen_finds_exactly_what_the_per_name_checks_find(
    names: list[str], record_names: list[str]
) -> None:
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([name, "sha256=x", "1"] for name in record_names)
    assert wheel_problems(names, buffer.getvalue(), "") == reference_problems(names, buffer.getvalue())


@pytest.mark.parametrize(
    "name",
    ["a/./b", "a/..", "./a", "..", ".", "a//b", "/a", "", "C:x", "a\\b", "a\nb", "a\x00", "x.data/etc/y",
     "pkg/.hidden/../../x", "ok/.git/x//"],
)  # fmt: skip
def test_every_kind_of_bad_name_is_found_among_many_plain_ones(name: str) -> None:
    plain = [f"pkg/module{i}.py" for i in range(500)] + [
        "pkg/.hidden/x",
        "pkg-1.0.data/scripts/x",
        "pkg/a.b/",
    ]
    names = [*plain[:250], name, *plain[250:]]
    assert wheel_problems(names, "", "") == reference_problems(names, "")


def test_a_record_csv_cannot_parse_is_refused_not_a_crash(tmp_path: Path) -> None:
    import zipfile

    wheel = tmp_path / "alpha-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("alpha/__init__.py", "")
        archive.writestr("alpha-1.0.dist-info/RECORD", "alpha/__init__.py,,\nalpha/x\ry.py,,\n")
    with pytest.raises(
        BundleFormatError, match=r"would write outside the environment: RECORD cannot be read"
    ):
        check_wheel(wheel, "alpha")


def test_an_install_checks_the_wheels_of_its_target_and_the_pip_wheel(tmp_path: Path) -> None:
    from tests.support.bundles import make_keypair, make_target_bundle

    from netbundle.format.tar import verify_bundle
    from netbundle.format.trust import TrustPolicy
    from netbundle.format.wheel import check_install_wheels, install_wheels

    clean = make_wheel(tmp_path / "w", "alpha", "1.0")
    hostile = make_wheel(
        tmp_path / "w", "beta", "1.0", entry_points="[console_scripts]\n../../x = beta:main\n"
    )
    key = make_keypair(tmp_path / "k")
    path = make_target_bundle(
        tmp_path / "b.tar",
        targets={"cp311-manylinux_2_28_x86_64": [clean], "cp312-manylinux_2_28_x86_64": [clean, hostile]},
        keys=(key,),
    )
    bundle = verify_bundle(path, TrustPolicy(keys=(key.public,)), tmp_path / "staging")
    own = install_wheels(bundle.manifest, "cp311-manylinux_2_28_x86_64")
    assert own[0] == f"wheels/{clean.name}" and own[1:] == (
        [bundle.manifest.pip_wheel] if bundle.manifest.pip_wheel else []
    )
    check_install_wheels(bundle, "cp311-manylinux_2_28_x86_64")  # the hostile wheel is not this target's
    with pytest.raises(BundleFormatError, match=rf"wheel wheels/{hostile.name} would write outside") as info:
        check_install_wheels(bundle, "cp312-manylinux_2_28_x86_64")
    assert info.value.exit_code == 10
