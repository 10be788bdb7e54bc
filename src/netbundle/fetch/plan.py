"""From per-target choices to a fetch plan (pure), and the plan's execution (I/O, in parallel).

Every distinct file is fetched once, whatever number of targets use it. Files already in the cache are not
fetched and their index is not asked. A package pinned to a source is fetched from that source only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from netbundle.errors import NetbundleError
from netbundle.fetch.cache import Cache
from netbundle.fetch.http import Http
from netbundle.fetch.index import Index
from netbundle.lock.export import redact_url
from netbundle.targets.choice import Choice

_log = logging.getLogger(__name__)

ItemKind = Literal["index", "url", "file"]


@dataclass(frozen=True, kw_only=True, slots=True)
class FetchItem:
    """One file to have in the cache."""

    sha256: str
    filename: str
    project: str
    version: str
    kind: ItemKind
    #: Poetry source name for ``index`` items (None: the default index).
    source: str | None = None
    #: The URL (``url`` items, may carry credentials: show only redacted) or the project-relative path (``file``).
    location: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class FetchPlan:
    items: tuple[FetchItem, ...]
    choices: Mapping[str, tuple[Choice, ...]]

    @property
    def builds(self) -> tuple[Choice, ...]:
        """Choices that need a wheel built on the build host (one per package and input)."""
        seen: dict[tuple[str, str, str], Choice] = {}
        for choices in self.choices.values():
            for choice in choices:
                if choice.needs_build:
                    key = (
                        choice.package.name,
                        choice.package.version,
                        choice.file.sha256 if choice.file else "",
                    )
                    seen.setdefault(key, choice)
        return tuple(seen[k] for k in sorted(seen))


def plan_fetch(choices: Mapping[str, Sequence[Choice]]) -> FetchPlan:
    """The files to fetch for these per-target choices, each once, in a stable order."""
    items: dict[str, FetchItem] = {}
    for target_choices in choices.values():
        for choice in target_choices:
            item = _item(choice)
            if item is not None:
                items.setdefault(item.sha256, item)
    return FetchPlan(
        items=tuple(sorted(items.values(), key=lambda i: (i.project, i.filename))),
        choices={name: tuple(c) for name, c in choices.items()},
    )


def _item(choice: Choice) -> FetchItem | None:
    package, file = choice.package, choice.file
    if file is None:
        return None  # git and directory sources are built from their checkout, not fetched
    source = package.source
    common = {
        "sha256": file.sha256,
        "filename": file.filename,
        "project": package.name,
        "version": package.version,
    }
    if source is not None and source.type == "url":
        return FetchItem(kind="url", location=source.url, **common)
    if source is not None and source.type == "file":
        return FetchItem(kind="file", location=source.url, **common)
    name = source.reference if source is not None and source.type == "legacy" else None
    return FetchItem(kind="index", source=name, **common)


@dataclass(frozen=True, kw_only=True, slots=True)
class FetchResult:
    paths: Mapping[str, Path]
    downloaded: int
    cached: int
    bytes_downloaded: int


def execute(
    plan: FetchPlan,
    *,
    cache: Cache,
    http: Http,
    index_for: Callable[[str | None], Index],
    project_root: Path,
    concurrency: int = 8,
    progress: Callable[[FetchItem, int], None] | None = None,
) -> FetchResult:
    """Make every planned file present in the cache; return sha256 -> cache path.

    ``progress`` is called as (item, bytes downloaded) for each file: 0 for a file the cache had. Every failure
    is collected; the first is raised (with the count) once all downloads have ended. Ctrl-C (or any other
    BaseException) cancels the downloads at their next chunk: the partial files are removed and the call
    returns within about a second, instead of after every running download has drained.
    """
    paths: dict[str, Path] = {}
    missing = [item for item in plan.items if not cache.has(item.sha256)]
    for item in plan.items:
        if cache.has(item.sha256):
            paths[item.sha256] = cache.path(item.sha256)
            if progress is not None:
                progress(item, 0)
    failures: list[NetbundleError] = []
    downloaded_bytes = 0
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="fetch")
    try:
        futures = {
            pool.submit(_fetch_one, item, cache, http, index_for, project_root): item for item in missing
        }
        for future in as_completed(futures):
            item = futures[future]
            try:
                path, size = future.result()
            except NetbundleError as exc:
                failures.append(exc)
                continue
            paths[item.sha256] = path
            downloaded_bytes += size
            if progress is not None:
                progress(item, size)
    except BaseException:
        http.cancel()  # running downloads stop at their next chunk; their temporary files are removed
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if failures:
        first = failures[0]
        if len(failures) > 1:
            first.message = f"{first.message} (and {len(failures) - 1} more failed downloads)"
        raise first
    return FetchResult(
        paths=paths,
        downloaded=len(missing),
        cached=len(plan.items) - len(missing),
        bytes_downloaded=downloaded_bytes,
    )


def _fetch_one(
    item: FetchItem, cache: Cache, http: Http, index_for: Callable[[str | None], Index], project_root: Path
) -> tuple[Path, int]:
    if item.kind == "file":
        source = (project_root / (item.location or "")).resolve()
        path = cache.store_file(source, item.sha256)
        return path, path.stat().st_size
    if item.kind == "url":
        url = item.location or ""
        source_name = f"url {redact_url(url)}"
    else:
        index = index_for(item.source)
        url = index.file_url(item.project, item.filename, item.sha256)
        source_name = index.name
    sizes: list[int] = []
    path = cache.store(
        item.sha256, lambda out: sizes.append(http.download(url, out, sha256=item.sha256, source=source_name))
    )
    _log.debug("fetched %s (%d bytes) from %s", item.filename, sizes[0], source_name)
    return path, sizes[0]


def materialize(paths: Mapping[str, Path], choices: Sequence[Choice], directory: Path) -> list[Path]:
    """Link (or copy) each chosen wheel from the cache into ``directory`` under its own file name."""
    directory.mkdir(parents=True, exist_ok=True)
    placed = []
    for choice in choices:
        if choice.file is None or not choice.file.is_wheel:
            continue
        target = directory / choice.file.filename
        if not target.exists():
            try:
                os.link(paths[choice.file.sha256], target)
            except OSError:
                target.write_bytes(paths[choice.file.sha256].read_bytes())
        placed.append(target)
    return placed
