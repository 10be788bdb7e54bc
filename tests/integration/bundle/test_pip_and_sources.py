"""The carried pip is the pinned one, fetched from the project's pool; a primary source is the only index asked.

Real `netbundle build` runs against local indexes that count their requests (tests/support/simple_index.py).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path

from click.testing import CliRunner
from tests.support.bundles import pinned_pips
from tests.support.projects import Pkg, write_project
from tests.support.simple_index import serve
from tests.support.wheels import make_wheel

from netbundle.bundle.pipwheel import PIP_PINS
from netbundle.cli import cli

TARGET = "cp311-manylinux_2_28_x86_64"
PIN = next(p for p in PIP_PINS if p.requires_python == ">=3.10")  # what a cp311 bundle carries


def build(project: Path, default_url: str, tmp: Path, out: Path) -> tuple[int, str]:
    argv = ["build", "-P", str(project), "--index-url", default_url, "--cache-dir", str(tmp / "cache"),
            "--target", TARGET, "--unsigned", "-o", str(out)]  # fmt: skip
    result = CliRunner().invoke(cli, argv, env={"SOURCE_DATE_EPOCH": "1767225600"})
    return result.exit_code, result.output


def tools_member(bundle: Path) -> tuple[str, str]:
    with tarfile.open(bundle) as tar:
        (member,) = [m for m in tar.getmembers() if m.name.startswith("tools/pip-")]
        return member.name, hashlib.sha256(tar.extractfile(member).read()).hexdigest()  # type: ignore[union-attr]


def test_with_a_primary_source_no_request_goes_to_the_default_index(tmp_path: Path) -> None:
    corp_dir, default_dir = tmp_path / "corp", tmp_path / "default"
    default_dir.mkdir()
    pinned = make_wheel(corp_dir, "pinned", "1.0")
    loose = make_wheel(corp_dir, "loose", "2.0")
    shutil.copy2(pinned_pips() / PIN.filename, corp_dir / PIN.filename)
    shutil.copy2(pinned_pips() / PIN.filename, default_dir / PIN.filename)  # there too: still not asked
    with serve(corp_dir) as corp, serve(default_dir) as default:
        project = write_project(
            tmp_path / "project",
            [
                Pkg(
                    "pinned", "1.0", [pinned], source={"type": "legacy", "url": corp.url, "reference": "corp"}
                ),
                Pkg("loose", "2.0", [loose]),  # no source pin: the pool, i.e. the primary source
            ],
            sources=[{"name": "corp", "url": corp.url, "priority": "primary"}],
        )
        code, output = build(project, default.url, tmp_path, tmp_path / "b.tar")
        assert code == 0, output
        asked_corp = sorted({path for path, _ in corp.requests})
        assert default.requests == []
    assert asked_corp == sorted(
        {"/simple/pinned/", "/simple/loose/", "/simple/pip/", "/files/pinned-1.0-py3-none-any.whl",
         "/files/loose-2.0-py3-none-any.whl", f"/files/{PIN.filename}"}
    )  # fmt: skip
    assert tools_member(tmp_path / "b.tar") == (f"tools/{PIN.filename}", PIN.sha256)


def test_a_hostile_default_index_cannot_make_its_newer_pip_carried(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile"
    make_wheel(hostile, "pip", "99.0", payload="raise SystemExit('owned')\n")  # "newest" pip on the index
    shutil.copy2(pinned_pips() / PIN.filename, hostile / PIN.filename)
    pure = make_wheel(hostile, "pure", "1.0")
    with serve(hostile) as index:
        project = write_project(tmp_path / "project", [Pkg("pure", "1.0", [pure])])
        code, output = build(project, index.url, tmp_path, tmp_path / "b.tar")
        assert code == 0, output
        assert "/files/pip-99.0-py3-none-any.whl" not in {path for path, _ in index.requests}
    assert tools_member(tmp_path / "b.tar") == (f"tools/{PIN.filename}", PIN.sha256)
    shown = CliRunner().invoke(cli, ["inspect", str(tmp_path / "b.tar"), "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["pip"] == {
        "file": PIN.filename,
        "version": PIN.version,
        "sha256": PIN.sha256,
    }
    text = CliRunner().invoke(cli, ["inspect", str(tmp_path / "b.tar")]).output
    assert f"pip: {PIN.version} (sha256 {PIN.sha256})" in text


def test_a_substituted_pip_under_the_pinned_name_is_refused(tmp_path: Path) -> None:
    hostile = tmp_path / "hostile"
    fake = make_wheel(tmp_path / "fake", "pip", PIN.version, payload="raise SystemExit('owned')\n")
    hostile.mkdir()
    shutil.copy2(fake, hostile / PIN.filename)
    pure = make_wheel(hostile, "pure", "1.0")
    with serve(hostile) as index:
        project = write_project(tmp_path / "project", [Pkg("pure", "1.0", [pure])])
        code, output = build(project, index.url, tmp_path, tmp_path / "b.tar")
    assert code == 11, output  # IntegrityError: the index's hash is not the pinned one
    assert PIN.filename in output and PIN.sha256 in output
    assert not (tmp_path / "b.tar").exists()


def test_a_configured_pip_pin_is_carried(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    older = next(p for p in PIP_PINS if p.requires_python == ">=3.9")
    index_dir.mkdir()
    shutil.copy2(pinned_pips() / older.filename, index_dir / older.filename)
    pure = make_wheel(index_dir, "pure", "1.0")
    with serve(index_dir) as index:
        project = write_project(
            tmp_path / "project",
            [Pkg("pure", "1.0", [pure])],
            netbundle=f'\n[tool.netbundle]\npip = {{ version = "{older.version}", sha256 = "{older.sha256}" }}\n',
        )
        code, output = build(project, index.url, tmp_path, tmp_path / "b.tar")
    assert code == 0, output
    assert tools_member(tmp_path / "b.tar") == (f"tools/{older.filename}", older.sha256)


def test_every_configured_target_decides_the_pip_so_per_target_parts_agree(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    pure = make_wheel(index_dir, "pure", "1.0")
    for pin in PIP_PINS:
        shutil.copy2(pinned_pips() / pin.filename, index_dir / pin.filename)
    targets = "".join(
        f'\n[[tool.netbundle.targets]]\nname = "{name}"\npython = "{python}"\nplatform = "manylinux_2_28_x86_64"\n'
        for name, python in (("old", "3.9"), ("new", "3.11"))
    )
    with serve(index_dir) as index:
        project = write_project(tmp_path / "project", [Pkg("pure", "1.0", [pure])], netbundle=targets)
        argv = ["build", "-P", str(project), "--index-url", index.url, "--cache-dir", str(tmp_path / "cache"),
                "--target", "new", "--unsigned", "-o", str(tmp_path / "new.tar")]  # fmt: skip
        result = CliRunner().invoke(cli, argv, env={"SOURCE_DATE_EPOCH": "1767225600"})
    assert result.exit_code == 0, result.output
    name, _ = tools_member(tmp_path / "new.tar")
    assert name == "tools/pip-26.0.1-py3-none-any.whl"  # the configured 3.9 target needs it
