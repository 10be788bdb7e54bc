"""`netbundle fetch` against real HTTP servers on 127.0.0.1: routing, auth, cache, faults, no credential leaks."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from tests.support.projects import Pkg, write_project
from tests.support.schemas import assert_valid
from tests.support.simple_index import serve
from tests.support.wheels import make_sdist, make_wheel, sha256_of

from netbundle.cli import cli

PASSWORD = "pa55-w0rd-xyz"
TARGETS = ["--target", "cp311-manylinux_2_28_x86_64", "--target", "cp39-win_amd64"]


@pytest.fixture
def world(tmp_path: Path):  # type: ignore[no-untyped-def]
    public, private = tmp_path / "public", tmp_path / "private"
    files = {
        "pure": make_wheel(public, "pure", "1.0"),
        "plat-linux": make_wheel(public, "plat", "2.0", tag="cp311-cp311-manylinux_2_17_x86_64"),
        "plat-win": make_wheel(public, "plat", "2.0", tag="cp39-cp39-win_amd64"),
        "plat-mac": make_wheel(public, "plat", "2.0", tag="cp311-cp311-macosx_11_0_arm64"),
        "srconly": make_sdist(public, "srconly", "0.5"),
        "secret": make_wheel(private, "secret", "3.0"),
    }
    # a same-named package on the public index, with other bytes: dependency confusion bait
    make_wheel(public / "bait", "secret", "3.0", payload="print('pwned')\n").rename(
        public / "secret-3.0-py3-none-any.whl"
    )
    with serve(public) as pub, serve(private, auth=("ops", PASSWORD)) as priv:
        project = write_project(
            tmp_path / "project",
            [
                Pkg("pure", "1.0", [files["pure"]]),
                Pkg("plat", "2.0", [files["plat-linux"], files["plat-win"], files["plat-mac"]]),
                Pkg("srconly", "0.5", [files["srconly"]]),
                Pkg("secret", "3.0", [files["secret"]],
                    source={"type": "legacy", "url": priv.url, "reference": "private"}),
            ],
            sources=[{"name": "private", "url": priv.url, "priority": "explicit"}],
        )  # fmt: skip
        yield {"project": project, "public": pub, "private": priv, "files": files, "tmp": tmp_path}


def fetch(world: dict, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def, type-arg]
    environ = {"POETRY_HTTP_BASIC_PRIVATE_USERNAME": "ops", "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": PASSWORD}
    environ.update(env or {})
    out = world["tmp"] / "wheelhouse"
    argv = ["fetch", "-P", str(world["project"]), "--index-url", world["public"].url,
            "--cache-dir", str(world["tmp"] / "cache"), "-o", str(out), *TARGETS, "--no-build", *args]  # fmt: skip
    return CliRunner().invoke(cli, argv, env=environ), out


def test_per_target_wheelhouses_from_the_right_sources(world: dict) -> None:  # type: ignore[type-arg]
    result, out = fetch(world, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert_valid("fetch", summary)
    assert summary["downloaded"] == 5 and summary["cached"] == 0
    assert summary["needs_build"] == ["srconly==0.5"]
    linux = sorted(p.name for p in (out / "cp311-manylinux_2_28_x86_64").iterdir())
    win = sorted(p.name for p in (out / "cp39-win_amd64").iterdir())
    assert linux == [
        "plat-2.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        "pure-1.0-py3-none-any.whl",
        "secret-3.0-py3-none-any.whl",
    ]
    assert win == [
        "plat-2.0-cp39-cp39-win_amd64.whl",
        "pure-1.0-py3-none-any.whl",
        "secret-3.0-py3-none-any.whl",
    ]
    assert sha256_of(out / "cp39-win_amd64" / "secret-3.0-py3-none-any.whl") == sha256_of(
        world["files"]["secret"]
    )
    plan = json.loads((out / "plan.json").read_text())
    kinds = {p["name"]: p["kind"] for p in plan["targets"]["cp39-win_amd64"]["packages"]}
    assert kinds == {"plat": "wheel", "pure": "wheel", "secret": "wheel", "srconly": "sdist"}
    # the pinned package was never looked up on the public index; the public index never saw credentials
    public_paths = [path for path, _ in world["public"].requests]
    assert not any("secret" in path for path in public_paths)
    assert not any(had_auth for _, had_auth in world["public"].requests)
    assert all(had_auth for _, had_auth in world["private"].requests)


def test_warm_cache_asks_no_index(world: dict) -> None:  # type: ignore[type-arg]
    first, _ = fetch(world)
    assert first.exit_code == 0, first.output
    world["public"].requests.clear()
    world["private"].requests.clear()
    second, out = fetch(world, "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["downloaded"] == 0
    assert world["public"].requests == [] and world["private"].requests == []
    assert (out / "cp311-manylinux_2_28_x86_64" / "pure-1.0-py3-none-any.whl").is_file()


def test_hash_mismatch_fails_closed_and_caches_nothing(world: dict) -> None:  # type: ignore[type-arg]
    wheel = world["files"]["pure"]
    wheel.write_bytes(wheel.read_bytes() + b"tampered")
    result, out = fetch(world)
    assert result.exit_code in (11,), result.output
    assert "pure-1.0-py3-none-any.whl" in result.output and "sha256" in result.output
    cached = [p for p in (world["tmp"] / "cache").rglob("*") if p.is_file()]
    assert all(sha256_of(p) == p.name for p in cached)
    assert sha256_of(wheel) not in {p.name for p in cached}
    assert not out.exists()


def test_missing_credentials_name_the_variables(world: dict) -> None:  # type: ignore[type-arg]
    result, _ = fetch(
        world, env={"POETRY_HTTP_BASIC_PRIVATE_USERNAME": "", "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": ""}
    )
    assert result.exit_code == 5, result.output
    assert "HTTP 401 from source private" in result.output
    assert "POETRY_HTTP_BASIC_PRIVATE_USERNAME" in result.output


def test_credentials_appear_in_no_output_or_log(world: dict, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[type-arg]
    caplog.set_level(logging.DEBUG)
    result, out = fetch(world, "--json")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output and PASSWORD not in caplog.text
    for path in out.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes()


def test_no_fitting_file_is_explained(world: dict) -> None:  # type: ignore[type-arg]
    result, _ = fetch(world, "--target", "cp312-manylinux_2_28_aarch64")
    assert result.exit_code == 6, result.output
    assert "plat 2.0: no file in the lock fits target cp312-manylinux_2_28_aarch64" in result.output
    assert "cp311-cp311-manylinux_2_17_x86_64" in result.output


def test_server_errors_are_retried(httpserver: HTTPServer, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "files", "pure", "1.0")
    project = write_project(tmp_path / "project", [Pkg("pure", "1.0", [wheel])])
    page = f'<a href="/files/{wheel.name}#sha256={sha256_of(wheel)}">{wheel.name}</a>'
    httpserver.expect_ordered_request("/simple/pure/").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/simple/pure/").respond_with_data(page, content_type="text/html")
    httpserver.expect_ordered_request(f"/files/{wheel.name}").respond_with_data("oops", status=500)
    httpserver.expect_ordered_request(f"/files/{wheel.name}").respond_with_data(wheel.read_bytes())
    argv = ["fetch", "-P", str(project), "--index-url", httpserver.url_for("/simple/"), "--cache-dir",
            str(tmp_path / "cache"), "-o", str(tmp_path / "out"), "--target", "cp311-manylinux_2_28_x86_64"]  # fmt: skip
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    httpserver.check_assertions()
    assert (tmp_path / "out" / "cp311-manylinux_2_28_x86_64" / wheel.name).read_bytes() == wheel.read_bytes()


def test_persistent_server_errors_fail_with_the_source(httpserver: HTTPServer, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "files", "pure", "1.0")
    project = write_project(tmp_path / "project", [Pkg("pure", "1.0", [wheel])])
    httpserver.expect_request("/simple/pure/").respond_with_data("down", status=502)
    argv = ["fetch", "-P", str(project), "--index-url", httpserver.url_for("/simple/"), "--cache-dir",
            str(tmp_path / "cache"), "-o", str(tmp_path / "out"), "--target", "cp311-manylinux_2_28_x86_64"]  # fmt: skip
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 5, result.output
    assert "HTTP 502 from source default index" in result.output
    assert not (tmp_path / "out").exists()


def test_progress_is_reported_for_every_file(world: dict) -> None:  # type: ignore[type-arg]
    from netbundle.wheelhouse import FetchRequest, fetch_wheelhouse

    calls: list[tuple[int, int]] = []
    environ = {"POETRY_HTTP_BASIC_PRIVATE_USERNAME": "ops", "POETRY_HTTP_BASIC_PRIVATE_PASSWORD": PASSWORD}
    request = FetchRequest(
        project_dir=world["project"], output=world["tmp"] / "wh", index_url=world["public"].url,
        cache_dir=world["tmp"] / "cache", targets=("cp39-win_amd64",), environ=environ, build=False,
        progress=lambda done, total: calls.append((done, total)),
    )  # fmt: skip
    fetch_wheelhouse(request)
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]
    calls.clear()
    fetch_wheelhouse(request)  # warm: every file is reported from the cache
    assert calls[-1] == (4, 4) and len(calls) == 4
