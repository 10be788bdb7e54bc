"""Small, real, signed bundles for tests: tiny pure wheels, per-group locks, the real pip wheel in tools/.

``make_bundle`` writes exactly what ``netbundle build`` writes (the same writer, manifest renderer and signer)
without an index or a Poetry project, so installer tests can make dozens of bundles in milliseconds. The bundled
pip is the real wheel ``scripts/prepare-corpus`` downloads into ``.cache/corpus/build-tools/``.
"""

from __future__ import annotations

import hashlib
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging import tags
from tests.support.wheels import make_wheel

from netbundle.bundle.signing import (
    SecretKey,
    generate_keypair,
    parse_secret_key,
    sign,
    signature_member_name,
)
from netbundle.format.manifest import (
    FORMAT_VERSION,
    Artifact,
    FileEntry,
    Manifest,
    Origin,
    PackageEntry,
    TargetEntry,
    render_manifest,
)
from netbundle.format.minisign import PublicKey, parse_public_key
from netbundle.format.tar import file_entry, write_bundle

if TYPE_CHECKING:
    from netbundle.format.tar import Content

ROOT = Path(__file__).resolve().parents[2]
BUILD_TOOLS = ROOT / ".cache" / "corpus" / "build-tools"
EPOCH = 315532800


@dataclass(frozen=True)
class KeyPair:
    secret: SecretKey
    public: PublicKey
    key_path: Path
    pub_path: Path


def make_keypair(directory: Path, name: str = "release") -> KeyPair:
    """A fresh unencrypted minisign key pair written to ``directory/name.key`` and ``.pub``."""
    directory.mkdir(parents=True, exist_ok=True)
    secret_text, public_text = generate_keypair(comment=f"{name} test key", password=None)
    key_path, pub_path = directory / f"{name}.key", directory / f"{name}.pub"
    key_path.write_bytes(secret_text)
    pub_path.write_bytes(public_text)
    return KeyPair(
        secret=parse_secret_key(secret_text.decode(), password=None),
        public=parse_public_key(public_text.decode()),
        key_path=key_path,
        pub_path=pub_path,
    )


def pip_wheel() -> Path:
    """The real pip wheel the corpus holds (``scripts/prepare-corpus`` downloads it)."""
    found = sorted(BUILD_TOOLS.glob("pip-*-py3-none-any.whl"))
    if not found:
        raise FileNotFoundError(f"no pip wheel in {BUILD_TOOLS}: run scripts/prepare-corpus")
    return found[-1]


PIP_PINS_DIR = ROOT / ".cache" / "pip-pins"


def pinned_pips() -> Path:
    """The directory holding the pip wheels of netbundle's pin table (``scripts/prepare-corpus`` downloads them)."""
    from netbundle.bundle.pipwheel import PIP_PINS

    missing = [p.filename for p in PIP_PINS if not (PIP_PINS_DIR / p.filename).is_file()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)} not in {PIP_PINS_DIR}: run scripts/prepare-corpus")
    return PIP_PINS_DIR


def member_ending(bundle: Path, suffix: str) -> bytes:
    """The bytes of the one member of ``bundle`` whose name ends with ``suffix`` (read unverified)."""
    with tarfile.open(bundle) as tar:
        (member,) = [m for m in tar.getmembers() if m.name.endswith(suffix)]
        return tar.extractfile(member).read()  # type: ignore[union-attr]


def host_target_name() -> str:
    """``cp311-manylinux_2_28_x86_64``-style name of this interpreter's most specific platform."""
    first = next(iter(tags.sys_tags()))
    return f"cp{sys.version_info[0]}{sys.version_info[1]}-{first.platform}"


def make_bundle(
    out: Path,
    *,
    packages: Sequence[tuple[str, str]] = (("alpha", "1.0"),),
    groups: Mapping[str, Sequence[str]] | None = None,
    keys: Sequence[KeyPair] = (),
    project: str = "sample-project",
    version: str = "1.0.0",
    target: str | None = None,
    smoke: Sequence[str] = (),
    with_pip: bool = True,
    requires: Mapping[str, Sequence[str]] | None = None,
    build_time: str = "2026-01-01T00:00:00Z",
    wheel_options: Mapping[str, Mapping[str, Any]] | None = None,
    lock_suffix: str = "",
    expires: str | None = None,
) -> Path:
    """Write a signed bundle at ``out`` and return it.

    ``groups`` maps a group to package names (default: every package in ``main``); ``requires`` maps a package
    name to its Requires-Dist lines; ``wheel_options`` a package name to more ``make_wheel`` arguments (e.g.
    ``entry_points``, ``extra_files``); ``lock_suffix`` is appended to every requirements file.
    """
    with tempfile.TemporaryDirectory(prefix="netbundle-test-bundle-") as tmp:
        return _make(
            out,
            Path(tmp),
            packages,
            groups,
            keys,
            project,
            version,
            target,
            smoke,
            with_pip,
            requires,
            build_time,
            wheel_options or {},
            lock_suffix,
            expires,
        )


def _make(
    out: Path,
    work: Path,
    packages: Sequence[tuple[str, str]],
    groups: Mapping[str, Sequence[str]] | None,
    keys: Sequence[KeyPair],
    project: str,
    version: str,
    target: str | None,
    smoke: Sequence[str],
    with_pip: bool,
    requires: Mapping[str, Sequence[str]] | None,
    build_time: str,
    wheel_options: Mapping[str, Mapping[str, Any]],
    lock_suffix: str,
    expires: str | None,
) -> Path:
    groups = dict(groups) if groups is not None else {"main": [name for name, _ in packages]}
    groups.setdefault("main", [])
    target_name = target or host_target_name()
    versions = dict(packages)
    files: dict[str, Content] = {}
    entries: list[FileEntry] = []
    wheel_of: dict[str, tuple[str, str]] = {}
    for name, pkg_version in packages:
        options = dict(wheel_options.get(name, {}))
        wheel = make_wheel(work, name, pkg_version, requires=tuple((requires or {}).get(name, ())), **options)
        path = f"wheels/{wheel.name}"
        files[path] = wheel
        entries.append(file_entry(path, "wheel", wheel))
        wheel_of[name] = (path, entries[-1].sha256)
    locks = {}
    for group, names in sorted(groups.items()):
        lines = [f"{n}=={versions[n]} \\\n    --hash=sha256:{wheel_of[n][1]}" for n in sorted(names)]
        text = ("# test lock\n" + "\n".join(lines) + "\n" + lock_suffix).encode()
        path = f"locks/{target_name}/requirements-{group}.txt"
        files[path] = text
        entries.append(file_entry(path, "lock", text))
        locks[group] = path
    pylock_path = f"locks/{target_name}/pylock.toml"
    pylock = b'lock-version = "1.0"\ncreated-by = "netbundle-tests"\npackages = []\n'
    files[pylock_path] = pylock
    entries.append(file_entry(pylock_path, "pylock", pylock))
    pip_member = None
    if with_pip:
        pip = pip_wheel()
        pip_member = f"tools/{pip.name}"
        files[pip_member] = pip
        entries.append(file_entry(pip_member, "tool", pip))
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        bundle_id=f"{project}-{version}-"
        + hashlib.sha256(repr(sorted(e.sha256 for e in entries)).encode()).hexdigest()[:12],
        project_name=project,
        project_version=version,
        builder_version="tests",
        build_time=build_time,
        lock_content_hash="0" * 64,
        lock_sha256="0" * 64,
        groups=tuple(sorted(groups)),
        extras=(),
        targets=(_target_entry(target_name, locks, pylock_path),),
        files=tuple(sorted(entries, key=lambda e: e.path)),
        packages=tuple(
            PackageEntry(
                name=name,
                version=pkg_version,
                groups=tuple(sorted(g for g, names in groups.items() if name in names)),
                artifacts=(
                    Artifact(
                        path=wheel_of[name][0],
                        targets=(target_name,),
                        origin=Origin("index", None, Path(wheel_of[name][0]).name, wheel_of[name][1]),
                    ),
                ),
            )
            for name, pkg_version in packages
        ),
        pip_wheel=pip_member,
        smoke=tuple(smoke),
        expires=expires,
    )
    manifest_bytes = render_manifest(manifest)
    signatures = {
        signature_member_name(k.secret): sign(
            manifest_bytes, k.secret, trusted_comment=f"test {manifest.bundle_id}"
        )
        for k in keys
    }
    return write_bundle(out, manifest=manifest_bytes, signatures=signatures, files=files, mtime=EPOCH)


def _target_entry(name: str, locks: Mapping[str, str], pylock: str) -> TargetEntry:
    implementation, platform = name.split("-", 1)
    python = f"{implementation[2]}.{implementation[3:]}"
    return TargetEntry(
        name=name,
        python_version=python,
        implementation=implementation[:2],
        abis=(),
        platforms=(platform,),
        marker_environment={"python_version": python, "sys_platform": "linux"},
        locks=dict(locks),
        pylock=pylock,
    )


def make_target_bundle(
    out: Path,
    *,
    targets: Mapping[str, Sequence[Path]],
    keys: Sequence[KeyPair] = (),
    pins: Mapping[str, Sequence[Path]] | None = None,
    project: str = "multi-target",
    version: str = "1.0.0",
) -> Path:
    """A signed bundle with several targets: ``targets`` maps a target name (``cp311-manylinux_2_28_x86_64``)
    to the wheel files the manifest assigns to it (a file listed by several targets is carried once).

    Each target gets one ``main`` lock pinning ``pins[target]`` (default: its own files); a pin outside the
    target's files makes the malformed bundle the verifier must refuse.
    """
    files: dict[str, Content] = {}
    entries: dict[str, FileEntry] = {}
    served: dict[Path, list[str]] = {}
    for name, wheels in targets.items():
        for wheel in wheels:
            served.setdefault(wheel, []).append(name)
            path = f"wheels/{wheel.name}"
            files[path] = wheel
            entries[path] = file_entry(path, "wheel", wheel)
    target_entries = []
    for name in targets:
        lines = []
        for wheel in (pins or targets).get(name, targets[name]):
            dist, wheel_version = wheel.name.split("-")[:2]
            digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
            lines.append(f"{dist.replace('_', '-').lower()}=={wheel_version} \\\n    --hash=sha256:{digest}")
        text = ("# test lock\n" + "\n".join(sorted(lines)) + "\n").encode()
        lock, pylock = f"locks/{name}/requirements-main.txt", f"locks/{name}/pylock.toml"
        files[lock], files[pylock] = text, b'lock-version = "1.0"\npackages = []\n'
        entries[lock], entries[pylock] = (
            file_entry(lock, "lock", text),
            file_entry(pylock, "pylock", files[pylock]),
        )
        target_entries.append(_target_entry(name, {"main": lock}, pylock))
    pip = pip_wheel()
    files[f"tools/{pip.name}"] = pip
    entries[f"tools/{pip.name}"] = file_entry(f"tools/{pip.name}", "tool", pip)
    by_package: dict[tuple[str, str], list[Artifact]] = {}
    for wheel, names in served.items():
        dist, wheel_version = wheel.name.split("-")[:2]
        entry = entries[f"wheels/{wheel.name}"]
        origin = Origin("index", None, wheel.name, entry.sha256)
        key = (dist.replace("_", "-").lower(), wheel_version)
        by_package.setdefault(key, []).append(Artifact(entry.path, tuple(sorted(names)), origin))
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        bundle_id=f"{project}-{version}-"
        + hashlib.sha256(repr(sorted(e.sha256 for e in entries.values())).encode()).hexdigest()[:12],
        project_name=project,
        project_version=version,
        builder_version="tests",
        build_time="2026-01-01T00:00:00Z",
        lock_content_hash="0" * 64,
        lock_sha256="0" * 64,
        groups=("main",),
        extras=(),
        targets=tuple(target_entries),
        files=tuple(sorted(entries.values(), key=lambda e: e.path)),
        packages=tuple(
            PackageEntry(name=n, version=v, groups=("main",), artifacts=tuple(a))
            for (n, v), a in sorted(by_package.items())
        ),
        pip_wheel=f"tools/{pip.name}",
    )
    manifest_bytes = render_manifest(manifest)
    signatures = {
        signature_member_name(k.secret): sign(
            manifest_bytes, k.secret, trusted_comment=f"test {manifest.bundle_id}"
        )
        for k in keys
    }
    return write_bundle(out, manifest=manifest_bytes, signatures=signatures, files=files, mtime=EPOCH)
