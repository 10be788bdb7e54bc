"""The pip wheel a bundle carries in ``tools/``, for hosts whose Python has no pip and no ensurepip.

pip is not in the project's lock, so the builder picks it from the default index: the newest pip wheel (not
yanked, no pre-release) whose ``Requires-Python`` admits every target's Python, or exactly ``--pip-version``. Its
sha256 comes from the index page and is then pinned by the signed manifest. The index must publish hashes: a
link without one is not taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import Version

from netbundle.errors import NetworkError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from netbundle.fetch.cache import Cache
    from netbundle.fetch.http import Http
    from netbundle.fetch.index import Link, SimpleIndex
    from netbundle.targets import Target


@dataclass(frozen=True, kw_only=True, slots=True)
class PipWheel:
    filename: str
    version: str
    sha256: str
    path: Path


def choose_pip(links: Sequence[Link], targets: Sequence[Target], version: str | None = None) -> Link:
    """The pip wheel link to carry (pure); NetworkError when the index offers none that fits."""
    pythons = sorted({t.python_full_version for t in targets})
    candidates: list[tuple[Version, Link]] = []
    for link in links:
        found = _wheel_version(link)
        if found is None or link.sha256 is None or link.yanked:
            continue
        if version is not None and found != Version(version):
            continue
        if version is None and found.is_prerelease:
            continue
        if _admits(link.requires_python, pythons):
            candidates.append((found, link))
    if not candidates:
        wanted = f"pip {version}" if version else "a pip release"
        raise NetworkError(
            f"the default index offers no wheel of {wanted} (with a sha256) that runs on Python "
            + ", ".join(pythons),
            hint="pass --pip-version with a release the index serves, or make pip available on the index",
        )
    return max(candidates, key=lambda pair: pair[0])[1]


def fetch_pip(
    index: SimpleIndex, http: Http, cache: Cache, targets: Sequence[Target], version: str | None
) -> PipWheel:
    """Choose the pip wheel on ``index`` and make it present in the cache (verified against its sha256)."""
    link = choose_pip(index.links("pip"), targets, version)
    sha256 = link.sha256 or ""
    if not cache.has(sha256):
        cache.store(sha256, lambda out: http.download(link.url, out, sha256=sha256, source=index.name))
    return PipWheel(
        filename=link.filename,
        version=str(_wheel_version(link)),
        sha256=sha256,
        path=cache.path(sha256),
    )


def _wheel_version(link: Link) -> Version | None:
    if not link.filename.endswith(".whl"):
        return None
    try:
        name, version, _, tags = parse_wheel_filename(link.filename)
    except InvalidWheelFilename:
        return None
    if name != "pip" or not any(t.interpreter.startswith("py3") and t.platform == "any" for t in tags):
        return None
    return version


def _admits(requires_python: str | None, pythons: Sequence[str]) -> bool:
    if not requires_python:
        return True
    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return False
    return all(spec.contains(python, prereleases=True) for python in pythons)
