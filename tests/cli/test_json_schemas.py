"""Every --json output of both CLIs has a JSON Schema in docs/schemas/, and real outputs match it.

The outputs that need a real install, fetch or build are checked where those run (tests/integration/...: install,
generations, rollback, check, fetch, build); this file checks the rest and the schemas themselves.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import click
import jsonschema
import pytest
from click.testing import CliRunner
from tests.support.bundles import make_bundle, make_keypair
from tests.support.schemas import SCHEMAS, assert_valid, schema

from netbundle.cli import cli
from netbundle.runtime import cli as pyz_cli

#: The schema of each installer command's --json output.
PYZ_SCHEMAS = {
    "verify": "describe", "inspect": "describe", "diff": "diff", "doctor": "doctor", "install": "install",
    "rollback": "rollback", "list": "generations", "generations list": "generations",
    "generations remove": "generations-remove", "generations keep": "generations-keep", "check": "check",
    "rehearse": "rehearse", "ee-context": "ee-context", "trust show": "trust-show", "version": "version",
    "serve": "serve",
}  # fmt: skip


def test_every_schema_is_a_valid_draft_2020_12_schema_with_a_format_version() -> None:
    names = sorted(p.stem for p in SCHEMAS.glob("*.json"))
    assert names
    for name in names:
        jsonschema.Draft202012Validator.check_schema(schema(name))
        assert schema(name)["properties"]["format"] == {
            "const": 1,
            "description": schema(name)["properties"]["format"]["description"],
        }
        assert "format" in schema(name)["required"]


def _click_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.extend(_click_commands(command, f"{prefix}{name} "))
        else:
            found.append((f"{prefix}{name}", command))
    return found


def test_every_builder_json_option_names_an_existing_schema() -> None:
    seen = set()
    for name, command in _click_commands(cli):
        for param in command.params:
            if "--json" in getattr(param, "opts", ()):
                help_text = getattr(param, "help", "") or ""
                assert "docs/schemas/" in help_text, name
                seen.add(help_text.split("docs/schemas/")[1].split(")")[0])
    assert seen and all((SCHEMAS / file).is_file() for file in seen)


def test_every_installer_json_command_has_a_schema() -> None:
    with_json = []
    for name, spec in pyz_cli.BY_NAME.items():
        parser = argparse.ArgumentParser()
        spec.add_options(parser)
        if spec.handler is not None and "--json" in parser._option_string_actions:
            with_json.append(name)
    assert sorted(with_json) == sorted(PYZ_SCHEMAS)
    assert all((SCHEMAS / f"{s}.json").is_file() for s in PYZ_SCHEMAS.values())


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("schemas")
    key = make_keypair(root / "keys", "release")
    old = make_bundle(root / "old.tar", packages=(("alpha", "1.0"),), keys=[key])
    new = make_bundle(root / "new.tar", packages=(("alpha", "1.1"),), version="1.1.0", keys=[key])
    return old, new, key.pub_path


def both(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[dict]:  # type: ignore[type-arg]
    """The JSON of the same command line from the builder and from the installer."""
    builder = CliRunner().invoke(cli, [*argv, "--json"])
    pyz_cli.main([*argv, "--json"])
    return [json.loads(builder.stdout), json.loads(capsys.readouterr().out)]


def test_describe_diff_and_error_outputs_match_their_schemas(
    signed: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, pub = signed
    for data in both(capsys, ["verify", str(old), "--trust", str(pub)]) + both(capsys, ["inspect", str(new)]):
        assert_valid("describe", data)
    builder, pyz = both(capsys, ["diff", str(old), str(new)])
    assert builder == pyz
    assert_valid("diff", builder)
    for data in both(capsys, ["verify", str(old)[:-4] + "-missing.tar", "--trust", str(pub)]):
        assert_valid("error", data)


def test_trust_show_version_and_doctor_match_their_schemas(
    signed: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, _, pub = signed
    builder = json.loads(CliRunner().invoke(cli, ["trust", "show", str(pub), "--json"]).stdout)
    pyz_cli.main(["trust", "show", "--trust", str(pub), "--json"])
    pyz = json.loads(capsys.readouterr().out)
    for data in (builder, pyz):
        assert_valid("trust-show", data)
    assert builder["keys"] == pyz["keys"]
    pyz_cli.main(["version", "--json"])
    assert_valid("version", json.loads(capsys.readouterr().out))
    pyz_cli.main(["doctor", str(old), "--trust", str(pub), "--prefix", str(tmp_path / "p"), "--json"])
    assert_valid("doctor", json.loads(capsys.readouterr().out))


def test_ee_context_and_sign_outputs_match_their_schemas(
    signed: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, _, pub = signed
    builder = CliRunner().invoke(
        cli, ["ee-context", str(old), "--trust", str(pub), "-o", str(tmp_path / "a"), "--json"]
    )
    assert builder.exit_code == 0, builder.stderr
    assert_valid("ee-context", json.loads(builder.stdout))
    assert (
        pyz_cli.main(["ee-context", str(old), "--trust", str(pub), "-o", str(tmp_path / "b"), "--json"]) == 0
    )
    assert_valid("ee-context", json.loads(capsys.readouterr().out))
    second = make_keypair(tmp_path / "keys", "prod")
    signed_copy = tmp_path / "signed.tar"
    result = CliRunner().invoke(
        cli,
        [
            "sign",
            str(old),
            "--trust",
            str(pub),
            "--sign-key",
            str(second.key_path),
            "-o",
            str(signed_copy),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert_valid("build", json.loads(result.stdout))
