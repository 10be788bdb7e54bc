"""The real ``serve`` command as a child process: ready line, clean stops, and bundles it must never serve."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from tests.integration.serve.servers import SmallBundle, child, child_env, serve_argv
from tests.support.bundles import make_keypair
from tests.support.tamper import CASES, read_members, write_members

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_ready_line_then_a_signal_stops_it_cleanly(
    small_bundle: SmallBundle, tmp_path: Path, signum: int
) -> None:
    argv = serve_argv(small_bundle.path, "--trust", str(small_bundle.key.pub_path), "--all-targets")
    with child(argv, tmp_path) as server:
        assert server.url == f"http://127.0.0.1:{server.info['port']}/simple/"
        assert (server.info["projects"], server.info["files"]) == (3, 3)
        assert [p.name for p in tmp_path.glob("netbundle-serve-*")] != []  # the staged, verified copy
        with urllib.request.urlopen(server.url + "alpha/", timeout=10) as response:  # loopback
            assert response.status == 200
        code, stderr = server.stop(signum)
    assert code == 0, stderr
    assert f"netbundle: {signal.Signals(signum).name}, server stopped" in stderr
    assert '"GET /simple/alpha/ HTTP/1.1" 200' in stderr
    assert list(tmp_path.glob("netbundle-serve-*")) == []
    assert not listening(int(server.info["port"]))  # type: ignore[call-overload]


@pytest.mark.parametrize(
    "case", ["wheel byte flipped", "manifest edited", "signature removed", "unknown member", "wheel missing"]
)
def test_a_bundle_failing_verification_is_never_served(
    small_bundle: SmallBundle, tmp_path: Path, case: str
) -> None:
    bundle = tmp_path / "bad.tar"
    shutil.copy(small_bundle.path, bundle)
    mutate, error = CASES[case]
    write_members(bundle, mutate(read_members(bundle)))
    port = free_port()
    argv = serve_argv(bundle, "--trust", str(small_bundle.key.pub_path), "--all-targets")
    argv[argv.index("0")] = str(port)
    run = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env=child_env(tmp_path), check=False
    )
    assert run.returncode == error.exit_code, run.stderr
    assert '"url"' not in run.stdout
    assert f'"exit_code": {error.exit_code}' in run.stdout
    assert run.stderr.startswith("error: ")
    assert not listening(port)
    assert list(tmp_path.glob("netbundle-serve-*")) == []


def test_an_untrusted_signer_is_refused(small_bundle: SmallBundle, tmp_path: Path) -> None:
    other = make_keypair(tmp_path / "keys", "other")
    argv = serve_argv(small_bundle.path, "--trust", str(other.pub_path), "--all-targets")
    run = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env=child_env(tmp_path), check=False
    )
    assert run.returncode == 14, run.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--target", "nope"], 2, "has no target 'nope'"),
        (["--target", "x", "--all-targets"], 2, "not allowed with argument"),
        (["--port", "70000"], 25, "cannot listen on 127.0.0.1:70000"),
        (["--bind", "192.0.2.1"], 25, "cannot listen on 192.0.2.1:0"),
    ],
)
def test_usage_and_bind_errors(
    small_bundle: SmallBundle, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    argv = [*serve_argv(small_bundle.path, "--trust", str(small_bundle.key.pub_path)), *args]
    run = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env=child_env(tmp_path), check=False
    )
    assert run.returncode == code, run.stderr
    assert message in run.stderr


def test_a_port_in_use_is_a_clear_error(small_bundle: SmallBundle, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = serve_argv(small_bundle.path, "--trust", str(small_bundle.key.pub_path), "--all-targets")
        argv[argv.index("0")] = str(port)
        run = subprocess.run(
            argv, capture_output=True, text=True, timeout=60, env=child_env(tmp_path), check=False
        )
    assert run.returncode == 25, run.stderr
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in run.stderr


SITE_SCRIPT = """
set -e
ip link set lo up
ip addr add 10.200.0.1/32 dev lo  # a site address: not loopback to pip or to serve
"$@" --bind 10.200.0.1 --port 8000 > "$OUT/serve.json" 2> "$OUT/serve.stderr" &
server=$!
for _ in $(seq 100); do grep -q '^}' "$OUT/serve.json" 2>/dev/null && break; sleep 0.1; done
pip="$PIP download --disable-pip-version-check --no-deps --index-url http://10.200.0.1:8000/simple/ alpha==1.0"
$pip -d "$OUT/untrusted" > "$OUT/untrusted.txt" 2>&1 && echo "untrusted: 0" || echo "untrusted: $?"
$pip -d "$OUT/trusted" --trusted-host 10.200.0.1 > "$OUT/trusted.txt" 2>&1 && echo "trusted: 0" || echo "trusted: $?"
kill -TERM $server
wait $server && echo "serve: 0" || echo "serve: $?"
"""


@pytest.mark.netns
def test_a_site_address_warns_and_pip_needs_trusted_host_for_it(
    small_bundle: SmallBundle, tmp_path: Path
) -> None:
    """In a network namespace of its own (only lo, with a second, non-loopback address), so that nothing
    outside the test can reach the server: the --bind warning names the address, and pip ignores a plain-HTTP
    index on a non-loopback host unless --trusted-host names it (docs/runbooks/site-index.md says so)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip(
            "SKIPPED LOUDLY: no unshare(1) or ip(8): cannot make a network namespace for the --bind test"
        )
    argv = [
        *serve_argv(small_bundle.path)[:5],
        "--trust",
        str(small_bundle.key.pub_path),
        "--all-targets",
        "--json",
    ]
    env = {
        **child_env(tmp_path),
        "OUT": str(tmp_path),
        "HOME": str(tmp_path),
        "PIP": f"{sys.executable} -m pip",
        "PIP_CONFIG_FILE": os.devnull,
    }
    env = {k: v for k, v in env.items() if not k.startswith("PIP_") or k == "PIP_CONFIG_FILE"}
    run = subprocess.run(["unshare", "-n", "sh", "-c", SITE_SCRIPT, "sh", *argv], env=env, capture_output=True,
                         text=True, timeout=300, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    stderr = (tmp_path / "serve.stderr").read_text()
    assert run.stdout.split("\n")[:3] == ["untrusted: 1", "trusted: 0", "serve: 0"], (run.stdout, stderr)
    assert (
        "10.200.0.1 is not a trusted or secure host and is being ignored"
        in (tmp_path / "untrusted.txt").read_text()
    )
    assert [p.name for p in (tmp_path / "trusted").iterdir()] == ["alpha-1.0-py3-none-any.whl"]
    assert "netbundle: warning: listening on 10.200.0.1 port 8000, not loopback" in stderr
    assert re.search(
        r'^10\.200\.0\.1 - - \[[^]]+\] "GET /simple/alpha/ HTTP/1\.1" 200 ', stderr, re.MULTILINE
    )
