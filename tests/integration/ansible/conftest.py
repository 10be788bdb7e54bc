"""Fixtures for the Ansible collection's tests: ansible-core, the built collection, signed sample bundles, and
a fleet of network-namespace hosts with sshd (see fleet.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.support import fleet as fleet_module
from tests.support.simple_index import serve

from netbundle.bundle.signing import generate_keypair

REPO = Path(__file__).resolve().parents[3]
ANSIBLE_BIN = REPO / ".venv-ansible-core" / "bin"
SAMPLE = REPO / "sample-bundles" / "netops-automation"
PYENV = Path(os.environ.get("PYENV_ROOT", "/root/.pyenv"))


def find_python(version: str) -> str | None:
    """A CPython X.Y for a host: Debian's, else pyenv's."""
    candidates = [
        Path(f"/usr/bin/python{version}"),
        *sorted(PYENV.glob(f"versions/{version}.*/bin/python{version}")),
    ]
    return next((str(path) for path in candidates if path.is_file()), None)


_RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)"
                    r"\s+rescued=(\d+)\s+ignored=(\d+)", re.MULTILINE)  # fmt: skip


@pytest.fixture(scope="session")
def ansible_bin() -> Path:
    if not (ANSIBLE_BIN / "ansible-playbook").is_file():
        pytest.fail(f"{ANSIBLE_BIN}/ansible-playbook is missing: run scripts/install-ansible-core")
    return ANSIBLE_BIN


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """No ANSIBLE_* or PIP_* from outside; a UTF-8 locale (ansible-core requires one)."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(home), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def collection_tarball(collection: Path) -> Path:
    """The tarball scripts/build-collection wrote (the `collection` fixture installed it)."""
    return next((collection.parent / "dist").glob("netbundle-airgap-*.tar.gz"))


@pytest.fixture(scope="session")
def collection(tmp_path_factory: pytest.TempPathFactory, ansible_bin: Path) -> Path:
    """scripts/build-collection's tarball, installed with `ansible-galaxy collection install --offline FILE`
    inside `unshare -n` (no network at all) where that is allowed: the directory to put on collections_path."""
    work = tmp_path_factory.mktemp("collection")
    env = clean_env(work, PATH=f"{ansible_bin}:/usr/sbin:/usr/bin:/sbin:/bin")
    built = subprocess.run([str(REPO / "scripts" / "build-collection"), "-o", str(work / "dist")],
                           env=env, capture_output=True, text=True, check=False)  # fmt: skip
    assert built.returncode == 0, built.stderr
    tarball = built.stdout.strip().splitlines()[-1]
    install = [
        str(ansible_bin / "ansible-galaxy"),
        "collection",
        "install",
        "--offline",
        tarball,
        "-p",
        str(work / "collections"),
    ]
    if subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False).returncode == 0:
        install = ["unshare", "-n", *install]
    done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (work / "collections" / "ansible_collections" / "netbundle" / "airgap" / "MANIFEST.json").is_file()
    return work / "collections"


@dataclass(frozen=True)
class Release:
    pyz: Path
    pub: Path
    v1: Path  # netops-sample 0.3.0
    v2: Path  # netops-sample 0.3.1, same key


def _build_sample(project: Path, key: Path, out: Path, cache: Path, index_url: str) -> Path:
    env = clean_env(out.parent, PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=index_url)
    argv = [str(REPO / ".venv" / "bin" / "netbundle"), "-q", "build", "-P", str(project), "--index-url", index_url,
            "--cache-dir", str(cache), "--sign-key", str(key), "-o", str(out)]  # fmt: skip
    run = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return out


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Release:
    """A pyz trusting a fresh key (the real scripts/build-pyz), and the sample bundle at 0.3.0 and at 0.3.1 (a
    copy of sample-bundles/netops-automation with the version bumped), both built by `netbundle build` from a
    local index serving the corpus and signed with that key."""
    work = tmp_path_factory.mktemp("release")
    secret, public = generate_keypair(comment="fleet test key", password=None)
    (work / "release.key").write_bytes(secret)
    (work / "release.pub").write_bytes(public)
    pyz = work / "netbundle.pyz"
    subprocess.run([sys.executable, str(REPO / "scripts" / "build-pyz"), "--trust", str(work / "release.pub"),
                    "-o", str(pyz)], check=True, capture_output=True)  # fmt: skip
    bumped = work / "netops-0.3.1"
    shutil.copytree(SAMPLE, bumped)
    pyproject = bumped / "pyproject.toml"
    text = pyproject.read_text()
    assert 'version = "0.3.0"' in text
    pyproject.write_text(text.replace('version = "0.3.0"', 'version = "0.3.1"', 1))
    with serve(corpus_dir / "all") as index:
        v1 = _build_sample(SAMPLE, work / "release.key", work / "netops-0.3.0.tar", work / "cache", index.url)
        v2 = _build_sample(bumped, work / "release.key", work / "netops-0.3.1.tar", work / "cache", index.url)
    return Release(pyz, work / "release.pub", v1, v2)


@dataclass(frozen=True)
class Recap:
    ok: int
    changed: int
    unreachable: int
    failed: int
    skipped: int
    rescued: int


@dataclass(frozen=True)
class PlaybookRun:
    rc: int
    output: str
    recap: dict[str, Recap]
    seconds: float


class Ansible:
    """ansible-playbook and ansible against the fleet, with a config of its own (no outside configuration)."""

    def __init__(self, bin_dir: Path, work: Path, config: Path) -> None:
        self.bin_dir, self.work, self.config = bin_dir, work, config
        self.runs = 0

    def env(self) -> dict[str, str]:
        return clean_env(self.work / "home", ANSIBLE_CONFIG=str(self.config), ANSIBLE_NOCOLOR="1",
                         ANSIBLE_FORCE_COLOR="0", PATH=f"{self.bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin")  # fmt: skip

    def playbook(self, name: str, extra: dict[str, object], *options: str) -> PlaybookRun:
        self.runs += 1
        extra_file = self.work / f"extra-{self.runs}.json"
        extra_file.write_text(json.dumps(extra))
        argv = [str(self.bin_dir / "ansible-playbook"), name, "-e", f"@{extra_file}", *options]
        start = time.monotonic()
        done = subprocess.run(argv, env=self.env(), capture_output=True, text=True, check=False, timeout=600)
        seconds = time.monotonic() - start
        output = done.stdout + done.stderr
        (self.work / f"run-{self.runs}.log").write_text(output)
        recap = {m[0]: Recap(*(int(x) for x in m[1:7])) for m in _RECAP.findall(done.stdout)}
        print(f"ansible-playbook {name} {' '.join(options)}: rc {done.returncode}, {seconds:.1f}s")
        return PlaybookRun(done.returncode, output, recap, seconds)

    def module(self, hosts: str, module: str, args: dict[str, object]) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bin_dir / "ansible"), hosts, "-m", module, "-a", json.dumps(args)]
        return subprocess.run(argv, env=self.env(), capture_output=True, text=True, check=False, timeout=300)


ANSIBLE_CFG = """\
[defaults]
inventory = {inventory}
collections_path = {collections}
remote_tmp = /var/tmp/.ansible-tmp
local_tmp = {work}/ansible-local
private_key_file = {key}
remote_user = root
forks = 5
timeout = 20
retry_files_enabled = False
interpreter_python = auto_silent
deprecation_warnings = False

[ssh_connection]
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes
control_path_dir = {control_dir}
control_path = %(directory)s/%%C
pipelining = True
"""


@dataclass(frozen=True)
class FleetRun:
    hosts: tuple[fleet_module.Host, ...]
    ansible: Ansible
    inventory: Path  # a directory: hosts.ini and host_vars/


@pytest.fixture
def fleet(tmp_path: Path, ansible_bin: Path, collection: Path) -> Iterator[FleetRun]:
    """Three hosts, an inventory and an ansible.cfg for them. h1 and h2 run CPython 3.11, h3 CPython 3.9 (the
    sample bundle's two x86_64 targets), so that the modules and the cp39 target run on the oldest supported
    Python."""
    reason = fleet_module.unavailable()
    if reason:
        pytest.skip(f"no network-namespace hosts with sshd on this machine: {reason}")
    py311, py39 = find_python("3.11"), find_python("3.9")
    if py311 is None or py39 is None:
        pytest.skip(
            f"no CPython {'3.11' if py311 is None else '3.9'} for the test hosts (Debian's or pyenv's)"
        )
    pythons = [py311, py311, py39]
    with fleet_module.fleet(tmp_path / "fleet", pythons) as hosts:
        inventory = tmp_path / "inventory"
        (inventory / "host_vars").mkdir(parents=True)
        lines = ["[fleet]"] + [
            f"{h.name} ansible_host={h.address} ansible_python_interpreter={h.python}" for h in hosts.hosts
        ]
        (inventory / "hosts.ini").write_text("\n".join(lines) + "\n")
        config = tmp_path / "ansible.cfg"
        config.write_text(ANSIBLE_CFG.format(inventory=inventory, collections=collection, work=tmp_path,
                                             key=hosts.key, known_hosts=hosts.known_hosts,
                                             control_dir=hosts.control_dir))  # fmt: skip
        (tmp_path / "home").mkdir()
        yield FleetRun(hosts.hosts, Ansible(ansible_bin, tmp_path, config), inventory)
