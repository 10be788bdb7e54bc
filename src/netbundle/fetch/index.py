"""The simple repository API: PEP 691 (JSON) and PEP 503 (HTML) project pages.

Parsing is pure (:func:`parse_project_page`); :class:`SimpleIndex` does the HTTP, one page per project, cached
for the run, behind the :class:`Index` protocol so tests can swap in a fake.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urldefrag, urljoin

from packaging.utils import canonicalize_name

from netbundle.errors import IntegrityError, NetworkError
from netbundle.lock.export import redact_url

if TYPE_CHECKING:
    from netbundle.fetch.http import Http

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"


@dataclass(frozen=True, kw_only=True, slots=True)
class Link:
    filename: str
    url: str
    sha256: str | None
    yanked: bool = False
    requires_python: str | None = None


class Index(Protocol):
    """Where a locked file can be downloaded from."""

    name: str

    def file_url(self, project: str, filename: str, sha256: str) -> str:
        """The URL of ``filename`` (whose sha256 the lock gives) on this index."""
        ...


def parse_project_page(body: bytes, content_type: str, page_url: str) -> list[Link]:
    """The file links of a project page, with absolute URLs (fragments removed)."""
    if content_type.split(";")[0].strip() == JSON_TYPE:
        return _parse_json(body, page_url)
    parser = _AnchorParser()
    parser.feed(body.decode("utf-8", "replace"))
    links = []
    for href, attrs in parser.anchors:
        url, fragment = urldefrag(urljoin(page_url, href))
        algorithm, _, digest = fragment.partition("=")
        filename = url.rsplit("/", 1)[-1]
        links.append(
            Link(
                filename=filename,
                url=url,
                sha256=digest.lower() if algorithm == "sha256" else None,
                yanked="data-yanked" in attrs,
                requires_python=attrs.get("data-requires-python"),
            )
        )
    return links


def _parse_json(body: bytes, page_url: str) -> list[Link]:
    try:
        data = json.loads(body)
        files = data["files"]
    except (ValueError, KeyError, TypeError):
        raise NetworkError(f"{redact_url(page_url)}: not a PEP 691 project page") from None
    return [
        Link(
            filename=str(f["filename"]),
            url=urldefrag(urljoin(page_url, str(f["url"])))[0],
            sha256=(f.get("hashes") or {}).get("sha256"),
            yanked=bool(f.get("yanked")),
            requires_python=f.get("requires-python"),
        )
        for f in files
    ]


class _AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            values = {k: v or "" for k, v in attrs}
            if values.get("href"):
                self.anchors.append((values["href"], values))


class SimpleIndex:
    """A simple-API index reached over HTTP(S); project pages are fetched once per run."""

    def __init__(self, name: str, url: str, http: Http) -> None:
        self.name = name
        self.url = url.rstrip("/") + "/"
        self._http = http
        self._pages: dict[str, list[Link]] = {}
        self._lock = threading.Lock()
        self._project_locks: dict[str, threading.Lock] = {}

    def links(self, project: str) -> list[Link]:
        key = canonicalize_name(project)
        with self._lock:
            project_lock = self._project_locks.setdefault(key, threading.Lock())
        with project_lock:
            if key not in self._pages:
                page = f"{self.url}{key}/"
                body, content_type = self._http.get_page(page, accept=ACCEPT, source=self.name)
                self._pages[key] = parse_project_page(body, content_type, page)
            return self._pages[key]

    def file_url(self, project: str, filename: str, sha256: str) -> str:
        for link in self.links(project):
            if link.filename == filename:
                if link.sha256 is not None and link.sha256 != sha256:
                    raise IntegrityError(
                        f"{filename} on source {self.name} has sha256 {link.sha256}, the lock says {sha256}",
                        hint="the file on the index changed since the lock was made: investigate before re-locking",
                    )
                return link.url
        raise NetworkError(
            f"{filename} ({project}) is not listed on source {self.name} ({redact_url(self.url)})",
            hint="the lock refers to a file the index no longer serves: check the source URL or re-lock",
        )
