"""One grammar and one error format in both CLIs: error lines, the JSON error object, -v/-q anywhere,
--version, comma-separated groups, and an untruncated command list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from netbundle import __version__
from netbundle.cli import cli
from netbundle.cli._options import split_names
from netbundle.runtime import cli as pyz_cli


def invoke(*argv: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(argv), prog_name="netbundle")
    return result.exit_code, result.stdout, result.stderr


def test_click_usage_errors_use_the_one_error_format() -> None:
    code, out, err = invoke("inspect", "--bogus")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("Usage: ")
    assert lines[1].startswith("error: No such option '--bogus'")
    assert lines[2] == "hint: see 'netbundle inspect --help'"


def test_usage_errors_with_json_print_the_error_object() -> None:
    code, out, err = invoke("verify", "missing.tar", "--json")
    assert code == 2
    assert err.startswith("error: no --trust file given\nhint: ")
    data = json.loads(out)
    assert data == {
        "format": 1,
        "error": {
            "kind": "UsageError",
            "message": "no --trust file given",
            "hint": "pass the trust file or the signer's .pub with --trust",
            "exit_code": 2,
        },
    }


def test_both_clis_print_the_same_error_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar")
    code, out, err = invoke("inspect", str(junk), "--json")
    assert pyz_cli.main(["inspect", str(junk), "--json"]) == code == 10
    captured = capsys.readouterr()
    assert json.loads(captured.out) == json.loads(out)
    assert captured.err == err


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_and_quiet_anywhere(tmp_path: Path, where: str) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar")
    argv = ["-v", "inspect", str(junk)] if where == "before" else ["inspect", str(junk), "-v"]
    code, _, err = invoke(*argv)
    assert code == 10 and "Traceback" in err and "error: " in err
    quiet = ["-q", "inspect", str(junk)] if where == "before" else ["inspect", str(junk), "--quiet"]
    code, _, err = invoke(*quiet)
    assert code == 10 and "Traceback" not in err


def test_version_on_both_clis(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke("--version")
    assert code == 0 and __version__ in out
    assert pyz_cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith(f"netbundle.pyz {__version__} (Python ")


def test_group_grammar_comma_separated_and_repeated() -> None:
    assert split_names(("a,b", "c", " d , ")) == ("a", "b", "c", "d")
    args = pyz_cli.build_parser().parse_args(
        ["install", "b.tar", "--group", "a,b", "--group", "c", "--with", "d"]
    )
    assert args.group == ["a", "b", "c", "d"]
    rehearse = pyz_cli.build_parser().parse_args(["rehearse", "b.tar", "--group", "junos,cisco"])
    assert rehearse.group == ["junos", "cisco"]


def test_the_command_list_is_not_truncated() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    flat = " ".join(out.split())
    assert (
        "Combine bundles built from the same lock on different runners (e.g. an aarch64 runner) into one."
        in flat
    )
    commands = out.split("Commands:", 1)[1]
    assert "..." not in commands
