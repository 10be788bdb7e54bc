"""The download client under faults: truncated bodies and stalls are retried, and give up with a clear error."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from tests.support.simple_index import serve
from tests.support.wheels import make_wheel, sha256_of

from netbundle.errors import NetworkError
from netbundle.fetch.http import Http, RetryPolicy

FAST = RetryPolicy(attempts=3, backoff=0.01, timeout=0.5)


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return make_wheel(tmp_path / "files", "pure", "1.0", payload="x = 1\n" * 2000)


def download(http: Http, url: str, wheel: Path) -> bytes:
    out = io.BytesIO()
    http.download(url, out, sha256=sha256_of(wheel), source="test")
    return out.getvalue()


@pytest.mark.parametrize(
    "faults", [["truncate"], ["truncate", "truncate"], ["stall:1.0"], ["stall:1.0", "truncate"]]
)
def test_transient_faults_are_retried(wheel: Path, faults: list[str]) -> None:
    with serve(wheel.parent) as index:
        path = f"/files/{wheel.name}"
        index.faults[path] = list(faults)
        url = index.url.replace("/simple/", path)
        assert download(Http({}, policy=FAST, sleep=lambda _: None), url, wheel) == wheel.read_bytes()
        assert [p for p, _ in index.requests].count(path) == len(faults) + 1


def test_persistent_truncation_gives_up_with_the_source(wheel: Path) -> None:
    with serve(wheel.parent) as index:
        path = f"/files/{wheel.name}"
        index.faults[path] = ["truncate"] * 3
        url = index.url.replace("/simple/", path)
        with pytest.raises(NetworkError, match=r"source test\): \w+ after 3 attempts"):
            download(Http({}, policy=FAST, sleep=lambda _: None), url, wheel)
