"""The installer CLI: parsing, exit codes and error mapping (unit), and its wiring over real small bundles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.support.bundles import make_bundle, make_keypair

from netbundle.errors import (
    EXIT_INTERRUPTED,
    InputError,
    PrefixError,
    SignatureMissingError,
    UntrustedSignerError,
    iter_error_classes,
)
from netbundle.runtime import cli, commands

COMMANDS = [
    "verify",
    "inspect",
    "diff",
    "install",
    "rollback",
    "list",
    "check",
    "rehearse",
    "ee-context",
    "serve",
    "version",
    "doctor",
    "generations",
    "generations list",
    "generations remove",
    "generations keep",
    "trust",
    "trust show",
]


def parse(*argv: str):
    return cli.build_parser().parse_args(list(argv))


# --- parsing -------------------------------------------------------------------------------------------------------


def test_every_command_is_listed_with_its_exit_codes() -> None:
    assert sorted(cli.COMMAND_CODES) == sorted(COMMANDS)
    for name in COMMANDS:
        assert "exit codes: 0 success" in cli.command_codes(name)


def test_top_level_help_lists_every_code_the_commands_use(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    used = {code for codes in cli.COMMAND_CODES.values() for code in codes}
    for cls in iter_error_classes():
        if cls.exit_code in used:
            assert f"  {cls.exit_code:<4} " in out, cls
    assert "130  interrupted" in out
    for name in COMMANDS:
        assert name.split()[0] in out


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_help_shows_its_codes(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main([*name.split(), "--help"])
    assert "exit codes: 0 success" in capsys.readouterr().out


def test_install_options() -> None:
    args = parse("install", "b.tar", "--group", "junos", "--group", "cisco", "--trust", "k.pub", "--json")
    assert (args.command, args.bundle, args.group, args.trust, args.json) == (
        "install", "b.tar", ["junos", "cisco"], ["k.pub"], True,
    )  # fmt: skip
    assert args.prefix is None and args.target is None and not args.allow_downgrade and not args.force
    assert parse("install", "b.tar", "--force").force


@pytest.mark.parametrize("command", ["install", "rehearse"])
def test_engine_options(command: str) -> None:
    default = parse(command, "b.tar")
    assert (default.engine, default.no_compile) == ("pip", False)
    fast = parse(command, "b.tar", "--engine", "installer", "--no-compile")
    assert (fast.engine, fast.no_compile) == ("installer", True)


def test_rehearse_defaults() -> None:
    args = parse("rehearse", "b.tar", "--smoke", "netops --version")
    assert (args.isolation, args.report, args.keep, args.smoke) == ("auto", ".", False, ["netops --version"])


@pytest.mark.parametrize(
    "argv",
    [
        ["rollback"],
        ["list"],
        ["check"],
        ["install"],
        ["rehearse", "b.tar", "--isolation", "none"],
        ["bogus"],
        ["install", "b.tar", "--engine", "uv"],
    ],
    ids=[
        "rollback-no-prefix",
        "list-no-prefix",
        "check-no-prefix",
        "install-no-bundle",
        "bad-isolation",
        "bogus",
        "bad-engine",
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["-v", "version"], ["version", "-v"]], ids=["before", "after"])
def test_verbose_before_or_after_the_command(argv: list[str]) -> None:
    assert parse(*argv).verbose is True


def test_verbose_defaults_to_false() -> None:
    assert parse("version").verbose is False


# --- error mapping ---------------------------------------------------------------------------------------------------


def test_expected_error_is_one_line_with_hint_and_its_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["verify", "missing.tar"]) == InputError.exit_code
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: no trusted keys")
    assert err[1].startswith("hint: ")
    assert len(err) == 2


def test_json_errors_are_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "--prefix", "/nonexistent/prefix", "--json"]) == PrefixError.exit_code
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    error = data["error"]
    assert data["format"] == 1
    assert (error["kind"], error["exit_code"]) == ("PrefixError", 24)
    assert set(error) == {"kind", "message", "hint", "exit_code"}
    assert captured.err.startswith("error: ")


def test_verbose_shows_the_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["-v", "list", "--prefix", "/nonexistent/prefix"]) == 24
    assert "Traceback" in capsys.readouterr().err


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.HANDLERS, "version", interrupted)
    assert cli.main(["version"]) == EXIT_INTERRUPTED
    assert "interrupted" in capsys.readouterr().err


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(args: object) -> int:
        raise ZeroDivisionError

    monkeypatch.setitem(cli.HANDLERS, "version", broken)
    with pytest.raises(ZeroDivisionError):
        cli.main(["version"])


def test_version_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["version", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert set(info) == {"format", "netbundle", "python", "ed25519_backend"}


# --- wiring over real bundles ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(bundle, its signer's .pub, an unrelated .pub)."""
    root = tmp_path_factory.mktemp("cli-bundles")
    release = make_keypair(root / "keys", "release")
    other = make_keypair(root / "keys", "other")
    bundle = make_bundle(root / "b.tar", packages=(("alpha", "1.0"), ("beta", "2.0")), keys=[release])
    return bundle, release.pub_path, other.pub_path


def test_verify_ok_text_and_json(signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    bundle, pub, _ = signed
    assert cli.main(["verify", str(bundle), "--trust", str(pub)]) == 0
    assert capsys.readouterr().out.startswith("verified: sample-project 1.0.0")
    assert cli.main(["verify", str(bundle), "--trust", str(pub), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verified"] is True and data["project"]["name"] == "sample-project"


def test_verify_untrusted_signer_exits_14(
    signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle, _, other = signed
    assert cli.main(["verify", str(bundle), "--trust", str(other)]) == UntrustedSignerError.exit_code
    assert "no signature is by a trusted key" in capsys.readouterr().err


def test_verify_unsigned_exits_12(tmp_path: Path, signed: tuple[Path, Path, Path]) -> None:
    unsigned = make_bundle(tmp_path / "unsigned.tar")
    assert cli.main(["verify", str(unsigned), "--trust", str(signed[1])]) == SignatureMissingError.exit_code


def test_inspect_says_not_verified(
    signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["inspect", str(signed[0])]) == 0
    assert "NOT VERIFIED" in capsys.readouterr().out
    assert cli.main(["inspect", str(signed[0]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"] is None


def test_inspect_of_a_non_bundle_exits_10(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all")
    assert cli.main(["inspect", str(junk)]) == 10


def test_diff_of_two_versions(
    tmp_path: Path, signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    newer = make_bundle(tmp_path / "new.tar", packages=(("alpha", "1.1"), ("beta", "2.0")), version="1.1.0")
    assert cli.main(["diff", str(signed[0]), str(newer), "--json"]) == 0
    changes = json.loads(capsys.readouterr().out)["packages"]
    assert [(c["name"], c["change"]) for c in changes] == [("alpha", "upgraded")]


def test_diff_exit_code(
    tmp_path: Path, signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    newer = make_bundle(tmp_path / "new.tar", packages=(("alpha", "1.1"), ("beta", "2.0")), version="1.1.0")
    assert cli.main(["diff", str(signed[0]), str(signed[0]), "--exit-code"]) == 0
    assert cli.main(["diff", str(signed[0]), str(newer), "--exit-code"]) == 1
    assert cli.main(["diff", str(signed[0]), str(newer)]) == 0
    capsys.readouterr()


def test_trust_show_lists_the_keys(
    signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["trust", "show", "--trust", str(signed[1]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == 1 and data["threshold"] == 1 and len(data["keys"]) == 1


def test_a_command_group_without_a_command_prints_its_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["generations"]) == 2
    assert "remove" in capsys.readouterr().err


def test_default_prefix_comes_from_the_manifest(signed: tuple[Path, Path, Path]) -> None:
    assert commands.default_prefix(str(signed[0])) == "/opt/netbundle/sample-project"


@pytest.mark.integration
def test_install_list_check_rollback(
    tmp_path: Path, signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bundle, pub, _ = signed
    prefix = str(tmp_path / "prefix")
    newer = make_bundle(tmp_path / "new.tar", packages=(("alpha", "1.1"),), version="1.1.0", keys=[])
    assert cli.main(["install", str(bundle), "--prefix", prefix, "--trust", str(pub), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "installed"
    assert cli.main(["install", str(bundle), "--prefix", prefix, "--trust", str(pub), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "unchanged"
    assert (
        cli.main(["install", str(bundle), "--prefix", prefix, "--trust", str(pub), "--force", "--json"]) == 0
    )
    forced = json.loads(capsys.readouterr().out)
    assert (forced["status"], forced["generation"]["number"], forced["previous_generation"]) == (
        "installed",
        2,
        1,
    )
    assert cli.main(["install", str(newer), "--prefix", prefix, "--trust", str(pub)]) == 12
    assert cli.main(["check", "--prefix", prefix, str(bundle), "--trust", str(pub)]) == 0
    assert "no drift" in capsys.readouterr().out
    assert cli.main(["list", "--prefix", prefix, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["generations"]) == 2
    assert cli.main(["rollback", "--prefix", prefix]) == 0
    assert cli.main(["rollback", "--prefix", prefix]) == PrefixError.exit_code


def test_every_command_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "reference" / "installer-cli.md").read_text()
    for name in COMMANDS:
        assert f"| `{name} " in doc or f"| `{name} [" in doc, name


@pytest.fixture
def deeply_nested(tmp_path: Path) -> Path:
    """An unsigned bundle whose manifest is 100 000 nested JSON arrays (json.loads raises RecursionError)."""
    from netbundle.format.tar import write_bundle

    path = tmp_path / "nested.tar"
    return write_bundle(path, manifest=b"[" * 100_000 + b"]" * 100_000, signatures={}, files={}, mtime=0)


@pytest.mark.parametrize("command", ["inspect", "diff", "install", "rehearse"])
def test_a_deeply_nested_manifest_is_exit_10_in_every_command(
    deeply_nested: Path, signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str], command: str
) -> None:
    argv = {
        "inspect": ["inspect", str(deeply_nested)],
        "diff": ["diff", str(signed[0]), str(deeply_nested)],
        "install": [
            "install",
            str(deeply_nested),
            "--trust",
            str(signed[1]),
        ],  # default prefix from the manifest
        "rehearse": ["rehearse", str(deeply_nested), "--trust", str(signed[1])],
    }[command]
    assert cli.main(argv) == 10
    err = capsys.readouterr().err
    assert "nested too deeply" in err and "Traceback" not in err


def test_verify_and_inspect_of_an_expired_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = make_keypair(tmp_path / "keys", "release")
    expired = make_bundle(
        tmp_path / "e.tar", keys=[key], build_time="2025-01-01T00:00:00Z", expires="2025-04-01T00:00:00Z"
    )
    assert cli.main(["verify", str(expired), "--trust", str(key.pub_path)]) == 16
    assert "expired at 2025-04-01T00:00:00Z" in capsys.readouterr().err
    assert cli.main(["verify", str(expired), "--trust", str(key.pub_path), "--allow-expired"]) == 0
    capsys.readouterr()
    assert cli.main(["inspect", str(expired)]) == 0
    assert "expires 2025-04-01T00:00:00Z" in capsys.readouterr().out
    assert cli.main(["inspect", str(expired), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["expires"] == "2025-04-01T00:00:00Z"
