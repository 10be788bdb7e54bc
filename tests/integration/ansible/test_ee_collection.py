"""The runbook's AWX execution environment (docs/runbooks/fleet-rollout.md): the context of `ee-context` plus the
collection tarball and the two build steps the runbook adds, accepted by the real ansible-builder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from tests.integration.ee.test_ee_context import ANSIBLE_BUILDER, PY, staged_bundle

from netbundle.runtime import eecontext

pytestmark = pytest.mark.integration

RUNBOOK = Path(__file__).resolve().parents[3] / "docs" / "runbooks" / "fleet-rollout.md"


def runbook_steps() -> list[str]:
    """The two ``prepend_final`` lines the runbook tells the reader to add (its yaml block under 'The execution
    environment'), verbatim."""
    text = RUNBOOK.read_text()
    block = text.split("### The execution environment", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) == 2 and all(line.startswith('    - "') for line in lines), lines
    return lines


def test_the_runbooks_ee_installs_the_collection_offline(tmp_path: Path, collection_tarball: Path) -> None:
    if not ANSIBLE_BUILDER.is_file():
        pytest.fail(f"{ANSIBLE_BUILDER} is missing: run scripts/install-ansible-builder")
    out = tmp_path / "ee"
    eecontext.write_ee_context(staged_bundle(tmp_path / "staging"), out, ["junos"], python=PY)
    shutil.copy(collection_tarball, out / eecontext.FILES_DIR / "netbundle-airgap-0.1.0.tar.gz")
    definition = out / eecontext.DEFINITION_NAME
    lines = definition.read_text().splitlines()
    after = max(i for i, line in enumerate(lines) if line.startswith('    - "RUN '))  # ee-context's pip step
    steps = runbook_steps()
    definition.write_text("\n".join([*lines[: after + 1], *steps, *lines[after + 1 :]]) + "\n")
    argv = [str(ANSIBLE_BUILDER), "create", "--output-filename", "Containerfile", "--context", "context",
            "-f", eecontext.DEFINITION_NAME]  # fmt: skip
    run = subprocess.run(argv, cwd=out, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (out / "context" / "_build" / eecontext.FILES_DIR / "netbundle-airgap-0.1.0.tar.gz").is_file()
    final = (out / "context" / "Containerfile").read_text().split("FROM base AS final", 1)[1]
    copy = "COPY _build/netbundle/netbundle-airgap-0.1.0.tar.gz /tmp/netbundle-airgap.tar.gz"
    install = next(line for line in final.splitlines() if "ansible-galaxy collection install" in line)
    assert copy in final and "--offline" in install
    pip_step = next(line for line in final.splitlines() if "--no-index" in line)
    assert final.index(pip_step) < final.index(copy) < final.index(install) < final.index("check_ansible")
