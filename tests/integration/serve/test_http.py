"""The index server over real sockets on 127.0.0.1: pages, files, HEAD, ranges, ETags, keep-alive, and what it
refuses (hostile paths, oversize heads, methods, bodies, slow clients) while it keeps serving everyone else."""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from tests.integration.serve.servers import InProcess, SmallBundle, in_process

from netbundle.format.tar import read_unverified
from netbundle.runtime.serve.handler import Limits
from netbundle.runtime.serve.index import HTML_TYPE, JSON_TYPE

pytestmark = pytest.mark.integration

FAST = Limits(request_line=1024, header_bytes=4096, idle_timeout=2.0, head_timeout=1.0, io_timeout=5.0)


@pytest.fixture(scope="module")
def server(small_bundle: SmallBundle) -> Iterator[InProcess]:
    with in_process(small_bundle.path, small_bundle.key.pub_path, FAST, all_targets=True) as running:
        yield running


def get(
    server: InProcess, path: str, method: str = "GET", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(*server.address, timeout=10)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def raw(server: InProcess, data: bytes, timeout: float = 10) -> bytes:
    """Send ``data`` as is; everything the server answers until it closes."""
    with socket.create_connection(server.address, timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def files_of(small_bundle: SmallBundle) -> dict[str, str]:
    manifest = read_unverified(small_bundle.path).manifest
    return {e.path.rsplit("/", 1)[1]: e.sha256 for e in manifest.files if e.kind == "wheel"}


# --- what a client gets --------------------------------------------------------------------------------------------


def test_pages_by_accept_header(server: InProcess) -> None:
    status, headers, body = get(server, "/simple/", Accept=JSON_TYPE)
    assert (status, headers["content-type"], headers["vary"]) == (200, JSON_TYPE, "Accept")
    assert json.loads(body)["projects"] == [{"name": "alpha"}, {"name": "beta"}, {"name": "gamma-lib"}]
    status, headers, body = get(server, "/simple/")
    assert (status, headers["content-type"]) == (200, "text/html; charset=utf-8")
    assert b'<a href="alpha/">alpha</a>' in body
    status, headers, _ = get(server, "/simple/alpha/", Accept=HTML_TYPE)
    assert (status, headers["content-type"]) == (200, HTML_TYPE + "; charset=utf-8")
    status, _, body = get(server, "/simple/", Accept="application/json")
    assert status == 406
    assert JSON_TYPE.encode() in body


def test_names_redirect_to_the_normalized_page(server: InProcess) -> None:
    status, headers, _ = get(server, "/simple/Gamma_Lib")
    assert (status, headers["location"]) == (301, "/simple/gamma-lib/")
    assert get(server, "/")[1]["location"] == "/simple/"


def test_every_file_and_metadata_file_matches_its_advertised_hash(
    server: InProcess, small_bundle: SmallBundle
) -> None:
    expected = files_of(small_bundle)
    served = {}
    for name in ("alpha", "beta", "gamma-lib"):
        page = json.loads(get(server, f"/simple/{name}/", Accept=JSON_TYPE)[2])
        for item in page["files"]:
            url = "/simple/" + name + "/" + item["url"]
            path = "/files/" + url.rsplit("/files/", 1)[1]
            status, headers, body = get(server, path)
            assert (status, headers["content-type"]) == (200, "application/octet-stream")
            assert hashlib.sha256(body).hexdigest() == item["hashes"]["sha256"] == expected[item["filename"]]
            assert int(headers["content-length"]) == len(body) == item["size"]
            status, _, meta = get(server, path + ".metadata")
            assert status == 200
            assert hashlib.sha256(meta).hexdigest() == item["core-metadata"]["sha256"]
            assert f"\nName: {name}\n".encode() in meta
            served[item["filename"]] = item["hashes"]["sha256"]
    assert served == expected


def test_html_links_carry_hash_and_metadata_attributes(server: InProcess, small_bundle: SmallBundle) -> None:
    body = get(server, "/simple/alpha/")[2].decode()
    match = re.search(
        r'<a href="\.\./\.\./files/(alpha-1\.0-py3-none-any\.whl)#sha256=([0-9a-f]{64})" '
        r'data-dist-info-metadata="sha256=([0-9a-f]{64})" data-core-metadata="sha256=\3">',
        body,
    )
    assert match, body
    assert match.group(2) == files_of(small_bundle)[match.group(1)]


def test_head_sends_the_headers_of_get_without_a_body(server: InProcess) -> None:
    _, get_headers, body = get(server, "/files/alpha-1.0-py3-none-any.whl")
    status, headers, empty = get(server, "/files/alpha-1.0-py3-none-any.whl", method="HEAD")
    assert (status, empty) == (200, b"")
    assert headers["content-length"] == get_headers["content-length"] == str(len(body))
    assert headers["etag"] == get_headers["etag"]


def test_single_byte_ranges(server: InProcess) -> None:
    path = "/files/beta-2.0-py3-none-any.whl"
    whole = get(server, path)[2]
    status, headers, part = get(server, path, Range="bytes=10-19")
    assert (status, part, headers["content-range"]) == (206, whole[10:20], f"bytes 10-19/{len(whole)}")
    status, _, tail = get(server, path, Range="bytes=-7")
    assert (status, tail) == (206, whole[-7:])
    status, headers, _ = get(server, path, Range=f"bytes={len(whole)}-")
    assert (status, headers["content-range"]) == (416, f"bytes */{len(whole)}")
    status, _, body = get(server, path, Range="bytes=0-1,4-5")
    assert (status, body) == (200, whole)
    status, _, body = get(server, path, Range="bytes=0-3", **{"If-Range": '"stale"'})
    assert (status, body) == (200, whole)


def test_etag_and_if_none_match(server: InProcess) -> None:
    for path, accept in (("/files/alpha-1.0-py3-none-any.whl", "*/*"), ("/simple/alpha/", JSON_TYPE)):
        status, headers, _ = get(server, path, Accept=accept)
        assert status == 200
        status, again, body = get(server, path, Accept=accept, **{"If-None-Match": headers["etag"]})
        assert (status, body, again["etag"]) == (304, b"", headers["etag"])
    json_tag = get(server, "/simple/alpha/", Accept=JSON_TYPE)[1]["etag"]
    html_tag = get(server, "/simple/alpha/")[1]["etag"]
    assert json_tag != html_tag


def test_keep_alive_serves_many_requests_on_one_connection(server: InProcess) -> None:
    conn = http.client.HTTPConnection(*server.address, timeout=10)
    conn.connect()
    first = conn.sock
    for path in (
        "/simple/",
        "/simple/alpha/",
        "/files/alpha-1.0-py3-none-any.whl",
        "/nothing",
        "/simple/beta/",
    ):
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        assert response.status in (200, 404)
        assert conn.sock is first and not response.will_close
    conn.close()


def test_one_access_log_line_per_request(server: InProcess) -> None:
    marker = f"log-{time.monotonic_ns()}"  # this test's requests only: other tests' lines may still arrive
    get(server, f"/simple/beta/?{marker}")
    get(server, f"/files/../x?{marker}")
    raw(server, f"GET /{marker}".encode() + b"a" * 2000 + b" HTTP/1.1\r\n\r\n")
    deadline = time.monotonic() + 10  # a line is written after its response is sent
    while time.monotonic() < deadline and len([x for x in server.log if marker in x]) < 3:
        time.sleep(0.05)
    time.sleep(0.2)
    lines = sorted((x for x in server.log if marker in x), key=lambda x: x.split('"')[1])
    assert len(lines) == 3, lines
    assert re.match(
        rf'^127\.0\.0\.1 - - \[[^]]+\] "GET /files/\.\./x\?{marker} HTTP/1\.1" 400 \d+ [\d.]+ms$', lines[0]
    )
    assert re.match(
        rf'^127\.0\.0\.1 - - \[[^]]+\] "GET /simple/beta/\?{marker} HTTP/1\.1" 200 \d+ [\d.]+ms$', lines[2]
    )
    assert f'"GET /{marker}aaa' in lines[1] and '..." 414 ' in lines[1]  # a long request line is shortened


# --- what it refuses -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/files/../netbundle/manifest.json",
        "/files/%2e%2e/netbundle/manifest.json",
        "/files/%2E%2E%2Fnetbundle%2Fmanifest.json",
        "/files/%252e%252e%252fnetbundle%252fmanifest.json",
        "/files/..%5c..%5cnetbundle%5cmanifest.json",
        "/files/..\\netbundle\\manifest.json",
        "//netbundle/manifest.json",
        "/files//etc/passwd",
        "/simple/%2e%2e/%2e%2e/etc/passwd",
        "/files/alpha%00.whl",
        "http://127.0.0.1/files/../../etc/passwd",
    ],
)
def test_traversal_is_refused(server: InProcess, path: str) -> None:
    answer = raw(server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert status_of(answer) == 400, answer
    assert b"refused path" in answer


@pytest.mark.parametrize(
    "path",
    [
        "/netbundle/manifest.json",
        "/wheels/alpha-1.0-py3-none-any.whl",
        "/locks/",
        "/files/",
        "/tools/",
        "/etc/passwd",
    ],
)
def test_nothing_but_pages_and_files_is_reachable(server: InProcess, path: str) -> None:
    assert get(server, path)[0] == 404


def test_oversize_request_line_and_headers(server: InProcess) -> None:
    assert status_of(raw(server, b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\n\r\n")) == 414
    big = b"GET /simple/ HTTP/1.1\r\nX-Big: " + b"b" * 5000 + b"\r\n\r\n"
    assert status_of(raw(server, big)) == 431
    many = b"GET /simple/ HTTP/1.1\r\n" + b"".join(b"X-%d: 1234567890\r\n" % i for i in range(300)) + b"\r\n"
    assert status_of(raw(server, many)) == 431
    small_but_many = b"GET /simple/ HTTP/1.1\r\n" + b"".join(b"A%d: 1\r\n" % i for i in range(150)) + b"\r\n"
    assert len(small_but_many) < FAST.header_bytes
    answer = raw(server, small_but_many)
    assert status_of(answer) == 431
    assert b"got more than 100 headers" in answer
    assert get(server, "/simple/")[0] == 200


def test_methods_bodies_and_garbage(server: InProcess) -> None:
    answer = raw(server, b"POST /simple/ HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    assert status_of(answer) == 405
    assert b"Allow: GET, HEAD" in answer
    answer = raw(server, b"POST /simple/ HTTP/1.1\r\nContent-Length: 14\r\n\r\nGET / HTTP/1.1")
    assert (status_of(answer), answer.count(b"HTTP/1.")) == (405, 1)  # closed: the body is never parsed
    answer = raw(server, b"GET /simple/ HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
    assert status_of(answer) == 400
    assert status_of(raw(server, b"\x16\x03\x01 garbage\r\n\r\n")) == 400
    answer = raw(
        server, b"GET /simple/\r\n\r\n"
    )  # HTTP/0.9: no status line, no headers; not answered as such
    assert status_of(answer) == 400
    assert b"HTTP/1.0 or 1.1 only" in answer


def test_a_client_that_never_finishes_its_request_is_timed_out_while_others_are_served(
    server: InProcess,
) -> None:
    results: list[bytes] = []
    started = time.monotonic()

    def slowloris() -> None:
        with socket.create_connection(server.address, timeout=10) as sock:
            sock.sendall(b"GET /simple/ HTTP/1.1\r\nHost: x\r\n")
            try:
                for _ in range(80):  # one header byte every 0.1 s: each recv is quick, the head never ends
                    sock.sendall(b"X")
                    time.sleep(0.1)
            except OSError:
                pass
            results.append(sock.recv(65536))

    thread = threading.Thread(target=slowloris)
    thread.start()
    for _ in range(10):
        assert get(server, "/simple/alpha/")[0] == 200
    thread.join(timeout=20)
    assert results and status_of(results[0]) == 408
    assert time.monotonic() - started < FAST.head_timeout + 6  # cut off while it still trickles (8 s)


def test_an_idle_keep_alive_connection_is_closed_without_an_answer(server: InProcess) -> None:
    before = len(server.log)
    with socket.create_connection(server.address, timeout=10) as sock:
        started = time.monotonic()
        assert sock.recv(1024) == b""
    assert FAST.idle_timeout - 0.5 < time.monotonic() - started < FAST.idle_timeout + 6
    assert server.log[before:] == []


def test_connections_beyond_the_limit_get_503(small_bundle: SmallBundle) -> None:
    limits = Limits(idle_timeout=5.0, head_timeout=5.0, max_connections=2)
    with in_process(small_bundle.path, small_bundle.key.pub_path, limits, all_targets=True) as running:
        holders = [socket.create_connection(running.address, timeout=10) for _ in range(2)]
        time.sleep(0.2)
        try:
            assert status_of(raw(running, b"GET /simple/ HTTP/1.1\r\n\r\n")) == 503
        finally:
            for sock in holders:
                sock.close()
        deadline = time.monotonic() + 10  # the slots come back once their threads see the close
        while get(running, "/simple/")[0] == 503 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert get(running, "/simple/")[0] == 200


def test_the_default_target_is_the_one_fitting_this_host(small_bundle: SmallBundle) -> None:
    (name,) = [t.name for t in read_unverified(small_bundle.path).manifest.targets]  # made for this host
    with in_process(small_bundle.path, small_bundle.key.pub_path) as running:
        assert running.info.targets == (name,)
        assert get(running, "/simple/alpha/")[0] == 200
