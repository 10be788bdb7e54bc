"""The built netbundle.pyz: its contents, reproducibility, and runs on a hostile host (read-only HOME, noexec
/tmp, no cryptography) with only the embedded trusted key."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from netbundle.runtime.trusted import RESOURCE

from .conftest import BuiltPyz, build_pyz

pytestmark = pytest.mark.integration

#: What site-packages/ in the pyz may hold at its top level (netbundle's runtime and the pinned pure wheels).
ALLOWED_TOP = {"netbundle", "packaging", "installer", "ecdsa", "six.py"}
BUILDER_PACKAGES = ("lock", "fetch", "build", "bundle", "cli", "targets")


def run_pyz(
    pyz: Path, *argv: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", str(pyz), *argv], capture_output=True, text=True, env=env, check=False, cwd=cwd
    )


def test_contents_are_the_runtime_and_its_pinned_dependencies(pyz: BuiltPyz) -> None:
    names = zipfile.ZipFile(pyz.path).namelist()
    assert sorted(n for n in names if not n.startswith("site-packages/")) == [
        "__main__.py",
        "environment.json",
    ]
    top = {n.split("/")[1] for n in names if n.startswith("site-packages/")}
    assert {t for t in top if not t.endswith(".dist-info")} == ALLOWED_TOP
    assert sorted(t.split("-")[0] for t in top if t.endswith(".dist-info")) == [
        "ecdsa", "installer", "packaging", "six",
    ]  # fmt: skip
    assert "site-packages/installer-0.7.0.dist-info/METADATA" in names  # the 3.9-compatible release
    netbundle = {n.split("/", 2)[2] for n in names if n.startswith("site-packages/netbundle/")}
    assert {n.split("/")[0] for n in netbundle} == {
        "__init__.py",
        "_atomic.py",
        "errors.py",
        "format",
        "runtime",
    }
    assert f"runtime/{RESOURCE}" in netbundle
    assert not [n for n in names if n.endswith(".pyc") or "click" in n or "_bootstrap" in n]
    for package in BUILDER_PACKAGES:
        assert not [n for n in netbundle if n.startswith(f"{package}/")]


def test_launcher_imports_from_the_archive(pyz: BuiltPyz) -> None:
    launcher = zipfile.ZipFile(pyz.path).read("__main__.py").decode()
    assert "netbundle.runtime.__main__ import main" in launcher
    assert pyz.path.read_bytes().startswith(b"#!/usr/bin/env python3\n")


def test_two_builds_are_identical(pyz: BuiltPyz, tmp_path: Path) -> None:
    again = build_pyz(tmp_path / "again.pyz", pyz.key.pub_path)
    assert hashlib.sha256(again.read_bytes()).hexdigest() == hashlib.sha256(pyz.path.read_bytes()).hexdigest()


def test_help_under_isolated_mode(pyz: BuiltPyz) -> None:
    done = run_pyz(pyz.path, "--help")
    assert done.returncode == 0, done.stderr
    assert "exit codes:" in done.stdout and "rehearse" in done.stdout


def test_embedded_key_verifies_without_trust_files(pyz: BuiltPyz, tmp_path: Path) -> None:
    done = run_pyz(pyz.path, "verify", str(pyz.bundle), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["signers"] == [pyz.key.public.key_id_hex]
    other = make_other_bundle(tmp_path)
    refused = run_pyz(pyz.path, "verify", str(other))
    assert refused.returncode == 14
    assert refused.stderr.startswith("error: no signature is by a trusted key")


def make_other_bundle(tmp_path: Path) -> Path:
    from tests.support.bundles import make_bundle, make_keypair

    return make_bundle(tmp_path / "other.tar", keys=[make_keypair(tmp_path / "k", "other")])


def test_verifies_with_pure_python_ed25519_when_cryptography_is_missing(pyz: BuiltPyz) -> None:
    code = (
        "import runpy, sys; sys.modules['cryptography'] = None; "
        f"sys.argv = ['netbundle.pyz', 'version']; runpy.run_path({str(pyz.path)!r}, run_name='__main__')"
    )
    version = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False)
    assert "Ed25519 via ecdsa" in version.stdout, version.stderr
    verify = subprocess.run(
        [sys.executable, "-I", "-c", code.replace("'version'", f"'verify', {str(pyz.bundle)!r}")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0 and verify.stdout.startswith("verified: "), verify.stderr


def hostile_host_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


HOSTILE = """
set -e
mount -t tmpfs -o noexec,nosuid tmpfs "$T"
mount --bind "$H" "$H" && mount -o remount,bind,ro "$H"
if touch "$H/probe" 2>/dev/null; then echo "HOME is writable" >&2; exit 90; fi
printf '#!/bin/sh\\necho ran\\n' > "$T/probe" && chmod +x "$T/probe"
if "$T/probe" 2>/dev/null; then echo "TMPDIR allows exec" >&2; exit 91; fi
export HOME="$H" TMPDIR="$T"
"$PY" -I "$PYZ" verify "$BUNDLE"
"$PY" -I "$PYZ" install "$BUNDLE" --prefix "$PREFIX" --json > "$PREFIX.json"
"$PY" -I "$PYZ" check --prefix "$PREFIX"
echo LEFTOVERS
find "$H" "$T" -mindepth 1 ! -path "$T/probe"
"""


@pytest.mark.skipif(not hostile_host_works(), reason="needs root and mount namespaces (unshare -m)")
def test_install_with_read_only_home_and_noexec_tmp(pyz: BuiltPyz, tmp_path: Path) -> None:
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",
        "H": str(home),
        "T": str(tmp),
        "PY": sys.executable,
        "PYZ": str(pyz.path),
        "BUNDLE": str(pyz.bundle),
        "PREFIX": str(tmp_path / "prefix"),
    }
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", HOSTILE],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    output, leftovers = done.stdout.split("LEFTOVERS\n")
    assert output.startswith("verified: sample-project 1.0.0")
    assert "no drift" in output
    assert leftovers == ""  # nothing written to HOME or TMPDIR
    assert json.loads((tmp_path / "prefix.json").read_text())["status"] == "installed"


def test_rehearse_runs_the_installer_from_the_archive(pyz: BuiltPyz, tmp_path: Path) -> None:
    # the bundle named relative to the operator's directory: the installer step runs elsewhere (the scratch prefix)
    elsewhere = tmp_path / "operator"
    elsewhere.mkdir()
    relative = os.path.relpath(pyz.bundle, elsewhere)
    done = run_pyz(
        pyz.path, "rehearse", relative, "--report", str(tmp_path), "--isolation", "guard", cwd=elsewhere
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "rehearsal.json").read_text())
    assert report["ok"] and report["bundle"]["verified"]
    assert report["steps"][0]["command"].split()[1:4] == ["-s", "-m", "netbundle.runtime"]


def test_an_embedded_endorsement_keeps_the_threshold_meaning(tmp_path: Path) -> None:
    """Threshold 2 with a rotated key: the old and the new key of one holder are one lineage in the pyz too."""
    from tests.integration.pyz.conftest import build_pyz
    from tests.support.bundles import make_bundle, make_keypair

    from netbundle.bundle.signing import endorse
    from netbundle.format.trust import TRUST_HEADER

    old, new, other = (make_keypair(tmp_path / "keys", n) for n in ("old", "new", "other"))
    trust = tmp_path / "trust.txt"
    trust.write_text(
        f"{TRUST_HEADER}\nthreshold 2\nkey old {old.public.to_base64()}\n"
        + endorse(new.public, old.secret, name="new", endorser_name="old")
        + f"key other {other.public.to_base64()}\n"
    )
    pyz = build_pyz(tmp_path / "netbundle.pyz", trust)
    one_holder = make_bundle(tmp_path / "one.tar", keys=[old, new])
    two_holders = make_bundle(tmp_path / "two.tar", keys=[new, other])
    refused = run_pyz(pyz, "verify", str(one_holder))
    assert refused.returncode == 15, refused.stderr  # ThresholdError
    assert "count once" in refused.stderr
    accepted = run_pyz(pyz, "verify", str(two_holders))
    assert accepted.returncode == 0, accepted.stderr
