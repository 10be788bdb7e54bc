"""Hosts that are network namespaces, each with a real sshd, for the Ansible collection's integration tests.

Each host is ``ip netns add`` + a veth pair to the root namespace (a /30 of a private /24 on those two ends only,
no other route: the host reaches the controller and nothing else), and its own mount namespace in which a
per-host directory is bind-mounted on ``/opt`` and on ``/var/tmp`` (so ``/opt/netbundle`` is per host, and
visible to the test under ``Host.root``) and a tmpfs on ``/run`` holds sshd's privilege-separation directory.
Debian's ``/usr/sbin/sshd`` runs in the foreground in there with a host key and an authorized key made here.
Everything is stopped and removed on exit; :func:`unavailable` says why hosts cannot be made on this machine.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
READY_SECONDS = 15.0


@dataclass(frozen=True)
class Host:
    name: str
    netns: str
    address: str
    root: Path  # per-host files: opt/ is the host's /opt, var-tmp/ its /var/tmp
    python: str
    pid: int

    @property
    def opt(self) -> Path:
        return self.root / "opt"


@dataclass(frozen=True)
class Fleet:
    hosts: tuple[Host, ...]
    key: Path  # the controller's private key
    known_hosts: Path
    control_dir: Path  # ssh ControlPath directory (short: unix socket paths are limited to 108 bytes)


def unavailable() -> str | None:
    """Why network-namespace hosts with sshd cannot be made here, or None."""
    if os.geteuid() != 0:
        return "needs root for ip netns, veth pairs and mount namespaces"
    for tool in ("ip", "unshare", "ssh", "ssh-keygen", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (scripts/install-test-tools installs it)"
    if not SSHD.is_file():
        return f"{SSHD} is missing: run scripts/install-test-tools (Debian's openssh-server)"
    name = f"nbprobe{os.getpid()}"
    probe = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"ip netns add is not permitted here: {probe.stderr.strip()}"
    try:
        mount = subprocess.run(
            ["ip", "netns", "exec", name, "unshare", "-m", "--propagation", "private", "true"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if mount.returncode != 0:
            return f"no mount namespace inside a network namespace: {mount.stderr.strip()}"
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
    return None


def _run(*argv: str) -> str:
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip()}")
    return done.stdout


def choose_subnet() -> str:
    """``10.A.B`` of a /24 that no interface or route of the root namespace uses."""
    used = _run("ip", "-4", "-o", "addr") + _run("ip", "-4", "route")
    seed = os.getpid()
    for attempt in range(200):
        a, b = 200 + (seed + attempt) % 50, (seed // 50 + attempt) % 250
        if f" 10.{a}.{b}." not in used and f"10.{a}.{b}.0/" not in used:
            return f"10.{a}.{b}"
    raise RuntimeError("no free 10.x.y.0/24 for the test hosts")


SSHD_CONFIG = """\
ListenAddress {address}
Port 22
HostKey {host_key}
PidFile none
AuthorizedKeysFile {authorized_keys}
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PrintMotd no
X11Forwarding no
Subsystem sftp internal-sftp
LogLevel ERROR
"""


@contextlib.contextmanager
def fleet(work: Path, pythons: Sequence[str]) -> Iterator[Fleet]:
    """One host per entry of ``pythons`` (the interpreter Ansible uses there), named h1, h2, ..."""
    ssh = work / "ssh"
    ssh.mkdir(parents=True)
    key = ssh / "id_ed25519"
    _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "controller", "-f", str(key))
    (ssh / "authorized_keys").write_text(key.with_suffix(".pub").read_text())
    subnet, tag = choose_subnet(), f"{os.getpid() % 100000}"
    control_dir = Path(tempfile.mkdtemp(prefix="nbcp"))
    hosts: list[Host] = []
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for number, python in enumerate(pythons, 1):
            host, process = _start_host(work, ssh, subnet, tag, number, python)
            hosts.append(host)
            processes.append(process)
        lines = []
        for host in hosts:
            _wait_for_ssh(host, processes[hosts.index(host)], work)
            public = (host.root / "ssh_host_ed25519_key.pub").read_text().split()
            lines.append(f"{host.address} {public[0]} {public[1]}\n")
        known = ssh / "known_hosts"
        known.write_text("".join(lines))
        yield Fleet(tuple(hosts), key, known, control_dir)
    finally:
        for host in hosts:
            _close_master(host, key, control_dir)
        for process in processes:
            _stop(process)
        for number in range(1, len(pythons) + 1):
            _remove_host(f"nb{tag}h{number}", f"nb{tag}r{number}")
        shutil.rmtree(control_dir, ignore_errors=True)


def _start_host(
    work: Path, ssh: Path, subnet: str, tag: str, number: int, python: str
) -> tuple[Host, subprocess.Popen[bytes]]:
    netns, outside, inside = f"nb{tag}h{number}", f"nb{tag}r{number}", f"nb{tag}i{number}"
    near, far = f"{subnet}.{4 * number + 1}", f"{subnet}.{4 * number + 2}"
    root = work / f"h{number}"
    for sub in ("opt", "var-tmp"):
        (root / sub).mkdir(parents=True)
    (root / "var-tmp").chmod(0o1777)
    _run("ip", "netns", "add", netns)
    _run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside)
    _run("ip", "link", "set", inside, "netns", netns)
    _run("ip", "addr", "add", f"{near}/30", "dev", outside)
    _run("ip", "link", "set", outside, "up")
    _run("ip", "-n", netns, "addr", "add", f"{far}/30", "dev", inside)
    _run("ip", "-n", netns, "link", "set", inside, "up")
    _run("ip", "-n", netns, "link", "set", "lo", "up")
    _run(
        "ssh-keygen",
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        f"h{number}",
        "-f",
        str(root / "ssh_host_ed25519_key"),
    )
    config = root / "sshd_config"
    config.write_text(SSHD_CONFIG.format(address=far, host_key=root / "ssh_host_ed25519_key",
                                         authorized_keys=ssh / "authorized_keys"))  # fmt: skip
    # The host's own mount namespace: its /opt and /var/tmp are directories of this test, /run a tmpfs.
    script = (
        f"mount --bind {root / 'opt'} /opt && mount --bind {root / 'var-tmp'} /var/tmp && "
        f"mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m 0755 /run/sshd && "
        f"{SSHD} -t -f {config} && exec {SSHD} -D -e -f {config}"
    )
    log = (root / "sshd.log").open("wb")
    process = subprocess.Popen(
        ["ip", "netns", "exec", netns, "unshare", "-m", "--propagation", "private", "sh", "-c", script],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    return Host(f"h{number}", netns, far, root, python, process.pid), process


def _wait_for_ssh(host: Host, process: subprocess.Popen[bytes], work: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd of {host.name} exited: {(host.root / 'sshd.log').read_text()[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection((host.address, 22), timeout=1) as conn:
            if conn.recv(4).startswith(b"SSH-"):
                return
        time.sleep(0.1)
    raise RuntimeError(f"sshd of {host.name} did not answer on {host.address}:22 within {READY_SECONDS}s")


def _close_master(host: Host, key: Path, control_dir: Path) -> None:
    """End the controller's ssh ControlPersist master for the host (Ansible leaves it running)."""
    subprocess.run(
        ["ssh", "-O", "exit", "-o", f"ControlPath={control_dir}/%C", "-i", str(key), f"root@{host.address}"],
        capture_output=True, check=False, timeout=10,
    )  # fmt: skip


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _remove_host(netns: str, outside: str) -> None:
    """Stop what still runs in the host's network namespace (ssh sessions), then delete it and its veth."""
    pids = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True, check=False).stdout
    for pid in pids.split():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), 9)
    subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)
    subprocess.run(["ip", "link", "del", outside], capture_output=True, check=False)
