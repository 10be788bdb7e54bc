"""`netbundle keygen`, `netbundle trust endorse|show`, and the shared --sign-key loading (CliRunner wiring)."""

from __future__ import annotations

import base64
import json
import stat
import struct
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from tests.support.minisign_keys import fixed_key, public

from netbundle.bundle import signing
from netbundle.cli import cli, keys
from netbundle.errors import InputError, UsageError
from netbundle.format import minisign, trust

#: Test-only scrypt cost (N=1024); the CLI itself always uses minisign's defaults.
LOW = {"opslimit": 32768, "memlimit": 8 << 20}


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv(keys.PASSWORD_ENV, raising=False)
    return CliRunner()


def write_key(path: Path, n: int, password: str | None = None) -> Path:
    path.write_text(signing.render_secret_key(fixed_key(n), password=password, **LOW))
    return path


def test_the_default_password_variable_is_the_libraries() -> None:
    assert keys.PASSWORD_ENV == signing.DEFAULT_PASSWORD_ENV


def test_keygen_without_password(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        cli, ["keygen", "-o", str(tmp_path / "release"), "--no-password", "--comment", "rel"]
    )
    assert result.exit_code == 0, result.output
    secret = signing.load_secret_key(tmp_path / "release.key")
    pub = minisign.parse_public_key((tmp_path / "release.pub").read_text())
    assert (secret.comment, secret.public_key.key) == ("rel", pub.key)
    assert stat.S_IMODE((tmp_path / "release.key").stat().st_mode) == 0o600
    assert "NOT encrypted" in result.output
    assert f"trust file line: key release {pub.to_base64()}" in result.output


def test_keygen_refuses_to_overwrite(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(cli, ["keygen", "-o", str(tmp_path / "k"), "--no-password"]).exit_code == 0
    before = (tmp_path / "k.key").read_bytes()
    result = runner.invoke(cli, ["keygen", "-o", str(tmp_path / "k"), "--no-password"])
    assert result.exit_code == 3
    assert "k.key already exists" in result.output
    assert "--force" in result.output
    assert (tmp_path / "k.key").read_bytes() == before
    assert (
        runner.invoke(cli, ["keygen", "-o", str(tmp_path / "k"), "--no-password", "--force"]).exit_code == 0
    )
    assert (tmp_path / "k.key").read_bytes() != before


def test_keygen_into_a_missing_directory_fails_before_asking(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["keygen", "-o", str(tmp_path / "nope" / "k")])
    assert result.exit_code == 3
    assert "is not a directory" in result.output


def test_keygen_needs_a_password_source(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["keygen", "-o", str(tmp_path / "k"), "--password-env", "NB_UNSET_VAR"])
    assert result.exit_code == 2
    assert "$NB_UNSET_VAR is not set" in result.output
    assert "--no-password" in result.output
    assert not (tmp_path / "k.key").exists()


def test_keygen_refuses_an_empty_password(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["keygen", "-o", str(tmp_path / "k")], env={keys.PASSWORD_ENV: ""})
    assert result.exit_code == 2
    assert "the password is empty" in result.output


def test_keygen_has_no_password_value_option() -> None:
    """A password given as a flag value would land in shell history: no option takes one."""
    options = {opt for param in keys.keygen.params for opt in param.opts}
    assert not any("password" in opt and opt not in ("--no-password", "--password-env") for opt in options)


@pytest.mark.integration
def test_keygen_encrypts_with_minisigns_default_cost(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one CLI run with a password: minisign's scrypt defaults (about 1 GiB, a few seconds each way)."""
    result = runner.invoke(
        cli, ["keygen", "-o", str(tmp_path / "ci")], env={keys.PASSWORD_ENV: "correct horse"}
    )
    assert result.exit_code == 0, result.output
    assert "(encrypted)" in result.output
    raw = base64.b64decode((tmp_path / "ci.key").read_text().splitlines()[1])
    assert raw[:6] == b"EdScB2"
    assert struct.unpack_from("<QQ", raw, 38) == (signing.DEFAULT_OPSLIMIT, signing.DEFAULT_MEMLIMIT)
    monkeypatch.setenv(keys.PASSWORD_ENV, "correct horse")
    (loaded,) = keys.load_signing_keys([tmp_path / "ci.key"])
    assert loaded.public_key.key == minisign.parse_public_key((tmp_path / "ci.pub").read_text()).key


# --- load_signing_keys -------------------------------------------------------------------------------------


def test_load_signing_keys_plain_and_encrypted_from_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NB_TEST_PASSWORD", "pw")
    loaded = keys.load_signing_keys([write_key(tmp_path / "a.key", 1), write_key(tmp_path / "b.key", 2, "pw")],
                                    "NB_TEST_PASSWORD")  # fmt: skip
    assert [k.key_id for k in loaded] == [fixed_key(1).key_id, fixed_key(2).key_id]


def test_load_signing_keys_wrong_password_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NB_TEST_PASSWORD", "wrong")
    with pytest.raises(InputError, match=r"b\.key: wrong password"):
        keys.load_signing_keys([write_key(tmp_path / "b.key", 2, "pw")], "NB_TEST_PASSWORD")


def test_load_signing_keys_without_a_password_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NB_TEST_PASSWORD", raising=False)
    monkeypatch.setattr(keys, "_interactive", lambda: False)
    with pytest.raises(UsageError, match=r"\$NB_TEST_PASSWORD is not set"):
        keys.load_signing_keys([write_key(tmp_path / "b.key", 2, "pw")], "NB_TEST_PASSWORD")


def test_load_signing_keys_refuses_a_key_twice(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is given twice"):
        keys.load_signing_keys([write_key(tmp_path / "a.key", 1), write_key(tmp_path / "copy.key", 1)])


def test_start_unlocking_reads_passwords_now_and_unlocks_in_the_background(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NB_TEST_PASSWORD", "pw")
    paths = [write_key(tmp_path / "a.key", 1), write_key(tmp_path / "b.key", 2, "pw")]
    pending = keys.start_unlocking(paths, "NB_TEST_PASSWORD")
    monkeypatch.setenv("NB_TEST_PASSWORD", "changed")  # read before start_unlocking returned
    assert [k.key_id for k in pending.result(timeout=120)] == [fixed_key(1).key_id, fixed_key(2).key_id]


def test_start_unlocking_fails_at_once_without_a_password_and_later_with_a_wrong_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NB_TEST_PASSWORD", raising=False)
    monkeypatch.setattr(keys, "_interactive", lambda: False)
    with pytest.raises(UsageError, match=r"\$NB_TEST_PASSWORD is not set"):
        keys.start_unlocking([write_key(tmp_path / "b.key", 2, "pw")], "NB_TEST_PASSWORD")
    monkeypatch.setenv("NB_TEST_PASSWORD", "wrong")
    pending = keys.start_unlocking([tmp_path / "b.key"], "NB_TEST_PASSWORD")
    with pytest.raises(InputError, match=r"b\.key: wrong password"):
        pending.result(timeout=120)


def test_start_unlocking_refuses_a_key_twice(tmp_path: Path) -> None:
    pending = keys.start_unlocking([write_key(tmp_path / "a.key", 1), write_key(tmp_path / "copy.key", 1)])
    with pytest.raises(UsageError, match="is given twice"):
        pending.result(timeout=120)


def test_load_signing_keys_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read secret key .*nope\.key"):
        keys.load_signing_keys([tmp_path / "nope.key"])


@click.command()
@keys.sign_key_options
def _signer(sign_keys: tuple[Path, ...], password_env: str) -> None:
    """A command that signs, as `netbundle build` does."""
    for key in keys.load_signing_keys(sign_keys, password_env):
        click.echo(key.key_id_hex)


def test_sign_key_options_prompt_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(keys.PASSWORD_ENV, raising=False)
    monkeypatch.setattr(keys, "_interactive", lambda: True)
    path = write_key(tmp_path / "b.key", 2, "pw")
    result = CliRunner().invoke(_signer, ["--sign-key", str(path)], input="pw\n")
    assert result.exit_code == 0, result.output
    assert fixed_key(2).key_id_hex in result.output
    assert "pw" not in result.output.replace("Password", "")


def test_sign_key_options_several_keys_and_a_named_variable(tmp_path: Path) -> None:
    paths = [write_key(tmp_path / "a.key", 1, "pw"), write_key(tmp_path / "b.key", 2, "pw")]
    args = [arg for path in paths for arg in ("--sign-key", str(path))] + ["--password-env", "CI_SIGNING"]
    result = CliRunner().invoke(_signer, args, env={"CI_SIGNING": "pw"})
    assert result.exit_code == 0, result.output
    assert result.output.split() == [fixed_key(1).key_id_hex, fixed_key(2).key_id_hex]


# --- trust endorse / show ----------------------------------------------------------------------------------


def test_endorse_prints_a_line_the_trust_file_accepts(runner: CliRunner, tmp_path: Path) -> None:
    old = write_key(tmp_path / "old.key", 1, "pw")
    (tmp_path / "new.pub").write_text(minisign.render_public_key(public(fixed_key(2))))
    result = runner.invoke(
        cli,
        ["trust", "endorse", "--old", str(old), "--new", str(tmp_path / "new.pub"), "--name", "rel-2027",
         "--endorser", "rel-2026"],
        env={keys.PASSWORD_ENV: "pw"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.startswith("endorsed rel-2027 ")
    text = f"{trust.TRUST_HEADER}\nkey rel-2026 {public(fixed_key(1)).to_base64()}\n{result.output}"
    assert trust.parse_trust(text, "t").names == ("rel-2026", "rel-2027")


@pytest.mark.parametrize(
    ("new", "name", "problem"),
    [(1, "rel-2027", "a key cannot endorse itself"), (2, "bad name", "--name 'bad name' is not a name")],
)
def test_endorse_refusals(runner: CliRunner, tmp_path: Path, new: int, name: str, problem: str) -> None:
    old = write_key(tmp_path / "old.key", 1)
    (tmp_path / "new.pub").write_text(minisign.render_public_key(public(fixed_key(new))))
    result = runner.invoke(cli, ["trust", "endorse", "--old", str(old), "--new", str(tmp_path / "new.pub"),
                                 "--name", name, "--endorser", "old"])  # fmt: skip
    assert result.exit_code == 2
    assert problem in result.output


def test_show_lists_keys_and_lineage(runner: CliRunner, tmp_path: Path) -> None:
    line = signing.endorse(public(fixed_key(2)), fixed_key(1), name="new", endorser_name="old")
    text = f"{trust.TRUST_HEADER}\nthreshold 2\nkey old {public(fixed_key(1)).to_base64()}\n"
    text += f"key other {public(fixed_key(3)).to_base64()}\n{line}"
    (tmp_path / "trust.txt").write_text(text)
    human = runner.invoke(cli, ["trust", "show", str(tmp_path / "trust.txt")])
    assert human.exit_code == 0, human.output
    assert "threshold 2 of 2 independent keys" in human.output
    assert "endorsed by old" in human.output
    data = json.loads(runner.invoke(cli, ["trust", "show", "--json", str(tmp_path / "trust.txt")]).output)
    assert [(k["name"], k["endorsed_by"]) for k in data["keys"]] == [
        ("old", None),
        ("other", None),
        ("new", "old"),
    ]
    assert data["keys"][0]["key_id"] == fixed_key(1).key_id_hex


def test_show_reports_a_malformed_file_with_its_line(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "trust.txt").write_text(f"{trust.TRUST_HEADER}\nthreshold x\n")
    result = runner.invoke(cli, ["trust", "show", str(tmp_path / "trust.txt")])
    assert result.exit_code == 3
    assert "trust.txt:2: expected 'threshold N'" in result.output


@pytest.mark.parametrize("command", [["keygen"], ["trust", "endorse"], ["trust", "show"]])
def test_commands_have_help(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "docs" in result.output or "Examples" in result.output or "trust file" in result.output
