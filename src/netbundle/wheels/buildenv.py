"""Isolated PEP 517 build environments, kept in the cache and reused by builds with the same requirements.

A cold build of a project (and of each sdist-only dependency) used to create a fresh venv and install its build
backend into it every time. Here an environment is a cache entry ``build-envs/<key>/`` named by what it was made
for: the requirement strings (``[build-system] requires`` plus the backend's extra ones), this interpreter, and the
pip variables that choose the index. The first build creates it in place (venvs are not relocatable: scripts carry
their path) under a file lock and marks it complete with ``env.json`` (what pip resolved: name -> version);
every later build with the same requirements uses it as is. An entry without ``env.json`` (a killed build) is
removed and made again. Builds only read an environment, so concurrent builds share one.

Like the wheel cache, a stored environment is not refreshed when a newer backend is published: pin
``[build-system] requires`` or use a fresh ``--cache-dir``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self

if TYPE_CHECKING:
    import build
    import build.env

ENV_DIR = "build-envs"
_COMPLETE = "env.json"
#: pip settings that change what an install resolves to (the index, extra indexes, local directories)
_PIP_VARIABLES = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX", "PIP_CONSTRAINT")


@dataclass(frozen=True, slots=True)
class CachedEnv:
    """A completed environment of the cache; pypa/build's ``IsolatedEnv`` protocol."""

    path: Path
    resolved: Mapping[str, str]

    @property
    def python_executable(self) -> str:
        return str(self.path / "bin" / "python")

    def make_extra_environ(self) -> dict[str, str]:
        """The environment's scripts first on PATH and no host PYTHONPATH (as pypa/build's own env)."""
        scripts = str(self.path / "bin")
        path = os.environ.get("PATH")
        return {"PATH": os.pathsep.join([scripts, path]) if path else scripts, "PYTHONPATH": ""}


def env_key(requirements: Collection[str], environ: Mapping[str, str]) -> str:
    """The cache key of an environment for ``requirements`` (pure)."""
    material = {
        "format": 1,
        "python": sys.version,
        "executable": os.path.realpath(sys.executable),
        "requirements": sorted(set(requirements)),
        "pip": {name: environ.get(name, "") for name in _PIP_VARIABLES},
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:32]


def cached_env(root: Path, requirements: Collection[str]) -> CachedEnv:
    """The completed environment for ``requirements`` under ``root``, created (and its requirements installed)
    when there is none yet.

    :raises build.BuildException, subprocess.CalledProcessError: creating or installing failed (the entry is
        removed again).
    """
    entry = root / env_key(requirements, os.environ)
    found = _read(entry)
    if found is not None:
        return found
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root / (entry.name + ".lock")):
        found = _read(entry)  # another build may have made it while this one waited
        if found is not None:
            return found
        shutil.rmtree(entry, ignore_errors=True)  # a killed build's leftovers
        try:
            resolved = _create(entry, requirements)
        except BaseException:
            shutil.rmtree(entry, ignore_errors=True)
            raise
        temporary = entry / (_COMPLETE + ".tmp")
        temporary.write_text(
            json.dumps({"requirements": sorted(requirements), "resolved": resolved}, indent=1)
        )
        temporary.replace(entry / _COMPLETE)
        return CachedEnv(entry, resolved)


def _create(entry: Path, requirements: Collection[str]) -> dict[str, str]:
    import build.env

    env = build.env.DefaultIsolatedEnv(path=str(entry))
    env.__enter__()  # never exited: pypa/build removes an environment on exit, and this one is kept
    env.install(set(requirements))
    return dict(sorted(_installed(entry).items()))


def _installed(entry: Path) -> dict[str, str]:
    import importlib.metadata

    from packaging.utils import canonicalize_name

    sites = [str(p) for p in entry.glob("lib*/python*/site-packages")]
    return {canonicalize_name(d.name): d.version for d in importlib.metadata.distributions(path=sites)}


def _read(entry: Path) -> CachedEnv | None:
    try:
        data = json.loads((entry / _COMPLETE).read_text())
        resolved = {str(k): str(v) for k, v in data["resolved"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    if not (entry / "bin" / "python").exists():
        return None
    return CachedEnv(entry, resolved)


class BuildEnvironments:
    """Where the builds of one ``_isolated_builds`` block run: cached environments, or one temporary one."""

    def __init__(self, env_cache: Path | None) -> None:
        self.env_cache = env_cache
        self.temporary: build.env.DefaultIsolatedEnv | None = None
        self.installed: set[str] = set()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.temporary is not None:
            self.temporary.__exit__(*exc)

    def builder_for(
        self, tree: Path, distribution: Literal["sdist", "wheel"], runner: Callable[..., None]
    ) -> build.ProjectBuilder:
        """A ProjectBuilder for ``tree`` in an environment holding its build system and extra requirements."""
        import build

        requires = set(
            build.ProjectBuilder(tree, runner=runner).build_system_requires
        )  # reads pyproject only
        builder = build.ProjectBuilder.from_isolated_env(self._env(requires), tree, runner=runner)
        # the backend can be asked for its own requirements only once the build system is installed
        extra = set(builder.get_requires_for_build(distribution))
        if extra - self.installed and not self._satisfied(requires, extra):
            builder = build.ProjectBuilder.from_isolated_env(self._env(requires | extra), tree, runner=runner)
        return builder

    def _env(self, requirements: set[str]) -> build.env.IsolatedEnv:
        if self.env_cache is not None:
            return cached_env(self.env_cache, requirements)
        if self.temporary is None:
            import build.env

            self.temporary = build.env.DefaultIsolatedEnv()
            self.temporary.__enter__()
        missing = requirements - self.installed
        self.temporary.install(missing)
        self.installed.update(missing)
        return self.temporary

    def _satisfied(self, requires: set[str], extra: set[str]) -> bool:
        """Whether the cached environment of ``requires`` already meets ``extra`` (no extras, markers held)."""
        if self.env_cache is None:
            return False
        from packaging.requirements import InvalidRequirement, Requirement
        from packaging.utils import canonicalize_name

        resolved = cached_env(self.env_cache, requires).resolved
        for line in extra:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                return False
            if requirement.marker is not None and not requirement.marker.evaluate():
                continue
            version = resolved.get(canonicalize_name(requirement.name))
            if (
                requirement.extras
                or version is None
                or not requirement.specifier.contains(version, prereleases=True)
            ):
                return False
        return True


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
