"""Wheels for dependencies that publish none (sdist-only, git, path), built on the build host with pypa/build.

Each build runs in an isolated environment (PEP 517: reused from the cache, :mod:`netbundle.wheels.buildenv`, or
a temporary ``build.env.DefaultIsolatedEnv``) with ``SOURCE_DATE_EPOCH`` set, from an sdist unpacked without trusting its member paths, or a git checkout at the locked commit, or the
path dependency's directory. Built wheels are cached by the input's sha256 so an unchanged lock builds nothing.
A pure-Python wheel serves every target; a platform wheel only targets whose tags accept it *and* whose glibc
level and architecture cover what its ELF files really need (:mod:`netbundle.wheels.compat`): anything else is a
:class:`BuildError` naming the package, the target, the glibc the wheel needs and the remedy.
"""

from __future__ import annotations

import fnmatch
import functools
import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
import tomllib
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Literal

from packaging.utils import parse_wheel_filename

from netbundle._atomic import atomic_output, write_atomic
from netbundle.errors import BuildError
from netbundle.format.tar import file_sha256
from netbundle.lock.model import PackageSource
from netbundle.targets import Target
from netbundle.targets.choice import Choice
from netbundle.wheels.buildenv import BuildEnvironments, InstallError
from netbundle.wheels.compat import WheelPolicy, refusal, target_glibc, wheel_policy
from netbundle.wheels.environment import BuildEnvironment, BuildRequirement, backend_environ

_log = logging.getLogger(__name__)
_PROVENANCE = "build.json"
_PROJECT_REQUIREMENTS = "build-requirements.json"
#: what a direct library call without a BuildEnvironment gets: pip's own configuration (commands pass the pool)
_PIP_CONFIGURED = BuildEnvironment(pip_configuration=True)
DEFAULT_EPOCH = 315532800  # 1980-01-01, the earliest time a zip file can carry
_NOT_SOURCE = (
    ".git",
    ".venv*",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".cache",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class BuiltWheel:
    """A wheel this host built, and how (the manifest's provenance)."""

    path: Path
    sha256: str
    input_filename: str
    input_sha256: str
    backend: str
    #: What its ELF files need (None for a pure wheel; read from the file when not given).
    policy: WheelPolicy | None = None
    #: what pip installed into the build's isolated environment (empty for an entry built before netbundle kept it)
    requirements: tuple[BuildRequirement, ...] = ()

    @property
    def is_pure(self) -> bool:
        return all(t.platform == "any" for t in parse_wheel_filename(self.path.name)[3])

    def compatibility(self) -> WheelPolicy | None:
        """The policy of a platform wheel (read from the wheel when it was not given); None for a pure one."""
        if self.is_pure:
            return None
        return self.policy if self.policy is not None else wheel_policy(self.path)


def find_built(choice: Choice, *, project_root: Path, cache_root: Path) -> BuiltWheel | None:
    """The cached wheel of an earlier build of this exact input, without unpacking or building anything."""
    key = _input_key(choice, project_root)
    return _read_built(cache_root / "built" / key, key) if key is not None else None


def _input_key(choice: Choice, project_root: Path) -> str | None:
    """What a build's cache entry is named by: the sdist's sha256, the sha256 of a git dependency's commit, or the
    source digest of a path dependency's tree (None: nothing to build from)."""
    source = choice.package.source
    if source is not None and source.type == "directory":
        return source_digest((project_root / source.url).resolve())
    if source is not None and source.type == "git":
        return hashlib.sha256(_git_commit(source).encode()).hexdigest()
    return choice.file.sha256 if choice.file is not None else None


def _git_commit(source: PackageSource) -> str:
    """The commit a git dependency is locked to."""
    return source.resolved_reference or source.reference or "HEAD"


def build_wheel(
    choice: Choice,
    *,
    input_path: Path | None,
    project_root: Path,
    cache_root: Path,
    epoch: int,
    environment: BuildEnvironment | None = None,
) -> BuiltWheel:
    """Build (or take from the cache) the wheel for one ``needs_build`` choice.

    Safe to run in a :class:`~netbundle.wheels.pool.BuildPool` worker: it only reads its inputs and writes the cache
    entry ``built/<input sha256>/`` (the wheel and ``build.json``, its provenance), each file renamed into place.
    """
    package = choice.package
    input_sha = _input_key(choice, project_root)
    if input_sha is None:
        raise BuildError(f"{package.name} {package.version}: no input to build from")
    cached = cache_root / "built" / input_sha
    found = _read_built(cached, input_sha)
    if found is not None:
        return found
    installed: list[BuildRequirement] = []
    with _source_tree(choice, input_path, project_root) as (tree, input_name):
        wheel = _run_build(
            tree,
            cached,
            epoch,
            f"{package.name} {package.version}",
            environment or _PIP_CONFIGURED,
            installed,
        )
        built = _with_policy(
            BuiltWheel(
                path=wheel,
                sha256=file_sha256(wheel),
                input_filename=input_name,
                input_sha256=input_sha,
                backend=_backend(tree),
                requirements=tuple(sorted(set(installed), key=lambda r: (r.name.lower(), r.version))),
            )
        )
    provenance = {
        "wheel": wheel.name,
        "input": input_name,
        "backend": built.backend,
        "requirements": [
            {"name": r.name, "version": r.version, "sha256": r.sha256} for r in built.requirements
        ],
    }
    _write_atomic(cached / _PROVENANCE, json.dumps(provenance, sort_keys=True).encode())
    return built


def _read_built(cached: Path, input_sha: str) -> BuiltWheel | None:
    try:
        provenance = json.loads((cached / _PROVENANCE).read_text())
        wheel = cached / provenance["wheel"]
        if not wheel.is_file():
            return None
        return _with_policy(
            BuiltWheel(
                path=wheel,
                sha256=file_sha256(wheel),
                input_filename=str(provenance["input"]),
                input_sha256=input_sha,
                backend=str(provenance["backend"]),
                requirements=tuple(
                    BuildRequirement(name=str(r["name"]), version=str(r["version"]), sha256=r.get("sha256"))
                    for r in provenance.get("requirements", ())
                ),
            )
        )
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
        return None  # not built yet, or an entry of an older netbundle: build (again)


def _with_policy(built: BuiltWheel) -> BuiltWheel:
    """``built`` with the policy of its ELF files (read once, here, for every wheel this host built)."""
    return built if built.is_pure else replace(built, policy=wheel_policy(built.path))


def project_cache_key(root: Path, epoch: int) -> str:
    """The key of the project's cached sdist and wheel: every source file's path, mode and bytes, and the epoch.

    The build backend's version is not part of it (finding it needs the index): pin ``[build-system] requires``,
    or build with a fresh ``--cache-dir`` to rebuild with a newer backend.
    """
    return source_digest(root, f"netbundle-project-2\0{epoch}\0")


def source_digest(root: Path, salt: str = "") -> str:
    """A digest of a source tree: every source file's path, executable bit and bytes (see :func:`_source_files`).

    Build outputs a backend writes into the tree (``build/``, ``*.egg-info``) are not source, so building a path
    dependency in place does not change its digest.
    """
    digest = hashlib.sha256(salt.encode())
    for path in _source_files(root):
        mode = "x" if path.stat().st_mode & 0o111 else "-"
        digest.update(f"{path.relative_to(root).as_posix()}\0{mode}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def cached_project(entry: Path) -> tuple[Path, Path] | None:
    """The sdist and wheel of a project cache entry (``project/<key>/``), or None when it is not complete."""
    sdists = sorted(entry.glob("*.tar.gz")) if entry.is_dir() else []
    wheels = sorted(entry.glob("*.whl")) if entry.is_dir() else []
    return (sdists[0], wheels[0]) if len(sdists) == 1 and len(wheels) == 1 else None


def build_project(
    root: Path, outdir: Path, *, epoch: int, environment: BuildEnvironment | None = None
) -> tuple[Path, Path]:
    """The project's own sdist, and a wheel built from that sdist (as pypa/build's default does), in ``outdir``.

    Both builds share one isolated environment (the same ``[build-system]``; the wheel's extra requirements are
    added to it). What pip installed into it is written beside them (:func:`project_build_requirements` reads it).
    Runs in a :class:`~netbundle.wheels.pool.BuildPool` worker or in-process.
    """
    installed: list[BuildRequirement] = []
    with tempfile.TemporaryDirectory(prefix="netbundle-project-") as tmp:
        # a pristine copy: backends write into the tree (egg-info, build/), which would change the next sdist
        pristine = Path(tmp) / "tree"
        for path in _source_files(root):
            copy = pristine / path.relative_to(root)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
        with _isolated_builds(
            epoch, f"project {root.name}", environment or _PIP_CONFIGURED, installed
        ) as build_in:
            sdist = build_in(pristine, "sdist", Path(tmp) / "sdist")
            normalize_sdist(sdist, epoch)
            tree = _unpack_sdist(sdist, Path(tmp) / "src")
            wheel = build_in(tree, "wheel", outdir)
        final_sdist = outdir / sdist.name
        shutil.copy2(sdist, final_sdist)
    pins = sorted({str(r) for r in installed})
    _write_atomic(outdir / _PROJECT_REQUIREMENTS, json.dumps(pins).encode())
    return final_sdist, wheel


def project_build_requirements(entry: Path) -> tuple[str, ...]:
    """``name==version sha256:<hex>`` of what the project's cached build installed (empty for older entries)."""
    try:
        pins = json.loads((entry / _PROJECT_REQUIREMENTS).read_text())
    except (OSError, ValueError):
        return ()
    return tuple(str(p) for p in pins) if isinstance(pins, list) else ()


def _source_files(root: Path) -> list[Path]:
    """The files a project build sees: all under ``root`` but names matching ``_NOT_SOURCE`` (at any depth)."""
    found: list[Path] = []
    for directory, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not _not_source(d))
        found += [Path(directory, f) for f in sorted(files) if not _not_source(f)]
    return found


def _not_source(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in _NOT_SOURCE)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)


def normalize_sdist(path: Path, epoch: int) -> None:
    """Rewrite a .tar.gz sdist reproducibly: sorted members, mtime ``epoch``, owner 0, no names, fixed gzip header.

    Backends stamp the current time into the gzip header and into member times, so two builds of one tree differ;
    this keeps only what matters: names, modes (0644/0755) and contents.
    """
    if not path.name.endswith(".tar.gz"):
        return
    with tarfile.open(path) as src:
        members = sorted((m for m in src.getmembers() if m.isfile() or m.isdir()), key=lambda m: m.name)
        payload = [(m, src.extractfile(m).read() if m.isfile() else b"") for m in members]  # type: ignore[union-attr]
    with (
        atomic_output(path) as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=epoch) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as out,
    ):
        for member, data in payload:
            member.mtime, member.uid, member.gid, member.uname, member.gname = epoch, 0, 0, "", ""
            member.mode = 0o755 if member.isdir() or member.mode & 0o111 else 0o644
            member.pax_headers = {}
            out.addfile(member, io.BytesIO(data) if member.isfile() else None)


def check_fits(built: BuiltWheel, target: Target, package: str) -> None:
    """A platform wheel built here must be installable on the target, by its tags and by what its ELF files
    need (:func:`netbundle.wheels.compat.refusal`), else say what to do.

    :raises BuildError: (exit 7) naming the package, the target, why (e.g. the glibc the wheel needs) and the remedy.
    """
    if built.is_pure:
        return
    wanted = {str(t) for t in target.tags()}
    if not any(str(t) in wanted for t in parse_wheel_filename(built.path.name)[3]):
        raise BuildError(
            f"{package}: the wheel built on this host ({built.path.name}) does not fit target {target.name}"
            f" ({target.label})",
            hint="build on a runner of that platform and `netbundle merge` the parts, or pin a version with wheels",
        )
    policy = built.compatibility()
    reason = refusal(policy, target) if policy is not None else None
    if reason is not None:
        raise BuildError(
            f"{package}: the wheel built on this host ({built.path.name}) cannot run on target {target.name}"
            f" ({target.label}): {reason}",
            hint=_misfit_hint(package.split()[0], target),
        )


def _misfit_hint(name: str, target: Target) -> str:
    promised = target_glibc(target.primary_platform)
    runner = (
        f"a runner whose glibc is no newer than {promised[0][0]}.{promised[0][1]} (e.g. a manylinux_"
        f"{promised[0][0]}_{promised[0][1]} {promised[1]} container)"
        if promised
        else f"a {target.primary_platform} runner"
    )
    return (
        f"build {name} on {runner} and `netbundle merge` the bundles, or pin a version of {name} that publishes"
        f" a wheel for {target.primary_platform}"
    )


@contextmanager
def _source_tree(choice: Choice, input_path: Path | None, root: Path) -> Iterator[tuple[Path, str]]:
    """The tree to build and how the provenance names the input (a path, ``url@commit``, the sdist's filename)."""
    source = choice.package.source
    with tempfile.TemporaryDirectory(prefix="netbundle-build-") as tmp:
        if source is not None and source.type == "directory":
            yield (root / source.url).resolve(), source.url
        elif source is not None and source.type == "git":
            tree = Path(tmp) / "checkout"
            commit = _git_commit(source)
            _git_checkout(source.url, commit, tree)
            yield tree / (source.subdirectory or ""), f"{source.url}@{commit}"
        else:
            if input_path is None or choice.file is None:
                raise BuildError(f"{choice.package.name} {choice.package.version}: no input to build from")
            yield _unpack_sdist(input_path, Path(tmp) / "src"), choice.file.filename


def _unpack_sdist(archive: Path, dest: Path) -> Path:
    """Unpack an sdist refusing absolute paths, ``..``, links and devices (no reliance on tarfile filters)."""
    dest.mkdir(parents=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                _check_member(info.filename, archive)
            zf.extractall(dest)  # noqa: S202 - every member name was checked above
    else:
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                _check_member(member.name, archive)
                if not (member.isfile() or member.isdir()):
                    raise BuildError(
                        f"{archive.name}: member {member.name!r} is a link or device; refusing to unpack"
                    )
                target = dest / member.name
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with tf.extractfile(member) as src, target.open("wb") as out:  # type: ignore[union-attr]
                    shutil.copyfileobj(src, out)
    entries = list(dest.iterdir())
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else dest


def _check_member(name: str, archive: Path) -> None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise BuildError(f"{archive.name}: member {name!r} escapes the archive; refusing to unpack")


def _git_checkout(url: str, commit: str, dest: Path) -> None:
    for args in (
        ["clone", "--quiet", "--no-checkout", url, str(dest)],
        ["-C", str(dest), "checkout", "--quiet", commit],
    ):
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BuildError(f"git {args[0]} of {url} at {commit} failed: {done.stderr.strip()[-300:]}")


#: PEP 517's fallback when a project names no build backend (or has no pyproject.toml).
DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"


def backend_of(pyproject: Mapping[str, object]) -> str:
    """The build backend a parsed pyproject.toml names, else PEP 517's setuptools fallback."""
    system = pyproject.get("build-system")
    backend = system.get("build-backend") if isinstance(system, dict) else None
    return str(backend) if backend else DEFAULT_BACKEND


def _backend(tree: Path) -> str:
    try:
        data = tomllib.loads((tree / "pyproject.toml").read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return DEFAULT_BACKEND
    return backend_of(data)


Distribution = Literal["sdist", "wheel"]


def _run_build(
    tree: Path,
    outdir: Path,
    epoch: int,
    what: str,
    environment: BuildEnvironment,
    installed: list[BuildRequirement],
    *,
    distribution: Distribution = "wheel",
) -> Path:
    with _isolated_builds(epoch, what, environment, installed) as build_in:
        return build_in(tree, distribution, outdir)


@contextmanager
def _isolated_builds(
    epoch: int, what: str, environment: BuildEnvironment, record: list[BuildRequirement]
) -> Iterator[Callable[[Path, Distribution, Path], Path]]:
    """Isolated PEP 517 builds; yields ``build_in(tree, distribution, outdir) -> built file``.

    Each build's requirements are installed before it runs (pip is not asked again for requirements it has
    installed in this block), from the pool of ``environment`` only, into an environment from its cache
    (:class:`~netbundle.wheels.buildenv.BuildEnvironments`) or one temporary environment; what the build's
    environment holds is appended to ``record``. Every built file is moved into its ``outdir`` only once complete.
    The backend never sees a credential (:func:`~netbundle.wheels.environment.backend_environ`).
    """
    import build

    runner = functools.partial(_quiet_runner, epoch=epoch)
    doing: list[Distribution] = ["wheel"]
    try:
        # the backend's own warnings (deprecated setup.py options, ...) are its business: log them, never raise
        with (
            warnings.catch_warnings(record=True) as caught,
            BuildEnvironments(environment=environment, record=record) as environments,
        ):
            warnings.simplefilter("always")

            def build_in(tree: Path, distribution: Distribution, outdir: Path) -> Path:
                doing[0] = distribution
                requires = build.ProjectBuilder(tree, runner=runner).build_system_requires  # reads pyproject
                env = environments.ensure(requires)
                # the backend can be asked for its own requirements only once the build system is installed
                builder = build.ProjectBuilder.from_isolated_env(env, tree, runner=runner)
                extra = environments.ensure(builder.get_requires_for_build(distribution))
                if extra != env:
                    builder = build.ProjectBuilder.from_isolated_env(extra, tree, runner=runner)
                environments.used(extra)
                staging = Path(tempfile.mkdtemp(prefix=".build-", dir=_ensure(outdir.parent)))
                try:
                    built = Path(builder.build(distribution, staging))
                    outdir.mkdir(parents=True, exist_ok=True)
                    final = outdir / built.name
                    built.replace(final)
                finally:
                    shutil.rmtree(staging, ignore_errors=True)
                _log.info("built %s (%s) -> %s", what, distribution, final.name)
                return final

            yield build_in
        for warning in caught:
            _log.debug("%s: build backend warning: %s", what, warning.message)  # backend noise: -v only
    except InstallError as exc:
        raise BuildError(
            f"building a{'n' if doing[0] == 'sdist' else ''} {doing[0]} for {what} failed: {exc}",
            hint="build requirements come from the project's pool only, as wheels: make them available there, "
            "or pin them in a build constraints file",
        ) from None
    except (build.BuildException, build.BuildBackendException, subprocess.CalledProcessError) as exc:
        raise BuildError(
            f"building a{'n' if doing[0] == 'sdist' else ''} {doing[0]} for {what} failed: {str(exc).strip()[-400:]}",
            hint="run with -v to see the backend's output",
        ) from None


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _quiet_runner(
    cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None, *, epoch: int
) -> None:
    """Run a backend hook with ``SOURCE_DATE_EPOCH`` set and no credentials; its output is logged at debug level."""
    env = {**backend_environ(os.environ), **(extra_environ or {}), "SOURCE_DATE_EPOCH": str(epoch)}
    done = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        _log.debug("%s", done.stdout + done.stderr)
        raise subprocess.CalledProcessError(done.returncode, cmd, done.stdout, done.stderr)
