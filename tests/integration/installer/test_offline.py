"""install inside a network namespace without interfaces: nothing it does needs the network."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.integration.installer.conftest import MakeBundle
from tests.integration.installer.prefixes import run_in_prefix
from tests.support.bundles import KeyPair

pytestmark = [pytest.mark.integration, pytest.mark.netns]

CHILD = """
import socket, sys
from netbundle.runtime.install import install
from netbundle.format.trust import load_trust

try:
    socket.create_connection(("127.0.0.1", 9), timeout=5).close()
except OSError as exc:
    print("network down:", exc.__class__.__name__)
else:
    sys.exit("the namespace has a network")
result = install(sys.argv[1], sys.argv[2], load_trust(sys.argv[3]), groups=["junos"])
print(result.render_text())
"""


def _can_unshare_network() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], check=False, capture_output=True).returncode == 0


@pytest.mark.skipif(not _can_unshare_network(), reason="needs root (or user namespaces) for unshare -n")
def test_install_in_a_network_namespace(tmp_path: Path, bundle: MakeBundle, release_key: KeyPair) -> None:
    path = bundle(packages=[("alpha", "1.0"), ("beta", "1.0")], groups={"main": ["alpha"], "junos": ["beta"]})
    prefix = tmp_path / "p"
    done = subprocess.run(
        ["unshare", "-n", sys.executable, "-c", CHILD, str(path), str(prefix), str(release_key.pub_path)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("network down: ")
    assert "installed sample-project 1.0.0" in done.stdout
    assert run_in_prefix(prefix, "import alpha, beta; print('ok')") == "ok"
