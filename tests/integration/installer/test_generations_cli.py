"""`install --force`, `install --keep N`, `generations remove N`, `generations keep N` through the installer CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.integration.installer.conftest import MakeBundle
from tests.support.bundles import KeyPair
from tests.support.schemas import assert_valid

from netbundle.errors import PrefixError
from netbundle.runtime import cli

pytestmark = pytest.mark.integration
SCHEMAS = {"install": "install", "check": "check", "rollback": "rollback", "generations list": "generations",
           "generations remove": "generations-remove", "generations keep": "generations-keep"}  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    code = cli.main([*argv, "--json"])
    data = json.loads(capsys.readouterr().out)
    command = " ".join(argv[:2]) if argv[0] == "generations" else argv[0]
    assert_valid("error" if "error" in data else SCHEMAS[command], data)
    return code, data


def test_force_reinstalls_the_same_bundle_and_repairs_drift(
    tmp_path: Path, bundle: MakeBundle, release_key: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    path, prefix, pub = bundle(), str(tmp_path / "p"), str(release_key.pub_path)
    assert run(capsys, "install", path.as_posix(), "--prefix", prefix, "--trust", pub)[0] == 0
    (code, again) = run(capsys, "install", str(path), "--prefix", prefix, "--trust", pub)
    assert (code, again["status"]) == (0, "unchanged")
    site = next((tmp_path / "p" / "current").glob("lib/python*/site-packages"))
    (site / "alpha" / "__init__.py").write_text("tampered = True\n")
    assert run(capsys, "check", "--prefix", prefix)[0] == 22
    (code, forced) = run(capsys, "install", str(path), "--prefix", prefix, "--trust", pub, "--force")
    assert (code, forced["status"], forced["generation"]["number"]) == (0, "installed", 2)
    assert run(capsys, "check", "--prefix", prefix)[0] == 0
    (code, rolled) = run(capsys, "rollback", "--prefix", prefix)
    assert (code, rolled["from"]["number"], rolled["to"]["number"]) == (0, 2, 1)


def test_keep_prunes_and_remove_deletes_a_generation(
    tmp_path: Path, bundle: MakeBundle, release_key: KeyPair, capsys: pytest.CaptureFixture[str]
) -> None:
    path, prefix, pub = bundle(), str(tmp_path / "p"), str(release_key.pub_path)
    for _ in range(3):
        assert run(capsys, "install", str(path), "--prefix", prefix, "--trust", pub, "--force")[0] == 0
    (code, last) = run(
        capsys, "install", str(path), "--prefix", prefix, "--trust", pub, "--force", "--keep", "2"
    )
    assert code == 0 and [n.split("-")[0] for n in last["pruned"]] == ["0001", "0002"]
    listed = run(capsys, "generations", "list", "--prefix", prefix)[1]["generations"]
    # the directory carries the whole bundle id (project, full version, digest)
    assert [g["name"] for g in listed] == [
        f"{n:04d}-{g['receipt']['bundle_id']}" for n, g in zip((3, 4), listed, strict=True)
    ]
    (code, removed) = run(capsys, "generations", "remove", "3", "--prefix", prefix)
    assert (code, removed["removed"]["number"]) == (0, 3)
    (code, refused) = run(capsys, "generations", "remove", "4", "--prefix", prefix)
    assert (code, refused["error"]["kind"]) == (PrefixError.exit_code, "PrefixError")
    assert run(capsys, "generations", "keep", "1", "--prefix", prefix) == (
        0, {"format": 1, "prefix": str(Path(prefix).absolute()), "keep": 1},
    )  # fmt: skip
    assert json.loads((tmp_path / "p" / ".settings.json").read_text()) == {"keep": 1}
