"""`install --force`, `install --keep N`, `generations remove N`, `generations keep N` through the installer CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.integration.installer.conftest import MakeBundle
from tests.support.bundles import KeyPair

from netbundle.errors import PrefixError
from netbundle.runtime import cli

pytestmark = pytest.mark.integration


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = cli.main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_force_reinstalls_the_same_bundle_and_repairs_drift(
    tmp_path: Path, bundle: MakeBundle, release_key: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    path, prefix, pub = bundle(), str(tmp_path / "p"), str(release_key.pub_path)
    assert run(capsys, "install", path.as_posix(), "--prefix", prefix, "--trust", pub)[0] == 0
    (code, again) = run(capsys, "install", str(path), "--prefix", prefix, "--trust", pub)
    assert (code, again["status"]) == (0, "unchanged")
    site = next((tmp_path / "p" / "current").glob("lib/python*/site-packages"))
    (site / "alpha" / "__init__.py").write_text("tampered = True\n")
    assert cli.main(["check", "--prefix", prefix]) == 22
    capsys.readouterr()
    (code, forced) = run(capsys, "install", str(path), "--prefix", prefix, "--trust", pub, "--force")
    assert (code, forced["status"], forced["generation"]["number"]) == (0, "installed", 2)
    assert cli.main(["check", "--prefix", prefix]) == 0


def test_keep_prunes_and_remove_deletes_a_generation(
    tmp_path: Path, bundle: MakeBundle, release_key: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    path, prefix, pub = bundle(), str(tmp_path / "p"), str(release_key.pub_path)
    for _ in range(3):
        assert run(capsys, "install", str(path), "--prefix", prefix, "--trust", pub, "--force")[0] == 0
    (code, last) = run(capsys, "install", str(path), "--prefix", prefix, "--trust", pub, "--force", "--keep", "2")
    assert code == 0 and [n.split("-")[0] for n in last["pruned"]] == ["0001", "0002"]
    listed = run(capsys, "generations", "list", "--prefix", prefix)[1]["generations"]
    # the directory carries the whole bundle id (project, full version, digest)
    assert [g["name"] for g in listed] == [f"{n:04d}-{g['receipt']['bundle_id']}" for n, g in zip((3, 4), listed)]
    (code, removed) = run(capsys, "generations", "remove", "3", "--prefix", prefix)
    assert (code, removed["removed"]["number"]) == (0, 3)
    (code, refused) = run(capsys, "generations", "remove", "4", "--prefix", prefix)
    assert (code, refused["error"]["kind"]) == (PrefixError.exit_code, "PrefixError")
    assert run(capsys, "generations", "keep", "1", "--prefix", prefix) == (
        0, {"format": 1, "prefix": str(Path(prefix).absolute()), "keep": 1},
    )  # fmt: skip
    assert json.loads((tmp_path / "p" / ".settings.json").read_text()) == {"keep": 1}
