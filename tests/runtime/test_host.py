from __future__ import annotations

import sys

import pytest

from netbundle.errors import TargetError, UsageError
from netbundle.format.manifest import Artifact, Manifest, Origin, PackageEntry, TargetEntry
from netbundle.runtime.host import HostInfo, choose_target, evaluate_target, target_label

HOST_39 = HostInfo(
    python_version="3.9",
    implementation="cp",
    tags=(
        "cp39-cp39-manylinux_2_35_x86_64",
        "cp39-cp39-manylinux_2_34_x86_64",
        "cp39-cp39-manylinux_2_28_x86_64",
        "cp39-cp39-manylinux_2_17_x86_64",
        "cp39-cp39-manylinux2014_x86_64",
        "cp39-abi3-manylinux_2_17_x86_64",
        "py3-none-manylinux_2_17_x86_64",
        "py3-none-any",
    ),
    marker_environment={"python_version": "3.9"},
)


def target(
    name: str, python: str = "3.9", platform: str = "manylinux_2_28_x86_64", impl: str = "cp"
) -> TargetEntry:
    return TargetEntry(
        name=name,
        python_version=python,
        implementation=impl,
        abis=(),
        platforms=(platform,),
        marker_environment={},
        locks={"main": f"locks/{name}/requirements-main.txt"},
        pylock=f"locks/{name}/pylock.toml",
    )


def manifest(targets: tuple[TargetEntry, ...], wheels: dict[str, tuple[str, ...]]) -> Manifest:
    """``wheels`` maps a wheel file name to the targets that install it."""
    packages = tuple(
        PackageEntry(
            name=filename.split("-")[0].lower(),
            version="1.0",
            groups=("main",),
            artifacts=(Artifact(f"wheels/{filename}", names, Origin("index", None, filename, "0" * 64)),),
        )
        for filename, names in wheels.items()
    )
    return Manifest(
        format_version="1.0",
        bundle_id="demo-1.0-abc",
        project_name="demo",
        project_version="1.0",
        builder_version="tests",
        build_time="2026-01-01T00:00:00Z",
        lock_content_hash="",
        lock_sha256="0" * 64,
        groups=("main",),
        extras=(),
        targets=targets,
        files=(),
        packages=packages,
    )


def test_current_host_describes_the_running_interpreter() -> None:
    host = HostInfo.current()
    assert host.python_version == "{}.{}".format(*sys.version_info[:2])
    assert host.implementation == "cp"
    assert "py3-none-any" in host.tags
    assert host.label.startswith("cp{}{}-".format(*sys.version_info[:2]))
    assert host.to_json()["tags"][0] == host.tags[0]


@pytest.mark.parametrize(
    ("wheels", "chosen"),
    [
        ({"a-1.0-py3-none-any.whl": ("t28",)}, "t28"),
        ({"a-1.0-cp39-cp39-manylinux_2_17_x86_64.manylinux2014_x86_64.whl": ("t28",)}, "t28"),
        ({"a-1.0-cp39-abi3-manylinux_2_17_x86_64.whl": ("t28",)}, "t28"),
    ],
    ids=["pure", "compressed-tag-set", "abi3"],
)
def test_a_target_whose_wheels_all_fit_is_chosen(wheels: dict[str, tuple[str, ...]], chosen: str) -> None:
    assert choose_target(manifest((target("t28"),), wheels), HOST_39).name == chosen


@pytest.mark.parametrize("order", [("t28", "t34"), ("t34", "t28")])
def test_the_most_specific_fitting_target_wins_whatever_the_manifest_order(order: tuple[str, str]) -> None:
    platforms = {"t28": "manylinux_2_28_x86_64", "t34": "manylinux_2_34_x86_64"}
    targets = tuple(target(name, platform=platforms[name]) for name in order)
    assert choose_target(manifest(targets, {"a-1.0-py3-none-any.whl": order}), HOST_39).name == "t34"


def test_equal_ranks_keep_the_manifest_order() -> None:
    targets = (target("first", platform="win_amd64"), target("second", platform="macosx_11_0_arm64"))
    assert choose_target(manifest(targets, {}), HOST_39).name == "first"


def test_no_fitting_target_names_every_target_and_the_host() -> None:
    targets = (target("py311", python="3.11"), target("py39-arm", platform="manylinux_2_28_aarch64"))
    wheels = {"lxml-5.0-cp39-cp39-manylinux_2_28_aarch64.whl": ("py39-arm",)}
    with pytest.raises(TargetError) as caught:
        choose_target(manifest(targets, wheels), HOST_39)
    assert str(caught.value) == (
        "bundle targets cp311-manylinux_2_28_x86_64, cp39-manylinux_2_28_aarch64; this host is "
        "cp39-manylinux_2_35_x86_64 (first tag cp39-cp39-manylinux_2_35_x86_64)"
    )
    assert caught.value.hint is not None
    assert "py311: needs Python 3.11 (this host runs 3.9)" in caught.value.hint
    assert "py39-arm: no host tag fits lxml-5.0-cp39-cp39-manylinux_2_28_aarch64.whl" in caught.value.hint


def test_implementation_must_match() -> None:
    fit = evaluate_target(manifest((target("pypy", impl="pp"),), {}), target("pypy", impl="pp"), HOST_39)
    assert fit.reasons == ("needs implementation pp (this host is cp)",)


def test_only_the_targets_own_wheels_count_and_many_unfit_wheels_are_summarised() -> None:
    wheels = {f"w{i}-1.0-cp39-cp39-win_amd64.whl": ("other",) for i in range(5)}
    wheels["x-1.0-py3-none-any.whl"] = ("t28", "other")
    m = manifest((target("t28"), target("other")), wheels)
    assert choose_target(m, HOST_39).name == "t28"
    unfit = evaluate_target(m, target("other"), HOST_39)
    shown = "w0-1.0-cp39-cp39-win_amd64.whl, w1-1.0-cp39-cp39-win_amd64.whl, w2-1.0-cp39-cp39-win_amd64.whl"
    assert unfit.reasons == (f"no host tag fits {shown} and 2 more",)


def test_an_unparsable_wheel_name_does_not_fit() -> None:
    fit = evaluate_target(manifest((target("t"),), {"broken.whl": ("t",)}), target("t"), HOST_39)
    assert fit.reasons == ("no host tag fits broken.whl",)


def test_a_wanted_target_is_used_when_it_fits() -> None:
    targets = (target("t28"), target("t34", platform="manylinux_2_34_x86_64"))
    assert choose_target(manifest(targets, {}), HOST_39, "t28").name == "t28"


def test_a_wanted_target_that_does_not_fit_fails_even_if_another_fits() -> None:
    targets = (target("t28"), target("py311", python="3.11"))
    with pytest.raises(TargetError, match="bundle targets cp311-manylinux_2_28_x86_64; this host"):
        choose_target(manifest(targets, {}), HOST_39, "py311")


def test_an_unknown_wanted_target_is_a_usage_error_listing_the_targets() -> None:
    with pytest.raises(UsageError, match="has no target 'nope'") as caught:
        choose_target(manifest((target("t28"),), {}), HOST_39, "nope")
    assert caught.value.hint == "its targets are: t28"


def test_target_label_uses_the_first_platform() -> None:
    assert target_label(target("x", python="3.11")) == "cp311-manylinux_2_28_x86_64"
