"""Benchmark: `netbundle.pyz serve` under load on loopback, against plain file reads of the same bytes.

The real sample bundle (sample-bundles/netops-automation, all three targets, signed, built with `netbundle build`
from the corpus) is served by the real command (`python -m netbundle.runtime serve --all-targets`, its own
process). Then, for a fixed number of rounds, C concurrent clients (threads, each with one keep-alive HTTP/1.1
connection) each fetch every served file once per round, in their own shuffled order, and hash what they get:
every sha256 must be the manifest's, or the benchmark fails. The baseline is the same work without HTTP: C
threads reading the verified files from disk (1 MiB reads, page cache warm) and hashing them, the same number of
rounds. Both sides hash, so the ratio is what HTTP and the server cost on top of reading the bytes.

Usage: .venv/bin/python benchmarks/serve.py [--clients 50] [--rounds 3] [--runs 3] [--json FILE]
(needs scripts/prepare-corpus)
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CORPUS, ROOT, header, write_result
from install_vs_pip import build_sample
from tests.support.bundles import make_keypair
from tests.support.serving import read_ready_object
from tests.support.simple_index import serve as corpus_index

from netbundle.format.manifest import Manifest, parse_manifest

MIB = 1024 * 1024


@dataclass(frozen=True)
class Served:
    """One file as the index offers it: its URL path, its sha256 and size, and its verified copy on disk."""

    url_path: str
    sha256: str
    size: int
    local: Path


def prepare(work: Path) -> tuple[Path, Path, Manifest]:
    keys = make_keypair(work / "keys")
    bundle = work / "netops.tar"
    with corpus_index(CORPUS / "all") as index:
        build_sample(index.url, work / "cache", keys.key_path, bundle)
    with tarfile.open(bundle) as archive:
        archive.extractall(work / "files", filter="data")
    manifest = parse_manifest((work / "files" / "netbundle" / "manifest.json").read_bytes())
    return bundle, keys.pub_path, manifest


def start_server(bundle: Path, pub: Path, work: Path) -> tuple[subprocess.Popen[str], dict[str, object]]:
    argv = [sys.executable, "-m", "netbundle.runtime", "serve", str(bundle), "--trust", str(pub), "--all-targets",
            "--port", "0", "--json"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TMPDIR": str(work)}
    log = (work / "serve.log").open("w")
    server = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    assert server.stdout is not None
    text = read_ready_object(server.stdout)
    if not text:
        raise SystemExit(f"serve did not start: {(work / 'serve.log').read_text()}")
    return server, json.loads(text)


def served_files(url: str, manifest: Manifest, files_root: Path) -> list[Served]:
    """Every file the index lists (from its JSON pages), checked against the manifest."""
    by_name = {e.path.rsplit("/", 1)[1]: e for e in manifest.files}
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    accept = {"Accept": "application/vnd.pypi.simple.v1+json"}
    found = []
    for project in _get_json(conn, "/simple/", accept)["projects"]:
        for item in _get_json(conn, f"/simple/{project['name']}/", accept)["files"]:
            entry = by_name[item["filename"]]
            assert item["hashes"]["sha256"] == entry.sha256, item["filename"]
            found.append(
                Served("/files/" + item["filename"], entry.sha256, entry.size, files_root / entry.path)
            )
    conn.close()
    return found


def _get_json(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    assert response.status == 200, (path, response.status)
    return json.loads(response.read())  # type: ignore[no-any-return]


def http_client(
    address: tuple[str, int], files: Sequence[Served], rounds: int, seed: int
) -> tuple[int, list[float]]:
    """One client: every file once per round over one keep-alive connection; bytes read and request latencies."""
    order = random.Random(seed)  # an order, not a secret
    conn = http.client.HTTPConnection(*address, timeout=120)
    buffer = bytearray(MIB)
    total, latencies = 0, []
    for _ in range(rounds):
        for item in order.sample(list(files), len(files)):
            started = time.perf_counter()
            conn.request("GET", item.url_path)
            response = conn.getresponse()
            assert response.status == 200, (item.url_path, response.status)
            digest = hashlib.sha256()
            while count := response.readinto(buffer):
                digest.update(memoryview(buffer)[:count])
                total += count
            if digest.hexdigest() != item.sha256:
                raise SystemExit(f"sha256 mismatch for {item.url_path}")
            latencies.append(time.perf_counter() - started)
    conn.close()
    return total, latencies


def file_client(files: Sequence[Served], rounds: int, seed: int) -> tuple[int, list[float]]:
    """The baseline client: the same files, read from disk and hashed."""
    order = random.Random(seed)  # an order, not a secret
    buffer = bytearray(MIB)
    total, latencies = 0, []
    for _ in range(rounds):
        for item in order.sample(list(files), len(files)):
            started = time.perf_counter()
            digest = hashlib.sha256()
            with item.local.open("rb", buffering=0) as stream:
                while count := stream.readinto(buffer):
                    digest.update(memoryview(buffer)[:count])
                    total += count
            if digest.hexdigest() != item.sha256:
                raise SystemExit(f"sha256 mismatch for {item.local}")
            latencies.append(time.perf_counter() - started)
    return total, latencies


def concurrently(clients: int, work: Callable[[int], tuple[int, list[float]]]) -> dict[str, float]:
    """Run ``clients`` threads of ``work`` at once; throughput and latency percentiles of all of them."""
    results: list[tuple[int, list[float]]] = []
    errors: list[BaseException] = []

    def one(seed: int) -> None:
        try:
            results.append(work(seed))
        except BaseException as exc:  # noqa: BLE001 # reported below, the benchmark fails
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(seed,)) for seed in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"{len(errors)} clients failed, first: {errors[0]!r}")
    total = sum(r[0] for r in results)
    latencies = sorted(x for r in results for x in r[1])
    return {
        "seconds": round(elapsed, 3),
        "bytes": total,
        "requests": len(latencies),
        "mib_per_s": round(total / MIB / elapsed, 1),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="netbundle-bench-serve-") as tmp:
        work = Path(tmp)
        bundle, pub, manifest = prepare(work)
        server, info = start_server(bundle, pub, work)
        try:
            files = served_files(str(info["url"]), manifest, work / "files")
            address = ("127.0.0.1", int(info["port"]))  # type: ignore[call-overload]
            file_client(files, 1, 0)  # warm the page cache
            samples: dict[str, list[dict[str, float]]] = {"http": [], "files": []}
            for _ in range(args.runs):  # interleaved, so drift in machine load hits both alike
                samples["http"].append(
                    concurrently(args.clients, lambda seed: http_client(address, files, args.rounds, seed))
                )
                samples["files"].append(
                    concurrently(args.clients, lambda seed: file_client(files, args.rounds, seed))
                )
        finally:
            server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=60)
            log_lines = (work / "serve.log").read_text().splitlines()
    if code != 0:
        raise SystemExit(f"serve exited {code}")
    result = _summary(args, files, samples, log_lines, bundle_size=sum(f.size for f in files))
    write_result(result, args.json)
    return 0


def _summary(
    args: argparse.Namespace,
    files: Sequence[Served],
    samples: dict[str, list[dict[str, float]]],
    log_lines: Sequence[str],
    bundle_size: int,
) -> dict[str, object]:
    median = {k: statistics.median(s["mib_per_s"] for s in v) for k, v in samples.items()}
    requests = sum(int(s["requests"]) for s in samples["http"])
    logged = sum(1 for line in log_lines if '"GET /files/' in line)
    if logged != requests:
        raise SystemExit(f"{requests} file requests made, {logged} access-log lines")
    return {
        **header(
            args.runs, clients=args.clients, rounds=args.rounds, files=len(files), bytes_per_round=bundle_size
        ),
        "samples": samples,
        "median_mib_per_s": median,
        "http_to_files_ratio": round(median["http"] / median["files"], 3),
        "every_hash_correct": True,
        "access_log_lines_for_files": logged,
    }


if __name__ == "__main__":
    raise SystemExit(main())
