"""Isolated PEP 517 build environments, kept in the cache and reused by builds that ask for the same installs.

A build installs its requirements in steps (``[build-system] requires``, then what the backend asks for), each by
pip from the project's pool (:mod:`netbundle.wheels.environment`). Without a cache every build makes a new venv and
runs those steps. With one, an environment is the entry ``build-envs/<key>/`` of the cache, named by *what was
asked* (:func:`key_material`): the steps' requirement strings, the interpreter and the pip that install them, the
pool's URLs (without credentials), the constraints files (path and sha256) and pip's command line. What pip
resolved is only known after it ran, so it is not part of the key: it is stored beside the environment
(``env.json``, one ``--report`` per step) and a build in a reused environment records exactly what the build that
made it recorded. Like the wheel cache, a stored environment is not refreshed when the index publishes a newer
backend: pin ``[build-system] requires``, constrain it, or pass ``--no-build-env-cache``.

Concurrency and crashes: venvs are not relocatable (console scripts carry their path), so an environment is made
in place while its ``<key>.lock`` is held (``fcntl.flock``: other processes and threads wait, and a killed holder
releases it), and ``env.json`` is written (atomically) last. An entry without a valid ``env.json``, or whose
interpreter or any recorded distribution is missing, is incomplete (a build killed mid-install): it is removed and
made again under the lock, never used. Builds only read an environment, so concurrent builds share one.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import venv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from packaging.utils import canonicalize_name

from netbundle._atomic import write_atomic
from netbundle.errors import BuildError
from netbundle.lock.export import redact_url
from netbundle.wheels.environment import BuildEnvironment, BuildRequirement, parse_install_report

if TYPE_CHECKING:
    import build.env

_log = logging.getLogger(__name__)
ENV_DIR = "build-envs"
_COMPLETE = "env.json"
_FORMAT = 1
#: one install step: the requirement strings pip is asked for at once (sorted, no duplicates)
Step = tuple[str, ...]
#: ``install(environment, python, step)``: pip-install one step into the venv of ``python``, return its report
Installer = Callable[[BuildEnvironment, str, Step], tuple[BuildRequirement, ...]]


class InstallError(Exception):
    """pip could not install a build's requirements (the build turns it into a BuildError naming itself)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Interpreter:
    """What makes the build environments (venvs of this Python) and resolves their requirements (this pip)."""

    implementation: str
    version: str
    executable: str
    machine: str
    pip: str

    @classmethod
    def current(cls) -> Interpreter:
        try:
            pip = importlib.metadata.version("pip")
        except importlib.metadata.PackageNotFoundError:
            pip = ""
        return cls(
            implementation=sys.implementation.name,
            version=sys.version,
            executable=os.path.realpath(sys.executable),
            machine=platform.machine(),
            pip=pip,
        )


def key_material(
    steps: Sequence[Step],
    environment: BuildEnvironment,
    interpreter: Interpreter,
    constraint_digests: Sequence[str],
) -> dict[str, Any]:
    """Everything that decides what pip installs into an environment, credentials left out (pure).

    ``constraint_digests``: the sha256 of each of ``environment.constraints`` (same order).
    """
    return {
        "format": _FORMAT,
        "steps": [list(step) for step in steps],
        "interpreter": {
            "implementation": interpreter.implementation,
            "version": interpreter.version,
            "executable": interpreter.executable,
            "machine": interpreter.machine,
            "pip": interpreter.pip,
        },
        "index_urls": [redact_url(url) for url in environment.index_urls],
        "constraints": [
            {"path": path, "sha256": digest}
            for path, digest in zip(environment.constraints, constraint_digests, strict=True)
        ],
        "pip_argv": environment.install_argv("{python}", "{requirements}", "{report}"),
    }


def env_key(material: Mapping[str, Any]) -> str:
    """The entry name of an environment: a digest of its :func:`key_material` (pure)."""
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:32]


def render_record(material: Mapping[str, Any], reports: Sequence[Sequence[BuildRequirement]]) -> str:
    """``env.json``: the key material and, per step, what pip reported it installed (pure)."""
    return json.dumps(
        {
            "material": material,
            "installed": [
                [{"name": r.name, "version": r.version, "sha256": r.sha256} for r in report]
                for report in reports
            ],
        },
        indent=1,
        sort_keys=True,
    )


def parse_record(text: str, material: Mapping[str, Any]) -> tuple[tuple[BuildRequirement, ...], ...] | None:
    """The per-step reports of an ``env.json`` made for ``material``; None when it is unreadable, made for other
    material or does not have one report per step (pure)."""
    try:
        data = json.loads(text)
        if data["material"] != json.loads(json.dumps(material)):
            return None
        reports = tuple(
            tuple(
                BuildRequirement(
                    name=str(r["name"]),
                    version=str(r["version"]),
                    sha256=None if r["sha256"] is None else str(r["sha256"]),
                )
                for r in report
            )
            for report in data["installed"]
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return reports if len(reports) == len(material["steps"]) else None


@dataclass(frozen=True, kw_only=True, slots=True)
class CachedEnv:
    """A complete environment of the cache; pypa/build's ``IsolatedEnv`` protocol."""

    path: Path
    #: every step's report, in order
    reports: tuple[tuple[BuildRequirement, ...], ...]

    @property
    def python_executable(self) -> str:
        return str(self.path / "bin" / "python")

    @property
    def requirements(self) -> tuple[BuildRequirement, ...]:
        """What pip installed into it, over all steps."""
        return tuple(r for report in self.reports for r in report)

    def make_extra_environ(self) -> dict[str, str]:
        """The environment's scripts first on PATH and no host PYTHONPATH (as pypa/build's own environments)."""
        scripts = str(self.path / "bin")
        path = os.environ.get("PATH")
        return {"PATH": os.pathsep.join([scripts, path]) if path else scripts, "PYTHONPATH": ""}


def cached_env(
    root: Path, steps: Sequence[Step], environment: BuildEnvironment, install: Installer
) -> CachedEnv:
    """The complete environment for ``steps`` under ``root``: reused, or made (each step installed by ``install``).

    :raises InstallError: pip failed (the entry is removed again).
    :raises BuildError: the cache directory cannot hold an environment (not writable, no space).
    """
    material = key_material(steps, environment, Interpreter.current(), _digests(environment.constraints))
    entry = root / env_key(material)
    found = _complete(entry, material)
    if found is not None:
        return found
    try:
        return _make(entry, steps, material, environment, install)
    except OSError as exc:
        raise BuildError(
            f"cannot make a build environment in {root}: {exc.strerror or exc}",
            hint="make that directory writable, pass another --cache-dir, or --no-build-env-cache",
        ) from None


def _make(
    entry: Path,
    steps: Sequence[Step],
    material: Mapping[str, Any],
    environment: BuildEnvironment,
    install: Installer,
) -> CachedEnv:
    entry.parent.mkdir(parents=True, exist_ok=True)
    with _locked(entry.parent / f"{entry.name}.lock"):
        found = _complete(entry, material)  # another build may have made it while this one waited
        if found is not None:
            return found
        if entry.exists():
            _log.info("build environment %s is incomplete (an interrupted build?): making it again", entry)
            shutil.rmtree(entry)
        try:
            venv.EnvBuilder(symlinks=True, with_pip=False).create(entry)
            python = str(entry / "bin" / "python")
            reports = tuple(install(environment, python, step) for step in steps)
            write_atomic(entry / _COMPLETE, render_record(material, reports).encode())
        except BaseException:
            shutil.rmtree(entry, ignore_errors=True)
            raise
        _log.debug("made build environment %s for %s", entry, steps)
        return CachedEnv(path=entry, reports=reports)


def _digests(paths: Iterable[str]) -> list[str]:
    found = []
    for path in paths:
        try:
            found.append(hashlib.sha256(Path(path).read_bytes()).hexdigest())
        except OSError:
            found.append("")  # pip reports the missing file when it is asked to install
    return found


def _complete(entry: Path, material: Mapping[str, Any]) -> CachedEnv | None:
    """The environment at ``entry`` if it was completed for ``material`` and still holds what pip installed."""
    try:
        reports = parse_record((entry / _COMPLETE).read_text(), material)
    except OSError:
        return None
    if reports is None or not (entry / "bin" / "python").is_file():
        return None
    found = CachedEnv(path=entry, reports=reports)
    present = installed_distributions(entry)
    if any(present.get(canonicalize_name(r.name)) != r.version for r in found.requirements):
        return None
    return found


def installed_distributions(entry: Path) -> dict[str, str]:
    """canonical name -> version of each distribution in the venv at ``entry``."""
    purelib = sysconfig.get_path("purelib", scheme="venv", vars={"base": str(entry), "platbase": str(entry)})
    return {
        canonicalize_name(d.metadata["Name"]): d.version
        for d in importlib.metadata.distributions(path=[purelib])
        if d.metadata["Name"]
    }


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def install_requirements(
    environment: BuildEnvironment, python: str, requirements: Step
) -> tuple[BuildRequirement, ...]:
    """pip-install ``requirements`` into the venv of ``python`` from the pool only; what pip reports it installed.

    :raises InstallError: pip failed (its last lines, credentials redacted).
    """
    with tempfile.TemporaryDirectory(prefix="netbundle-build-reqs-") as tmp:
        wanted, report = Path(tmp) / "requirements.txt", Path(tmp) / "report.json"
        wanted.write_text("\n".join(requirements) + "\n")
        argv = environment.install_argv(python, str(wanted), str(report))
        done = subprocess.run(
            argv, env=environment.pip_environ(os.environ), capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            tail = environment.redact(done.stderr.strip()).splitlines()[-3:]
            raise InstallError(
                f"installing {', '.join(requirements)} from the project's sources: " + " / ".join(tail)
            )
        return parse_install_report(report.read_text())


@dataclass(kw_only=True)
class BuildEnvironments:
    """The environments of one block of builds, which install their requirements in steps.

    ``ensure(requirements)`` returns an environment holding every requirement asked for so far (in the block) and
    ``used(env)`` adds what the environment a build runs in holds to ``record``. With ``environment.env_cache``
    (and pip not left to its own configuration) the environments come from that cache, each the result of the
    block's steps so far; else one temporary environment gets each new step installed into it.
    """

    environment: BuildEnvironment
    record: list[BuildRequirement]
    install: Installer = install_requirements
    steps: list[Step] = field(default_factory=list)
    temporary: build.env.DefaultIsolatedEnv | None = None

    @property
    def cache(self) -> Path | None:
        environment = self.environment
        return None if environment.pip_configuration else environment.env_cache

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.temporary is not None:
            self.temporary.__exit__(*exc)
            self.temporary = None

    def ensure(self, requirements: Iterable[str]) -> build.env.IsolatedEnv:
        asked = {r for step in self.steps for r in step}
        missing = tuple(sorted(set(requirements) - asked))
        if missing:
            self.steps.append(missing)
        cache = self.cache
        if cache is not None:
            return cached_env(cache, self.steps, self.environment, self.install)
        if self.temporary is None:
            import build.env

            self.temporary = build.env.DefaultIsolatedEnv()
            self.temporary.__enter__()
        if missing:
            self.record.extend(self.install(self.environment, self.temporary.python_executable, missing))
        return self.temporary

    def used(self, env: build.env.IsolatedEnv) -> None:
        """A build runs in ``env``: record what a cached one holds (a temporary one was recorded step by step)."""
        if isinstance(env, CachedEnv):
            self.record.extend(env.requirements)
