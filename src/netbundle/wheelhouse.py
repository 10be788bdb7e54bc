"""``fetch_wheelhouse``: lock engine + targets + plan + parallel fetch -> one wheelhouse per target + plan.json."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from netbundle._atomic import atomic_directory
from netbundle.errors import JSON_FORMAT, BuildError, InputError, UsageError
from netbundle.fetch.cache import Cache, default_cache_dir
from netbundle.fetch.plan import FetchItem, FetchPlan, FetchResult, execute, materialize, plan_fetch
from netbundle.fetch.sources import SourceIndexes
from netbundle.lock.export import redact_url
from netbundle.lock.groups import GroupSelection, select_for_environment, select_packages
from netbundle.lock.project import LoadedProject, load_project
from netbundle.lock.python_range import check_targets_python
from netbundle.targets import Target, resolve_targets, targets_from_config
from netbundle.targets.choice import Choice, choose_all
from netbundle.wheels.build import DEFAULT_EPOCH, BuiltWheel, build_wheel, check_fits, find_built
from netbundle.wheels.buildenv import ENV_DIR
from netbundle.wheels.compat import host_machine, known_refusal
from netbundle.wheels.environment import BuildEnvironment
from netbundle.wheels.pool import BuildPool


@dataclass(frozen=True, kw_only=True, slots=True)
class FetchRequest:
    project_dir: Path
    output: Path
    selection: GroupSelection = field(default_factory=GroupSelection)
    targets: tuple[str, ...] = ()
    index_url: str | None = None
    cache_dir: Path | None = None
    concurrency: int = 8
    environ: Mapping[str, str] = field(default_factory=dict)
    #: Build wheels for sdist-only, git and path dependencies on this host.
    build: bool = True
    #: Called as (done, total) after each file (downloaded or cached); the CLI draws a progress line with it.
    progress: Callable[[int, int], None] | None = None
    #: ``--build-constraint`` files: pins for the build requirements of sdist/git/path builds (and the project's)
    build_constraints: tuple[Path, ...] = ()
    #: Called as (file name, bytes) after each download (not for cached files): the progress line's byte count.
    on_download: Callable[[str, int], None] | None = None
    #: Reuse isolated build environments from ``<cache>/build-envs/`` (``--no-build-env-cache``: a fresh one per build).
    build_env_cache: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class WheelhouseResult:
    output: Path
    plan: FetchPlan
    fetched: FetchResult
    targets: tuple[Target, ...]
    #: package name -> the wheel built for it on this host
    built: Mapping[str, BuiltWheel] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """The ``fetch --json`` summary (docs/schemas/fetch.json): a package is either ``built`` on this host or,
        with ``--no-build``, ``needs_build``, never both."""
        return {
            "format": JSON_FORMAT,
            "output": str(self.output),
            "files": len(self.plan.items),
            "downloaded": self.fetched.downloaded,
            "cached": self.fetched.cached,
            "bytes_downloaded": self.fetched.bytes_downloaded,
            "targets": {
                t.name: len([c for c in self.plan.choices[t.name] if c.kind == "wheel"]) for t in self.targets
            },
            "needs_build": [
                f"{c.package.name}=={c.package.version}"
                for c in self.plan.builds
                if c.package.name not in self.built
            ],
            "built": {name: b.path.name for name, b in sorted(self.built.items())},
        }

    def render_text(self) -> str:
        data = self.to_json()
        lines = [
            f"{data['files']} files ({data['downloaded']} downloaded, {data['cached']} from cache) -> {self.output}"
        ]
        lines.extend(f"  {t.name}: {data['targets'][t.name]} wheels" for t in self.targets)  # type: ignore[index]
        if self.built:
            lines.append("  built on this host: " + ", ".join(b.path.name for b in self.built.values()))
        if data["needs_build"]:
            lines.append("  needs a build (skipped, --no-build): " + ", ".join(data["needs_build"]))  # type: ignore[arg-type]
        return "\n".join(lines)


def default_selection(loaded: LoadedProject, selection: GroupSelection) -> GroupSelection:
    """Without group flags, carry ``[tool.netbundle] groups`` (main is always carried)."""
    if selection.with_groups or selection.only_groups or selection.all_groups or selection.without_groups:
        return selection
    return replace(selection, with_groups=loaded.pyproject.netbundle.groups)


@dataclass(frozen=True, kw_only=True, slots=True)
class Gathered:
    """Everything a fetch found and made, before it is written anywhere (the bundle builder starts here)."""

    loaded: LoadedProject
    selection: GroupSelection
    targets: tuple[Target, ...]
    plan: FetchPlan
    fetched: FetchResult
    built: Mapping[str, BuiltWheel]
    indexes: SourceIndexes
    cache: Cache


def gather(request: FetchRequest, *, pool: BuildPool | None = None) -> Gathered:
    """Choose, download (into the cache) and build every file the selected groups need for every target.

    Builds run in ``pool`` (the caller's, so that its own builds overlap these; else one of its own). The sdists
    to build are downloaded first and each build starts as soon as its sdist is in the cache (git and path
    builds, and builds the cache already holds, before any download), so builds overlap the other downloads.
    """
    loaded = load_project(request.project_dir)
    targets = resolve_targets(request.targets, targets_from_config(loaded.pyproject.netbundle.targets))
    if not targets:
        raise UsageError(
            f"{loaded.pyproject_path}: no targets: add [[tool.netbundle.targets]] or pass --target",
            hint="e.g. --target cp311-manylinux_2_28_x86_64",
        )
    check_targets_python(loaded.pyproject, loaded.lock, targets, where=str(loaded.pyproject_path))
    selection = default_selection(loaded, request.selection)
    selected = select_packages(loaded.pyproject, loaded.lock, selection)
    choices = {
        t.name: choose_all(
            select_for_environment(selected, t.marker_environment(), where=f"target {t.name}"), t
        )
        for t in targets
    }
    plan = plan_fetch(choices)
    indexes = SourceIndexes.for_project(
        loaded, index_url=request.index_url, environ=request.environ, concurrency=request.concurrency
    )
    cache = cache_of(request)
    tick = _counter(request.progress, request.on_download, len(plan.items))
    built: dict[str, BuiltWheel] = {}
    if not request.build:
        fetched = _fetch(plan, cache, indexes, loaded, request, tick)
    else:
        environment = build_environment(loaded, request, indexes)
        with contextlib.nullcontext(pool) if pool else BuildPool() as workers:
            builds = _Builds(plan, cache.root, loaded, targets, request, workers, environment)
            builds.start()

            def arrived(item: FetchItem, downloaded: int) -> None:
                if tick is not None:
                    tick(item, downloaded)
                builds.arrived(item, cache.path(item.sha256))

            # the builds' inputs first: each build starts once its sdist is in, while the other files download
            fetched = _fetch(inputs_first(plan), cache, indexes, loaded, request, arrived)
            built = builds.finish()
    return Gathered(
        loaded=loaded,
        selection=selection,
        targets=targets,
        plan=plan,
        fetched=fetched,
        built=built,
        indexes=indexes,
        cache=cache,
    )


def cache_of(request: FetchRequest) -> Cache:
    """The download and build cache: ``--cache-dir``, else the default for this user."""
    return Cache(request.cache_dir or default_cache_dir(request.environ))


def fetch_wheelhouse(request: FetchRequest) -> WheelhouseResult:
    """Fetch every file the selected groups need for every target; write ``output/<target>/`` and plan.json."""
    found = gather(request)
    _write_output(request.output, found.plan, found.fetched, found.targets, found.built)
    return WheelhouseResult(
        output=request.output,
        plan=found.plan,
        fetched=found.fetched,
        targets=found.targets,
        built=found.built,
    )


def build_environment(
    loaded: LoadedProject, request: FetchRequest, indexes: SourceIndexes | None = None
) -> BuildEnvironment:
    """Where PEP 517 builds install build requirements from (the project's pool), the constraints that pin them
    (``--build-constraint`` files, then ``[tool.netbundle] build-constraints``, relative to the project) and where
    their environments are cached (``<cache>/build-envs/``, unless ``build_env_cache`` is off).

    :raises InputError: a constraints file does not exist.
    """
    if indexes is None:
        indexes = SourceIndexes.for_project(loaded, index_url=request.index_url, environ=request.environ)
    configured = [loaded.root / path for path in loaded.pyproject.netbundle.build_constraints]
    files = [*request.build_constraints, *configured]
    for path in files:
        if not path.is_file():
            raise InputError(
                f"build constraints file {path} does not exist",
                hint="give --build-constraint an existing file, or fix [tool.netbundle] build-constraints",
            )
    return BuildEnvironment(
        index_urls=indexes.pool_urls(),
        constraints=tuple(str(p.resolve()) for p in files),
        env_cache=cache_of(request).root / ENV_DIR if request.build_env_cache else None,
    )


def _counter(
    report: Callable[[int, int], None] | None, on_download: Callable[[str, int], None] | None, total: int
) -> Callable[[FetchItem, int], None] | None:
    if report is None and on_download is None:
        return None
    done = [0]

    def tick(item: FetchItem, downloaded: int) -> None:
        done[0] += 1
        if on_download is not None and downloaded:
            on_download(item.filename, downloaded)
        if report is not None:
            report(done[0], total)

    return tick


def _fetch(
    plan: FetchPlan,
    cache: Cache,
    indexes: SourceIndexes,
    loaded: LoadedProject,
    request: FetchRequest,
    progress: Callable[[FetchItem, int], None] | None,
) -> FetchResult:
    return execute(
        plan,
        cache=cache,
        http=indexes.http,
        index_for=indexes.get,
        project_root=loaded.root,
        concurrency=request.concurrency,
        progress=progress,
    )


def inputs_first(plan: FetchPlan) -> FetchPlan:
    """``plan`` with the files that builds start from (sdists, url/file archives) first, each group in its own
    order, so that the download pool fetches them before the wheels (pure)."""
    inputs = {choice.file.sha256 for choice in plan.builds if choice.file is not None}
    first = tuple(item for item in plan.items if item.sha256 in inputs)
    return replace(plan, items=first + tuple(item for item in plan.items if item.sha256 not in inputs))


class _Builds:
    """Every ``needs_build`` package of a plan built once (in ``pool``), each started as soon as it can be.

    What is already known is refused before anything is built: a compiled package for another OS or architecture,
    and a wheel built earlier (in the cache) that does not fit a target.
    """

    def __init__(
        self,
        plan: FetchPlan,
        cache_root: Path,
        loaded: LoadedProject,
        targets: Sequence[Target],
        request: FetchRequest,
        pool: BuildPool,
        environment: BuildEnvironment,
    ) -> None:
        self.plan, self.cache_root, self.loaded, self.targets = plan, cache_root, loaded, targets
        self.pool, self.environment = pool, environment
        self.epoch = int(request.environ.get("SOURCE_DATE_EPOCH") or DEFAULT_EPOCH)
        self.ready: dict[str, BuiltWheel] = {}
        self.running: dict[str, Future[Any]] = {}
        #: input sha256 -> the builds waiting for that file
        self.waiting: dict[str, list[Choice]] = {}

    def start(self) -> None:
        """Refuse known misfits; take cached builds; start those with no file to wait for (git, path)."""
        _refuse_known_misfits(self.plan, self.targets)
        for choice in self.plan.builds:
            found = find_built(choice, project_root=self.loaded.root, cache_root=self.cache_root)
            if found is not None:
                self.ready[choice.package.name] = found
                _check_all_fit(choice, found, self.plan, self.targets)
            elif choice.file is None:
                self._submit(choice, None)
            else:
                self.waiting.setdefault(choice.file.sha256, []).append(choice)

    def arrived(self, item: FetchItem, path: Path) -> None:
        """``item`` is in the cache at ``path``: start the builds that were waiting for it."""
        for choice in self.waiting.pop(item.sha256, ()):
            self._submit(choice, path)

    def _submit(self, choice: Choice, input_path: Path | None) -> None:
        self.running[choice.package.name] = self.pool.submit(
            build_wheel,
            choice,
            input_path=input_path,
            project_root=self.loaded.root,
            cache_root=self.cache_root,
            epoch=self.epoch,
            environment=self.environment,
        )

    def finish(self) -> dict[str, BuiltWheel]:
        """Wait for every build; check each fits every target needing it; package name -> wheel, plan order."""
        for choice in [c for choices in self.waiting.values() for c in choices]:
            self._submit(choice, None)  # its file never arrived: the build says so
        self.waiting.clear()
        for name, future in self.running.items():
            self.ready[name] = self.pool.result(future)
        for choice in self.plan.builds:
            if choice.package.name in self.running:
                _check_all_fit(choice, self.ready[choice.package.name], self.plan, self.targets)
        return {choice.package.name: self.ready[choice.package.name] for choice in self.plan.builds}


def _check_all_fit(choice: Choice, wheel: BuiltWheel, plan: FetchPlan, targets: Sequence[Target]) -> None:
    """:func:`check_fits` for every target that needs this build."""
    for target in targets:
        if any(c.package.name == choice.package.name and c.needs_build for c in plan.choices[target.name]):
            check_fits(wheel, target, f"{choice.package.name} {choice.package.version}")


def _refuse_known_misfits(plan: FetchPlan, targets: Sequence[Target]) -> None:
    """Refuse before any build runs when a build on this host cannot serve a target that needs it: a package
    that ships compiled code, for another OS or architecture (:func:`netbundle.wheels.compat.known_refusal`)."""
    machine, system = host_machine(), sys.platform
    problems = []
    for target in targets:
        for choice in plan.choices[target.name]:
            reason = known_refusal(choice.package, target, machine, system) if choice.needs_build else None
            if reason is not None:
                problems.append(
                    f"{choice.package.name} {choice.package.version} for target {target.name}: {reason}"
                )
    if problems:
        raise BuildError(
            f"no wheel in the lock fits and this host cannot build one: {'; '.join(problems)}",
            hint="build the bundle for those targets on a runner of their platform and `netbundle merge` the parts,"
            " or pin a version that publishes wheels for them",
        )


def _write_output(
    output: Path,
    plan: FetchPlan,
    fetched: FetchResult,
    targets: Sequence[Target],
    built: Mapping[str, BuiltWheel],
) -> None:
    """Build the wheelhouse in a temporary directory beside ``output``, then move it into place."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_directory(output) as staging:
        for target in targets:
            materialize(fetched.paths, plan.choices[target.name], staging / target.name)
            for choice in plan.choices[target.name]:
                wheel = built.get(choice.package.name) if choice.needs_build else None
                if wheel is not None:
                    shutil.copy2(wheel.path, staging / target.name / wheel.path.name)
        data = plan_json(plan, targets)
        data["built"] = {name: _provenance(b) for name, b in sorted(built.items())}
        (staging / "plan.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _provenance(built: BuiltWheel) -> dict[str, object]:
    policy = built.compatibility()
    found: dict[str, object] = {
        "wheel": built.path.name,
        "sha256": built.sha256,
        "input": built.input_filename,
        "input_sha256": built.input_sha256,
        "backend": built.backend,
        "build_requirements": [str(r) for r in built.requirements],
    }
    if policy is not None:  # platform wheels: what their ELF files need
        found["policy"] = policy.to_json()
    return found


def plan_json(plan: FetchPlan, targets: Sequence[Target]) -> dict[str, object]:
    """The machine-readable plan: per target, per package, the chosen file and where it comes from."""
    return {
        "targets": {
            t.name: {
                "python_version": t.python_version,
                "implementation": t.implementation,
                "platforms": list(t.platforms),
                "packages": [
                    {
                        "name": c.package.name,
                        "version": c.package.version,
                        "kind": c.kind,
                        "file": c.file.filename if c.file else None,
                        "sha256": c.file.sha256 if c.file else None,
                        "source": _source_label(c.package.source),
                        "needs_build": c.needs_build,
                    }
                    for c in plan.choices[t.name]
                ],
            }
            for t in targets
        },
        "files": [
            {"filename": i.filename, "sha256": i.sha256, "kind": i.kind, "source": i.source}
            for i in plan.items
        ],
    }


def _source_label(source: object) -> str | None:
    if source is None:
        return None
    kind, url, reference = source.type, source.url, source.reference  # type: ignore[attr-defined]
    return f"{kind}:{reference}" if kind == "legacy" else f"{kind}:{redact_url(url)}"
