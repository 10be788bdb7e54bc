"""The project's build cache key: the source files' paths, modes and bytes, and the epoch; nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from netbundle.wheels.build import _source_files, cached_project, project_cache_key


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "1"\n')
    (root / "pkg" / "__init__.py").write_text("X = 1\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    return root


def test_build_outputs_caches_and_vcs_are_not_source(tree: Path) -> None:
    before = project_cache_key(tree, 0)
    for noise in (".git/HEAD", ".venv/bin/python", "dist/p-1.tar.gz", "build/lib/x", "p.egg-info/PKG-INFO",
                  "pkg/__pycache__/x.pyc", ".mypy_cache/x", ".ruff_cache/x", ".cache/x", ".venv-tools/x"):  # fmt: skip
        (tree / noise).parent.mkdir(parents=True, exist_ok=True)
        (tree / noise).write_text("noise")
    assert project_cache_key(tree, 0) == before
    assert [p.relative_to(tree).as_posix() for p in _source_files(tree)] == [
        "pyproject.toml", "run.sh", "pkg/__init__.py",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [
        lambda t: (t / "pkg" / "__init__.py").write_text("X = 2\n"),
        lambda t: (t / "pkg" / "new.py").write_text(""),
        lambda t: (t / "run.sh").chmod(0o755),
        lambda t: (t / "pkg" / "__init__.py").rename(t / "pkg" / "other.py"),
        lambda t: (t / "run.sh").unlink(),
    ],
    ids=["content", "added", "mode", "renamed", "removed"],
)
def test_any_source_change_changes_the_key(tree: Path, change) -> None:  # type: ignore[no-untyped-def]
    before = project_cache_key(tree, 0)
    change(tree)
    assert project_cache_key(tree, 0) != before


def test_the_epoch_is_part_of_the_key(tree: Path) -> None:
    assert project_cache_key(tree, 0) != project_cache_key(tree, 1)


def test_an_entry_counts_only_with_exactly_one_sdist_and_one_wheel(tmp_path: Path) -> None:
    entry = tmp_path / "entry"
    assert cached_project(entry) is None
    entry.mkdir()
    (entry / "p-1.tar.gz").write_bytes(b"")
    assert cached_project(entry) is None
    (entry / "p-1-py3-none-any.whl").write_bytes(b"")
    assert cached_project(entry) == (entry / "p-1.tar.gz", entry / "p-1-py3-none-any.whl")
