"""Core metadata read from a wheel for PEP 658 ``.metadata`` files."""

from __future__ import annotations

import zipfile
from pathlib import Path

from tests.support.wheels import make_wheel

from netbundle.runtime.serve.metadata import MAX_METADATA_BYTES, read_core_metadata


def test_the_wheels_own_metadata(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "Ruamel.Yaml", "0.19.1", requires=("six",))
    data = read_core_metadata(wheel, wheel.name)
    assert data is not None
    assert data.startswith(b"Metadata-Version: 2.1\nName: Ruamel.Yaml\nVersion: 0.19.1\nRequires-Dist: six\n")


def test_the_dist_info_matching_the_file_name_wins(tmp_path: Path) -> None:
    path = tmp_path / "alpha-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("vendored-2.0.dist-info/METADATA", b"Name: vendored\n")
        zf.writestr("alpha-1.0.dist-info/METADATA", b"Name: alpha\n")
        zf.writestr("alpha/sub.dist-info/METADATA", b"Name: nested\n")
    assert read_core_metadata(path, path.name) == b"Name: alpha\n"


def test_no_usable_metadata_gives_none(tmp_path: Path) -> None:
    ambiguous = tmp_path / "alpha-1.0-py3-none-any.whl"
    with zipfile.ZipFile(ambiguous, "w") as zf:
        zf.writestr("x-1.dist-info/METADATA", b"a")
        zf.writestr("y-1.dist-info/METADATA", b"b")
    assert read_core_metadata(ambiguous, ambiguous.name) is None
    huge = tmp_path / "big-1.0-py3-none-any.whl"
    with zipfile.ZipFile(huge, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big-1.0.dist-info/METADATA", b"x" * (MAX_METADATA_BYTES + 1))
    assert read_core_metadata(huge, huge.name) is None
    broken = tmp_path / "broken-1.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip")
    assert read_core_metadata(broken, broken.name) is None
    sdist = tmp_path / "alpha-1.0.tar.gz"
    sdist.write_bytes(b"")
    assert read_core_metadata(sdist, sdist.name) is None
