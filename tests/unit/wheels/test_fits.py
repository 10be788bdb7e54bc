from __future__ import annotations

from pathlib import Path

import pytest

from netbundle.errors import BuildError
from netbundle.targets import parse_target
from netbundle.wheels.build import BuiltWheel, check_fits


def built(name: str) -> BuiltWheel:
    return BuiltWheel(
        path=Path(name), sha256="0" * 64, input_filename="x.tar.gz", input_sha256="1" * 64, backend="b"
    )


@pytest.mark.parametrize(
    ("wheel", "target"),
    [
        ("pkg-1.0-py3-none-any.whl", "cp312-win_arm64"),
        ("pkg-1.0-cp311-cp311-linux_x86_64.whl", "cp311-manylinux_2_28_x86_64"),
        ("pkg-1.0-cp311-abi3-linux_x86_64.whl", "cp312-manylinux_2_17_x86_64"),
    ],
)
def test_fits(wheel: str, target: str) -> None:
    check_fits(built(wheel), parse_target(target), "pkg 1.0")


@pytest.mark.parametrize(
    ("wheel", "target"),
    [
        ("pkg-1.0-cp311-cp311-linux_x86_64.whl", "cp311-manylinux_2_28_aarch64"),
        ("pkg-1.0-cp311-cp311-linux_x86_64.whl", "cp39-manylinux_2_28_x86_64"),
        ("pkg-1.0-cp311-cp311-linux_x86_64.whl", "cp311-win_amd64"),
    ],
)
def test_foreign_targets_get_the_remedy(wheel: str, target: str) -> None:
    with pytest.raises(BuildError) as info:
        check_fits(built(wheel), parse_target(target), "pkg 1.0")
    assert f"does not fit target {target}" in str(info.value)
    assert "netbundle merge" in (info.value.hint or "")
