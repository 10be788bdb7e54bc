"""The HTTP side of ``serve``: a threaded HTTP/1.1 server over a fixed, read-only :class:`Site`.

``http.server`` parses requests and keeps connections alive; this module bounds what a client can make it do:

- the request head is read through :class:`_HeadReader`, which holds the whole head (request line and headers)
  to :attr:`Limits.header_bytes` and to a deadline (:attr:`Limits.head_timeout` from its first byte, after at most
  :attr:`Limits.idle_timeout` of keep-alive idleness): a client trickling one byte a second is cut off, which a
  per-``recv`` socket timeout alone would not do;
- a request line over :attr:`Limits.request_line` gets 414, a head over the limit 431, a stalled head 408;
- only GET and HEAD; a request with a body is refused (it would desynchronize the connection);
- at most :attr:`Limits.max_connections` connections at once (the next get 503 and are closed);
- every request gets exactly one access-log line, written by the server's ``log`` callback.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import http.client
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import protocol
from .index import JSON_TYPE, PAGE_TYPES

TYPE_CHECKING = False
if TYPE_CHECKING:
    import pathlib
    from typing import Any, Callable, Dict, Mapping, Optional, Tuple

_SEND_CHUNK = 256 * 1024


@dataclass(frozen=True)
class Limits:
    """Bounds on what one client may cost the server."""

    request_line: int = 8 * 1024
    header_bytes: int = 32 * 1024
    idle_timeout: float = 15.0
    head_timeout: float = 10.0
    io_timeout: float = 30.0
    max_connections: int = 128


@dataclass(frozen=True)
class StagedFile:
    """A verified bundle file: where its staged copy is, and what the manifest says it is."""

    path: pathlib.Path
    size: int
    sha256: str


@dataclass(frozen=True)
class Site:
    """What the server serves: pages by path and type, files and core-metadata files by file name."""

    pages: Mapping[str, Mapping[str, bytes]]
    files: Mapping[str, StagedFile]
    metadata: Mapping[str, bytes]
    page_etags: Dict[Tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for path, variants in self.pages.items():
            for media, body in variants.items():
                self.page_etags[(path, media)] = '"{}"'.format(hashlib.sha256(body).hexdigest()[:40])


class _HeadTimeoutError(Exception):
    """The request head did not arrive in time (``partial``: some of it did)."""

    def __init__(self, partial: bool) -> None:
        super().__init__("request head timed out")
        self.partial = partial


class _HeadReader:
    """The connection's input, read with a deadline and a byte budget per request head (see the module doc)."""

    def __init__(self, sock: socket.socket, limits: Limits) -> None:
        self._sock = sock
        self._limits = limits
        self._buffer = b""
        self._deadline = 0.0
        self._budget = 0
        self.started = False

    def begin(self) -> None:
        """A new request: the idle deadline, a fresh budget (bytes already buffered count towards it)."""
        self._deadline = time.monotonic() + self._limits.idle_timeout
        self._budget = self._limits.header_bytes
        self.started = bool(self._buffer)
        if self.started:
            self._deadline = time.monotonic() + self._limits.head_timeout

    def readline(self, limit: int = -1) -> bytes:
        limit = min(limit if limit >= 0 else self._budget + 1, self._budget + 1)
        while b"\n" not in self._buffer[:limit] and len(self._buffer) < limit:
            if not self._fill():
                break
        end = self._buffer.find(b"\n", 0, limit)
        cut = end + 1 if end >= 0 else min(limit, len(self._buffer))
        line, self._buffer = self._buffer[:cut], self._buffer[cut:]
        self._budget -= len(line)
        if self._budget < 0:
            raise http.client.LineTooLong("request head over {} bytes".format(self._limits.header_bytes))
        return line

    def _fill(self) -> bool:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise _HeadTimeoutError(self.started)
        self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(16 * 1024)
        except socket.timeout:
            raise _HeadTimeoutError(self.started) from None
        finally:
            self._sock.settimeout(self._limits.io_timeout)
        if data and not self.started:
            self.started = True
            self._deadline = time.monotonic() + self._limits.head_timeout
        self._buffer += data
        return bool(data)

    def close(self) -> None:
        self._buffer = b""


class IndexServer(ThreadingHTTPServer):
    """Serves one :class:`Site`; ``log`` gets one line per request."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self, address: Tuple[str, int], site: Site, log: Callable[[str], None], limits: Limits = Limits()
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.site = site
        self.log = log
        self.limits = limits
        self._slots = threading.BoundedSemaphore(limits.max_connections)
        super().__init__(address, IndexHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            _refuse_busy(request)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that vanished mid-response is not an error worth a traceback; anything else is a bug."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def _refuse_busy(request: socket.socket) -> None:
    try:
        request.settimeout(1.0)
        request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    except OSError:
        pass


class IndexHandler(BaseHTTPRequestHandler):
    """GET and HEAD of the site's pages, files and metadata files; everything else is refused."""

    server: IndexServer
    protocol_version = "HTTP/1.1"
    server_version = "netbundle-serve"

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connection.settimeout(self.server.limits.io_timeout)
        self.rfile.close()
        self.rfile = _HeadReader(self.connection, self.server.limits)  # type: ignore[assignment]

    def handle_one_request(self) -> None:
        reader: _HeadReader = self.rfile  # type: ignore[assignment]
        reader.begin()
        self._status, self._sent, self._started = 0, 0, time.monotonic()
        self.requestline, self.request_version, self.command = "", "", ""
        try:
            self._handle_one(reader)
        except _HeadTimeoutError as exc:
            self.close_connection = True
            if exc.partial:
                self._try_error(HTTPStatus.REQUEST_TIMEOUT, "the request head did not arrive in time")
        except OSError as exc:  # a timeout, a reset: the client is gone or stuck
            self.close_connection = True
            if self._status:
                self._log("{} ({})".format(self._status, type(exc).__name__))
            return
        if self._status:
            self._log(str(self._status))

    def _handle_one(self, reader: _HeadReader) -> None:
        limit = self.server.limits.request_line
        self.raw_requestline = reader.readline(limit + 1)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if len(self.raw_requestline) > limit:
            self.close_connection = True
            self.requestline = self.raw_requestline[:400].decode("iso-8859-1")  # the log shows its start
            self._error(HTTPStatus.REQUEST_URI_TOO_LONG, "the request line is over {} bytes".format(limit))
            return
        if not self.raw_requestline.endswith(b"\n"):  # the client closed its side mid-line: nobody to answer
            self.close_connection = True
            return
        if not self.parse_request():
            return
        if not self.request_version.startswith("HTTP/1."):
            self.close_connection = True
            self._error(HTTPStatus.BAD_REQUEST, "HTTP/1.0 or 1.1 only")
            return
        if self.command not in ("GET", "HEAD"):
            self.close_connection = True  # its body, if any, is not read: it must not be parsed as a request
            self._error(HTTPStatus.METHOD_NOT_ALLOWED, "only GET and HEAD", {"Allow": "GET, HEAD"})
            return
        if self.headers.get("Transfer-Encoding") or self.headers.get("Content-Length", "0").strip() != "0":
            self.close_connection = True
            self._error(HTTPStatus.BAD_REQUEST, "a GET or HEAD request has no body")
            return
        self._respond()

    # --- responses -------------------------------------------------------------------------------------------------

    def _respond(self) -> None:
        site = self.server.site
        found = protocol.route(self._raw_target(), site.pages, site.files)
        if found.kind == protocol.REFUSED:
            self._error(HTTPStatus.BAD_REQUEST, "refused path: {}".format(found.reason))
        elif found.kind == protocol.NOT_FOUND:
            self._error(HTTPStatus.NOT_FOUND, "not in this index")
        elif found.kind == protocol.REDIRECT:
            self._send_head(HTTPStatus.MOVED_PERMANENTLY, 0, {"Location": found.key})
        elif found.kind == protocol.PAGE:
            self._page(found.key)
        elif found.kind == protocol.METADATA:
            body = site.metadata.get(found.key)
            if body is None:
                self._error(HTTPStatus.NOT_FOUND, "no core metadata for this file")
            else:
                etag = '"{}"'.format(hashlib.sha256(body).hexdigest()[:40])
                self._body(
                    "text/plain; charset=utf-8", etag, len(body), lambda a, b: self._write(body[a : b + 1])
                )
        else:
            staged = site.files[found.key]
            self._body("application/octet-stream", '"{}"'.format(staged.sha256[:40]), staged.size,
                       lambda a, b: self._send_file(staged.path, a, b))  # fmt: skip

    def _raw_target(self) -> str:
        """The target exactly as the request line gave it (``parse_request`` folds a leading ``//``)."""
        words = self.requestline.split()
        return words[1] if len(words) >= 2 else self.path

    def _page(self, path: str) -> None:
        media = protocol.negotiate(self.headers.get("Accept"))
        if media is None:
            self._error(HTTPStatus.NOT_ACCEPTABLE, "acceptable: " + ", ".join(PAGE_TYPES),
                        {"Vary": "Accept"})  # fmt: skip
            return
        body = self.server.site.pages[path][media]
        etag = self.server.site.page_etags[(path, media)]
        charset = "" if media == JSON_TYPE else "; charset=utf-8"
        self._body(media + charset, etag, len(body), lambda a, b: self._write(body[a : b + 1]),
                   {"Vary": "Accept", "Cache-Control": "no-cache"})  # fmt: skip

    def _body(
        self,
        content_type: str,
        etag: str,
        size: int,
        send: Callable[[int, int], None],
        extra: Optional[Dict[str, str]] = None,
    ) -> None:
        """Answer a GET/HEAD of one body: 304 when ``If-None-Match`` matches, else 200, 206 or 416."""
        headers = {"ETag": etag, "Accept-Ranges": "bytes"}
        headers.update(extra or {})
        if protocol.etag_matches(self.headers.get("If-None-Match"), etag):
            self._send_head(HTTPStatus.NOT_MODIFIED, None, headers)
            return
        wanted = protocol.parse_range(self.headers.get("Range"), size, self.headers.get("If-Range"), etag)
        if wanted.kind == protocol.UNSATISFIABLE:
            headers["Content-Range"] = "bytes */{}".format(size)
            self._send_head(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, 0, headers)
            return
        status = HTTPStatus.OK
        if wanted.kind == protocol.PARTIAL:
            status = HTTPStatus.PARTIAL_CONTENT
            headers["Content-Range"] = "bytes {}-{}/{}".format(wanted.first, wanted.last, size)
        headers["Content-Type"] = content_type
        self._send_head(status, wanted.last - wanted.first + 1, headers)
        if self.command == "GET" and wanted.last >= wanted.first:
            send(wanted.first, wanted.last)

    def _send_head(self, status: int, length: Optional[int], headers: Mapping[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if length is not None:
            self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()

    def _write(self, data: bytes) -> None:
        self.wfile.write(data)
        self._sent += len(data)

    def _send_file(self, path: pathlib.Path, first: int, last: int) -> None:
        with path.open("rb") as handle:
            count = last - first + 1
            self._sent += self.connection.sendfile(handle, first, count)

    def _error(self, status: int, explain: str, headers: Optional[Mapping[str, str]] = None) -> None:
        """A short text error; the connection closes after it unless the request itself was well-formed."""
        body = "{} {}: {}\n".format(int(status), HTTPStatus(status).phrase, explain).encode("utf-8")
        if not self.command:
            self.close_connection = True
        if not self.request_version.startswith("HTTP/1."):
            self.request_version = "HTTP/1.0"  # no HTTP/0.9 answers: every response has a status line
        merged = {"Content-Type": "text/plain; charset=utf-8"}
        merged.update(headers or {})
        self._send_head(status, len(body), merged)
        if self.command != "HEAD":
            self._write(body)

    def _try_error(self, status: int, explain: str) -> None:
        with contextlib.suppress(OSError):  # the client is gone: the status is still logged
            self._error(status, explain)

    # http.server's own error pages (400 bad syntax, 431 headers) come through here: keep them short and plain.
    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        self.close_connection = True
        self._error(code, explain or message or HTTPStatus(code).phrase)

    # --- the access log --------------------------------------------------------------------------------------------

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        self._status = int(code) if str(code).isdigit() else 0

    def log_message(self, format: str, *args: Any) -> None:  # http.server's signature
        """Silenced: :meth:`_log` writes the one line per request."""

    def _log(self, status: str) -> None:
        line = self.requestline if len(self.requestline) <= 300 else self.requestline[:300] + "..."
        self.server.log(
            '{} - - [{}] "{}" {} {} {:.1f}ms'.format(
                self.client_address[0],
                datetime.datetime.now(datetime.timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
                line.encode("unicode_escape").decode("ascii").replace('"', '\\"'),
                status,
                self._sent,
                (time.monotonic() - self._started) * 1000,
            )
        )
