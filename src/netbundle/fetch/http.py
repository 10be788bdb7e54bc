"""HTTP for the fetcher: one pooled urllib3 client, run-time credentials, retries, verified streaming.

Credentials come from ``POETRY_HTTP_BASIC_<SOURCE>_USERNAME/PASSWORD``, from Poetry's ``auth.toml``, or from the
user information of a source URL, and are sent only to that source's host and port (also across redirects, which
are followed by hand for that reason). They never appear in an error, a log line or a file: every URL shown goes
through :func:`~netbundle.lock.export.redact_url`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import random
import threading
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar
from urllib.parse import urljoin, urlsplit

import urllib3

from netbundle.errors import IntegrityError, NetworkError
from netbundle.lock.export import redact_url

if TYPE_CHECKING:
    from netbundle.lock.pyproject import Source

_log = logging.getLogger(__name__)
T = TypeVar("T")
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_MAX_REDIRECTS = 5
CHUNK = 1 << 16


def env_name(source: str) -> str:
    """Poetry's spelling of a source name inside an environment variable name."""
    return source.upper().replace("-", "_").replace(".", "_")


@dataclass(frozen=True, kw_only=True, slots=True)
class HostCredentials:
    host: str
    username: str
    password: str = field(repr=False)

    def header(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"


def credentials_for(
    sources: Sequence[Source], environ: Mapping[str, str], poetry_auth: Mapping[str, object]
) -> dict[str, HostCredentials]:
    """host:port -> credentials, for every source that has some (environment first, then auth.toml, then URL)."""
    found: dict[str, HostCredentials] = {}
    for source in sources:
        parts = urlsplit(source.url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        user = environ.get(f"POETRY_HTTP_BASIC_{env_name(source.name)}_USERNAME")
        password = environ.get(f"POETRY_HTTP_BASIC_{env_name(source.name)}_PASSWORD", "")
        table = poetry_auth.get(source.name)
        if user is None and isinstance(table, Mapping) and table.get("username"):
            user, password = str(table["username"]), str(table.get("password", ""))
        if user is None and parts.username:
            user, password = parts.username, parts.password or ""
        if user is not None:
            found[netloc] = HostCredentials(host=netloc, username=user, password=password)
    return found


def load_poetry_auth(environ: Mapping[str, str]) -> dict[str, object]:
    """The ``[http-basic]`` table of Poetry's auth.toml, when there is one (keyring is not consulted)."""
    base = environ.get("POETRY_CONFIG_DIR") or str(
        Path(environ.get("XDG_CONFIG_HOME", "~/.config")) / "pypoetry"
    )
    path = Path(base).expanduser() / "auth.toml"
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    table = data.get("http-basic", {})
    return dict(table) if isinstance(table, Mapping) else {}


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    backoff: float = 0.25
    timeout: float = 30.0


class DownloadCancelledError(Exception):
    """A download stopped because :meth:`Http.cancel` was called (Ctrl-C): never shown to a user."""


class Http:
    """A pooled client shared by every download thread."""

    def __init__(
        self,
        credentials: Mapping[str, HostCredentials],
        *,
        concurrency: int = 8,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._credentials = dict(credentials)
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._cancelled = threading.Event()
        self._streaming: set[urllib3.BaseHTTPResponse] = set()
        self._lock = threading.Lock()
        self._pool = urllib3.PoolManager(
            num_pools=16,
            maxsize=concurrency,
            block=False,
            retries=False,
            timeout=urllib3.Timeout(connect=self._policy.timeout, read=self._policy.timeout),
            headers={"User-Agent": "netbundle"},
        )

    def cancel(self) -> None:
        """Make every running and later download raise :class:`DownloadCancelledError`: a body being read stops at
        once (its socket is shut down, which wakes a blocked read), a request not yet answered at its first chunk."""
        self._cancelled.set()
        with self._lock:
            streaming = list(self._streaming)
        for response in streaming:
            response.shutdown()

    def get_page(self, url: str, *, accept: str, source: str) -> tuple[bytes, str]:
        """GET a small document; return its body and content type."""

        def attempt() -> tuple[bytes, str]:
            response = self._open(url, {"Accept": accept}, source, preload=True)
            return response.data, response.headers.get("Content-Type", "text/html")

        return self._with_retries(url, source, attempt)

    def download(self, url: str, out: BinaryIO, *, sha256: str, source: str) -> int:
        """Stream ``url`` into ``out`` (rewound on retry), checking the sha256; return the size.

        :raises IntegrityError: the bytes do not hash to ``sha256`` (never retried: fail closed).
        """

        def attempt() -> tuple[str, int]:
            out.seek(0)
            out.truncate()
            response = self._open(url, {}, source, preload=False)
            digest, size = hashlib.sha256(), 0
            with self._lock:
                self._streaming.add(response)
            try:
                for chunk in response.stream(CHUNK):
                    self._check_cancelled(url)
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            except (urllib3.exceptions.HTTPError, OSError):
                self._check_cancelled(url)  # a read woken by cancel(): not a network fault to retry
                raise
            finally:
                with self._lock:
                    self._streaming.discard(response)
                response.release_conn()
            return digest.hexdigest(), size

        actual, size = self._with_retries(url, source, attempt)
        if actual != sha256:
            raise IntegrityError(
                f"{url_filename(url)} from source {source}: sha256 {actual}, the lock says {sha256}",
                hint="the index served different bytes than were locked; nothing was cached",
            )
        return size

    def _check_cancelled(self, url: str) -> None:
        if self._cancelled.is_set():
            raise DownloadCancelledError(url_filename(url))

    def _open(
        self, url: str, headers: dict[str, str], source: str, *, preload: bool
    ) -> urllib3.BaseHTTPResponse:
        for _ in range(_MAX_REDIRECTS + 1):
            sent = dict(headers)
            auth = self._credentials.get(_netloc(url))
            if auth is not None:
                sent["Authorization"] = auth.header()
            response = self._pool.request(
                "GET", redact_url(url), headers=sent, redirect=False, preload_content=preload
            )
            if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                response.drain_conn()
                url = urljoin(url, response.headers["Location"])
                continue
            if response.status == 200:
                return response
            response.drain_conn()
            raise _HttpStatusError(response.status, url, source)
        raise NetworkError(f"too many redirects from {redact_url(url)} (source {source})")

    def _with_retries(self, url: str, source: str, attempt: Callable[[], T]) -> T:
        policy = self._policy
        for number in range(1, policy.attempts + 1):
            self._check_cancelled(url)
            try:
                return attempt()
            except _HttpStatusError as exc:
                if exc.status not in _RETRY_STATUS or number == policy.attempts:
                    raise exc.as_error() from None
                reason = f"HTTP {exc.status}"
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if number == policy.attempts:
                    raise NetworkError(
                        f"{redact_url(url)} (source {source}): {type(exc).__name__} after {number} attempts",
                        hint="check the index URL and the network, or retry later",
                    ) from None
                reason = type(exc).__name__
            delay = policy.backoff * (2 ** (number - 1)) * (1 + random.random() / 4)  # noqa: S311 - jitter
            _log.debug("retrying %s after %s (attempt %d)", redact_url(url), reason, number)
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


class _HttpStatusError(Exception):
    def __init__(self, status: int, url: str, source: str) -> None:
        super().__init__(status)
        self.status, self.url, self.source = status, url, source

    def as_error(self) -> NetworkError:
        shown = redact_url(self.url)
        if self.status in (401, 403):
            variable = f"POETRY_HTTP_BASIC_{env_name(self.source)}"
            return NetworkError(
                f"{shown}: HTTP {self.status} from source {self.source} (authentication refused or missing)",
                hint=f"set {variable}_USERNAME and {variable}_PASSWORD",
            )
        return NetworkError(f"{shown}: HTTP {self.status} from source {self.source}")


def _netloc(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname or ""


def url_filename(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]
