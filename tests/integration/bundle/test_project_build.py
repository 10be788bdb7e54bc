"""The project's own sdist and wheel: built in a worker beside the dependency builds, cached by source digest."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.support.bundles import make_keypair, member_ending, pinned_pips
from tests.support.projects import Pkg, write_project
from tests.support.simple_index import serve
from tests.support.wheels import make_sdist, make_wheel

from netbundle.cli import cli

pytestmark = pytest.mark.integration
SETUPTOOLS = 'requires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"'


@pytest.fixture
def index_files(corpus_dir: Path, tmp_path: Path) -> Path:
    files = tmp_path / "index"
    shutil.copytree(corpus_dir / "build-tools", files, ignore=shutil.ignore_patterns(".complete"))
    for pinned in pinned_pips().glob("pip-*.whl"):
        shutil.copy2(pinned, files / pinned.name)
    return files


def _project(root: Path, files: Path, sdist: Path) -> Path:
    pure = make_wheel(files, "pure", "1.0")
    write_project(root, [Pkg("pure", "1.0", [pure]), Pkg("srconly", "0.5", [sdist])], build_system=SETUPTOOLS)
    (root / "demo").mkdir()
    (root / "demo" / "__init__.py").write_text("ANSWER = 42\n")
    return root


def _build(index_url: str, project: Path, cache: Path, out: Path, key: Path, *extra: str) -> tuple[int, str]:
    env = {"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": index_url, "SOURCE_DATE_EPOCH": "1700000000"}
    argv = ["build", "-P", str(project), "--index-url", index_url, "--cache-dir", str(cache), "-o", str(out),
            "--target", "cp311-manylinux_2_28_x86_64", "--sign-key", str(key), *extra]  # fmt: skip
    result = CliRunner().invoke(cli, argv, env=env)
    return result.exit_code, result.output


def test_unchanged_sources_reuse_the_cached_build_and_a_change_rebuilds(
    index_files: Path, tmp_path: Path
) -> None:
    project = _project(tmp_path / "project", index_files, make_sdist(index_files, "srconly", "0.5"))
    key = make_keypair(tmp_path / "keys").key_path
    cache = tmp_path / "cache"
    with serve(index_files) as index:
        code, output = _build(index.url, project, cache, tmp_path / "one.tar", key)
        assert code == 0, output
        (entry,) = (cache / "project").iterdir()
        assert sorted(p.name for p in entry.iterdir()) == [
            "build-requirements.json",
            "demo-1.0.0-py3-none-any.whl",
            "demo-1.0.0.tar.gz",
        ]
        stamps = {p.name: p.stat().st_mtime_ns for p in entry.iterdir()}

        (project / "__pycache__").mkdir()  # not source: the cached build still applies
        (project / "__pycache__" / "x.pyc").write_bytes(b"\0")
        code, output = _build(index.url, project, cache, tmp_path / "two.tar", key)
        assert code == 0, output
        assert [p.name for p in (cache / "project").iterdir()] == [entry.name]
        assert {p.name: p.stat().st_mtime_ns for p in entry.iterdir()} == stamps, "nothing rebuilt"
        assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()

        (project / "demo" / "__init__.py").write_text("ANSWER = 43\n")
        code, output = _build(index.url, project, cache, tmp_path / "three.tar", key)
        assert code == 0, output
    assert len(list((cache / "project").iterdir())) == 2
    old, new = (member_ending(tmp_path / n, "/demo-1.0.0-py3-none-any.whl") for n in ("one.tar", "three.tar"))
    assert hashlib.sha256(old).digest() != hashlib.sha256(new).digest()
    # the project's own build requirements are recorded too, from the one index the build may use
    manifest = json.loads(member_ending(tmp_path / "one.tar", "netbundle/manifest.json"))
    (demo,) = [p for p in manifest["packages"] if p["name"] == "demo"]
    (setuptools,) = index_files.glob("setuptools-*.whl")
    pin = f"setuptools=={setuptools.name.split('-')[1]} sha256:{hashlib.sha256(setuptools.read_bytes()).hexdigest()}"
    assert pin in demo["artifacts"][0]["origin"]["build"]["requirements"]


def test_a_failing_dependency_build_stops_the_bundle_and_leaves_no_staging(
    index_files: Path, tmp_path: Path
) -> None:
    broken = make_sdist(index_files, "srconly", "0.5")
    with tarfile.open(broken, "w:gz") as tar:  # a backend no index serves
        data = (
            b'[project]\nname = "srconly"\nversion = "0.5"\n[build-system]\nrequires = ["no-such-backend"]\n'
        )
        info = tarfile.TarInfo("srconly-0.5/pyproject.toml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    project = _project(tmp_path / "project", index_files, broken)
    out = tmp_path / "out" / "bundle.tar"
    out.parent.mkdir()
    with serve(index_files) as index:
        code, output = _build(
            index.url, project, tmp_path / "cache", out, make_keypair(tmp_path / "k").key_path
        )
    assert code == 7, output  # BuildError
    assert "building a wheel for srconly 0.5 failed" in output
    assert list(out.parent.iterdir()) == []
    leftovers = [p.name for p in (tmp_path / "cache" / "project").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def _build_requirements(bundle: Path) -> dict[str, list[str]]:
    manifest = json.loads(member_ending(bundle, "netbundle/manifest.json"))
    return {
        p["name"]: p["artifacts"][0]["origin"]["build"]["requirements"]
        for p in manifest["packages"]
        if (p["artifacts"][0].get("origin") or {}).get("build")
    }


def test_a_cold_build_reuses_the_cached_build_environment_and_records_the_same(
    index_files: Path, tmp_path: Path
) -> None:
    project = _project(tmp_path / "project", index_files, make_sdist(index_files, "srconly", "0.5"))
    key = make_keypair(tmp_path / "keys").key_path
    cache = tmp_path / "cache"

    def backend_fetches() -> list[str]:
        return [path for path, _ in index.requests if "setuptools" in path and path.endswith(".whl")]

    with serve(index_files) as index:
        code, output = _build(index.url, project, cache, tmp_path / "one.tar", key)
        assert code == 0, output
        # the project and the sdist-only dependency both build with setuptools>=61: one environment for both
        (env,) = [p for p in (cache / "build-envs").iterdir() if p.is_dir()]
        record = json.loads((env / "env.json").read_text())
        assert record["material"]["steps"] == [["setuptools>=61"]]
        assert [r["name"] for r in record["installed"][0]] == ["setuptools"]
        assert len(backend_fetches()) == 1

        # a fresh download and wheel cache, the same build environments: a cold build of both
        for entry in cache.iterdir():
            if entry.name != "build-envs":
                shutil.rmtree(entry)
        code, output = _build(index.url, project, cache, tmp_path / "two.tar", key)
        assert code == 0, output
        assert len(backend_fetches()) == 1, "the backend was not installed again"
        assert [p for p in (cache / "build-envs").iterdir() if p.is_dir()] == [env]

        # and what a fresh environment records, with the cache switched off
        code, output = _build(
            index.url, project, tmp_path / "nocache", tmp_path / "three.tar", key, "--no-build-env-cache"
        )
        assert code == 0, output
        assert len(backend_fetches()) == 3  # the project's and srconly's own environments
        assert not (tmp_path / "nocache" / "build-envs").exists()

        # an environment whose making was interrupted (no env.json) is made again, not used
        (env / "env.json").unlink()
        for entry in cache.iterdir():
            if entry.name != "build-envs":
                shutil.rmtree(entry)
        code, output = _build(index.url, project, cache, tmp_path / "four.tar", key)
        assert code == 0, output
        assert len(backend_fetches()) == 4
        assert json.loads((env / "env.json").read_text()) == record
    recorded = _build_requirements(tmp_path / "one.tar")
    assert set(recorded) == {"demo", "srconly"} and all(recorded.values())
    assert (
        recorded == _build_requirements(tmp_path / "two.tar") == _build_requirements(tmp_path / "three.tar")
    )
    assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()
