"""``fetch_wheelhouse``: lock engine + targets + plan + parallel fetch -> one wheelhouse per target + plan.json."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from netbundle._atomic import atomic_directory
from netbundle.errors import UsageError
from netbundle.fetch.cache import Cache, default_cache_dir
from netbundle.fetch.plan import FetchItem, FetchPlan, FetchResult, execute, materialize, plan_fetch
from netbundle.fetch.sources import SourceIndexes
from netbundle.lock.export import redact_url
from netbundle.lock.groups import GroupSelection, select_for_environment, select_packages
from netbundle.lock.project import LoadedProject, load_project
from netbundle.targets import Target, resolve_targets, targets_from_config
from netbundle.targets.choice import choose_all
from netbundle.wheels.build import DEFAULT_EPOCH, BuiltWheel, build_wheel, check_fits, find_built
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
    #: Called as (done, total) after each download; the CLI draws a progress line with it on a terminal.
    progress: Callable[[int, int], None] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class WheelhouseResult:
    output: Path
    plan: FetchPlan
    fetched: FetchResult
    targets: tuple[Target, ...]
    #: package name -> the wheel built for it on this host
    built: Mapping[str, BuiltWheel] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        return {
            "output": str(self.output),
            "files": len(self.plan.items),
            "downloaded": self.fetched.downloaded,
            "cached": self.fetched.cached,
            "bytes_downloaded": self.fetched.bytes_downloaded,
            "targets": {
                t.name: len([c for c in self.plan.choices[t.name] if c.kind == "wheel"]) for t in self.targets
            },
            "needs_build": [f"{c.package.name}=={c.package.version}" for c in self.plan.builds],
            "built": {name: b.path.name for name, b in sorted(self.built.items())},
        }


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

    Builds run in ``pool`` (the caller's, so that its own builds overlap these; else one of its own).
    """
    loaded = load_project(request.project_dir)
    targets = resolve_targets(request.targets, targets_from_config(loaded.pyproject.netbundle.targets))
    if not targets:
        raise UsageError(
            f"{loaded.pyproject_path}: no targets: add [[tool.netbundle.targets]] or pass --target",
            hint="e.g. --target cp311-manylinux_2_28_x86_64",
        )
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
    tick = _counter(request.progress, len(plan.items))

    def fetch(items: tuple[FetchItem, ...]) -> FetchResult:
        return execute(replace(plan, items=items), cache=cache, http=indexes.http, index_for=indexes.get,
                       project_root=loaded.root, concurrency=request.concurrency, progress=tick)  # fmt: skip

    built: dict[str, BuiltWheel] = {}
    if not request.build:
        fetched = fetch(plan.items)
    else:
        # the builds' inputs (sdists) first, so that the builds run while the rest downloads
        inputs = {choice.file.sha256 for choice in plan.builds if choice.file is not None}
        with contextlib.nullcontext(pool) if pool else BuildPool() as builds:
            first = fetch(tuple(item for item in plan.items if item.sha256 in inputs))
            started = _start_builds(plan, first, cache.root, loaded, request, builds)
            fetched = _merged(first, fetch(tuple(item for item in plan.items if item.sha256 not in inputs)))
            built = _finish_builds(plan, targets, started, builds)
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


def _counter(report: Callable[[int, int], None] | None, total: int) -> Callable[[object, bool], None] | None:
    if report is None:
        return None
    done = [0]

    def tick(_item: object, _downloaded: bool) -> None:
        done[0] += 1
        report(done[0], total)

    return tick


def _merged(first: FetchResult, second: FetchResult) -> FetchResult:
    return FetchResult(
        paths={**first.paths, **second.paths},
        downloaded=first.downloaded + second.downloaded,
        cached=first.cached + second.cached,
        bytes_downloaded=first.bytes_downloaded + second.bytes_downloaded,
    )


def _start_builds(
    plan: FetchPlan,
    fetched: FetchResult,
    cache_root: Path,
    loaded: LoadedProject,
    request: FetchRequest,
    pool: BuildPool,
) -> dict[str, BuiltWheel | Future[Any]]:
    """Start every ``needs_build`` package's build once (in parallel); cached builds are ready at once."""
    epoch = int(request.environ.get("SOURCE_DATE_EPOCH") or DEFAULT_EPOCH)
    started: dict[str, BuiltWheel | Future[Any]] = {}
    for choice in plan.builds:
        found = find_built(choice, project_root=loaded.root, cache_root=cache_root)
        if found is not None:
            started[choice.package.name] = found
            continue
        input_path = fetched.paths.get(choice.file.sha256) if choice.file else None
        started[choice.package.name] = pool.submit(
            build_wheel,
            choice,
            input_path=input_path,
            project_root=loaded.root,
            cache_root=cache_root,
            epoch=epoch,
        )
    return started


def _finish_builds(
    plan: FetchPlan,
    targets: Sequence[Target],
    started: Mapping[str, BuiltWheel | Future[Any]],
    pool: BuildPool,
) -> dict[str, BuiltWheel]:
    """Wait for the builds; check each result fits every target needing it."""
    ready = {name: pool.result(job) if isinstance(job, Future) else job for name, job in started.items()}
    built: dict[str, BuiltWheel] = {}
    for choice in plan.builds:
        wheel = ready[choice.package.name]
        for target in targets:
            if any(
                c.package.name == choice.package.name and c.needs_build for c in plan.choices[target.name]
            ):
                check_fits(wheel, target, f"{choice.package.name} {choice.package.version}")
        built[choice.package.name] = wheel
    return built


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


def _provenance(built: BuiltWheel) -> dict[str, str]:
    return {
        "wheel": built.path.name,
        "sha256": built.sha256,
        "input": built.input_filename,
        "input_sha256": built.input_sha256,
        "backend": built.backend,
    }


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
