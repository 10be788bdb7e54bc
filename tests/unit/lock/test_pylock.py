"""PEP 751 output: valid for packaging.pylock, and selecting what Poetry's pylock.toml selects per target."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from packaging.pylock import Pylock
from tests.support.projects import Pkg, write_project
from tests.support.simple_index import serve
from tests.support.wheels import make_wheel

from netbundle.cli import cli
from netbundle.lock.groups import GroupSelection, select_packages
from netbundle.lock.model import LockedFile, LockedPackage
from netbundle.lock.project import load_project
from netbundle.lock.pylock import render_pylock
from netbundle.targets import parse_target

P1 = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "poetry-locks" / "p1-groups"
TARGETS = [
    "cp39-manylinux_2_17_x86_64",
    "cp312-win_amd64",
    "cp314-manylinux_2_28_aarch64",
    "cp311-macosx_11_0_arm64",
]


def picks(text: str, target: str) -> set[tuple[str, str, str]]:
    t = parse_target(target)
    lock = Pylock.from_dict(tomllib.loads(text))
    return {
        (str(p.name), str(p.version), artifact.filename)
        for p, artifact in lock.select(environment=t.marker_environment(), tags=t.tags())  # type: ignore[arg-type]
    }


def render_p1() -> str:
    loaded = load_project(P1)
    selected = select_packages(
        loaded.pyproject, loaded.lock, GroupSelection(with_groups=("junos",), extras=("yaml",))
    )

    def locate(package: LockedPackage, file: LockedFile) -> dict[str, str]:
        return {"url": f"https://user:secret@files.example.invalid/{file.filename}"}

    return render_pylock(selected, locate=locate, requires_python=loaded.pyproject.requires_python)


@pytest.mark.parametrize("target", TARGETS)
def test_selects_what_poetrys_pylock_selects(target: str) -> None:
    expected = (P1 / "exports" / "pylock.toml").read_text()
    assert picks(render_p1(), target) == picks(expected, target)


def test_valid_and_without_credentials() -> None:
    text = render_p1()
    Pylock.from_dict(tomllib.loads(text)).validate()
    assert "secret" not in text
    data = tomllib.loads(text)
    assert data["lock-version"] == "1.0" and data["created-by"] == "netbundle"
    assert data["requires-python"] == ">=3.9,<4.0"


def test_cli_looks_up_file_urls_on_the_index(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "files", "pure", "1.0")
    with serve(tmp_path / "files") as index:
        project = write_project(tmp_path / "project", [Pkg("pure", "1.0", [wheel])])
        result = CliRunner().invoke(
            cli, ["export", "-P", str(project), "-f", "pylock.toml", "--index-url", index.url]
        )
    assert result.exit_code == 0, result.output
    data = tomllib.loads(result.stdout)
    (package,) = data["packages"]
    assert package["wheels"][0]["url"] == f"{index.url.removesuffix('/simple/')}/files/{wheel.name}"
    assert package["index"] == index.url.rstrip("/")
    Pylock.from_dict(data).validate()
