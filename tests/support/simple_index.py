"""A real PEP 503 / PEP 691 index on 127.0.0.1 serving a directory of distribution files.

Optional HTTP basic auth, optional latency before every response (for benchmarks), and TCP_NODELAY on every
accepted socket (without it a reused connection waits ~40 ms per response: the benchmark would measure the server).
Every request is logged in ``requests`` (path, had-auth) so tests can assert what was (not) asked.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project_of(filename: str) -> str:
    if filename.endswith(".whl"):
        return normalize(filename.split("-")[0])
    stem = re.sub(r"\.(tar\.gz|zip|tar\.bz2)$", "", filename)
    return normalize(stem.rsplit("-", 1)[0])


@dataclass
class IndexServer:
    root: Path
    auth: tuple[str, str] | None = None
    latency: float = 0.0
    requests: list[tuple[str, bool]] = field(default_factory=list)
    url: str = ""
    #: path -> faults to inject on the next requests of that path, in order: "truncate" (send half the body with
    #: the full Content-Length, then close) or "stall:SECONDS" (wait before answering)
    faults: dict[str, list[str]] = field(default_factory=dict)
    #: more directories served as if their files were in ``root`` (e.g. the pinned pip wheels beside a corpus)
    also: tuple[Path, ...] = ()

    def files(self, project: str) -> list[Path]:
        return sorted(
            p
            for d in (self.root, *self.also)
            for p in d.iterdir()
            if p.is_file() and project_of(p.name) == project
        )

    def file(self, name: str) -> Path | None:
        return next((d / name for d in (self.root, *self.also) if (d / name).is_file()), None)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        index = self.server.index
        header = self.headers.get("Authorization")
        index.requests.append((self.path, header is not None))
        if index.latency:
            time.sleep(index.latency)
        if index.auth is not None:
            expected = "Basic " + base64.b64encode(f"{index.auth[0]}:{index.auth[1]}".encode()).decode()
            if header != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="index"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if len(parts) == 2 and parts[0] == "simple":
            self._project(parts[1])
        elif len(parts) == 2 and parts[0] == "files" and index.file(parts[1]) is not None:
            body = index.file(parts[1]).read_bytes()  # type: ignore[union-attr]
            pending = index.faults.get(self.path, [])
            fault = pending.pop(0) if pending else ""
            if fault.startswith("stall:"):
                time.sleep(float(fault.split(":", 1)[1]))
            if fault.startswith("trickle:"):  # the body in 4 KiB pieces, this many seconds apart
                pause = float(fault.split(":", 1)[1])
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    for start in range(0, len(body), 4096):
                        self.wfile.write(body[start : start + 4096])
                        self.wfile.flush()
                        time.sleep(pause)
                return
            if fault == "truncate":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.close_connection = True
                return
            self._send(200, body, "application/octet-stream")
        else:
            self._send(404, b"not found", "text/plain")

    def _project(self, project: str) -> None:
        files = self.server.index.files(normalize(project))
        if not files:
            self._send(404, b"not found", "text/plain")
            return
        if JSON_TYPE in (self.headers.get("Accept") or ""):
            data = {
                "meta": {"api-version": "1.0"},
                "name": project,
                "files": [
                    {"filename": f.name, "url": f"../../files/{f.name}", "hashes": {"sha256": _sha(f)}}
                    for f in files
                ],
            }
            self._send(200, json.dumps(data).encode(), JSON_TYPE)
            return
        links = "".join(
            f'<a href="../../files/{html.escape(f.name)}#sha256={_sha(f)}">{html.escape(f.name)}</a><br/>\n'
            for f in files
        )
        self._send(200, f"<!DOCTYPE html><html><body>{links}</body></html>".encode(), "text/html")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    index: IndexServer

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address


@contextmanager
def serve(
    root: Path,
    *,
    auth: tuple[str, str] | None = None,
    latency: float = 0.0,
    port: int = 0,
    also: tuple[Path, ...] = (),
) -> Iterator[IndexServer]:
    """Serve ``root`` (and the ``also`` directories) at ``http://127.0.0.1:<free port>/simple/`` for the block."""
    index = IndexServer(root=root, auth=auth, latency=latency, also=also)
    server = _Server(("127.0.0.1", port), _Handler)
    server.index = index
    index.url = f"http://127.0.0.1:{server.server_address[1]}/simple/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield index
    finally:
        server.shutdown()
        server.server_close()
