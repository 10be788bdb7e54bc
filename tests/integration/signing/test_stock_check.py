"""The operator's stock check in docs/reference/signatures.md works as written: tar, minisign -V, jq, sha256sum.

The shell block is read from the document itself, so the docs and this test cannot drift apart.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.support.bundles import make_bundle, make_keypair

pytestmark = pytest.mark.integration
DOC = Path(__file__).resolve().parents[3] / "docs" / "reference" / "signatures.md"


def doc_script() -> str:
    """The ```sh block of the section "Checking a bundle with the stock `minisign`"."""
    section = DOC.read_text().split("## Checking a bundle with the stock `minisign`", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, f"no sh block in that section of {DOC}"
    return match.group(1)


@pytest.fixture(scope="module")
def tools() -> None:
    missing = [tool for tool in ("minisign", "jq", "sha256sum", "tar") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run scripts/install-test-tools")


def run_doc_script(bundle: Path, pub: Path, key_id: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = (
        doc_script()
        .replace("site-bundle.tar", str(bundle))
        .replace("/etc/netbundle/release.pub", str(pub))
        .replace("<KEYID>", key_id)
    )
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_the_documented_stock_check_accepts_a_signed_bundle(tools: None, tmp_path: Path) -> None:
    key = make_keypair(tmp_path / "keys")
    bundle = make_bundle(tmp_path / "site.tar", keys=[key])
    result = run_doc_script(bundle, key.pub_path, key.public.key_id_hex, tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "Signature and comment signature verified" in result.stdout
    assert "Trusted comment: " in result.stdout
    assert result.stdout.rstrip().endswith("all files match")


def test_the_documented_stock_check_refuses_another_signer(tools: None, tmp_path: Path) -> None:
    signer, other = make_keypair(tmp_path / "keys", "signer"), make_keypair(tmp_path / "keys", "other")
    bundle = make_bundle(tmp_path / "site.tar", keys=[signer])
    result = run_doc_script(bundle, other.pub_path, signer.public.key_id_hex, tmp_path)
    assert result.returncode != 0
    assert "all files match" not in result.stdout
