"""Wheels for sdist-only packages, built on this host with pypa/build, offline (a local index serves the build
tools; pip's own configuration is switched off), cached by input hash, with provenance in plan.json."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.integration.conftest import CORPUS_TARGETS
from tests.support.projects import Pkg, write_project
from tests.support.schemas import assert_valid
from tests.support.simple_index import serve
from tests.support.wheels import make_sdist, make_wheel, sha256_of

from netbundle.cli import cli

pytestmark = pytest.mark.integration


def offline_env(index_url: str) -> dict[str, str]:
    """Build environments install their requirements from this index only."""
    return {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": index_url,
        "PIP_FIND_LINKS": "",
        "SOURCE_DATE_EPOCH": "1700000000",
    }


def test_sdist_built_once_for_every_target(corpus_dir: Path, tmp_path: Path) -> None:
    files = tmp_path / "index"
    shutil.copytree(corpus_dir / "build-tools", files, ignore=shutil.ignore_patterns(".complete"))
    pure = make_wheel(files, "pure", "1.0")
    sdist = make_sdist(files, "srconly", "0.5")
    project = write_project(
        tmp_path / "project", [Pkg("pure", "1.0", [pure]), Pkg("srconly", "0.5", [sdist])]
    )
    with serve(files) as index:
        argv = ["fetch", "-P", str(project), "--index-url", index.url, "--cache-dir", str(tmp_path / "cache"),
                "-o", str(tmp_path / "wh"), "--target", "cp311-manylinux_2_28_x86_64", "--target", "cp39-win_amd64",
                "--json"]  # fmt: skip
        first = CliRunner().invoke(cli, argv, env=offline_env(index.url))
        assert first.exit_code == 0, first.output
        built_dir = tmp_path / "cache" / "built" / sha256_of(sdist)
        (wheel,) = built_dir.glob("*.whl")
        stamp = wheel.stat().st_mtime_ns
        second = CliRunner().invoke(cli, argv, env=offline_env(index.url))
    assert second.exit_code == 0, second.output
    assert wheel.stat().st_mtime_ns == stamp, "an unchanged input must not be rebuilt"
    assert wheel.name == "srconly-0.5-py3-none-any.whl"
    for target in ("cp311-manylinux_2_28_x86_64", "cp39-win_amd64"):
        assert sorted(p.name for p in (tmp_path / "wh" / target).iterdir()) == [pure.name, wheel.name]
    plan = json.loads((tmp_path / "wh" / "plan.json").read_text())
    (setuptools,) = files.glob("setuptools-*.whl")  # the build requirement, from the project's (only) index
    assert plan["built"]["srconly"] == {
        "wheel": wheel.name,
        "sha256": sha256_of(wheel),
        "input": sdist.name,
        "input_sha256": sha256_of(sdist),
        "backend": "setuptools.build_meta",
        "build_requirements": [f"setuptools=={setuptools.name.split('-')[1]} sha256:{sha256_of(setuptools)}"],
    }


def test_sdist_only_network_packages_are_built(corpus_dir: Path, netops_sample: Path, tmp_path: Path) -> None:
    """ncclient 0.7.0 and pyeapi publish only sdists: the wheelhouses are pip's picks plus the two built wheels."""
    with serve(corpus_dir / "all") as index:
        argv = ["fetch", "-P", str(netops_sample), "--with", "junos,cisco,arista", "--index-url", index.url,
                "--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "wh"), "--json"]  # fmt: skip
        for target in CORPUS_TARGETS:
            argv += ["--target", target]
        result = CliRunner().invoke(cli, argv, env=offline_env(index.url))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert_valid("fetch", summary)
    built = summary["built"]
    assert sorted(built) == ["ncclient", "pyeapi"]
    assert summary["needs_build"] == []  # built here, so not also listed as needing a build
    assert all(name.endswith("-py3-none-any.whl") for name in built.values())
    for target in CORPUS_TARGETS:
        names = {p.name for p in (tmp_path / "wh" / target).iterdir()}
        picks = set(json.loads((corpus_dir / target / ".complete").read_text()))
        assert names == picks | set(built.values())


def _tool_index(corpus_dir: Path, tmp_path: Path) -> Path:
    files = tmp_path / "index"
    shutil.copytree(corpus_dir / "build-tools", files, ignore=shutil.ignore_patterns(".complete"))
    return files


def test_path_dependency_is_built(corpus_dir: Path, tmp_path: Path) -> None:
    files = _tool_index(corpus_dir, tmp_path)
    project = tmp_path / "project"
    local = project / "vendor" / "localpkg"
    (local / "localpkg").mkdir(parents=True)
    (local / "localpkg" / "__init__.py").write_text("VALUE = 1\n")
    (local / "pyproject.toml").write_text(
        '[project]\nname = "localpkg"\nversion = "0.2.0"\n\n'
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    write_project(
        project, [Pkg("localpkg", "0.2.0", [], source={"type": "directory", "url": "vendor/localpkg"})]
    )
    with serve(files) as index:
        argv = ["fetch", "-P", str(project), "--index-url", index.url, "--cache-dir", str(tmp_path / "cache"),
                "-o", str(tmp_path / "wh"), "--target", "cp311-manylinux_2_28_x86_64", "--json"]  # fmt: skip
        result = CliRunner().invoke(cli, argv, env=offline_env(index.url))
        assert result.exit_code == 0, result.output
        (entry,) = (tmp_path / "cache" / "built").iterdir()
        stamp = next(entry.glob("*.whl")).stat().st_mtime_ns
        # the in-place build wrote build/ and *.egg-info into the tree: not source, so nothing is rebuilt
        assert {p.name for p in local.iterdir()} & {"build", "localpkg.egg-info"}
        again = CliRunner().invoke(cli, argv, env=offline_env(index.url))
        assert again.exit_code == 0, again.output
        assert [p.name for p in (tmp_path / "cache" / "built").iterdir()] == [entry.name]
        assert next(entry.glob("*.whl")).stat().st_mtime_ns == stamp
        (local / "localpkg" / "__init__.py").write_text("VALUE = 2\n")  # a source change: built again
        changed = CliRunner().invoke(cli, argv, env=offline_env(index.url))
        assert changed.exit_code == 0, changed.output
    assert len(list((tmp_path / "cache" / "built").iterdir())) == 2
    assert json.loads(result.stdout)["built"] == {"localpkg": "localpkg-0.2.0-py3-none-any.whl"}
    plan = json.loads((tmp_path / "wh" / "plan.json").read_text())
    assert plan["built"]["localpkg"]["input"] == "vendor/localpkg"
    assert (tmp_path / "wh" / "cp311-manylinux_2_28_x86_64" / "localpkg-0.2.0-py3-none-any.whl").is_file()


def test_project_sdist_and_wheel(corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from netbundle.wheels.build import build_project

    files = _tool_index(corpus_dir, tmp_path)
    project = tmp_path / "proj"
    (project / "proj").mkdir(parents=True)
    (project / "proj" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "1.2.3"\n\n'
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    with serve(files) as index:
        for key, value in offline_env(index.url).items():
            monkeypatch.setenv(key, value)
        sdist, wheel = build_project(project, tmp_path / "dist", epoch=1700000000)
        again_sdist, again_wheel = build_project(project, tmp_path / "dist2", epoch=1700000000)
    assert (sdist.name, wheel.name) == ("proj-1.2.3.tar.gz", "proj-1.2.3-py3-none-any.whl")
    assert sha256_of(again_wheel) == sha256_of(wheel), "same inputs and SOURCE_DATE_EPOCH: same wheel bytes"
    assert sha256_of(again_sdist) == sha256_of(sdist), "same inputs and SOURCE_DATE_EPOCH: same sdist bytes"


def _git(*args: str, cwd: Path) -> str:
    import subprocess

    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": "2020-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2020-01-01T00:00:00Z",
    }
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, env=env,
                          check=True, capture_output=True, text=True)  # fmt: skip
    return done.stdout.strip()


def test_git_dependency_is_built_at_the_locked_commit(corpus_dir: Path, tmp_path: Path) -> None:
    files = _tool_index(corpus_dir, tmp_path)
    repo = tmp_path / "gitsrc"
    (repo / "gitdep").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "gitdep"\nversion = "1.0"\n\n'
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    (repo / "gitdep" / "__init__.py").write_text("VERSION = 'locked'\n")
    _git("init", "-q", "-b", "main", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("commit", "-qm", "locked", cwd=repo)
    locked = _git("rev-parse", "HEAD", cwd=repo)
    (repo / "gitdep" / "__init__.py").write_text("VERSION = 'newer'\n")
    _git("commit", "-qam", "newer", cwd=repo)
    source = {"type": "git", "url": repo.as_uri(), "reference": "main", "resolved_reference": locked}
    project = write_project(tmp_path / "project", [Pkg("gitdep", "1.0", [], source=source)])
    with serve(files) as index:
        argv = ["fetch", "-P", str(project), "--index-url", index.url, "--cache-dir", str(tmp_path / "cache"),
                "-o", str(tmp_path / "wh"), "--target", "cp311-manylinux_2_28_x86_64", "--json"]  # fmt: skip
        result = CliRunner().invoke(cli, argv, env=offline_env(index.url))
    assert result.exit_code == 0, result.output
    wheel = tmp_path / "wh" / "cp311-manylinux_2_28_x86_64" / "gitdep-1.0-py3-none-any.whl"
    import zipfile

    assert zipfile.ZipFile(wheel).read("gitdep/__init__.py") == b"VERSION = 'locked'\n"
    plan = json.loads((tmp_path / "wh" / "plan.json").read_text())
    assert plan["built"]["gitdep"]["input"] == f"{repo.as_uri()}@{locked}"
