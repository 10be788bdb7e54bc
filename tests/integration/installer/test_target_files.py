"""pip is handed exactly the chosen target's files (issue 12): mixed manylinux levels of one version install.

bcrypt 4.3.0 publishes cp39-abi3 wheels for manylinux 2_17, 2_28 and 2_34. A bundle whose cp311 target carries the
2_28 wheel and whose cp312 target carries the 2_34 one used to fail on a glibc >= 2.34 host with a pip hash
mismatch: pip saw both wheels in one --find-links folder and preferred the 2_34 one, not in the cp311 lock.
"""

from __future__ import annotations

import io
import platform
import sys
from pathlib import Path

import pytest
from tests.integration.installer.prefixes import run_in_prefix
from tests.support.bundles import KeyPair, make_target_bundle

from netbundle.errors import BundleFormatError
from netbundle.format.tar import verify_bundle
from netbundle.format.trust import TrustPolicy
from netbundle.runtime.install import install

pytestmark = pytest.mark.integration

MATRIX = Path(__file__).resolve().parents[3] / ".cache" / "corpus" / "matrix"
HOST = f"cp{sys.version_info[0]}{sys.version_info[1]}"
OTHER = "cp312" if HOST != "cp312" else "cp313"


@pytest.fixture(scope="module")
def bcrypt_wheels() -> dict[str, Path]:
    """manylinux level -> the bcrypt 4.3.0 x86_64 wheel of that level, from the corpus."""
    if platform.machine() != "x86_64" or not sys.platform.startswith("linux"):
        pytest.skip(f"needs an x86_64 Linux host to install x86_64 wheels (this is {platform.machine()})")
    found = {
        level: sorted(MATRIX.glob(f"bcrypt-4.3.0-cp39-abi3-manylinux_{level}_x86_64*.whl"))
        for level in ("2_28", "2_34")
    }
    if not all(found.values()):
        pytest.fail(f"no bcrypt 4.3.0 wheels in {MATRIX}: run scripts/prepare-corpus")
    return {level: paths[0] for level, paths in found.items()}


def test_each_target_installs_its_own_level(
    tmp_path: Path, bcrypt_wheels: dict[str, Path], release_key: KeyPair, policy: TrustPolicy
) -> None:
    own, other = f"{HOST}-manylinux_2_28_x86_64", f"{OTHER}-manylinux_2_34_x86_64"
    bundle = make_target_bundle(
        tmp_path / "b.tar",
        targets={own: [bcrypt_wheels["2_28"]], other: [bcrypt_wheels["2_34"]]},
        keys=(release_key,),
    )
    prefix = tmp_path / "prefix"
    result = install(bundle, prefix, policy, target=own)
    assert result.status == "installed"
    assert run_in_prefix(prefix, "import bcrypt; print(bcrypt.__version__)") == "4.3.0"
    wheel = next((prefix / "current").glob("lib/python*/site-packages/bcrypt-4.3.0.dist-info/WHEEL"))
    assert "manylinux_2_28_x86_64" in wheel.read_text() and "2_34" not in wheel.read_text()
    log = result.log.read_text() if result.log else ""
    assert f"/find-links/{own} " in log  # pip saw the target's directory, not the bundle's wheels/


def test_a_lock_pinning_another_targets_file_is_refused(
    tmp_path: Path, bcrypt_wheels: dict[str, Path], release_key: KeyPair, policy: TrustPolicy
) -> None:
    own, other = f"{HOST}-manylinux_2_28_x86_64", f"{OTHER}-manylinux_2_34_x86_64"
    bundle = make_target_bundle(
        tmp_path / "b.tar",
        targets={own: [bcrypt_wheels["2_28"]], other: [bcrypt_wheels["2_34"]]},
        pins={own: [bcrypt_wheels["2_34"]]},
        keys=(release_key,),
    )
    with pytest.raises(BundleFormatError) as info:
        verify_bundle(bundle, policy)
    assert info.value.exit_code == 10
    assert f"locks/{own}/requirements-main.txt: bcrypt==4.3.0 pins sha256:" in info.value.message
    assert f"not a file the manifest assigns to target {own}" in info.value.message
    prefix = tmp_path / "new" / "prefix"
    with pytest.raises(BundleFormatError):
        install(bundle, prefix, policy, target=own)
    assert not prefix.exists()  # nothing of a prefix is made before the bundle verified


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("terminal", [True, False], ids=["tty", "not-a-tty"])
def test_the_cli_shows_progress_only_on_a_terminal(
    terminal: bool, tmp_path: Path, release_key: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.bundles import make_bundle

    from netbundle.runtime.cli import main

    bundle = make_bundle(
        tmp_path / "b.tar", packages=(("alpha", "1.0"), ("beta", "2.0")), keys=(release_key,)
    )
    stderr = Tty() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    code = main(
        ["install", str(bundle), "--prefix", str(tmp_path / "p"), "--trust", str(release_key.pub_path)]
    )
    assert code == 0
    if not terminal:
        assert stderr.getvalue() == ""
        return
    shown = stderr.getvalue()
    assert shown.startswith(f"netbundle: verifying {bundle} (1/6)\n")
    assert "netbundle: pip install of 2 distributions (4/6)\n" in shown
    assert "\r\033[K  1/2 distributions\r\033[K  2/2 distributions\n" in shown
    assert shown.endswith("(6/6)\n")
