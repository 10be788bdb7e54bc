"""Artifact choice per (package, target), on plain data: only the lock's files, best tag first."""

from __future__ import annotations

import pytest

from netbundle._types import NormalizedName, Sha256
from netbundle.errors import TargetError
from netbundle.fetch.plan import plan_fetch
from netbundle.lock.model import LockedFile, LockedPackage, PackageSource, SelectedPackage
from netbundle.targets import parse_target
from netbundle.targets.choice import choose, choose_all


def package(*filenames: str, source: PackageSource | None = None) -> LockedPackage:
    files = tuple(LockedFile(filename=f, sha256=Sha256(f"{i:064x}")) for i, f in enumerate(filenames))
    return LockedPackage(name=NormalizedName("pkg"), version="1.0", files=files, source=source)


def best(target: str, *filenames: str) -> str:
    t = parse_target(target)
    ranks = {str(tag): i for i, tag in enumerate(t.tags())}
    choice = choose(package(*filenames), t, ranks)
    return f"{choice.kind}:{choice.file.filename if choice.file else None}"


WHEELS = [
    "pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "pkg-1.0-cp311-cp311-manylinux_2_28_x86_64.whl",
    "pkg-1.0-cp311-cp311-musllinux_1_2_x86_64.whl",
    "pkg-1.0-cp39-abi3-manylinux_2_17_aarch64.whl",
    "pkg-1.0-cp311-cp311-macosx_10_9_universal2.whl",
    "pkg-1.0-cp311-cp311-macosx_11_0_arm64.whl",
    "pkg-1.0-cp311-cp311-win_amd64.whl",
    "pkg-1.0-cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "pkg-1.0-py3-none-any.whl",
    "pkg-1.0.tar.gz",
]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("cp311-manylinux_2_34_x86_64", "wheel:pkg-1.0-cp311-cp311-manylinux_2_28_x86_64.whl"),
        (
            "cp311-manylinux_2_17_x86_64",
            "wheel:pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        ),
        ("cp311-musllinux_1_2_x86_64", "wheel:pkg-1.0-cp311-cp311-musllinux_1_2_x86_64.whl"),
        ("cp312-manylinux_2_28_aarch64", "wheel:pkg-1.0-cp39-abi3-manylinux_2_17_aarch64.whl"),
        ("cp311-macosx_14_0_arm64", "wheel:pkg-1.0-cp311-cp311-macosx_11_0_arm64.whl"),
        ("cp311-macosx_10_15_x86_64", "wheel:pkg-1.0-cp311-cp311-macosx_10_9_universal2.whl"),
        ("cp311-win_amd64", "wheel:pkg-1.0-cp311-cp311-win_amd64.whl"),
        (
            "cp39-manylinux_2_28_x86_64",
            "wheel:pkg-1.0-cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        ),
        ("cp313-manylinux_2_28_x86_64", "wheel:pkg-1.0-py3-none-any.whl"),
        ("pp310-manylinux_2_28_x86_64", "wheel:pkg-1.0-py3-none-any.whl"),
    ],
)
def test_best_wheel(target: str, expected: str) -> None:
    assert best(target, *WHEELS) == expected


def test_sdist_when_no_wheel_fits() -> None:
    assert best("cp313-win_arm64", *WHEELS[:8], "pkg-1.0.tar.gz") == "sdist:pkg-1.0.tar.gz"


def test_nothing_fits_is_explained() -> None:
    with pytest.raises(TargetError) as info:
        best("cp313-win_arm64", *WHEELS[:3])
    message = str(info.value)
    assert "pkg 1.0: no file in the lock fits target cp313-win_arm64" in message
    assert "cp311-cp311-manylinux_2_28_x86_64" in message and "no sdist" in message


@pytest.mark.parametrize(
    ("source", "files", "kind", "needs_build"),
    [
        (
            PackageSource(type="git", url="https://git.example/x.git", resolved_reference="abc"),
            (),
            "git",
            True,
        ),
        (PackageSource(type="directory", url="vendor/x"), (), "directory", True),
        (
            PackageSource(type="url", url="https://files.example/pkg-1.0-py3-none-any.whl"),
            ("pkg-1.0-py3-none-any.whl",),
            "url",
            False,
        ),
        (
            PackageSource(type="url", url="https://files.example/pkg-1.0.tar.gz"),
            ("pkg-1.0.tar.gz",),
            "url",
            True,
        ),
        (
            PackageSource(type="file", url="vendor/pkg-1.0-py3-none-any.whl"),
            ("pkg-1.0-py3-none-any.whl",),
            "file",
            False,
        ),
    ],
)
def test_direct_sources(source: PackageSource, files: tuple[str, ...], kind: str, needs_build: bool) -> None:
    t = parse_target("cp311-manylinux_2_28_x86_64")
    choice = choose(package(*files, source=source), t, {str(tag): i for i, tag in enumerate(t.tags())})
    assert (choice.kind, choice.needs_build) == (kind, needs_build)


def test_plan_fetches_each_file_once_and_collects_builds() -> None:
    pure = SelectedPackage(
        package=package("pkg-1.0-py3-none-any.whl"), marker=None, groups=frozenset({"main"})
    )
    sdist = LockedPackage(
        name=NormalizedName("src"),
        version="2",
        files=(LockedFile(filename="src-2.tar.gz", sha256=Sha256("f" * 64)),),
    )
    built = SelectedPackage(package=sdist, marker=None, groups=frozenset({"main"}))
    choices = {
        name: choose_all([pure, built], parse_target(name))
        for name in ("cp311-manylinux_2_28_x86_64", "cp39-win_amd64")
    }
    plan = plan_fetch(choices)
    assert [i.filename for i in plan.items] == ["pkg-1.0-py3-none-any.whl", "src-2.tar.gz"]
    assert [c.package.name for c in plan.builds] == ["src"]
    assert all(i.kind == "index" and i.source is None for i in plan.items)


def test_choose_all_reports_every_unservable_package() -> None:
    a = SelectedPackage(package=package("pkg-1.0-cp311-cp311-win_amd64.whl"), marker=None, groups=frozenset())
    b = SelectedPackage(
        package=LockedPackage(
            name=NormalizedName("other"),
            version="3",
            files=(LockedFile(filename="other-3-cp311-cp311-win_amd64.whl", sha256=Sha256("e" * 64)),),
        ),
        marker=None,
        groups=frozenset(),
    )
    with pytest.raises(
        TargetError, match="2 packages cannot be served for target cp311-manylinux_2_28_x86_64"
    ):
        choose_all([a, b], parse_target("cp311-manylinux_2_28_x86_64"))
