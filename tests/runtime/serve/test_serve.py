"""The parts of ``serve`` around the server: target choice, the index URL, the --bind warning, bind errors."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from tests.support.bundles import make_bundle, make_keypair
from tests.support.tamper import CASES, read_members, write_members

from netbundle.errors import IntegrityError, ServeError, UsageError
from netbundle.format.tar import read_unverified
from netbundle.format.trust import load_trust
from netbundle.runtime.serve import ServeRequest, _warn_if_exposed, choose_targets, index_url, serve


@pytest.mark.parametrize(
    ("bind", "warned"),
    [
        ("127.0.0.1", False),
        ("127.0.0.2", False),
        ("::1", False),
        ("0.0.0.0", True),  # noqa: S104 # a value under test, nothing binds it
        ("10.1.2.3", True),
        ("bastion.example", True),
    ],
)
def test_a_non_loopback_bind_warns_naming_the_address(bind: str, warned: bool) -> None:
    lines: list[str] = []
    _warn_if_exposed(bind, 8000, lines.append)
    if warned:
        expected = (
            f"netbundle: warning: listening on {bind} port 8000, not loopback: every host that reaches this "
        )
        assert lines == [expected + "address can download the served files"]
    else:
        assert lines == []


def test_index_url() -> None:
    assert index_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/simple/"
    assert index_url("::1", 81) == "http://[::1]:81/simple/"
    wildcard = "0.0.0.0"  # noqa: S104 # a value under test, nothing binds it
    assert index_url(wildcard, 80) == f"http://{socket.getfqdn()}:80/simple/"


def test_target_choice(tmp_path: Path) -> None:
    manifest = read_unverified(
        make_bundle(tmp_path / "b.tar", target="cp311-manylinux_2_28_aarch64")
    ).manifest
    request = ServeRequest("b.tar", target="cp311-manylinux_2_28_aarch64")
    assert choose_targets(manifest, request) == ("cp311-manylinux_2_28_aarch64",)
    assert choose_targets(manifest, ServeRequest("b.tar", all_targets=True)) == (
        "cp311-manylinux_2_28_aarch64",
    )
    with pytest.raises(UsageError, match="has no target 'cp39-x'") as raised:
        choose_targets(manifest, ServeRequest("b.tar", target="cp39-x"))
    assert raised.value.hint == "its targets are: cp311-manylinux_2_28_aarch64"


def test_verification_fails_before_anything_listens(tmp_path: Path) -> None:
    key = make_keypair(tmp_path / "keys")
    bundle = make_bundle(tmp_path / "b.tar", keys=[key])
    mutate, _ = CASES["wheel byte flipped"]
    write_members(bundle, mutate(read_members(bundle)))
    ready: list[object] = []
    stopped = threading.Event()
    stopped.set()  # were it served after all, serve() returns at once instead of serving forever
    with pytest.raises(IntegrityError):
        serve(
            ServeRequest(str(bundle), port=0, all_targets=True),
            load_trust(key.pub_path),
            ready.append,
            print,
            stopped,
        )
    assert ready == []


def test_an_address_in_use_is_a_serve_error(tmp_path: Path) -> None:
    key = make_keypair(tmp_path / "keys")
    bundle = make_bundle(tmp_path / "b.tar", keys=[key])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        request = ServeRequest(str(bundle), port=taken.getsockname()[1], all_targets=True)
        stopped = threading.Event()
        stopped.set()  # were it bound after all, serve() returns at once
        with pytest.raises(ServeError, match="Address already in use") as raised:
            serve(request, load_trust(key.pub_path), print, print, stopped)
    assert raised.value.exit_code == 25
