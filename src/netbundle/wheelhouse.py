"""``fetch_wheelhouse``: lock engine + targets + plan + parallel fetch -> one wheelhouse per target + plan.json."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from netbundle._atomic import atomic_directory
from netbundle.errors import JSON_FORMAT, UsageError
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
    #: Called as (done, total) after each file (downloaded or cached); the CLI draws a progress line with it.
    progress: Callable[[int, int], None] | None = None
    #: Called as (file name, bytes) after each download (not for cached files): the progress line's byte count.
    on_download: Callable[[str, int], None] | None = None


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
    fetched = execute(
        plan,
        cache=cache,
        http=indexes.http,
        index_for=indexes.get,
        project_root=loaded.root,
        concurrency=request.concurrency,
        progress=_counter(request.progress, request.on_download, len(plan.items)),
    )
    built: dict[str, BuiltWheel] = {}
    if request.build:
        with contextlib.nullcontext(pool) if pool else BuildPool() as builds:
            built = _build_all(plan, fetched, cache.root, loaded, targets, request, builds)
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


def _build_all(
    plan: FetchPlan,
    fetched: FetchResult,
    cache_root: Path,
    loaded: LoadedProject,
    targets: Sequence[Target],
    request: FetchRequest,
    pool: BuildPool,
) -> dict[str, BuiltWheel]:
    """Build every ``needs_build`` package once (in parallel); check each result fits every target needing it."""
    epoch = int(request.environ.get("SOURCE_DATE_EPOCH") or DEFAULT_EPOCH)
    ready: dict[str, BuiltWheel] = {}
    running = {}
    for choice in plan.builds:
        found = find_built(choice, project_root=loaded.root, cache_root=cache_root)
        if found is not None:
            ready[choice.package.name] = found
            continue
        input_path = fetched.paths.get(choice.file.sha256) if choice.file else None
        running[choice.package.name] = pool.submit(
            build_wheel,
            choice,
            input_path=input_path,
            project_root=loaded.root,
            cache_root=cache_root,
            epoch=epoch,
        )
    for name, future in running.items():
        ready[name] = pool.result(future)
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
