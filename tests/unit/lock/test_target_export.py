"""Per-target export: marker-free output that selects what Poetry's marker export selects on that target."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.support.requirements import logical_lines, selection

from netbundle.cli import cli
from netbundle.targets import parse_target

REPO = Path(__file__).resolve().parents[3]
P1 = REPO.parent / "shared" / "fixtures" / "poetry-locks" / "p1-groups"
L20 = REPO / "tests" / "data" / "locks" / "l20-groups"
TARGETS = [
    "cp39-manylinux_2_17_x86_64",
    "cp311-manylinux_2_28_aarch64",
    "cp312-win_amd64",
    "cp314-manylinux_2_34_x86_64",
    "pp310-macosx_11_0_arm64",
]
CASES = [(P1, "with-junos.txt", ["--with", "junos"]), (L20, "main-extra-yaml.txt", ["-E", "yaml"])]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(("project", "export", "args"), CASES, ids=["p1-with-junos", "l20-extra-yaml"])
def test_target_export_matches_marker_evaluation(
    project: Path, export: str, args: list[str], target: str
) -> None:
    result = CliRunner().invoke(cli, ["export", "-P", str(project), *args, "--target", target])
    assert result.exit_code == 0, result.output
    lines = logical_lines(result.stdout)
    assert all(";" not in line for line in lines), "per-target output must be marker-free"
    env = parse_target(target).marker_environment()
    expected = selection((project / "exports" / export).read_text(), env)
    assert selection(result.stdout, env) == expected
    assert len(lines) == len(expected)


def test_several_targets_need_a_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["export", "-P", str(P1), "--target", TARGETS[0], "--target", TARGETS[2]]
    )
    assert result.exit_code == 2
    assert "-o DIR" in result.output
    out = tmp_path / "locks"
    result = CliRunner().invoke(
        cli, ["export", "-P", str(P1), "--target", TARGETS[0], "--target", TARGETS[2], "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.txt" for t in (TARGETS[0], TARGETS[2]))
    assert "pywin32==312" in (out / f"{TARGETS[2]}.txt").read_text()
    assert "pywin32" not in (out / f"{TARGETS[0]}.txt").read_text()
    again = CliRunner().invoke(
        cli, ["export", "-P", str(P1), "--target", TARGETS[0], "--target", TARGETS[2], "-o", str(out)]
    )
    assert again.exit_code == 0, again.output  # an existing output directory is reused
