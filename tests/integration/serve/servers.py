"""Servers for the serve tests (the bundle fixtures are in conftest.py): in-process (``serve()`` on a thread, with test-sized limits) and the real CLI
(``python -m netbundle.runtime serve ... --port 0 --json`` as a child process), both on 127.0.0.1."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.support.bundles import KeyPair
from tests.support.schemas import assert_valid
from tests.support.serving import read_ready_object

from netbundle.format.trust import load_trust
from netbundle.runtime.serve import ServeInfo, ServeRequest, serve
from netbundle.runtime.serve.handler import Limits

REPO = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class SmallBundle:
    path: Path
    key: KeyPair


@dataclass
class InProcess:
    info: ServeInfo
    log: list[str] = field(default_factory=list)

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.info.port


@contextmanager
def in_process(
    bundle: Path, pub: Path, limits: Limits | None = None, **options: object
) -> Iterator[InProcess]:
    """``serve()`` on a thread (no signal handlers there); stopped through its ``stop`` event."""
    ready: queue.Queue[ServeInfo] = queue.Queue()
    log: list[str] = []
    stop = threading.Event()
    failure: list[BaseException] = []
    request = ServeRequest(str(bundle), port=0, limits=limits or Limits(), **options)  # type: ignore[arg-type]
    policy = load_trust(str(pub))

    def run() -> None:
        try:
            serve(request, policy, ready.put, log.append, stop)
        except Exception as exc:  # noqa: BLE001 # raised again in the test's thread, below
            failure.append(exc)
            ready.put(None)  # type: ignore[arg-type]

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    info = ready.get(timeout=60)
    if failure:
        raise failure[0]
    try:
        yield InProcess(info, log)
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "serve() did not stop"


@dataclass
class Child:
    process: subprocess.Popen[str]
    info: dict[str, object]
    stderr: Path

    @property
    def url(self) -> str:
        return str(self.info["url"])

    def stop(self, signum: int = signal.SIGTERM) -> tuple[int, str]:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=30)
        return code, self.stderr.read_text()


def serve_argv(bundle: Path, *args: str, python: str = sys.executable) -> list[str]:
    return [python, "-m", "netbundle.runtime", "serve", str(bundle), "--port", "0", "--json", *args]


def child_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "POETRY_"))}
    env["PYTHONPATH"] = str(REPO / "src")
    env["TMPDIR"] = str(tmp)
    return env


@contextmanager
def child(argv: Sequence[str], tmp: Path) -> Iterator[Child]:
    """Start the real CLI; wait for its --json line (fail with its stderr if it exits first)."""
    tmp.mkdir(parents=True, exist_ok=True)
    stderr = tmp / "serve.stderr"
    with stderr.open("w") as err:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True, env=child_env(tmp))
    try:
        assert process.stdout is not None
        text = read_ready_object(process.stdout)
        if not text:
            process.wait(timeout=30)
            pytest.fail(f"serve exited {process.returncode} before it was ready: {stderr.read_text()}")
        ready = json.loads(text)
        assert_valid("serve", ready)  # docs/schemas/serve.json
        yield Child(process, ready, stderr)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
