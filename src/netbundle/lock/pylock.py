"""PEP 751 ``pylock.toml`` from selected packages (pure).

poetry.lock names each file but not where it lives, and PEP 751 needs a URL or a path for every file, so the
caller passes a ``locate`` function (the fetch layer's index lookup for an export, relative ``wheels/…`` paths for
a bundle). Credentials never reach the output: every URL goes through ``redact_url``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import tomli_w

from netbundle.lock.constraints import specifier_for
from netbundle.lock.export import redact_url
from netbundle.lock.model import LockedFile, LockedPackage, SelectedPackage

#: (package, file) -> {"url": ...} or {"path": ...}
Locator = Callable[[LockedPackage, LockedFile], Mapping[str, str]]


def render_pylock(
    selected: Iterable[SelectedPackage],
    *,
    locate: Locator,
    requires_python: str | None,
    environments: tuple[str, ...] = (),
    index_for: Callable[[LockedPackage], str | None] = lambda package: None,
    project_root: Path | None = None,
) -> str:
    """The pylock.toml text (lock-version 1.0) for these packages, in name/version order."""
    data: dict[str, object] = {"lock-version": "1.0"}
    if environments:
        data["environments"] = list(environments)
    python = specifier_for(requires_python) if requires_python else None
    if python:
        data["requires-python"] = python
    data["created-by"] = "netbundle"
    data["packages"] = [_package(item, locate, index_for, project_root) for item in selected]
    return tomli_w.dumps(data)


def _package(
    item: SelectedPackage,
    locate: Locator,
    index_for: Callable[[LockedPackage], str | None],
    root: Path | None,
) -> dict[str, object]:
    package = item.package
    entry: dict[str, object] = {"name": package.name, "version": package.version}
    if item.marker:
        entry["marker"] = item.marker
    python = specifier_for(package.python_versions)
    if python:
        entry["requires-python"] = python
    source = package.source
    if source is not None and source.type == "git":
        entry.pop("version")
        vcs: dict[str, object] = {"type": "git", "url": redact_url(source.url)}
        vcs["commit-id"] = source.resolved_reference or source.reference or ""
        if source.reference:
            vcs["requested-revision"] = source.reference
        if source.subdirectory:
            vcs["subdirectory"] = source.subdirectory
        entry["vcs"] = vcs
        return entry
    if source is not None and source.type == "directory":
        entry.pop("version")
        entry["directory"] = {"path": source.url, "editable": package.develop}
        return entry
    if source is not None and source.type in ("url", "file") and package.files:
        file = package.files[0]
        key = "wheels" if file.is_wheel else "sdist"
        where = {"url": redact_url(source.url)} if source.type == "url" else {"path": source.url}
        artifact = {"name": file.filename, **where, "hashes": {"sha256": file.sha256}}
        entry[key] = [artifact] if key == "wheels" else artifact
        return entry
    index = index_for(package)
    if index:
        entry["index"] = redact_url(index).rstrip("/")
    sdists = package.sdists
    if sdists:
        entry["sdist"] = _file(package, sdists[0], locate)
    if package.wheels:
        entry["wheels"] = [
            _file(package, f, locate) for f in sorted(package.wheels, key=lambda f: f.filename)
        ]
    return entry


def _file(package: LockedPackage, file: LockedFile, locate: Locator) -> dict[str, object]:
    where = {
        key: redact_url(value) if key == "url" else value for key, value in locate(package, file).items()
    }
    return {"name": file.filename, **where, "hashes": {"sha256": file.sha256}}
