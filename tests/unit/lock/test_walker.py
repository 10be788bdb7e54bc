"""The lock 1.x/2.0 walk chooses as poetry-plugin-export's walker does: one version per requirement and Python range."""

from __future__ import annotations

import textwrap

import pytest
from tests.support.requirements import CPYTHON_MATRIX

from netbundle.errors import LockError
from netbundle.lock import markers as m
from netbundle.lock.groups import GroupSelection, select_for_environment, select_packages
from netbundle.lock.poetry import parse_lock
from netbundle.lock.pyproject import parse_pyproject
from netbundle.lock.space import MarkerSpace


def package(name: str, version: str, python: str = "*", deps: str = "") -> str:
    digest = (name + version).encode().hex()[:64].ljust(64, "0")
    text = f"""
    [[package]]
    name = "{name}"
    version = "{version}"
    description = ""
    optional = false
    python-versions = "{python}"
    files = [{{file = "{name}-{version}-py3-none-any.whl", hash = "sha256:{digest}"}}]
    """
    if deps:
        text += "\n    [package.dependencies]\n" + textwrap.indent(textwrap.dedent(deps), "    ")
    return text


def lock(*packages: str) -> str:
    body = "".join(packages) + '\n    [metadata]\n    lock-version = "2.0"\n    python-versions = ">=3.9"\n'
    return textwrap.dedent(body + '    content-hash = "0"\n')


def project(dependencies: dict[str, object], name: str = "demo") -> object:
    return parse_pyproject(
        {"tool": {"poetry": {"name": name, "dependencies": {"python": ">=3.9,<4", **dependencies}}}}
    )


def chosen(proj: object, text: str) -> dict[str, dict[str, str]]:
    """python_version -> name -> version, over the CPython matrix on Linux x86_64."""
    selected = select_packages(proj, parse_lock(text), GroupSelection())  # type: ignore[arg-type]
    return {
        env["python_version"]: {
            s.package.name: s.package.version for s in select_for_environment(selected, env)
        }
        for env in CPYTHON_MATRIX
        if env["sys_platform"] == "linux" and env["platform_machine"] == "x86_64"
    }


# numpy-like: 1.24 supports 3.8+, 1.26 supports 3.9+, 2.0 supports 3.10+
NUMPY = (
    package("numpy", "1.24.4", ">=3.8"),
    package("numpy", "1.26.4", ">=3.9,<3.13"),
    package("numpy", "2.0.0", ">=3.10"),
)


def test_a_dependency_is_split_by_its_candidates_python_ranges_and_gets_one_version_each() -> None:
    text = lock(package("pandas", "2.0", deps='numpy = ">=1.20"'), *NUMPY)
    result = chosen(project({"pandas": "*"}), text)
    assert {py: v["numpy"] for py, v in result.items()} == {
        "3.9": "1.26.4",
        "3.10": "2.0.0",
        "3.11": "2.0.0",
        "3.12": "2.0.0",
        "3.13": "2.0.0",
    }


def test_the_constraint_narrows_the_choice_within_a_range() -> None:
    text = lock(package("pandas", "2.0", deps='numpy = "<2"'), *NUMPY)
    result = chosen(project({"pandas": "*"}), text)
    assert {py: v["numpy"] for py, v in result.items()} == {
        "3.9": "1.26.4",
        "3.10": "1.26.4",
        "3.11": "1.26.4",
        "3.12": "1.26.4",
        "3.13": "1.24.4",  # 1.26.4 stops at 3.12
    }


def test_a_version_chosen_before_is_kept_for_overlapping_environments() -> None:
    # a (first) takes numpy 2.0 on 3.10+; b's ">=1.20" overlaps and must keep it, not pick anew
    text = lock(
        package("a", "1", deps='numpy = ">=2"'),
        package("b", "1", deps='numpy = ">=1.20"'),
        *NUMPY,
    )
    result = chosen(project({"a": {"version": "*", "python": ">=3.10"}, "b": "*"}), text)
    assert result["3.9"]["numpy"] == "1.26.4"
    assert {result[py]["numpy"] for py in ("3.10", "3.11", "3.12", "3.13")} == {"2.0.0"}


def test_a_later_requirement_the_chosen_version_does_not_fit_is_refused_with_poetrys_advice() -> None:
    text = lock(
        package("a", "1", deps='numpy = ">=2"'),
        package("b", "1", deps='numpy = "<2"'),
        *NUMPY,
    )
    with pytest.raises(
        LockError, match=r"b 1 requires numpy <2 where numpy 2\.0\.0 was already chosen"
    ) as caught:
        chosen(project({"a": {"version": "*", "python": ">=3.10"}, "b": "*"}), text)
    assert "re-lock with Poetry 2" in (caught.value.hint or "")


def test_two_chosen_versions_overlapping_one_requirement_are_refused() -> None:
    text = lock(
        package("p", "1", deps='alpha = "<2"'),
        package("q", "1", deps='alpha = ">=2"'),
        package("r", "1", deps='s = "*"'),
        package("s", "1", deps='alpha = "*"'),
        package("alpha", "1.0"),
        package("alpha", "2.0"),
    )
    proj = project(
        {
            "p": {"version": "*", "markers": 'sys_platform == "win32"'},
            "q": {"version": "*", "markers": 'sys_platform == "linux"'},
            "r": "*",
        }
    )
    with pytest.raises(
        LockError, match=r"s 1 requires alpha \* where both 2\.0 and 1\.0 were already chosen"
    ):
        chosen(proj, text)


def test_disjoint_markers_choose_different_versions_without_conflict() -> None:
    text = lock(
        package("p", "1", deps='alpha = "<2"'),
        package("q", "1", deps='alpha = ">=2"'),
        package("alpha", "1.0"),
        package("alpha", "2.0"),
    )
    proj = project(
        {
            "p": {"version": "*", "markers": 'sys_platform == "win32"'},
            "q": {"version": "*", "markers": 'sys_platform != "win32"'},
        }
    )
    selected = select_packages(proj, parse_lock(text), GroupSelection())  # type: ignore[arg-type]
    for env in CPYTHON_MATRIX:
        versions = {s.package.name: s.package.version for s in select_for_environment(selected, env)}
        assert versions["alpha"] == ("1.0" if env["sys_platform"] == "win32" else "2.0")


def test_a_locked_package_that_depends_on_the_project_itself_is_followed_without_it() -> None:
    # poetry-plugin-export requires poetry; in poetry's own lock the plugin is locked, poetry is not
    text = lock(package("plugin", "1", deps='demo = ">=1"\nhelper = "*"'), package("helper", "2"))
    result = chosen(project({"plugin": "*"}, name="demo"), text)
    assert result["3.11"] == {"plugin": "1", "helper": "2"}


def test_a_missing_dependency_that_is_not_the_project_is_still_an_error() -> None:
    text = lock(package("plugin", "1", deps='other = ">=1"'))
    with pytest.raises(LockError, match="plugin 1 needs other, which is not in the lock"):
        chosen(project({"plugin": "*"}), text)


@pytest.mark.parametrize(
    ("left", "right", "empty"),
    [
        ('python_version < "3.10"', 'python_full_version >= "3.10.0"', True),
        ('python_version < "3.10"', 'python_full_version >= "3.9.1"', False),
        ('sys_platform == "win32"', 'sys_platform != "win32"', True),
        # Poetry's algebra treats variables as independent: this is not empty for it either
        ('sys_platform == "win32"', 'platform_system == "Linux"', False),
        (
            'platform_machine == "x86_64" or platform_machine == "aarch64"',
            'platform_machine == "arm64"',
            True,
        ),
        ('python_version >= "3.9" and python_version < "3.12"', 'python_version == "3.11"', False),
        ('python_version != "3.11"', 'python_version == "3.11"', True),
        ('python_version == "3.9.*"', 'python_full_version < "3.9.0"', True),
        (
            'extra == "x"',
            'python_version < "3"',
            False,
        ),  # extras count as true (without_extras); 0.x is python
    ],
)
def test_marker_space_decides_emptiness_as_poetrys_algebra(left: str, right: str, empty: bool) -> None:
    a, b = m.parse(left), m.parse(right)
    space = MarkerSpace([a, b])
    assert (space.mask(m.all_of(a, b)) == 0) is empty
    assert space.mask(m.any_of((a, b))) != 0


def test_marker_space_python_ranges() -> None:
    node = m.parse('(python_version >= "3.9" and python_version < "3.11") or python_full_version >= "3.12.1"')
    space = MarkerSpace([node])
    runs = space.python_runs(space.python_blocks(space.mask(node)))
    assert [(str(lo), str(hi) if hi else None) for lo, hi in runs] == [("3.9.0", "3.11.0"), ("3.12.1", None)]


def test_a_direct_reference_takes_only_the_package_locked_from_that_kind_of_source() -> None:
    local = package("foo", "0.9") + '\n    [package.source]\n    type = "directory"\n    url = "../foo"\n'
    text = lock(local, package("foo", "1.0"))
    result = chosen(project({"foo": {"path": "../foo", "develop": True}}), text)
    assert result["3.11"] == {"foo": "0.9"}  # not the higher 1.0 from an index
    assert chosen(project({"foo": "*"}), text)["3.11"] == {"foo": "1.0"}
