"""Which index serves which package: the default index from configuration, and the project's Poetry sources.

A package the lock pins to a source (``[package.source]``, type legacy) is looked up on that source only; every
other package on the default index, whose URL comes from ``--index-url``, ``NETBUNDLE_INDEX_URL``,
``[tool.netbundle] index-url`` or pip's configuration, in that order (never from a name written in the code).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence

from netbundle.errors import NetworkError
from netbundle.fetch.http import Http, credentials_for, load_poetry_auth
from netbundle.fetch.index import SimpleIndex
from netbundle.lock.export import redact_url
from netbundle.lock.model import LockedPackage
from netbundle.lock.project import LoadedProject
from netbundle.lock.pyproject import Source

DEFAULT_SOURCE = "default index"


def pip_index_url() -> str:
    """pip's configured ``global.index-url``, else pip's own default (asked of pip, never written here)."""
    found = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip()
    try:
        from pip._internal.models.index import PyPI
    except ImportError:
        raise NetworkError(
            "no index URL configured", hint="pass --index-url or set NETBUNDLE_INDEX_URL"
        ) from None
    return str(PyPI.simple_url)


def default_index_url(cli_value: str | None, environ: Mapping[str, str], loaded: LoadedProject) -> str:
    for value in (cli_value, environ.get("NETBUNDLE_INDEX_URL"), loaded.pyproject.netbundle.index_url):
        if value:
            return value
    return pip_index_url()


def source_name(package: LockedPackage) -> str | None:
    """The Poetry source a package is pinned to (None: the default index)."""
    source = package.source
    return source.reference if source is not None and source.type == "legacy" else None


class SourceIndexes:
    """Source name -> index, created on first use; all share one HTTP client."""

    def __init__(
        self, sources: Sequence[Source], default_url: str, http: Http, lock_urls: Mapping[str, str]
    ) -> None:
        self._by_name = {s.name: s for s in sources}
        self._lock_urls = dict(lock_urls)
        self._default_url = default_url
        self.http = http
        self._made: dict[str | None, SimpleIndex] = {}

    @classmethod
    def for_project(
        cls, loaded: LoadedProject, *, index_url: str | None, environ: Mapping[str, str], concurrency: int = 8
    ) -> SourceIndexes:
        default = default_index_url(index_url, environ, loaded)
        sources = loaded.pyproject.sources
        everything = [*sources, Source(name="netbundle-default", url=default)]
        http = Http(credentials_for(everything, environ, load_poetry_auth(environ)), concurrency=concurrency)
        lock_urls = {
            p.source.reference: p.source.url
            for p in loaded.lock.packages
            if p.source is not None and p.source.type == "legacy" and p.source.reference
        }
        return cls(sources, default, http, lock_urls)

    def url_of(self, name: str | None) -> str:
        if name is None:
            return redact_url(self._default_url)
        source = self._by_name.get(name)
        url = source.url if source is not None else self._lock_urls.get(name)
        if url is None:
            raise NetworkError(
                f"source {name!r} is used by the lock but not defined in pyproject.toml",
                hint="add it under [[tool.poetry.source]] or re-lock",
            )
        return redact_url(url)

    def get(self, name: str | None) -> SimpleIndex:
        if name not in self._made:
            self._made[name] = SimpleIndex(
                DEFAULT_SOURCE if name is None else name, self.url_of(name), self.http
            )
        return self._made[name]
