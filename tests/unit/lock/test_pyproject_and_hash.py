from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from netbundle.errors import InputError
from netbundle.lock.contenthash import content_hash, is_fresh
from netbundle.lock.poetry import load_lock
from netbundle.lock.pyproject import parse_pyproject

REPO = Path(__file__).resolve().parents[3]
PROJECTS = [
    REPO,
    REPO.parent / "shared/fixtures/poetry-locks/p1-groups",
    REPO.parent / "shared/fixtures/poetry-locks/p7-dep-extras",
    REPO.parent / "shared/fixtures/netops-sample",
    REPO / "tests/data/locks/l20-groups",
    REPO / "tests/data/locks/l21-sources",
]


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_content_hash_matches_what_poetry_wrote(project: Path) -> None:
    data = tomllib.loads((project / "pyproject.toml").read_text())
    lock = load_lock(project / "poetry.lock")
    assert is_fresh(data, lock)
    data.setdefault("project", {}).setdefault("dependencies", []).append("extra-thing>=1")
    assert not is_fresh(data, lock)


def test_poetry_before_2_3_hashed_without_dependency_groups() -> None:
    data = {"project": {"dependencies": ["a"]}, "dependency-groups": {"dev": ["b"]}}
    from netbundle.lock.model import Lock

    old = Lock(lock_version="2.1", content_hash=content_hash(data, with_dependency_groups=False),
               python_versions="*", packages=(), poetry_version="2.2.1")  # fmt: skip
    assert is_fresh(data, old)
    new = Lock(
        lock_version="2.1",
        content_hash=old.content_hash,
        python_versions="*",
        packages=(),
        poetry_version="2.3.0",
    )
    assert not is_fresh(data, new)


def test_both_project_styles_and_pep735() -> None:
    poetry1 = parse_pyproject(
        {"tool": {"poetry": {"name": "Old_Style", "version": "1.0", "dependencies": {"python": "^3.9", "Requests": "*",
         "pywin32": {"version": "*", "platform": "win32"}}, "dev-dependencies": {"pytest": "*"},
         "group": {"docs": {"optional": True, "dependencies": {"mkdocs": "*"}}},
         "source": [{"name": "corp", "url": "https://u:p@corp.example/simple/", "secondary": True}]}}}
    )  # fmt: skip
    assert poetry1.name == "old-style" and poetry1.requires_python == "^3.9"
    assert poetry1.groups["main"].dependencies == ("requests", "pywin32")
    assert poetry1.groups["main"].requirements[1].marker == 'sys_platform == "win32"'
    assert poetry1.groups["docs"].optional and poetry1.groups["dev"].dependencies == ("pytest",)
    assert poetry1.sources[0].priority == "secondary"
    pep621 = parse_pyproject(
        {"project": {"name": "new", "version": "2", "requires-python": ">=3.10",
                     "dependencies": ["httpx[socks]>=0.27; python_version < '3.13'"],
                     "optional-dependencies": {"YAML": ["pyyaml"]}},
         "dependency-groups": {"lint": ["ruff"], "ci": [{"include-group": "lint"}, "pytest"]},
         "tool": {"netbundle": {"groups": ["junos"], "index-url": "http://127.0.0.1:1/simple/",
                                "targets": [{"name": "t"}], "rehearse": {"smoke": ["new --help"]}}}}
    )  # fmt: skip
    httpx = pep621.groups["main"].requirements[0]
    assert (httpx.extras, httpx.marker) == (("socks",), 'python_version < "3.13"')
    assert pep621.groups["main"].requirements[1].marker == 'extra == "yaml"'
    assert pep621.extras == {"yaml": ("pyyaml",)}
    assert pep621.groups["ci"].dependencies == ("ruff", "pytest")
    assert pep621.netbundle.smoke == ("new --help",) and pep621.netbundle.groups == ("junos",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"project": {"version": "1"}}, "no project name"),
        ({"project": {"name": "x", "dependencies": ["not a req !!"]}}, "invalid requirement"),
        ({"project": {"name": "x"}, "dependency-groups": {"a": [{"include-group": "b"}]}}, "unknown group 'b'"),
        ({"project": {"name": "x"}, "dependency-groups": {"a": [{"include-group": "a"}]}}, "include-group cycle"),
        ({"project": {"name": "x"}, "tool": {"poetry": {"source": [{"name": "s", "url": "u", "priority": "top"}]}}},
         "unknown priority 'top'"),
        ({"project": {"name": "x"}, "tool": {"poetry": {"source": [{"name": "s"}]}}}, "has no url"),
        ({"project": "x"}, "[project] must be a table"),
    ],
)  # fmt: skip
def test_pyproject_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_pyproject(data, where="demo/pyproject.toml")
    assert message in str(info.value)
    assert "demo/pyproject.toml" in str(info.value)
