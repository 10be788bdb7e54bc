"""Real clients against ``serve`` of the real sample bundle (three targets, four groups) on 127.0.0.1: pip and uv
install the bundle's hash-pinned locks from it, Poetry locks and installs a scratch project with it as its only
source, and ``pip download`` gets the manifest's bytes."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import platform
import re
import subprocess
import sys
import tarfile
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.serve.servers import REPO, Child, child, in_process, serve_argv
from tests.support.bundles import pip_wheel

from netbundle.format.tar import read_unverified

pytestmark = pytest.mark.integration

GROUPS = ("main", "junos", "cisco", "arista")


@pytest.fixture(scope="module")
def index(sample_bundle: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Child]:
    bundle, pub = sample_bundle
    with child(
        serve_argv(bundle, "--trust", str(pub), "--all-targets"), tmp_path_factory.mktemp("serve")
    ) as server:
        yield server
        code, stderr = server.stop()
        assert code == 0, stderr


@pytest.fixture(scope="module")
def host_target(sample_bundle: tuple[Path, Path]) -> str:
    """The sample target this interpreter can install (the tests' venvs are made from it)."""
    name = f"cp{sys.version_info[0]}{sys.version_info[1]}-manylinux_2_28_{platform.machine()}"
    targets = [t.name for t in read_unverified(sample_bundle[0]).manifest.targets]
    if name not in targets:
        pytest.skip(f"no sample target for this Python ({name}; the sample has {targets})")
    return name


@pytest.fixture(scope="module")
def locks(
    sample_bundle: tuple[Path, Path], host_target: str, tmp_path_factory: pytest.TempPathFactory
) -> list[Path]:
    """The host target's requirement files, as the bundle carries them."""
    out = tmp_path_factory.mktemp("locks")
    paths = []
    with tarfile.open(sample_bundle[0]) as tar:
        for group in GROUPS:
            member = tar.extractfile(f"locks/{host_target}/requirements-{group}.txt")
            assert member is not None
            paths.append(out / f"{group}.txt")
            paths[-1].write_bytes(member.read())
    return paths


def manifest_hashes(bundle: Path) -> dict[str, str]:
    return {e.path.rsplit("/", 1)[1]: e.sha256 for e in read_unverified(bundle).manifest.files}


def pins(locks: list[Path]) -> dict[str, str]:
    found = {}
    for lock in locks:
        for line in lock.read_text().splitlines():
            if "==" in line and not line.startswith("#"):
                name, version = line.split(" ", 1)[0].split("==")
                found[name] = version
    return found


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "PIP_CONFIG_FILE": os.devnull, "PIP_NO_CACHE_DIR": "1"}
    env.update(extra)
    return env


def run(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, f"{argv[:4]}...\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def installed(python: Path, env: dict[str, str]) -> dict[str, str]:
    script = "import importlib.metadata as m, json; print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    found = json.loads(run([str(python), "-c", script], env).stdout)
    return {re.sub(r"[-_.]+", "-", k).lower(): v for k, v in found.items()}


def test_pip_installs_the_hash_pinned_locks_from_it(index: Child, locks: list[Path], tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], env)
    argv = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--index-url",
            index.url, "--require-hashes", "--only-binary=:all:"]  # fmt: skip
    for lock in locks:
        argv += ["-r", str(lock)]
    run(argv, env)
    run([str(venv / "bin" / "python"), "-m", "pip", "check"], env)
    got = installed(venv / "bin" / "python", env)
    assert {name: got.get(name) for name in pins(locks)} == pins(locks)


def test_pip_download_gets_the_manifests_bytes_using_pep_658_metadata(
    index: Child, sample_bundle: tuple[Path, Path], tmp_path: Path
) -> None:
    """With the bundle's own (current) pip, for a target other than this host: each file's sha256 is the
    manifest's, and pip asked for the core-metadata files before it downloaded the wheels."""
    expected = manifest_hashes(sample_bundle[0])
    dest = tmp_path / "d"
    argv = [sys.executable, str(pip_wheel() / "pip"), "download", "--disable-pip-version-check", "--no-deps",
            "--index-url", index.url, "--only-binary=:all:", "--platform", "manylinux_2_28_aarch64",
            "--python-version", "3.11", "-d", str(dest), "lxml==6.1.3", "pynacl==1.6.2", "six==1.17.0"]  # fmt: skip
    run(argv, clean_env(tmp_path))
    got = sorted(dest.iterdir())
    assert [p.name for p in got] == [
        "lxml-6.1.3-cp311-cp311-manylinux_2_26_aarch64.manylinux_2_28_aarch64.whl",
        "pynacl-1.6.2-cp38-abi3-manylinux_2_26_aarch64.manylinux_2_28_aarch64.whl",
        "six-1.17.0-py2.py3-none-any.whl",
    ]
    for path in got:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == expected[path.name]
    log = index.stderr.read_text()
    assert '"GET /files/six-1.17.0-py2.py3-none-any.whl.metadata HTTP/1.1" 200' in log


def test_requires_python_from_the_metadata_reaches_pip(index: Child, tmp_path: Path) -> None:
    argv = [sys.executable, str(pip_wheel() / "pip"), "download", "--disable-pip-version-check", "--no-deps",
            "--index-url", index.url, "--only-binary=:all:", "--python-version", "3.8", "-d", str(tmp_path / "d"),
            "anyio==4.12.1"]  # fmt: skip
    result = subprocess.run(
        argv, env=clean_env(tmp_path), capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode != 0
    assert "require a different python version: 4.12.1 Requires-Python >=3.9" in result.stderr


@pytest.fixture(scope="module")
def uv() -> Path:
    """uv, hash-pinned, from benchmarks/install-uv (what the benchmarks use); skipped loudly if it cannot be had."""
    path = REPO / ".venv-uv" / "bin" / "uv"
    if not path.exists():
        result = subprocess.run(
            [str(REPO / "benchmarks" / "install-uv")], capture_output=True, text=True, check=False
        )
        if result.returncode != 0 or not path.exists():
            pytest.skip(
                f"SKIPPED LOUDLY: uv is not installed and benchmarks/install-uv failed: {result.stderr[-500:]}"
            )
    return path


def test_uv_installs_the_hash_pinned_locks_from_it(
    index: Child, locks: list[Path], uv: Path, tmp_path: Path
) -> None:
    env = clean_env(
        tmp_path, UV_CACHE_DIR=str(tmp_path / "uv-cache"), UV_PYTHON_DOWNLOADS="never", UV_NO_CONFIG="1"
    )
    venv = tmp_path / "venv"
    run([str(uv), "venv", "--python", sys.executable, str(venv)], env)
    argv = [str(uv), "pip", "install", "--python", str(venv / "bin" / "python"), "--index-url", index.url,
            "--require-hashes", "--only-binary", ":all:"]  # fmt: skip
    for lock in locks:
        argv += ["-r", str(lock)]
    run(argv, env)
    got = installed(venv / "bin" / "python", env)
    assert {name: got.get(name) for name in pins(locks)} == pins(locks)


@pytest.fixture(scope="module")
def poetry() -> Path:
    """Poetry 2.5.1 in its own venv (scripts/install-poetry); skipped loudly if it cannot be installed."""
    result = subprocess.run(
        [str(REPO / "scripts" / "install-poetry")], capture_output=True, text=True, check=False
    )
    path = Path(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else None
    if result.returncode != 0 or path is None or not path.exists():
        pytest.skip(f"SKIPPED LOUDLY: scripts/install-poetry failed: {result.stderr[-500:]}")
    return path


def test_poetry_locks_and_installs_a_project_with_it_as_the_only_source(
    index: Child, sample_bundle: tuple[Path, Path], poetry: Path, tmp_path: Path
) -> None:
    project = tmp_path / "scratch"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        textwrap.dedent(f"""\
        [project]
        name = "scratch"
        version = "0.1.0"
        requires-python = ">={sys.version_info[0]}.{sys.version_info[1]},<{sys.version_info[0]}.{sys.version_info[1] + 1}"
        dependencies = ["httpx>=0.27,<1", "jinja2>=3.1,<4", "pyyaml>=6.0,<7", "netaddr>=1.3"]

        [tool.poetry]
        package-mode = false

        [[tool.poetry.source]]
        name = "site"
        url = "{index.url}"
        priority = "primary"
        """)
    )
    env = clean_env(tmp_path, POETRY_CACHE_DIR=str(tmp_path / "pc"), POETRY_CONFIG_DIR=str(tmp_path / "pcfg"),
                    POETRY_VIRTUALENVS_IN_PROJECT="true", POETRY_NO_INTERACTION="1")  # fmt: skip
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"  # the interpreter Poetry makes the venv from
    before = len(index.stderr.read_text().splitlines())
    run([str(poetry), "lock"], env, cwd=project)
    during_lock = index.stderr.read_text().splitlines()[before:]
    # locking read the PEP 658 metadata files, not whole wheels
    assert any(
        '"GET /files/httpx-0.28.1-py3-none-any.whl.metadata HTTP/1.1" 200' in line for line in during_lock
    )
    assert not [line for line in during_lock if re.search(r'"GET /files/\S+\.whl HTTP', line)]
    run([str(poetry), "install", "--no-root"], env, cwd=project)
    lock = tomllib.loads((project / "poetry.lock").read_text())
    expected = manifest_hashes(sample_bundle[0])
    locked = {f["file"]: f["hash"] for package in lock["package"] for f in package["files"]}
    assert locked, "poetry.lock lists no files"
    assert {name: f"sha256:{expected.get(name)}" for name in locked} == locked
    assert {(p["source"]["type"], p["source"]["url"]) for p in lock["package"]} == {
        ("legacy", index.url.rstrip("/"))
    }
    got = installed(project / ".venv" / "bin" / "python", env)
    assert {got.get(n) for n in ("httpx", "jinja2", "pyyaml", "netaddr", "markupsafe")} == {
        "0.28.1", "3.1.6", "6.0.3", "1.3.0", "3.0.4"
    }  # fmt: skip


def test_one_target_serves_only_its_files(sample_bundle: tuple[Path, Path]) -> None:
    bundle, pub = sample_bundle
    target = "cp311-manylinux_2_28_aarch64"
    manifest = read_unverified(bundle).manifest
    wanted = {a.path.rsplit("/", 1)[1] for p in manifest.packages for a in p.artifacts if target in a.targets}
    wanted |= {path.rsplit("/", 1)[1] for path in manifest.project_artifacts}
    with in_process(bundle, pub, target=target) as running:
        assert running.info.targets == (target,)
        conn = http.client.HTTPConnection(*running.address, timeout=10)
        accept = {"Accept": "application/vnd.pypi.simple.v1+json"}
        served = set()
        conn.request("GET", "/simple/", headers=accept)
        for project in json.loads(conn.getresponse().read())["projects"]:
            conn.request("GET", f"/simple/{project['name']}/", headers=accept)
            served |= {f["filename"] for f in json.loads(conn.getresponse().read())["files"]}
        conn.request("GET", "/files/lxml-6.1.3-cp311-cp311-manylinux_2_26_x86_64.manylinux_2_28_x86_64.whl")
        other_target = conn.getresponse()
        other_target.read()
        conn.close()
    assert served == wanted
    assert "lxml-6.1.3-cp311-cp311-manylinux_2_26_aarch64.manylinux_2_28_aarch64.whl" in served
    assert other_target.status == 404


def test_clients_that_reset_mid_download_are_logged_and_the_server_carries_on(index: Child) -> None:
    import socket
    import struct

    port = int(index.info["port"])  # type: ignore[call-overload]
    big = (
        "/files/cryptography-43.0.3-cp39-abi3-manylinux_2_28_x86_64.whl"  # 4 MB: more than the socket buffers
    )
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(f"GET {big} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert sock.recv(1024).startswith(b"HTTP/1.1 200 ")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
        sock.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/simple/")
    assert conn.getresponse().status == 200
    conn.close()
    log = index.stderr.read_text()
    assert "Traceback" not in log
    assert re.search(rf'"GET {re.escape(big)} HTTP/1\.1" 200 \((ConnectionResetError|BrokenPipeError)\)', log)
