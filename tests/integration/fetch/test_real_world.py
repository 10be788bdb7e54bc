"""netops-sample (junos-eznc, ncclient, netmiko, pyeapi, httpx, pydantic; locked by real Poetry) per target:
netbundle picks exactly the wheels pip picks on such a host, and `netbundle fetch` produces those wheelhouses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.integration.conftest import CORPUS_TARGETS
from tests.support.simple_index import serve

from netbundle.cli import cli
from netbundle.lock.groups import GroupSelection, select_for_environment, select_packages
from netbundle.lock.project import load_project
from netbundle.targets import parse_target
from netbundle.targets.choice import choose_all

GROUPS = GroupSelection(with_groups=("junos", "cisco", "arista"))


def pip_picks(corpus: Path, target: str) -> set[str]:
    return set(json.loads((corpus / target / ".complete").read_text()))


@pytest.mark.parametrize("target", CORPUS_TARGETS)
def test_choices_equal_pips(corpus_dir: Path, netops_sample: Path, target: str) -> None:
    loaded = load_project(netops_sample)
    t = parse_target(target)
    selected = select_for_environment(
        select_packages(loaded.pyproject, loaded.lock, GROUPS), t.marker_environment()
    )
    choices = choose_all(selected, t)
    ours = {c.file.filename for c in choices if c.kind == "wheel" and c.file}
    assert ours == pip_picks(corpus_dir, target)
    assert {c.package.name for c in choices if c.needs_build} == {"ncclient", "pyeapi"}
    for name in ("junos-eznc", "netmiko", "httpx", "pydantic", "lxml"):
        assert any(f.startswith(name.replace("-", "_") + "-") for f in ours), name


@pytest.mark.integration
def test_fetch_builds_the_same_wheelhouses(corpus_dir: Path, netops_sample: Path, tmp_path: Path) -> None:
    with serve(corpus_dir / "all") as index:
        argv = ["fetch", "-P", str(netops_sample), "--with", "junos,cisco,arista", "--index-url", index.url,
                "--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "wh"), "--json", "--no-build"]  # fmt: skip
        for target in CORPUS_TARGETS:
            argv += ["--target", target]
        result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert sorted(summary["needs_build"]) == ["ncclient==0.7.0", "pyeapi==1.0.4"]
    for target in CORPUS_TARGETS:
        assert {p.name for p in (tmp_path / "wh" / target).iterdir()} == pip_picks(corpus_dir, target)
