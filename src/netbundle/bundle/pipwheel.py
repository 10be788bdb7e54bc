"""The pip wheel a bundle carries in ``tools/``, for hosts whose Python has no pip and no ensurepip.

pip is not in the project's lock, so the builder ships its own lock for it: :data:`PIP_PINS`, a version *and* the
sha256 of its ``py3-none-any`` wheel per supported Python range, changed only deliberately (tests/unit/bundle/
test_pipwheel.py checks the table). ``[tool.netbundle] pip = { version = "...", sha256 = "..." }`` replaces it. The
wheel is fetched like a locked file that has no source pin (from the project's pool: its primary sources, or the
default index when there is none) and verified against the pinned sha256; what an index calls its newest pip never
matters, so a hostile index cannot substitute one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet

from netbundle.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from netbundle.fetch.cache import Cache
    from netbundle.fetch.http import Http
    from netbundle.fetch.index import Index
    from netbundle.lock.pyproject import NetbundleConfig
    from netbundle.targets import Target

_log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True, slots=True)
class PipPin:
    """One pip release the builder may carry: its version, its wheel's sha256 and the Pythons it runs on."""

    version: str
    sha256: str
    requires_python: str = ""
    #: why this release, or what it lacks (shown when it is carried)
    note: str = ""

    @property
    def filename(self) -> str:
        return f"pip-{self.version}-py3-none-any.whl"


#: Preferred first. Update deliberately: read pip's NEWS.rst, download the wheel, check its sha256 and
#: Requires-Python, run tests/unit/bundle/test_pipwheel.py.
PIP_PINS: tuple[PipPin, ...] = (
    # 26.3 (2026-11): the current release. It has the 26.1.2 fix that rejects console_scripts/gui_scripts names
    # resolving outside the scripts directory (pip #14000) and 26.2's fixes for doubly decoded link file names
    # (CVE-2026-13346) and tar symlink traversal (#14127). Needs Python 3.10.
    PipPin(
        version="26.3",
        sha256="f3b60b20ffaadd4415ed7957212a38ac63fa4c5fa375bd0f4a797777940fad13",
        requires_python=">=3.10",
    ),
    # 26.0.1 (2026-02): the last release for Python 3.9 (26.1 dropped it). It predates the console-script fix.
    PipPin(
        version="26.0.1",
        sha256="bdb1b08f4274833d62c1aa29e20907365a2ceb950410df15fc9521bad440122b",
        requires_python=">=3.9",
        note="pip 26.0.1 is the last pip for Python 3.9 and does not reject console-script names that leave the "
        "scripts directory (fixed in pip 26.1.2, which needs Python 3.10)",
    ),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class PipWheel:
    filename: str
    version: str
    sha256: str
    path: Path


def choose_pin(
    targets: Sequence[Target], config: NetbundleConfig, version: str | None = None, *, where: str
) -> PipPin:
    """The pin to carry: the configured one, else the first of :data:`PIP_PINS` that runs on every target.

    ``version`` (``--pip-version``) must name the configured pin or one of the table's.

    :raises InputError: no pin fits (exit 3): the message says how to configure one.
    """
    configure = (
        'set [tool.netbundle] pip = { version = "...", sha256 = "<sha256 of its py3-none-any wheel>" }'
    )
    pins: tuple[PipPin, ...] = PIP_PINS
    if config.pip_version is not None and config.pip_sha256 is not None:
        pins = (PipPin(version=config.pip_version, sha256=config.pip_sha256),)
    if version is not None:
        pins = tuple(p for p in pins if p.version == version)
        if not pins:
            raise InputError(
                f"--pip-version {version}: no sha256 is pinned for that pip release",
                hint=f"use one of {', '.join(p.version for p in PIP_PINS)}, or {configure}",
            )
    pythons = sorted({t.python_full_version for t in targets})
    for pin in pins:
        if not pin.requires_python or all(
            SpecifierSet(pin.requires_python).contains(python, prereleases=True) for python in pythons
        ):
            return pin
    raise InputError(
        f"{where}: no pinned pip runs on Python {', '.join(pythons)} "
        f"(pinned: {', '.join(f'{p.version} {p.requires_python}' for p in pins)})",
        hint=configure,
    )


def fetch_pip(pool: Index, http: Http, cache: Cache, pin: PipPin) -> PipWheel:
    """Make the pinned pip wheel present in the cache: looked up in the pool, verified against the pin.

    A cached copy is used without asking any index. The index's own hash, when it lists one, must agree.
    """
    if pin.note:
        _log.warning("%s", pin.note)
    if not cache.has(pin.sha256):
        url = pool.file_url("pip", pin.filename, pin.sha256)
        cache.store(pin.sha256, lambda out: http.download(url, out, sha256=pin.sha256, source=pool.name))
    return PipWheel(
        filename=pin.filename, version=pin.version, sha256=pin.sha256, path=cache.path(pin.sha256)
    )
