"""``serve`` from the built netbundle.pyz (embedded key only, ``python -I``) on the oldest Python the pyz supports
and on this one: the real zipapp verifies, serves a page and a file, and stops on SIGTERM."""

from __future__ import annotations

import glob
import hashlib
import http.client
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.serving import read_ready_object

from netbundle.format.tar import read_unverified

from .conftest import BuiltPyz

pytestmark = pytest.mark.integration


def python39() -> str:
    for candidate in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3.9"))):
        return candidate
    pytest.skip("SKIPPED LOUDLY: no CPython 3.9 (pyenv ~/.pyenv/versions/3.9*): serve not run on the floor")


@pytest.mark.parametrize("which", ["3.9", "this"])
def test_the_pyz_serves_a_verified_bundle(pyz: BuiltPyz, tmp_path: Path, which: str) -> None:
    python = python39() if which == "3.9" else sys.executable
    argv = [python, "-I", str(pyz.path), "serve", str(pyz.bundle), "--all-targets", "--port", "0", "--json"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    with (tmp_path / "stderr").open("w") as err:
        server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    try:
        assert server.stdout is not None
        text = read_ready_object(server.stdout)
        assert text, (tmp_path / "stderr").read_text()
        info = json.loads(text)
        assert info["signers"] == [pyz.key.public.key_id_hex]
        conn = http.client.HTTPConnection("127.0.0.1", info["port"], timeout=10)
        conn.request("GET", "/simple/alpha/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        (item,) = json.loads(conn.getresponse().read())["files"]
        conn.request("GET", "/files/" + item["filename"])
        body = conn.getresponse().read()
        conn.close()
        expected = {e.path.rsplit("/", 1)[1]: e.sha256 for e in read_unverified(pyz.bundle).manifest.files}
        assert hashlib.sha256(body).hexdigest() == item["hashes"]["sha256"] == expected[item["filename"]]
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, (tmp_path / "stderr").read_text()
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()
    assert "netbundle: SIGTERM, server stopped" in (tmp_path / "stderr").read_text()
    assert list(tmp_path.glob("netbundle-serve-*")) == []
