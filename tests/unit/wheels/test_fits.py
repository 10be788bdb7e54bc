from __future__ import annotations

from pathlib import Path

import pytest

from netbundle.errors import BuildError
from netbundle.targets import parse_target
from netbundle.wheels.build import BuiltWheel, check_fits
from netbundle.wheels.compat import WheelPolicy


def policy(glibc: tuple[int, int] | None = (2, 17), machine: str = "x86_64", **more: object) -> WheelPolicy:
    versions = (f"GLIBC_{glibc[0]}.{glibc[1]}",) if glibc else ()
    options: dict[str, object] = {"symbol_versions": versions, "libraries": (), **more}
    return WheelPolicy(elf_files=("pkg/_ext.so",), machine=machine, glibc=glibc, **options)  # type: ignore[arg-type]


def built(name: str, compat: WheelPolicy | None = None) -> BuiltWheel:
    return BuiltWheel(
        path=Path(name),
        sha256="0" * 64,
        input_filename="x.tar.gz",
        input_sha256="1" * 64,
        backend="b",
        policy=compat,
    )


@pytest.mark.parametrize(
    ("wheel", "compat", "target"),
    [
        ("pkg-1.0-py3-none-any.whl", None, "cp312-win_arm64"),
        ("pkg-1.0-cp311-cp311-linux_x86_64.whl", policy((2, 28)), "cp311-manylinux_2_28_x86_64"),
        ("pkg-1.0-cp311-abi3-linux_x86_64.whl", policy((2, 17)), "cp312-manylinux_2_17_x86_64"),
        ("pkg-1.0-cp311-abi3-linux_x86_64.whl", policy((2, 2)), "cp312-manylinux_2_17_x86_64"),
        ("pkg-1.0-cp311-abi3-linux_x86_64.whl", policy((2, 34)), "cp312-manylinux_2_34_x86_64"),
        ("pkg-1.0-cp311-abi3-linux_x86_64.whl", policy((2, 36)), "cp312-linux_x86_64"),
        (
            "pkg-1.0-cp311-abi3-linux_x86_64.whl",
            policy(None, libraries=("libssl.so.3",)),
            "cp311-linux_x86_64",
        ),
    ],
)
def test_fits(wheel: str, compat: WheelPolicy | None, target: str) -> None:
    check_fits(built(wheel, compat), parse_target(target), "pkg 1.0")


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
        check_fits(built(wheel, policy()), parse_target(target), "pkg 1.0")
    assert f"does not fit target {target}" in str(info.value)
    assert "netbundle merge" in (info.value.hint or "")


def test_a_linux_wheel_needing_a_newer_glibc_than_the_target_promises_is_refused() -> None:
    """Issue 12: a linux_x86_64 wheel built here whose .so needs GLIBC_2.34 was served to a manylinux_2_17 target
    (this test used to assert that it fits)."""
    with pytest.raises(BuildError) as info:
        check_fits(
            built("pkg-1.0-cp311-abi3-linux_x86_64.whl", policy((2, 34))),
            parse_target("cp312-manylinux_2_17_x86_64"),
            "pkg 1.0",
        )
    assert info.value.exit_code == 7
    message, hint = info.value.message, info.value.hint or ""
    assert "pkg 1.0:" in message and "target cp312-manylinux_2_17_x86_64" in message
    assert "needs glibc 2.34 (GLIBC_2.34) and the target promises glibc 2.17" in message
    assert "netbundle merge" in hint and "no newer than 2.17 (e.g. a manylinux_2_17 x86_64 container)" in hint
    assert "pin a version of pkg that publishes a wheel for manylinux_2_17_x86_64" in hint


@pytest.mark.parametrize(
    ("compat", "target", "reason"),
    [
        (
            policy((2, 17), machine="aarch64"),
            "cp311-manylinux_2_28_x86_64",
            "are aarch64 code, the target is x86_64",
        ),
        (
            policy((2, 17), libraries=("libssl.so.3",)),
            "cp311-manylinux_2_34_x86_64",
            "links libssl.so.3 of this host",
        ),
        (
            policy((2, 17), unreadable=("pkg/_ext.so",)),
            "cp311-manylinux_2_34_x86_64",
            "cannot read the symbol versions",
        ),
        (
            policy((2, 17), newer_than_known=("GLIBCXX_3.4.40",)),
            "cp311-manylinux_2_34_x86_64",
            "GLIBCXX_3.4.40, newer",
        ),
        (
            policy((2, 17)),
            "cp311-musllinux_1_2_x86_64",
            "Linux (glibc) code, the target is musllinux_1_2_x86_64",
        ),
    ],
)
def test_other_refusals(compat: WheelPolicy, target: str, reason: str) -> None:
    with pytest.raises(BuildError, match="cannot run on target") as info:
        check_fits(built("pkg-1.0-cp311-abi3-linux_x86_64.whl", compat), parse_target(target), "pkg 1.0")
    assert reason in info.value.message
