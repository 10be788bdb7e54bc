"""lock-version 1.x (Poetry 1.0-1.2): files from [metadata.files], category ignored, read as Poetry 2.5 reads it."""

from __future__ import annotations

import textwrap

import pytest

from netbundle.errors import InputError, LockError
from netbundle.lock.groups import GroupSelection, select_packages
from netbundle.lock.poetry import parse_lock
from netbundle.lock.pyproject import parse_pyproject

H = {c: c * 64 for c in "abcdef"}

LOCK_1_1 = textwrap.dedent(
    f"""\
    [[package]]
    name = "Alpha"
    version = "1.0"
    description = ""
    category = "main"
    optional = false
    python-versions = "<3.10"

    [[package]]
    name = "Alpha"
    version = "2.0"
    description = ""
    category = "main"
    optional = false
    python-versions = ">=3.10"

    [package.dependencies]
    beta = "*"

    [[package]]
    name = "beta"
    version = "0.5"
    description = ""
    category = "dev"
    optional = false
    python-versions = "*"

    [package.source]
    type = "file"
    url = "vendor/beta-0.5-py3-none-any.whl"

    [[package]]
    name = "top"
    version = "1.0"
    description = ""
    category = "main"
    optional = false
    python-versions = "*"

    [package.dependencies]
    Alpha = "*"

    [[package]]
    name = "gamma"
    version = "3.0"
    description = ""
    category = "main"
    optional = false
    python-versions = "*"
    develop = false

    [package.source]
    type = "git"
    url = "https://git.example/gamma.git"
    reference = "main"
    resolved_reference = "0123456789abcdef0123456789abcdef01234567"

    [metadata]
    lock-version = "1.1"
    python-versions = "^3.9"
    content-hash = "0"

    [metadata.files]
    alpha = [
        {{file = "alpha-1.0-py3-none-any.whl", hash = "sha256:{H["a"]}"}},
        {{file = "alpha-2.0-py3-none-any.whl", hash = "sha256:{H["b"]}"}},
    ]
    beta = [
        {{file = "beta-0.5-py3-none-any.whl", hash = "sha256:{H["c"]}"}},
        {{file = "beta-0.5.tar.gz", hash = "sha256:{H["d"]}"}},
    ]
    top = [
        {{file = "top-1.0-py3-none-any.whl", hash = "sha256:{H["f"]}"}},
    ]
    gamma = [
        {{file = "gamma-3.0.tar.gz", hash = "sha256:{H["e"]}"}},
    ]
    """
)


def test_a_root_requirement_is_not_split_so_two_disjoint_versions_are_refused_as_by_poetry() -> None:
    project = parse_pyproject(
        {"tool": {"poetry": {"name": "demo", "dependencies": {"python": "^3.9", "alpha": "*"}}}}
    )
    with pytest.raises(LockError, match="group main requires alpha"):
        select_packages(project, parse_lock(LOCK_1_1), GroupSelection())


def test_every_version_gets_all_files_of_its_name_as_in_poetry() -> None:
    lock = parse_lock(LOCK_1_1)
    assert lock.lock_version == "1.1"
    for package in lock.find("alpha"):
        assert {f.sha256 for f in package.files} == {H["a"], H["b"]}


def test_a_file_source_gets_only_its_file_and_a_git_source_none() -> None:
    lock = parse_lock(LOCK_1_1)
    (beta,) = lock.find("beta")
    assert [f.filename for f in beta.files] == ["beta-0.5-py3-none-any.whl"]
    (gamma,) = lock.find("gamma")
    assert gamma.files == ()


def test_category_is_ignored_the_walk_from_pyproject_decides() -> None:
    project = parse_pyproject(
        {"tool": {"poetry": {"name": "demo", "dependencies": {"python": "^3.9", "top": "*"}}}}
    )
    selected = select_packages(project, parse_lock(LOCK_1_1), GroupSelection())
    chosen = {(s.package.name, s.package.version): s.marker for s in selected}
    # beta is category "dev" in the lock but alpha 2.0 (main) needs it: Poetry 2 exports it with main;
    # top's requirement of alpha is split where alpha's python-versions differ, one version each side
    assert set(chosen) == {("top", "1.0"), ("alpha", "1.0"), ("alpha", "2.0"), ("beta", "0.5")}
    assert 'python_version < "3.10"' in (chosen[("alpha", "1.0")] or "")
    assert 'python_version >= "3.10"' in (chosen[("alpha", "2.0")] or "")


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
def test_every_1x_lock_version_is_read(version: str) -> None:
    assert (
        parse_lock(LOCK_1_1.replace('lock-version = "1.1"', f'lock-version = "{version}"')).lock_version
        == version
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('lock-version = "1.1"\n', ""), "no lock-version in [metadata]: written by Poetry before 1.0"),
        (("[metadata.files]", "[metadata.hashes]"), "[metadata.hashes] lists hashes without file names"),
        (('lock-version = "1.1"', 'lock-version = "2.2"'), "lock-version 2.2 is not supported"),
        (("alpha = [", "alpha = 3\nold = ["), "[metadata.files] must map package names to lists of files"),
    ],
)
def test_unreadable_old_locks_are_refused_in_one_line(edit: tuple[str, str], message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_lock(LOCK_1_1.replace(*edit), where="old/poetry.lock")
    assert str(caught.value).startswith("old/poetry.lock: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_platform_constraint_on_a_locked_dependency_becomes_a_sys_platform_marker() -> None:
    text = LOCK_1_1.replace('beta = "*"', 'beta = {version = "*", platform = "linux || darwin"}')
    (alpha2,) = [p for p in parse_lock(text).find("alpha") if p.version == "2.0"]
    (dep,) = alpha2.dependencies
    assert dep.markers == 'sys_platform == "linux" or sys_platform == "darwin"'
