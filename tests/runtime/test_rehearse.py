"""The DR rehearsal: pure parts (argv, environment, report) and real rehearsals of small signed bundles."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from tests.support.bundles import make_bundle, make_keypair
from tests.support.schemas import assert_valid

from netbundle.errors import InputError, RehearsalError
from netbundle.runtime import rehearse as rh
from netbundle.runtime.rehearse.report import JSON_NAME, MARKDOWN_NAME, Rehearsal, Step, write_reports

GUARD_ISOLATION = rh.Isolation(rh.GUARD, (), "guard", "/g")


def a_result(*steps: Step, report_dir: str = "/r") -> Rehearsal:
    return Rehearsal(
        bundle={
            "bundle_id": "p-1.0-abc",
            "project": "p",
            "version": "1.0",
            "signers": ["AB"],
            "verified": True,
        },
        target="cp311-manylinux_2_28_x86_64",
        groups=("main",),
        host={"hostname": "h", "python": "3.11.7", "label": "cp311-x"},
        netbundle_version="0.1.0",
        isolation=rh.NETNS,
        isolation_detail="network namespace",
        started="2026-01-01T00:00:00Z",
        seconds=1.5,
        scratch="/tmp/s",
        kept=False,
        steps=steps,
        report_dir=report_dir,
    )


OK = Step("install", "python -m netbundle.runtime install b.tar", True, 1.25, 0)
FAILED = Step("smoke: a | b", "a '|' b", False, 0.5, 3, "boom\nlast line")


# --- pure ------------------------------------------------------------------------------------------------------------


def test_install_argv_runs_the_same_runtime_with_json(tmp_path: Path) -> None:
    request = rh.RehearsalRequest(
        bundle="b.tar", groups=("junos",), target="t1", trust_files=(str(tmp_path / "k.pub"),)
    )
    argv = rh.install_argv(request, "/s/prefix", "/usr/bin/python3")
    bundle = str(Path("b.tar").resolve())  # the install step runs in the scratch directory
    assert argv[:6] == ["/usr/bin/python3", "-s", "-m", "netbundle.runtime", "install", bundle]
    assert argv[6:] == [
        "--prefix", "/s/prefix", "--group", "junos", "--target", "t1", "--trust", str(tmp_path / "k.pub"),
    ]  # fmt: skip


def test_install_argv_passes_the_engine_and_no_compile() -> None:
    request = rh.RehearsalRequest(bundle="/b.tar", engine="installer", compile_bytecode=False)
    assert rh.install_argv(request, "/p", "/py")[-3:] == ["--engine", "installer", "--no-compile"]
    assert "--engine" not in rh.install_argv(rh.RehearsalRequest(bundle="/b.tar"), "/p", "/py")


def test_step_env_drops_pip_config_and_puts_the_guard_first() -> None:
    env = rh.step_env(
        {
            "PATH": "/usr/bin",
            "PIP_INDEX_URL": "http://x",
            "pip_extra": "y",
            "PYTHONPATH": "/evil",
            "HOME": "/h",
        },
        GUARD_ISOLATION,
        ["/rt"],
        venv_bin="/v/bin",
    )
    assert not any(k.upper().startswith("PIP_") and k != "PIP_CONFIG_FILE" for k in env)
    assert env["PIP_CONFIG_FILE"] == os.devnull
    assert env["PYTHONPATH"] == os.pathsep.join(["/g", "/rt"])
    assert env["PATH"].split(os.pathsep)[0] == "/v/bin"
    assert (env["VIRTUAL_ENV"], env["HOME"]) == ("/v", "/h")


def test_step_env_without_guard_or_path_sets_no_pythonpath() -> None:
    env = rh.step_env({"PYTHONPATH": "/evil"}, rh.Isolation(rh.NETNS, ("unshare", "-n", "--"), "ns"))
    assert "PYTHONPATH" not in env


def test_netns_prefix_needs_a_user_namespace_when_not_root() -> None:
    assert rh.netns_prefix(0) == ("unshare", "-n", "--")
    assert rh.netns_prefix(1000) == ("unshare", "-r", "-n", "--")


def test_smoke_commands_bundle_first_each_once() -> None:
    assert rh.smoke_commands(["a", "b"], ["c", "a"]) == ["a", "b", "c"]


def test_import_summary_fails_on_errors_and_lists_optional_integrations() -> None:
    rows = [
        ["Alpha", "alpha", "ok", ""],
        [
            "hypothesis",
            "_hypothesis_pytestplugin",
            "optional",
            "ModuleNotFoundError: No module named 'pytest'",
        ],
    ]
    passed, detail = rh.summarize_imports(rows)
    assert passed
    assert detail == (
        "1 modules imported; plugins for tools not installed: "
        "_hypothesis_pytestplugin (hypothesis): ModuleNotFoundError: No module named 'pytest'"
    )
    passed, detail = rh.summarize_imports([*rows, ["Beta", "beta", "error", "ImportError: no libfoo"]])
    assert not passed
    assert detail.startswith("beta (Beta): ImportError: no libfoo; plugins for")


def test_result_outcome_and_exit_code() -> None:
    assert (a_result(OK).ok, a_result(OK).exit_code, a_result(OK).failure()) == (True, 0, "")
    failed = a_result(OK, FAILED)
    assert (failed.ok, failed.exit_code) == (False, RehearsalError.exit_code)
    assert "failed at step 'smoke: a | b' (1 of 2 steps failed)" in failed.failure()
    assert a_result().ok is False  # no step ran: nothing was proven


def test_json_report_has_the_change_record_facts() -> None:
    data = a_result(OK, FAILED).to_json()
    assert data["format"] == 1 and data["ok"] is False
    assert data["bundle"]["bundle_id"] == "p-1.0-abc"
    assert data["isolation"] == {"mode": "netns", "detail": "network namespace"}
    assert [s["name"] for s in data["steps"]] == ["install", "smoke: a | b"]
    assert data["steps"][1]["detail"] == "boom\nlast line"
    json.dumps(data)  # serializable as is


def test_markdown_escapes_table_cells_and_shows_failures() -> None:
    text = rh.render_markdown(a_result(OK, FAILED))
    assert "| Outcome | **FAILED** |" in text
    assert "| 2 | smoke: a \\| b | **FAILED** | 0.50 | `a '\\|' b` |" in text
    assert "### smoke: a | b (exit 3)\n\n```\nboom\nlast line\n```" in text


def test_text_summary() -> None:
    text = a_result(OK, FAILED).render_text()
    assert "FAILED" in text.splitlines()[0]
    assert "last line" in text


def test_reports_are_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "evidence" / "today"
    paths = write_reports(str(target), a_result(OK, report_dir=str(target)))
    assert [p.name for p in paths] == [JSON_NAME, MARKDOWN_NAME]
    assert sorted(p.name for p in target.iterdir()) == [JSON_NAME, MARKDOWN_NAME]
    assert json.loads((target / JSON_NAME).read_text())["ok"] is True


def test_unwritable_report_directory_is_an_input_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(InputError, match="cannot write the rehearsal report"):
        write_reports(str(blocker / "sub"), a_result(OK))


# --- isolation -------------------------------------------------------------------------------------------------------


def test_demanding_netns_without_unshare_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(rh.shutil, "which", lambda name: None)
    with pytest.raises(RehearsalError, match="unshare is not installed") as info:
        rh.choose_isolation(rh.NETNS, str(tmp_path))
    assert info.value.hint and "--isolation guard" in info.value.hint


def test_auto_falls_back_to_the_guard(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(rh.shutil, "which", lambda name: None)
    chosen = rh.choose_isolation(rh.AUTO, str(tmp_path))
    assert (chosen.mode, chosen.prefix) == (rh.GUARD, ())
    assert (Path(str(chosen.guard_dir)) / "sitecustomize.py").read_text() == rh.GUARD_SOURCE


@pytest.fixture
def guarded_env(tmp_path: Path) -> dict[str, str]:
    isolation = rh.choose_isolation(rh.GUARD, str(tmp_path))
    return rh.step_env(os.environ, isolation)


def run_guarded(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-s", "-c", code], env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "code",
    [
        "socket.create_connection(('127.0.0.1', PORT), timeout=5)",
        "socket.getaddrinfo('localhost', 80)",
        "s = socket.socket(); s.connect(('127.0.0.1', PORT))",
    ],
    ids=["create_connection", "getaddrinfo", "connect"],
)
def test_guard_refuses_network(code: str, guarded_env: dict[str, str]) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        done = run_guarded("import socket\n" + code.replace("PORT", str(port)), guarded_env)
    assert done.returncode == 1
    assert "network access is disabled" in done.stderr


def test_guard_connect_ex_reports_unreachable(guarded_env: dict[str, str]) -> None:
    done = run_guarded(
        "import socket, errno\nprint(socket.socket().connect_ex(('127.0.0.1', 9)) == errno.ENETUNREACH)",
        guarded_env,
    )
    assert done.stdout.strip() == "True"


def test_guard_lets_unix_sockets_connect(tmp_path: Path, guarded_env: dict[str, str]) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen()
        done = run_guarded(
            f"import socket\nsocket.socket(socket.AF_UNIX).connect({str(path)!r})\nprint('ok')", guarded_env
        )
    assert done.stdout.strip() == "ok", done.stderr


# --- real rehearsals -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("rehearse")
    key = make_keypair(root / "keys")
    smoke = ("python -c 'import alpha, beta'",)
    bundle = make_bundle(
        root / "b.tar", packages=(("alpha", "1.0"), ("beta", "2.0")), keys=[key], smoke=smoke
    )
    return bundle, key.pub_path


def rehearse(bundle: Path, pub: Path, report: Path, **options: object) -> Rehearsal:
    request = rh.RehearsalRequest(
        bundle=str(bundle), report_dir=str(report), trust_files=(str(pub),), **options
    )  # type: ignore[arg-type]
    return rh.rehearse(request)


def netns_works() -> bool:
    return rh.probe_netns(rh.netns_prefix(os.geteuid()))[0]


@pytest.mark.integration
@pytest.mark.parametrize("isolation", [rh.NETNS, rh.GUARD])
def test_rehearsal_passes(isolation: str, signed: tuple[Path, Path], tmp_path: Path) -> None:
    if isolation == rh.NETNS and not netns_works():
        pytest.skip("unshare -n does not work on this host")
    result = rehearse(*signed, tmp_path / "report", isolation=isolation)
    assert result.ok, result.render_text()
    assert [s.name for s in result.steps] == [
        "install", "pip check", "import top-level modules", "smoke: python -c 'import alpha, beta'",
    ]  # fmt: skip
    assert result.steps[2].detail == "3 modules imported"  # alpha, beta and the bundled pip
    data = json.loads((tmp_path / "report" / JSON_NAME).read_text())
    assert_valid("rehearse", data)
    assert (data["ok"], data["isolation"]["mode"], data["bundle"]["verified"]) == (True, isolation, True)
    assert data["bundle"]["signers"] and data["target"]
    assert (
        (tmp_path / "report" / MARKDOWN_NAME).read_text().startswith("# DR rehearsal: sample-project 1.0.0")
    )
    assert not Path(result.scratch).exists()


@pytest.mark.integration
def test_rehearsal_with_the_installer_engine(signed: tuple[Path, Path], tmp_path: Path) -> None:
    result = rehearse(*signed, tmp_path / "report", isolation=rh.GUARD, engine="installer", keep=True)
    assert result.ok, result.render_text()
    assert "--engine installer" in result.steps[0].command
    log = max(Path(result.scratch, "prefix", "logs").iterdir()).read_text()
    assert "engine installer: 3 wheels" in log  # alpha, beta and the bundled pip, without pip itself


@pytest.mark.integration
def test_network_using_smoke_command_fails_under_the_guard(signed: tuple[Path, Path], tmp_path: Path) -> None:
    reach = "python -c \"import socket; socket.create_connection(('127.0.0.1', 9))\""
    result = rehearse(*signed, tmp_path / "r", isolation=rh.GUARD, smoke=(reach,), keep=True)
    assert result.exit_code == RehearsalError.exit_code
    assert [s.ok for s in result.steps] == [True, True, True, True, False]
    assert "network access is disabled" in result.steps[-1].detail
    assert Path(result.scratch, "prefix", "current").is_symlink()  # --keep
    assert json.loads((tmp_path / "r" / JSON_NAME).read_text())["ok"] is False


@pytest.mark.integration
def test_untrusted_bundle_fails_at_install_with_a_report(
    signed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = make_keypair(tmp_path / "keys", "other")
    result = rehearse(signed[0], other.pub_path, tmp_path / "r", isolation=rh.GUARD)
    assert [(s.name, s.ok, s.exit_code) for s in result.steps] == [("install", False, 14)]
    assert "no signature is by a trusted key" in result.steps[0].detail
    data = json.loads((tmp_path / "r" / JSON_NAME).read_text())
    assert_valid("rehearse", data)
    assert (data["ok"], data["bundle"]["verified"], data["bundle"]["signers"]) == (False, False, [])


def test_unwritable_report_directory_is_refused_before_any_step(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    bundle = make_bundle(tmp_path / "b.tar")
    request = rh.RehearsalRequest(bundle=str(bundle), report_dir=str(blocker / "sub"))
    with pytest.raises(InputError, match="cannot create the report directory"):
        rh.rehearse(request)


def test_skipped_imports_are_listed_not_failures() -> None:
    rows = [
        [
            "black",
            "console script blackd",
            "skipped",
            "needs extra 'd' of black, not installed (aiohttp missing)",
        ],
        ["black", "black", "ok", ""],
        [
            "black",
            "blackd",
            "skipped",
            "needs extra 'd' of black, not installed (aiohttp missing) (ImportError: x)",
        ],
        ["site", "legacy", "skipped", "skip-imports pattern 'leg*'"],
    ]
    passed, detail = rh.summarize_imports(rows)
    assert passed and detail.startswith(
        "1 modules imported; skipped: console script blackd (black): needs extra"
    )
    assert rh.skipped_imports(rows) == (
        ("console script blackd (black)", rows[0][3]),
        ("blackd (black)", rows[2][3]),
        ("legacy (site)", "skip-imports pattern 'leg*'"),
    )
    assert rh.summarize_imports([*rows, ["site", "app", "error", "ImportError: settings"]])[0] is False


def test_the_bundles_env_is_set_but_cannot_displace_the_guard() -> None:
    guard = rh.Isolation(rh.GUARD, (), "guard", "/scratch/guard")
    env = rh.step_env({"PATH": "/usr/bin"}, guard, extra={"DJANGO_SETTINGS_MODULE": "site.settings"})
    assert env["DJANGO_SETTINGS_MODULE"] == "site.settings" and env["PYTHONPATH"] == "/scratch/guard"


def test_reports_say_what_was_skipped_and_why() -> None:
    step = Step(
        "import top-level modules",
        "python -c …",
        True,
        0.5,
        0,
        "3 modules imported",
        (("blackd (black)", "needs extra 'd'"),),
    )
    result = a_result(OK, step)
    assert result.to_json()["steps"][1]["skipped"] == [{"what": "blackd (black)", "why": "needs extra 'd'"}]
    assert (
        "## Skipped\n\n| step | what | why |\n|---|---|---|\n| import top-level modules | blackd (black) | needs extra 'd' |"
        in rh.render_markdown(result)
    )
    assert "skipped blackd (black): needs extra 'd'" in result.render_text()


# --- reports from verified facts only (issue 14, finding 5) --------------------------------------------------------


def _unverified(*steps: Step) -> Rehearsal:
    forged = {
        "path": "/b/bundle.tar",
        "bundle_id": "p-1.0-abc",
        "project": "p",
        "version": "1.0\n\n| Outcome | **PASSED** |\n<!--",
        "signers": [],
        "verified": False,
        "manifest_sha256": "0" * 64,
    }
    return replace(a_result(*steps), bundle=forged)


def test_an_unverified_bundle_says_failed_at_the_top_and_shows_no_claim() -> None:
    text = rh.render_markdown(_unverified(OK))  # every step "ok", yet nothing was verified
    assert text.splitlines()[0] == "# DR rehearsal FAILED: the bundle was not verified"
    assert "PASSED" not in text and "<!--" not in text and "p-1.0-abc" not in text
    assert "| Outcome | **FAILED** |" in text and "| Signature verified | **no** |" in text
    assert _unverified(OK).render_text().splitlines()[0] == (
        "rehearsal of /b/bundle.tar: FAILED (the bundle was not verified)"
    )


def test_outside_text_cannot_forge_markdown() -> None:
    hostile = Step("smoke: x <b>**PASSED**</b>", "x `|` y", False, 0.1, 1, "out\n```\n# PASSED\n")
    text = rh.render_markdown(a_result(OK, hostile))
    assert "<b>" not in text and "**PASSED**" not in text.replace("\\*\\*PASSED\\*\\*", "")
    assert "| `x '\\|' y` |" in text  # a code span, backticks replaced
    assert "\n````\nout\n```\n# PASSED\n\n````" in text  # a fence longer than the output's own


@pytest.mark.integration
def test_an_untrusted_bundle_renders_failed_and_not_verified(
    signed: tuple[Path, Path], tmp_path: Path
) -> None:
    other = make_keypair(tmp_path / "keys", "other")
    rehearse(signed[0], other.pub_path, tmp_path / "r", isolation=rh.GUARD)
    text = (tmp_path / "r" / MARKDOWN_NAME).read_text()
    assert text.splitlines()[0] == "# DR rehearsal FAILED: the bundle was not verified"
    assert "PASSED" not in text and "sample-project" not in text
