"""Cached build environments: what names one (plain data), what a reuse records, and what is made again.

The environment tests swap pip for a fake installer that writes a distribution's metadata into the venv, so they
need no index: what they check is the cache's own logic (reuse, incomplete entries, failures, concurrency).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from netbundle.errors import BuildError
from netbundle.wheels.buildenv import (
    BuildEnvironments,
    CachedEnv,
    InstallError,
    Interpreter,
    Step,
    cached_env,
    env_key,
    installed_distributions,
    key_material,
    parse_record,
    render_record,
)
from netbundle.wheels.environment import BuildEnvironment, BuildRequirement

PYTHON = Interpreter(
    implementation="cpython",
    version="3.11.7 (main)",
    executable="/usr/bin/python3.11",
    machine="x86_64",
    pip="26.3",
)
POOL = BuildEnvironment(index_urls=("https://ops:pw@corp.example/simple/",), constraints=("/c.txt",))
STEPS: list[Step] = [("setuptools>=61",), ("wheel",)]


def _key(**changes: object) -> str:
    steps = changes.pop("steps", STEPS)
    digests = changes.pop("digests", ["aa"])
    environment = changes.pop("environment", POOL)
    interpreter = replace(PYTHON, **changes)  # type: ignore[arg-type]
    return env_key(key_material(steps, environment, interpreter, digests))  # type: ignore[arg-type]


def test_the_key_is_stable_for_the_same_request() -> None:
    assert _key() == _key()
    assert len(_key()) == 32


@pytest.mark.parametrize(
    "changes",
    [
        {"steps": [("setuptools>=62",), ("wheel",)]},
        {"steps": [("setuptools>=61", "wheel")]},  # one step is another install than two
        {"steps": [("setuptools>=61",)]},
        {"digests": ["bb"]},  # the constraints file's contents changed
        {"environment": replace(POOL, constraints=("/other.txt",))},
        {"environment": replace(POOL, index_urls=("https://mirror.example/simple/",))},
        {"environment": replace(POOL, index_urls=(*POOL.index_urls, "https://extra.example/simple/"))},
        {"version": "3.12.1 (main)"},
        {"implementation": "pypy"},
        {"executable": "/opt/python/bin/python3.11"},
        {"machine": "aarch64"},
        {"pip": "26.0.1"},
    ],
)
def test_whatever_can_change_the_resolution_changes_the_key(changes: dict[str, object]) -> None:
    assert _key(**changes) != _key()


def test_credentials_are_not_part_of_the_key() -> None:
    other = replace(POOL, index_urls=("https://someone:else@corp.example/simple/",))
    material = key_material(STEPS, POOL, PYTHON, ["aa"])
    assert _key(environment=other) == _key()
    assert "pw" not in str(material) and "ops" not in str(material)


REPORTS = (
    (BuildRequirement(name="setuptools", version="80.9.0", sha256="ab" * 32),),
    (BuildRequirement(name="wheel", version="0.45.1", sha256=None),),
)


def test_a_record_reads_back_for_its_own_material_only() -> None:
    material = key_material(STEPS, POOL, PYTHON, ["aa"])
    text = render_record(material, REPORTS)
    assert parse_record(text, material) == REPORTS
    assert parse_record(text, key_material(STEPS, POOL, PYTHON, ["bb"])) is None
    assert parse_record(text, key_material(STEPS[:1], POOL, PYTHON, ["aa"])) is None


@pytest.mark.parametrize("text", ["", "{", "[]", '{"material": 1}', '{"installed": []}'])
def test_an_unreadable_record_is_no_record(text: str) -> None:
    assert parse_record(text, key_material(STEPS, POOL, PYTHON, ["aa"])) is None


class FakePip:
    """Installs ``name==version`` or ``name`` (as 1.0) by writing its dist-info; counts its calls."""

    def __init__(self, fail: str | None = None, delay: float = 0.0) -> None:
        self.calls: list[tuple[str, Step]] = []
        self.fail = fail
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(
        self, environment: BuildEnvironment, python: str, step: Step
    ) -> tuple[BuildRequirement, ...]:
        with self.lock:
            self.calls.append((python, step))
        if self.fail in step:
            raise InstallError(f"no {self.fail}")
        time.sleep(self.delay)  # widens the window in which another process could step in
        venv = Path(python).parent.parent
        (purelib,) = venv.glob("lib/python*/site-packages")
        found = []
        for requirement in step:
            name, _, version = requirement.partition("==")
            version = version or "1.0"
            info = purelib / f"{name}-{version}.dist-info"
            info.mkdir()
            (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
            found.append(BuildRequirement(name=name, version=version, sha256=name * 2))
        return tuple(found)


def test_a_second_build_reuses_the_environment_and_records_the_same(tmp_path: Path) -> None:
    pip = FakePip()
    environment = replace(POOL, constraints=(), env_cache=tmp_path / "envs")
    recorded = []
    for _ in range(2):
        record: list[BuildRequirement] = []
        with BuildEnvironments(environment=environment, record=record, install=pip) as envs:
            env = envs.ensure(["backend==2.0"])
            assert envs.ensure(["backend==2.0"]) == env  # nothing new asked: the same environment
            env = envs.ensure(["helper"])
            envs.used(env)
        recorded.append(record)
    assert (
        recorded[0]
        == recorded[1]
        == [
            BuildRequirement(name="backend", version="2.0", sha256="backendbackend"),
            BuildRequirement(name="helper", version="1.0", sha256="helperhelper"),
        ]
    )
    # one environment per distinct sequence of steps, each made once: [backend], then [backend] + [helper]
    assert [step for _, step in pip.calls] == [("backend==2.0",), ("backend==2.0",), ("helper",)]
    assert isinstance(env, CachedEnv)
    assert installed_distributions(env.path) == {"backend": "2.0", "helper": "1.0"}


def test_without_a_cache_one_temporary_environment_gets_each_step(tmp_path: Path) -> None:
    pip = FakePip()
    record: list[BuildRequirement] = []
    with BuildEnvironments(environment=replace(POOL, constraints=()), record=record, install=pip) as envs:
        first = envs.ensure(["backend==2.0"])
        second = envs.ensure(["backend==2.0", "helper"])
        envs.used(second)
        assert first is second
        path = Path(first.python_executable).parent.parent
    assert [step for _, step in pip.calls] == [("backend==2.0",), ("helper",)]
    assert [r.name for r in record] == ["backend", "helper"]
    assert not path.exists(), "the temporary environment is removed"


def test_pip_left_to_its_configuration_never_uses_the_cache(tmp_path: Path) -> None:
    environment = BuildEnvironment(pip_configuration=True, env_cache=tmp_path / "envs")
    with BuildEnvironments(environment=environment, record=[], install=FakePip()) as envs:
        assert not isinstance(envs.ensure(["backend"]), CachedEnv)
    assert not (tmp_path / "envs").exists()


@pytest.mark.parametrize("damage", ["no record", "distribution gone", "record of other material"])
def test_an_incomplete_environment_is_made_again_not_used(tmp_path: Path, damage: str) -> None:
    pip = FakePip()
    environment = replace(POOL, constraints=())
    steps: list[Step] = [("backend==2.0",)]
    env = cached_env(tmp_path, steps, environment, pip)
    if damage == "no record":  # killed after pip, before env.json
        (env.path / "env.json").unlink()
    elif damage == "distribution gone":
        (info,) = env.path.glob("lib/python*/site-packages/backend-2.0.dist-info")
        (info / "METADATA").unlink()
    else:
        (env.path / "env.json").write_text((env.path / "env.json").read_text().replace("backend==2.0", "x"))
    (env.path / "stale-marker").write_text("from the first attempt")
    again = cached_env(tmp_path, steps, environment, pip)
    assert len(pip.calls) == 2
    assert again == env and not (again.path / "stale-marker").exists()
    assert cached_env(tmp_path, steps, environment, pip) == env and len(pip.calls) == 2


def test_a_failed_install_leaves_no_environment(tmp_path: Path) -> None:
    with pytest.raises(InstallError, match="no broken"):
        cached_env(tmp_path, [("broken",)], replace(POOL, constraints=()), FakePip(fail="broken"))
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == []


def test_concurrent_builds_make_one_environment_once(tmp_path: Path) -> None:
    pip = FakePip()
    environment = replace(POOL, constraints=())
    found: list[CachedEnv] = []
    threads = [
        threading.Thread(target=lambda: found.append(cached_env(tmp_path, [("backend",)], environment, pip)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 4 and len(set(found)) == 1
    assert len(pip.calls) == 1


def test_a_cache_that_cannot_hold_an_environment_is_a_build_error(tmp_path: Path) -> None:
    (tmp_path / "envs").write_text("a file where the directory should be")
    with pytest.raises(BuildError, match="cannot make a build environment in") as caught:
        cached_env(tmp_path / "envs", [("backend",)], replace(POOL, constraints=()), FakePip())
    assert "--no-build-env-cache" in (caught.value.hint or "")


_PROCESS = """
import sys
from dataclasses import replace
from pathlib import Path
from tests.unit.wheels.test_buildenv import POOL, FakePip
from netbundle.wheels.buildenv import cached_env
pip = FakePip(delay=0.5)
env = cached_env(Path(sys.argv[1]), [("backend",)], replace(POOL, constraints=()), pip)
print(len(pip.calls), env.path)
"""


def test_two_processes_sharing_a_cache_make_one_environment_once(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    env = {"PYTHONPATH": f"{root}:{root / 'src'}", "PATH": "/usr/bin:/bin"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _PROCESS, str(tmp_path)], env=env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0].split() for p in processes]
    assert all(p.returncode == 0 for p in processes)
    assert sorted(int(calls) for calls, _ in outputs) == [0, 1], (
        "one process made it, the other waited and reused it"
    )
    assert outputs[0][1] == outputs[1][1]
