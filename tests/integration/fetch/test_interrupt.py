"""Ctrl-C during downloads: the build stops within about a second, running downloads are cancelled, their
partial files are removed, and the exit code is 130 (docs/reference/exit-codes.md)."""

from __future__ import annotations

import base64
import io
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from tests.support.projects import Pkg, write_project
from tests.support.simple_index import serve
from tests.support.wheels import make_wheel, sha256_of

from netbundle._atomic import PARTIAL_SUFFIX
from netbundle.fetch.http import DownloadCancelledError, Http, RetryPolicy

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def big_wheel(tmp_path: Path) -> Path:
    """About 2 MB that does not compress: at 4 KiB per 50 ms its download would take about 25 s."""
    payload = "DATA = '''" + base64.b64encode(os.urandom(1_500_000)).decode() + "'''\n"
    return make_wheel(tmp_path / "public", "heavy", "1.0", payload=payload)


def test_cancel_stops_a_download_that_is_reading_its_body(big_wheel: Path) -> None:
    with serve(big_wheel.parent) as index:
        path = f"/files/{big_wheel.name}"
        index.faults[path] = ["trickle:0.05"]
        http = Http({}, policy=RetryPolicy(attempts=3, backoff=0.01, timeout=30))
        out, caught = io.BytesIO(), []

        def download() -> None:
            try:
                http.download(
                    index.url.replace("/simple/", path), out, sha256=sha256_of(big_wheel), source="t"
                )
            except BaseException as exc:  # noqa: BLE001 - the test inspects it
                caught.append(exc)

        worker = threading.Thread(target=download)
        worker.start()
        while out.tell() == 0 and worker.is_alive():
            time.sleep(0.02)
        started = time.monotonic()
        http.cancel()
        worker.join(5)
        assert not worker.is_alive() and time.monotonic() - started < 1.0
        assert len(caught) == 1 and isinstance(caught[0], DownloadCancelledError)
        assert [p for p, _ in index.requests].count(path) == 1  # not retried


def test_ctrl_c_stops_fetch_within_a_second_with_exit_130(big_wheel: Path, tmp_path: Path) -> None:
    with serve(big_wheel.parent) as index:
        index.faults[f"/files/{big_wheel.name}"] = ["trickle:0.05"]
        project = write_project(tmp_path / "project", [Pkg("heavy", "1.0", [big_wheel])])
        cache = tmp_path / "cache"
        argv = [str(REPO / ".venv" / "bin" / "netbundle"), "fetch", "-P", str(project), "--index-url", index.url,
                "--cache-dir", str(cache), "-o", str(tmp_path / "wh"), "--target", "cp311-manylinux_2_28_x86_64"]  # fmt: skip
        env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIP_CONFIG_FILE": os.devnull}
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not list(cache.rglob(f"*{PARTIAL_SUFFIX}")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(cache.rglob(f"*{PARTIAL_SUFFIX}")), "the download did not start"
        time.sleep(0.3)  # its body is flowing
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - started
    assert proc.returncode == 130, err
    assert elapsed < 1.5, f"took {elapsed:.1f} s to stop"
    assert "error: interrupted" in err and "Traceback" not in err
    assert list(cache.rglob(f"*{PARTIAL_SUFFIX}")) == []
    assert not list(cache.rglob(sha256_of(big_wheel)))
