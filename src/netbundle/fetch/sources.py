"""Which index serves which package: the project's Poetry sources, in Poetry 2's order, and the default index.

A package the lock pins to a source (``[package.source]``, type legacy) is looked up on that source only. Every
other package (and the pip wheel a bundle carries) is looked up in the *pool*, as Poetry 2 builds it
(``Factory.create_pool``): the primary sources in pyproject order, or, when none is configured, the default index
(the implicit PyPI); then the supplemental sources in order. Explicit sources serve only the packages pinned to
them. Poetry 1's ``default = true`` ranks before the primary sources and ``secondary = true`` after them, as in
Poetry 1.8. A url-less ``[[tool.poetry.source]] name = "pypi"`` entry places the default index at its priority.
The default index's URL comes from ``--index-url``, ``NETBUNDLE_INDEX_URL``, ``[tool.netbundle] index-url`` or
pip's configuration, in that order (never from a name written in the code).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from urllib.parse import quote, urlsplit, urlunsplit

from netbundle.errors import NetworkError
from netbundle.fetch.http import HostCredentials, Http, credentials_for, load_poetry_auth
from netbundle.fetch.index import SimpleIndex
from netbundle.lock.export import redact_url
from netbundle.lock.model import LockedPackage
from netbundle.lock.project import LoadedProject
from netbundle.lock.pyproject import Source

DEFAULT_SOURCE = "default index"
#: Poetry 1.8's order of priorities (Poetry 2 knows primary, supplemental and explicit only)
_CLASSES = ("default", "primary", "secondary", "supplemental")


def pool_order(
    sources: Sequence[Source], default_index: tuple[str, int] | None = None
) -> tuple[str | None, ...]:
    """The source names a package without a source pin is looked up on, in order; None is the default index.

    >>> pool_order([Source(name="corp", url="https://corp/simple")])
    ('corp',)
    >>> pool_order([Source(name="extra", url="https://extra/simple", priority="supplemental")])
    (None, 'extra')
    """
    entries: list[tuple[str, str | None]] = [(s.priority, s.name) for s in sources]
    if default_index is not None:
        entries.insert(default_index[1], (default_index[0], None))
    elif not any(priority in ("default", "primary") for priority, _ in entries):
        entries.insert(0, ("primary", None))  # Poetry's implicit PyPI, only without a primary source
    return tuple(name for cls in _CLASSES for priority, name in entries if priority == cls)


class PoolIndex:
    """The pool as one index: each member is asked in order, the first that lists the file serves it.

    A member that does not know the project (HTTP 404) or cannot be reached is passed over; later members are not
    contacted once a file is found, so a pool of one source sends requests to that source only.
    """

    def __init__(self, members: Sequence[SimpleIndex]) -> None:
        self.members = tuple(members)
        self.name = "pool (" + ", ".join(m.name for m in self.members) + ")"

    def file_url(self, project: str, filename: str, sha256: str) -> str:
        problems = []
        for member in self.members:
            try:
                return member.file_url(project, filename, sha256)
            except NetworkError as exc:
                problems.append(str(exc))
        raise NetworkError(
            f"{filename} ({project}) is on no source of the pool: " + "; ".join(problems),
            hint="the lock refers to a file no source serves: check the sources in pyproject.toml or re-lock",
        )


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
        self,
        sources: Sequence[Source],
        default_url: str,
        http: Http,
        lock_urls: Mapping[str, str],
        default_index: tuple[str, int] | None = None,
    ) -> None:
        self._by_name = {s.name: s for s in sources}
        self._lock_urls = dict(lock_urls)
        self._default_url = default_url
        self.http = http
        self._made: dict[str | None, SimpleIndex] = {}
        self.pool = pool_order(sources, default_index)
        #: host:port -> credentials (given to pip only when it installs build requirements)
        self.credentials: Mapping[str, HostCredentials] = {}

    @classmethod
    def for_project(
        cls, loaded: LoadedProject, *, index_url: str | None, environ: Mapping[str, str], concurrency: int = 8
    ) -> SourceIndexes:
        default = default_index_url(index_url, environ, loaded)
        sources = loaded.pyproject.sources
        everything = [*sources, Source(name="netbundle-default", url=default)]
        credentials = credentials_for(everything, environ, load_poetry_auth(environ))
        http = Http(credentials, concurrency=concurrency)
        lock_urls = {
            p.source.reference: p.source.url
            for p in loaded.lock.packages
            if p.source is not None and p.source.type == "legacy" and p.source.reference
        }
        made = cls(sources, default, http, lock_urls, loaded.pyproject.default_index)
        made.credentials = credentials
        return made

    def url_of(self, name: str | None) -> str:
        """The URL of a source (redacted); ``None``: the pool's first member, where unpinned packages come from."""
        if name is None:
            first = self.pool[0] if self.pool else None
            return redact_url(self._default_url) if first is None else self.url_of(first)
        source = self._by_name.get(name)
        url = source.url if source is not None else self._lock_urls.get(name)
        if url is None:
            raise NetworkError(
                f"source {name!r} is used by the lock but not defined in pyproject.toml",
                hint="add it under [[tool.poetry.source]] or re-lock",
            )
        return redact_url(url)

    def pool_urls(self) -> tuple[str, ...]:
        """The pool's URLs in order, each with its source's credentials as user information (for pip only: never
        show or log them)."""
        urls = []
        for name in self.pool:
            url = self.url_of(name)
            parts = urlsplit(url)
            found = self.credentials.get(
                f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname or ""
            )
            urls.append(_with_credentials(url, found.username, found.password) if found else url)
        return tuple(urls)

    def get(self, name: str | None) -> SimpleIndex | PoolIndex:
        """The index of a source; ``None``: the pool (for packages the lock pins to no source)."""
        if name is None:
            return PoolIndex([self._member(member) for member in self.pool])
        return self._member(name)

    def _member(self, name: str | None) -> SimpleIndex:
        if name not in self._made:
            self._made[name] = SimpleIndex(
                DEFAULT_SOURCE if name is None else name, self.url_of(name), self.http
            )
        return self._made[name]


def _with_credentials(url: str, username: str, password: str) -> str:
    """``url`` with ``username:password@`` (percent-encoded) as its user information.

    >>> _with_credentials("https://corp.example/simple/", "ops", "p@ss")
    'https://ops:p%40ss@corp.example/simple/'
    """
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{quote(username, safe='')}:{quote(password, safe='')}@{host}"))
