"""Golden tests: `netbundle export` selects what real `poetry export` selected, in every environment.

Each fixture directory holds a project, its poetry.lock and `exports/NAME.txt` made by real Poetry with the
command in `exports/NAME.txt.cmd` (see scripts/regen-lock-fixtures and ../shared/fixtures/poetry-locks/README.md).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.support.requirements import differences, logical_lines

from netbundle.cli import cli
from netbundle.cli.export import export, request_from_params
from netbundle.export import ExportRequest, export_requirements

REPO = Path(__file__).resolve().parents[3]
FIXTURE_ROOTS = [REPO.parent / "shared" / "fixtures" / "poetry-locks", REPO / "tests" / "data" / "locks"]


def _cases() -> list[tuple[Path, Path]]:
    cases = []
    for root in FIXTURE_ROOTS:
        for cmd in sorted(root.glob("*/exports/*.txt.cmd")):
            cases.append((cmd.parent.parent, cmd))
        # exports without a .cmd file are named after their flags (p7: main.txt, with-proxy.txt)
        for txt in sorted(root.glob("*/exports/*.txt")):
            if not txt.with_name(txt.name + ".cmd").exists() and not txt.name.startswith("ref_"):
                cases.append((txt.parent.parent, txt))
    return cases


def _netbundle_args(case: Path) -> list[str]:
    if case.name.endswith(".cmd"):
        words = shlex.split(case.read_text().lstrip("#").strip())
        assert words[:2] == ["poetry", "export"], words
        return words[2:]
    flags = {"main.txt": [], "with-proxy.txt": ["--with", "proxy"]}
    return [*flags[case.name], "--without-hashes"]


CASES = _cases()


@pytest.mark.parametrize(("project", "case"), CASES, ids=[f"{p.name}/{c.name}" for p, c in CASES])
def test_export_selects_what_poetry_selects(project: Path, case: Path) -> None:
    args = _netbundle_args(case)
    if "pylock.toml" in args:
        pytest.skip("pylock.toml exports are compared in test_pylock.py")
    expected = case.with_name(case.name.removesuffix(".cmd")).read_text()
    result = CliRunner().invoke(cli, ["export", "-P", str(project), *args])
    assert result.exit_code == 0, result.output
    # path dependencies are rendered as file URIs of the project directory, which differs per checkout
    actual = result.stdout.replace(project.resolve().as_uri(), "file:///@PROJECT@")
    assert differences(expected, actual) == []
    assert len(logical_lines(actual)) > 0


def library_request(args: list[str]) -> ExportRequest:
    """The poetry-export flags as the library request (parsed by the command's own options)."""
    params = dict(export.make_context("export", list(args)).params)
    for name in ("project_dir",):
        params.pop(name)
    return request_from_params(
        params, params.pop("fmt"), params.pop("output"), params.pop("target_names"), params.pop("index_url")
    )


@pytest.mark.parametrize(("project", "case"), CASES, ids=[f"{p.name}/{c.name}" for p, c in CASES])
def test_the_export_library_selects_what_poetry_selects(project: Path, case: Path) -> None:
    """The same golden files through :func:`netbundle.export.export_requirements` (no click runner)."""
    args = _netbundle_args(case)
    if "pylock.toml" in args:
        pytest.skip("pylock.toml exports are compared in test_pylock.py")
    expected = case.with_name(case.name.removesuffix(".cmd")).read_text()
    actual = export_requirements(project, library_request(args)).text
    assert differences(expected, actual.replace(project.resolve().as_uri(), "file:///@PROJECT@")) == []
    assert len(logical_lines(actual)) > 0


SOURCES = REPO / "tests" / "data" / "locks" / "l21-sources"


def test_credentials_never_appear_although_poetry_writes_them(caplog: pytest.LogCaptureFixture) -> None:
    poetry_output = (SOURCES / "exports" / "main.txt").read_text()
    assert "ci-secret" in poetry_output  # real Poetry leaks the inline credentials
    result = CliRunner().invoke(cli, ["export", "-P", str(SOURCES)])
    assert result.exit_code == 0, result.output
    assert "ci-secret" not in result.output
    assert "ci-user" not in result.output
    assert "credentials" in caplog.text
    assert "ci-secret" not in caplog.text


def test_explicit_sources_are_not_turned_into_extra_index_urls() -> None:
    result = CliRunner().invoke(cli, ["export", "-P", str(SOURCES)])
    assert result.exit_code == 0, result.output
    options = [line for line in result.stdout.splitlines() if line.startswith("--")]
    assert options == ["--index-url https://pypi.mirror.example/simple"]
    notes = [line for line in result.stdout.splitlines() if line.startswith("#")]
    assert any("privpkg==2.0" in n and "'private'" in n for n in notes)
    assert any("inlinepkg==3.0" in n and "'inline'" in n and "ci-secret" not in n for n in notes)
    assert "privpkg==2.0" in result.stdout


def test_with_credentials_is_refused_with_the_env_var_names() -> None:
    result = CliRunner().invoke(cli, ["export", "-P", str(SOURCES), "--with-credentials"])
    assert result.exit_code == 2
    assert "POETRY_HTTP_BASIC_<SOURCE>_USERNAME" in result.output
