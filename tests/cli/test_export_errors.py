"""Bad input to `netbundle export`: one clear line naming the file, a documented exit code, nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from netbundle.cli import cli

P1 = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "poetry-locks" / "p1-groups"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(P1 / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copy(P1 / "poetry.lock", tmp_path / "poetry.lock")
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["export", *args])
    return result.exit_code, result.output


def lock_text(project: Path) -> str:
    return (project / "poetry.lock").read_text()


@pytest.mark.parametrize(
    ("mutate", "code", "message"),
    [
        (lambda p: (p / "pyproject.toml").unlink(), 3, "pyproject.toml: no such file"),
        (lambda p: (p / "poetry.lock").unlink(), 3, "poetry.lock: no such file"),
        (lambda p: (p / "pyproject.toml").write_text("[project\n"), 3, "pyproject.toml: not valid TOML"),
        (lambda p: (p / "poetry.lock").write_text("[[package]\n"), 3, "poetry.lock: not valid TOML"),
        (lambda p: (p / "poetry.lock").write_text("[[package]]\nname='x'\n"), 3, "no [metadata] table"),
        (
            lambda p: (p / "poetry.lock").write_text(lock_text(p).replace('lock-version = "2.1"', "")),
            3,
            "no lock-version in [metadata]: written by Poetry before 1.0",
        ),
        (
            lambda p: (p / "poetry.lock").write_text(
                lock_text(p).replace('lock-version = "2.1"', 'lock-version = "3.0"')
            ),
            3,
            "lock-version 3.0 is not supported",
        ),
        (
            lambda p: (p / "pyproject.toml").write_text(
                (p / "pyproject.toml").read_text().replace('"httpx>=0.27"', '"httpx>=0.28"')
            ),
            4,
            "poetry.lock is stale",
        ),
        (
            lambda p: (p / "poetry.lock").write_text(
                lock_text(p).replace('hash = "sha256:', 'hash = "md5:', 1)
            ),
            3,
            "netbundle needs sha256 hashes",
        ),
    ],
    ids=[
        "no-pyproject",
        "no-lock",
        "bad-pyproject",
        "bad-lock",
        "not-a-lock",
        "lock-0.x",
        "lock-3.0",
        "stale",
        "md5",
    ],
)
def test_bad_project_files(project: Path, mutate, code: int, message: str) -> None:  # type: ignore[no-untyped-def]
    mutate(project)
    out = project / "out.txt"
    exit_code, output = run("-P", str(project), "-o", str(out))
    assert exit_code == code, output
    assert message in output
    first = output.splitlines()[0]
    assert first.startswith("error: ") and str(project) in first
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--with", "nope"], "--with: unknown group nope"),
        (["--only", "junos,nope"], "--only: unknown group nope"),
        (["-E", "nope"], "unknown extra nope"),
    ],
)
def test_unknown_group_or_extra(project: Path, args: list[str], message: str) -> None:
    exit_code, output = run("-P", str(project), *args)
    assert exit_code == 3
    assert message in output
    assert "hint: " in output


def test_package_missing_from_a_2_0_lock(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[1] / "data" / "locks" / "l20-groups"
    shutil.copy(source / "pyproject.toml", tmp_path / "pyproject.toml")
    text = (source / "poetry.lock").read_text()
    start = text.index('[[package]]\nname = "h11"')
    end = text.index("[[package]]", start + 10)
    (tmp_path / "poetry.lock").write_text(text[:start] + text[end:])
    exit_code, output = run("-P", str(tmp_path))
    assert exit_code == 3
    assert "needs h11, which is not in the lock" in output


def test_output_is_written_atomically_and_only_on_success(project: Path) -> None:
    out = project / "out.txt"
    out.write_text("previous\n")
    exit_code, _ = run("-P", str(project), "--with", "nope", "-o", str(out))
    assert exit_code == 3
    assert out.read_text() == "previous\n"
    exit_code, output = run("-P", str(project), "-o", str(out))
    assert exit_code == 0, output
    assert out.read_text().startswith("--index-url ")
    assert [p.name for p in project.iterdir() if p.name.startswith(".out.txt")] == []


def test_runs_in_the_current_directory_like_poetry(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    exit_code, output = run()
    assert exit_code == 0, output
    assert "httpx==0.28.1" in output


@pytest.mark.parametrize("command", ["export", "fetch"])
def test_a_target_outside_the_projects_python_is_refused(project: Path, command: str, tmp_path: Path) -> None:
    """p1 allows Python >=3.9: a cp38 target would give an almost empty bundle, so it is refused (exit 3)."""
    args = ["-o", str(tmp_path / "out")] if command == "fetch" else []
    result = CliRunner().invoke(
        cli, [command, "-P", str(project), "--target", "cp38-manylinux_2_17_x86_64", *args]
    )
    assert result.exit_code == 3, result.output
    assert (
        "target cp38-manylinux_2_17_x86_64 (Python 3.8.0) is outside the project's Python constraint"
        in result.output
    )
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


REALWORLD = Path(__file__).resolve().parents[2].parent / "shared" / "realworld"


def test_a_lock_poetry_refuses_is_one_error_line_with_poetrys_advice() -> None:
    """poetry-l20 locks two deepdiff versions without markers: `--only test` cannot choose, as Poetry cannot."""
    result = CliRunner().invoke(cli, ["export", "-P", str(REALWORLD / "poetry-l20"), "--only", "test"])
    assert result.exit_code == 3, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("error: poetry.lock: group test requires deepdiff <6.2.3 where deepdiff 6.2.3")
    assert lines[1].startswith("hint: re-lock with Poetry 2")
    assert "Traceback" not in result.output


def test_a_lock_version_1_1_is_exported() -> None:
    result = CliRunner().invoke(cli, ["export", "-P", str(REALWORLD / "nautobot-l11")])
    assert result.exit_code == 0, result.output
    assert "django==" in result.stdout.lower()
