"""Fuzz targets, one per parser of outside input: whatever the input, it parses or ends in a NetbundleError with
its exit code, never another exception (issue 14).

Inputs are valid seeds mutated byte-wise (flips, cuts, insertions, splices) and, for the JSON manifest, with a
random value put at a random place of the valid structure (the kind of input that once crashed the parser with a
non-string lock path). Bounded for CI by ``NETBUNDLE_FUZZ_EXAMPLES`` (default 150 per target, about a minute in
all); ``scripts/fuzz`` runs them longer.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.bundles import make_bundle, make_keypair
from tests.support.minisign_keys import fixed_key, public, signature_bytes

from netbundle.errors import NetbundleError
from netbundle.format import locks, minisign, tar, trust
from netbundle.format.manifest import canonical_json, parse_manifest
from netbundle.lock.poetry import parse_lock

EXAMPLES = int(os.environ.get("NETBUNDLE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    derandomize=os.environ.get("NETBUNDLE_FUZZ_RANDOM") is None,  # CI: the same examples every run
)
LOCK_SEED = (Path(__file__).resolve().parents[1] / "data" / "locks").glob("**/poetry.lock")


def _edits(seed: bytes) -> st.SearchStrategy[list[tuple[str, int, bytes]]]:
    """A few byte-level edits of ``seed``: flips, cuts, insertions, deletions, overwrites."""
    edit = st.tuples(
        st.sampled_from(["flip", "cut", "insert", "delete", "splice"]),
        st.integers(min_value=0, max_value=max(len(seed) - 1, 0)),
        st.binary(min_size=1, max_size=16),
    )
    return st.lists(edit, min_size=1, max_size=4)


def _apply(seed: bytes, edits: list[tuple[str, int, bytes]]) -> bytes:
    data = bytearray(seed)
    for kind, at, chunk in edits:
        at = min(at, len(data))
        if kind == "flip" and data:
            data[min(at, len(data) - 1)] ^= chunk[0] or 1
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = chunk
        elif kind == "delete":
            del data[at : at + len(chunk)]
        else:
            data[at : at + len(chunk)] = chunk
    return bytes(data)


def _mutations(seed: bytes) -> st.SearchStrategy[bytes]:
    """``seed`` with a few byte-level edits applied."""
    return _edits(seed).map(lambda edits: _apply(seed, edits))


def _text(seed: str) -> st.SearchStrategy[str]:
    return st.one_of(
        _mutations(seed.encode()).map(lambda b: b.decode("utf-8", "replace")), st.text(max_size=300)
    )


def _survives(parse: Callable[[Any], object], value: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a newer minor format version warns; that is not the point here
        try:
            parse(value)
        except NetbundleError as exc:
            assert isinstance(exc.exit_code, int) and exc.exit_code > 0
            assert str(exc)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("fuzz-seeds")
    key = make_keypair(root, "release")
    bundle = make_bundle(
        root / "b.tar", packages=(("alpha", "1.0"), ("beta", "2.0")), keys=[key], with_pip=False
    )
    with tarfile.open(bundle) as archive:
        manifest = archive.extractfile("netbundle/manifest.json").read()  # type: ignore[union-attr]
        lock_member = next(n for n in archive.getnames() if n.endswith("requirements-main.txt"))
        lock_text = archive.extractfile(lock_member).read().decode()  # type: ignore[union-attr]
    return {
        "root": root,
        "key": key,
        "bundle": bundle.read_bytes(),
        "manifest": manifest,
        "lock": lock_text,
        "policy": trust.load_trust(key.pub_path),
    }


def test_manifest_bytes(seeds: dict[str, Any]) -> None:
    @FUZZ
    @given(_mutations(seeds["manifest"]))
    def check(raw: bytes) -> None:
        _survives(parse_manifest, raw)

    check()


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def test_manifest_structure(seeds: dict[str, Any]) -> None:
    valid = json.loads(seeds["manifest"])
    paths = _paths(valid)[1:]

    @FUZZ
    @given(st.sampled_from(paths), _JSON)
    def check(path: tuple[Any, ...], value: Any) -> None:
        data = json.loads(seeds["manifest"])
        holder = data
        for step in path[:-1]:
            holder = holder[step]
        holder[path[-1]] = value
        _survives(parse_manifest, canonical_json(data))

    check()


def test_trust_file() -> None:
    seed = "\n".join(
        [
            "# trust",
            trust.TRUST_HEADER,
            "threshold 2",
            f"key release {public(fixed_key(1)).to_base64()}",
            f"key ci {public(fixed_key(2)).to_base64()}",
        ]
    )

    @FUZZ
    @given(_text(seed))
    def check(text: str) -> None:
        _survives(lambda t: trust.parse_trust(t, "trust.txt"), text)

    check()


def test_public_key_file() -> None:
    seed = minisign.render_public_key(public(fixed_key(1)))

    @FUZZ
    @given(_text(seed))
    def check(text: str) -> None:
        _survives(minisign.parse_public_key, text)

    check()


def test_signature_file() -> None:
    seed = signature_bytes(b"manifest\n", fixed_key(1)).decode()

    @FUZZ
    @given(_text(seed))
    def check(text: str) -> None:
        _survives(minisign.parse_signature, text)

    check()


def test_bundle_requirement_file(seeds: dict[str, Any]) -> None:
    @FUZZ
    @given(_text(seeds["lock"]))
    def check(text: str) -> None:
        _survives(lambda t: locks.parse_strict(t, "requirements-main.txt"), text)

    check()


def test_poetry_lock() -> None:
    seed = min(LOCK_SEED, key=lambda p: p.stat().st_size).read_text()

    @FUZZ
    @given(_text(seed))
    def check(text: str) -> None:
        _survives(parse_lock, text)

    check()


def test_tar_reader(seeds: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "fuzzed.tar"
    seed = seeds["bundle"]

    @FUZZ
    @given(_edits(seed))  # the edits, not the 30 kB result, so that a failing example prints short
    def check(edits: list[tuple[str, int, bytes]]) -> None:
        target.write_bytes(_apply(seed, edits))
        staging = tmp_path / "staging"
        _survives(lambda p: tar.read_unverified(p), target)
        try:
            tar.verify_bundle(target, seeds["policy"], staging)
        except NetbundleError as exc:
            assert exc.exit_code in (10, 11, 12, 13, 14, 15), exc
            assert not staging.exists()  # a refused bundle leaves nothing staged
        else:
            shutil.rmtree(staging)  # an edit that changed nothing the format covers (header padding, mtime)

    check()


METADATA_SEED = (
    b"Metadata-Version: 2.1\nName: alpha\nVersion: 1.0\nRequires-Dist: beta>=2; extra == 'x'\nRequires-Dist: gamma\n"
    b"  ; python_version < '4'\nProvides-Extra: x\nRequires-Python: >=3.9\n\nThe long description.\n"
)


def test_installed_metadata_bytes(tmp_path: Path) -> None:
    """The install's METADATA reader (dependency check, receipt): whatever a wheel installed, it reads it or
    stops with an InstallError, and agrees with importlib.metadata whenever importlib can read the file."""
    from tests.runtime.test_distinfo import fast_view, importlib_view

    from netbundle.runtime.depcheck import read_installed

    counter = iter(range(10**9))

    @FUZZ
    @given(_mutations(METADATA_SEED))
    def check(raw: bytes) -> None:
        site = tmp_path / str(next(counter))
        (site / "alpha-1.0.dist-info").mkdir(parents=True)
        (site / "alpha-1.0.dist-info" / "METADATA").write_bytes(raw)
        _survives(read_installed, [str(site)])
        try:
            expected = importlib_view(site)
        except (UnicodeDecodeError, TypeError):
            return  # importlib.metadata itself fails on this file
        assert fast_view(site) == expected, repr(raw)

    check()


def test_wheel_check_bytes(tmp_path: Path) -> None:
    """The wheel check every install runs before pip: a mutated wheel passes or is refused (exit 10), never
    another exception."""
    from tests.support.wheels import make_wheel

    from netbundle.format.wheel import check_wheel

    seed = make_wheel(
        tmp_path / "seed", "alpha", "1.0", entry_points="[console_scripts]\nalpha = alpha:main\n"
    )
    counter = iter(range(10**9))

    @FUZZ
    @given(_mutations(seed.read_bytes()))
    def check(raw: bytes) -> None:
        path = tmp_path / f"{next(counter)}.whl"
        path.write_bytes(raw)
        _survives(lambda p: check_wheel(p, p.name), path)

    check()
