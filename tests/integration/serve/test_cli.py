"""The real ``serve`` command as a child process: ready line, clean stops, and bundles it must never serve."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest
from tests.support.bundles import make_keypair
from tests.support.tamper import CASES, read_members, write_members

from .conftest import SmallBundle, child, child_env, serve_argv

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
    assert "netbundle: error: " in run.stderr
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


@pytest.mark.netns
def test_bind_elsewhere_than_loopback_warns_naming_the_address(
    small_bundle: SmallBundle, tmp_path: Path
) -> None:
    """In a network namespace of its own (only lo), so that 0.0.0.0 reaches nothing outside the test."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1): cannot make a network namespace for the --bind test")
    argv = serve_argv(
        small_bundle.path,
        "--trust",
        str(small_bundle.key.pub_path),
        "--all-targets",
        "--bind",
        "0.0.0.0",  # noqa: S104 # in its own netns
    )
    script = 'ip link set lo up && exec "$@"'
    with child(["unshare", "-n", "sh", "-c", script, "sh", *argv], tmp_path) as server:
        assert server.info["bind"] == "0.0.0.0"  # noqa: S104 # in its own netns
        code, stderr = server.stop()
    assert code == 0, stderr
    assert f"netbundle: warning: listening on 0.0.0.0 port {server.info['port']}, not loopback" in stderr
