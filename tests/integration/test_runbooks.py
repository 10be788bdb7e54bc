"""Every command line of the operator runbooks, run in order, as written, against the real sample bundle.

The sample (sample-bundles/netops-automation) is built by the real `netbundle build` into a release directory
with the real `scripts/build-pyz` beside it (both record their sha256 in the one SHA256SUMS there), exactly the
files the air-gapped runbook carries. Each runbook's fenced command lines then run one after the other in one
bash, in that directory, with `python3` being this interpreter and `netbundle` the builder, inside a private
mount namespace (`unshare -m`) whose /opt and /srv are empty tmpfs mounts: the documented prefix
/opt/netbundle/netops is used as written, and nothing outside the namespace changes. A step that exits non-zero
fails the test with its output, unless the test names the exit code the runbook says it has.

Only the runbook's preconditions are prepared here (the keys a rotation starts from, the generations a rollback
goes back over, the bundles a promotion compares); what the operator types comes from the Markdown.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.support.simple_index import serve

from netbundle.bundle.signing import generate_keypair

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
RUNBOOKS = REPO / "docs" / "runbooks"
SAMPLE_PROJECT = REPO / "sample-bundles" / "netops-automation"
#: Shell blocks only (no language, bash, sh, console): a ```toml block is configuration to read, not to run.
_FENCE = re.compile(r"^ *```(?:bash|sh|console|shell)?\n(.*?)^ *```", re.DOTALL | re.MULTILINE)
INSTALL = "python3 netbundle.pyz install site-bundle.tar --group junos --prefix /opt/netbundle/netops"
#: The password the runbooks' `NETBUNDLE_SIGN_KEY_PASSWORD=... netbundle ...` lines set (the literal "...").
PASSWORD = "..."


def runbook_lines(name: str) -> list[str]:
    """The shell lines of a runbook's fenced blocks, in order, continuations joined, comment lines dropped."""
    text = (RUNBOOKS / name).read_text()
    lines = []
    for block in _FENCE.findall(text):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.strip().startswith("#"):
                lines.append(" ".join(line.split()))
    return lines


@dataclass
class Release:
    """The release directory (bundle, pyz, SHA256SUMS) and the key the bundle is signed with."""

    directory: Path
    key: Path
    pub: Path


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Release:
    if shutil.which("unshare") is None:
        pytest.fail("unshare (util-linux) is not installed: the runbook test runs in a mount namespace")
    work = tmp_path_factory.mktemp("runbooks")
    directory = work / "release"
    directory.mkdir()
    secret, public = generate_keypair(comment="runbook test key", password=None)
    key, pub = work / "ci.key", work / "ci.pub"
    key.write_bytes(secret)
    pub.write_bytes(public)
    with serve(corpus_dir / "all") as index:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(work),
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": index.url,
        }
        argv = [str(REPO / ".venv" / "bin" / "netbundle"), "-q", "build", "-P", str(SAMPLE_PROJECT),
                "--index-url", index.url, "--cache-dir", str(work / "cache"), "--sign-key", str(key),
                "-o", str(directory / "site-bundle.tar")]  # fmt: skip
        built = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    pyz = [
        sys.executable,
        str(REPO / "scripts" / "build-pyz"),
        "--trust",
        str(pub),
        "-o",
        str(directory / "netbundle.pyz"),
    ]
    done = subprocess.run(pyz, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return Release(directory, key, pub)


@dataclass
class Run:
    """How to run one runbook: preparation lines, lines injected before a step, and documented exit codes."""

    setup: list[str] = field(default_factory=list)
    before: dict[str, list[str]] = field(default_factory=dict)
    expect: dict[str, int] = field(default_factory=dict)


def run_runbook(name: str, release: Release, tmp_path: Path, plan: Run) -> str:
    """Run the runbook's lines in order in one bash (see the module docstring); return its output."""
    work = tmp_path / "site"
    shutil.copytree(release.directory, work)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    script = [
        "set -uo pipefail",
        "mount -t tmpfs tmpfs /opt",
        "mount -t tmpfs tmpfs /srv",
        f"cd {shlex.quote(str(work))}",
    ]
    script += [f"{line} >/dev/null\n[ $? -eq 0 ] || exit 98" for line in plan.setup]
    lines = runbook_lines(name)
    assert lines, f"{name} has no command lines"
    for line in lines:
        for marker, extra in plan.before.items():
            if marker in line:
                script += [f"{step}\n[ $? -eq 0 ] || exit 97" for step in extra]
        expected = next((code for marker, code in plan.expect.items() if marker in line), 0)
        script += [
            f"printf '+ %s\\n' {shlex.quote(line)}",
            "(",  # a subshell of its own: a trailing "# comment" on the line ends there
            line,
            ")",
            "rc=$?",
            f'[ "$rc" -eq {expected} ] || {{ printf "RUNBOOK STEP FAILED (exit %s, expected {expected}): %s\\n" '
            + f'"$rc" {shlex.quote(line)}; exit 99; }}',
        ]
    env = {
        "PATH": f"{bin_dir}:{REPO / '.venv' / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(tmp_path),
        "TMPDIR": str(tmp_path),
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "bash", "-c", "\n".join(script)],
        env=env, capture_output=True, text=True, check=False, timeout=1800,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    return output


def test_air_gapped_install(release: Release, tmp_path: Path) -> None:
    output = run_runbook("air-gapped-install.md", release, tmp_path, Run())
    assert "site-bundle.tar: OK" in output and "netbundle.pyz: OK" in output  # sha256sum -c covers both
    assert "ready" in output  # doctor
    assert "no drift" in output


def test_rollback(release: Release, tmp_path: Path) -> None:
    setup = [INSTALL, f"{INSTALL} --force", f"{INSTALL} --force"]  # generations 1, 2, 3
    output = run_runbook("rollback.md", release, tmp_path, Run(setup=setup))
    assert "rolled back from generation 3" in output and "to generation 2" in output
    assert "removed generation 3" in output


def test_drift_check(release: Release, tmp_path: Path) -> None:
    tamper = (
        "for f in /opt/netbundle/netops/current/lib/python3*/site-packages/netaddr/__init__.py; "
        "do echo '# edited' >> \"$f\"; done"
    )
    plan = Run(
        setup=[INSTALL],
        before={"--force": [tamper, "! python3 netbundle.pyz check --prefix /opt/netbundle/netops"]},
    )
    output = run_runbook("drift-check.md", release, tmp_path, plan)
    assert "no drift" in output and "installed " in output


def test_key_rotation(release: Release, tmp_path: Path) -> None:
    setup = ["mkdir -p keys", f"NETBUNDLE_SIGN_KEY_PASSWORD={PASSWORD} netbundle keygen -o keys/release-2026"]
    output = run_runbook("key-rotation.md", release, tmp_path, Run(setup=setup))
    assert "release-2027" in output and "endorsed by release-2026" in output


def test_promotion(release: Release, tmp_path: Path) -> None:
    setup = [
        "mkdir -p keys prod staging evidence",
        f"cp {release.key} {release.pub} keys/",
        f"NETBUNDLE_SIGN_KEY_PASSWORD={PASSWORD} netbundle keygen -o keys/prod",
        "cp site-bundle.tar staging/netops-1.4.0.tar",
        "cp site-bundle.tar prod/netops-1.3.0.tar",
    ]
    output = run_runbook("promotion.md", release, tmp_path, Run(setup=setup))
    assert "SIGNERS CHANGED: added" in output
    assert "PASSED" in output  # the rehearsal


def test_dr_rehearsal(release: Release, tmp_path: Path) -> None:
    setup = ["mkdir -p /srv/bundles", "cp site-bundle.tar /srv/bundles/"]
    output = run_runbook("dr-rehearsal.md", release, tmp_path, Run(setup=setup))
    assert "PASSED" in output and "rehearsal.json" in output


def test_every_runbook_is_run_here() -> None:
    tested = {
        "air-gapped-install.md",
        "rollback.md",
        "drift-check.md",
        "key-rotation.md",
        "promotion.md",
        "dr-rehearsal.md",
    }
    # run as written by their own suites, against real clients and hosts (too heavy to repeat here)
    elsewhere = {
        "fleet-rollout.md": REPO / "tests" / "integration" / "ansible" / "test_fleet_rollout.py",
        "site-index.md": REPO / "tests" / "integration" / "serve" / "test_clients.py",
    }
    assert all(path.is_file() for path in elsewhere.values())
    assert {p.name for p in RUNBOOKS.glob("*.md")} == tested | set(elsewhere)
