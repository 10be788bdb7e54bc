"""A wheel built on this host is served only to targets whose manylinux level covers what its ELF files need
(issue 12). The test builds a tiny C extension whose glibc symbol version it controls (pthread_create is
``GLIBC_2.34`` on a glibc >= 2.34 host; getpid is ``GLIBC_2.2.5``)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.support.bundles import pinned_pips
from tests.support.projects import Pkg, write_project
from tests.support.simple_index import serve
from tests.support.wheels import make_ext_sdist, make_sdist, make_wheel, sha256_of

from netbundle.cli import cli

pytestmark = pytest.mark.integration

PY = f"cp{sys.version_info[0]}{sys.version_info[1]}"


def host_glibc() -> tuple[int, int]:
    name, _, version = (os.confstr("CS_GNU_LIBC_VERSION") or "").partition(" ")
    major, minor = version.split(".")[:2] if name == "glibc" else ("0", "0")
    return int(major), int(minor)


@pytest.fixture(scope="module")
def x86_64_glibc_host() -> None:
    if platform.machine() != "x86_64" or host_glibc() < (2, 34):
        pytest.skip(
            f"needs an x86_64 host with glibc >= 2.34 (this is {platform.machine()}, glibc {host_glibc()})"
        )
    if shutil.which("gcc") is None:
        pytest.fail("no gcc: run scripts/install-test-tools")


def build(
    tmp_path: Path,
    corpus_dir: Path,
    targets: list[str],
    *,
    new_glibc: bool = True,
    extra: list[Path] = (),  # type: ignore[assignment]
    more: list[Pkg] = (),  # type: ignore[assignment]
) -> tuple[Result, Path]:
    files = tmp_path / "index"
    shutil.copytree(
        corpus_dir / "build-tools", files, ignore=shutil.ignore_patterns(".complete"), dirs_exist_ok=True
    )
    for pinned in pinned_pips().glob("pip-*.whl"):  # the bundle carries a pinned pip
        shutil.copy2(pinned, files / pinned.name)
    sdist = make_ext_sdist(files, "glibcprobe", "1.0", new_glibc=new_glibc)
    for path in extra:
        shutil.copy(path, files / path.name)
    for package in more:
        for path in package.files:
            shutil.copy(path, files / path.name)
    project = write_project(tmp_path / "project", [Pkg("glibcprobe", "1.0", [sdist, *extra]), *more])
    out = tmp_path / "b.tar"
    with serve(files) as index:
        env = {"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": index.url, "PIP_FIND_LINKS": ""}
        argv = ["build", "-P", str(project), "--index-url", index.url, "--cache-dir", str(tmp_path / "cache"),
                "--unsigned", "-o", str(out)]  # fmt: skip
        for target in targets:
            argv += ["--target", target]
        result = CliRunner().invoke(cli, argv, env=env)
    return result, out


def manifest_of(bundle: Path) -> dict[str, object]:
    with tarfile.open(bundle) as tar:
        return json.loads(tar.extractfile("netbundle/manifest.json").read())  # type: ignore[union-attr]


def test_a_glibc_2_34_wheel_is_refused_for_a_2_17_target(
    x86_64_glibc_host: None, corpus_dir: Path, tmp_path: Path
) -> None:
    old = f"{PY}-manylinux_2_17_x86_64"
    result, out = build(tmp_path, corpus_dir, [f"{PY}-manylinux_2_34_x86_64", old])
    assert result.exit_code == 7, result.output
    message = result.output
    assert (
        f"glibcprobe 1.0: the wheel built on this host (glibcprobe-1.0-{PY}-{PY}-linux_x86_64.whl)" in message
    )
    assert f"cannot run on target {old}" in message
    assert "needs glibc 2.34 (GLIBC_2.34) and the target promises glibc 2.17" in message
    assert "netbundle merge" in message and "pin a version of glibcprobe" in message
    assert not out.exists()


def test_a_glibc_2_34_wheel_serves_a_2_34_target_and_the_policy_is_recorded(
    x86_64_glibc_host: None, corpus_dir: Path, tmp_path: Path
) -> None:
    target = f"{PY}-manylinux_2_34_x86_64"
    result, out = build(tmp_path, corpus_dir, [target])
    assert result.exit_code == 0, result.output
    (package,) = [p for p in manifest_of(out)["packages"] if p["name"] == "glibcprobe"]  # type: ignore[index, union-attr]
    (artifact,) = package["artifacts"]
    assert artifact["targets"] == [target]
    policy = artifact["origin"]["build"]["policy"]
    assert policy["machine"] == "x86_64" and policy["glibc"] == "2.34"
    assert policy["platform"] == "manylinux_2_34_x86_64" and "GLIBC_2.34" in policy["symbol_versions"]
    assert policy["elf_files"] == [
        f"glibcprobe/_probe.cpython-{sys.version_info[0]}{sys.version_info[1]}-x86_64-linux-gnu.so"
    ]
    assert policy["libraries"] == []
    from netbundle.format.describe import describe, render_description
    from netbundle.format.tar import read_unverified

    found = read_unverified(out)
    text = render_description(describe(found.manifest, found.manifest_sha256, [], None))
    assert "built with setuptools.build_meta, needs glibc 2.34 (manylinux_2_34_x86_64)" in text


def test_an_old_glibc_wheel_serves_a_2_17_target(
    x86_64_glibc_host: None, corpus_dir: Path, tmp_path: Path
) -> None:
    result, out = build(tmp_path, corpus_dir, [f"{PY}-manylinux_2_17_x86_64"], new_glibc=False)
    assert result.exit_code == 0, result.output
    (package,) = [p for p in manifest_of(out)["packages"] if p["name"] == "glibcprobe"]  # type: ignore[index, union-attr]
    policy = package["artifacts"][0]["origin"]["build"]["policy"]
    assert policy["glibc"] == "2.2" and policy["platform"] == "manylinux_2_5_x86_64"


def test_a_compiled_package_for_another_architecture_is_refused_before_building(
    corpus_dir: Path, tmp_path: Path
) -> None:
    """The lock shows compiled code (a win_amd64 wheel) and no wheel for the aarch64 target: a build on this host
    cannot serve it, so nothing is built."""
    other = "aarch64" if platform.machine() != "aarch64" else "x86_64"
    windows = make_wheel(tmp_path / "w", "glibcprobe", "1.0", tag=f"{PY}-{PY}-win_amd64")
    target = f"{PY}-manylinux_2_28_{other}"
    result, out = build(tmp_path, corpus_dir, [target], extra=[windows])
    assert result.exit_code == 7, result.output
    assert f"glibcprobe 1.0 for target {target}: it ships compiled code" in result.output
    assert f"the target is {other}" in result.output
    assert not (tmp_path / "cache" / "built").exists() or not any((tmp_path / "cache" / "built").iterdir())
    assert not out.exists()


def test_a_cached_wheel_that_does_not_fit_is_refused_before_other_builds(
    x86_64_glibc_host: None, corpus_dir: Path, tmp_path: Path
) -> None:
    first, _ = build(tmp_path, corpus_dir, [f"{PY}-manylinux_2_34_x86_64"])
    assert first.exit_code == 0, first.output
    other = make_sdist(tmp_path / "more", "latecomer", "1.0")
    result, out = build(
        tmp_path, corpus_dir, [f"{PY}-manylinux_2_17_x86_64"], more=[Pkg("latecomer", "1.0", [other])]
    )
    assert result.exit_code == 7, result.output
    assert "needs glibc 2.34 (GLIBC_2.34) and the target promises glibc 2.17" in result.output
    assert not (tmp_path / "cache" / "built" / sha256_of(other)).exists()  # refused before building it
    assert (
        manifest_of(out)["targets"][0]["name"] == f"{PY}-manylinux_2_34_x86_64"
    )  # the first build's, untouched
