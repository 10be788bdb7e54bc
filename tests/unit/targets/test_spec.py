from __future__ import annotations

import pytest

from netbundle.errors import InputError
from netbundle.targets import Target, expand_platforms, parse_target, resolve_targets, targets_from_config


@pytest.mark.parametrize(
    ("platform", "accepted", "refused"),
    [
        ("manylinux_2_34_x86_64", ["manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64",
                                   "manylinux2010_x86_64", "manylinux_2_5_x86_64", "linux_x86_64"],
         ["manylinux_2_35_x86_64", "manylinux_2_28_aarch64", "musllinux_1_2_x86_64"]),
        ("manylinux_2_28_aarch64", ["manylinux_2_17_aarch64", "manylinux2014_aarch64"],
         ["manylinux1_aarch64", "manylinux_2_28_x86_64"]),
        ("musllinux_1_2_x86_64", ["musllinux_1_1_x86_64", "musllinux_1_0_x86_64"],
         ["manylinux_2_17_x86_64", "musllinux_1_3_x86_64"]),
        ("macosx_11_0_arm64", ["macosx_11_0_universal2", "macosx_10_9_universal2", "macosx_11_0_arm64"],
         ["macosx_12_0_arm64", "macosx_10_9_x86_64"]),
        ("win_amd64", ["win_amd64"], ["win32", "win_arm64"]),
    ],
)  # fmt: skip
def test_platform_ladders(platform: str, accepted: list[str], refused: list[str]) -> None:
    expanded = list(expand_platforms([platform]))
    assert expanded[0] == platform
    for tag in accepted:
        assert tag in expanded
    for tag in refused:
        assert tag not in expanded


@pytest.mark.parametrize(
    ("spec", "best", "present", "absent"),
    [
        ("cp311-manylinux_2_28_x86_64", "cp311-cp311-manylinux_2_28_x86_64",
         ["cp311-abi3-manylinux_2_17_x86_64", "cp38-abi3-manylinux2014_x86_64", "py3-none-any", "py311-none-any"],
         ["cp312-abi3-manylinux_2_28_x86_64", "cp311-cp311-manylinux_2_28_aarch64", "cp310-cp310-manylinux_2_28_x86_64"]),
        ("cp39-manylinux_2_17_x86_64", "cp39-cp39-manylinux_2_17_x86_64",
         ["cp39-abi3-manylinux1_x86_64", "py39-none-any"],
         ["cp39-cp39-manylinux_2_28_x86_64", "cp311-abi3-manylinux_2_17_x86_64"]),
        ("cp312-win_amd64", "cp312-cp312-win_amd64", ["cp312-none-win_amd64", "py3-none-any"], ["cp312-cp312-win32"]),
        ("pp310-manylinux_2_17_x86_64", "pp310-pypy310_pp73-manylinux_2_17_x86_64", ["py3-none-any"],
         ["cp310-cp310-manylinux_2_17_x86_64"]),
    ],
)  # fmt: skip
def test_tags_in_priority_order(spec: str, best: str, present: list[str], absent: list[str]) -> None:
    tags = [str(t) for t in parse_target(spec).tags()]
    if spec.startswith("pp"):
        assert tags[0].startswith("pp310-") and tags[0].endswith("manylinux_2_17_x86_64")
    else:
        assert tags[0] == best
    for tag in present:
        assert tag in tags
    for tag in absent:
        assert tag not in tags
    assert tags.index("py3-none-any") > len(tags) // 2


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("cp39-manylinux_2_34_x86_64", {"sys_platform": "linux", "platform_machine": "x86_64", "python_version": "3.9",
                                       "platform_system": "Linux", "os_name": "posix"}),
        ("cp311-macosx_11_0_arm64", {"sys_platform": "darwin", "platform_machine": "arm64", "platform_system": "Darwin"}),
        ("cp312-win_amd64", {"sys_platform": "win32", "platform_machine": "AMD64", "os_name": "nt"}),
        ("pp310-manylinux_2_17_aarch64", {"platform_python_implementation": "PyPy", "implementation_name": "pypy",
                                         "platform_machine": "aarch64"}),
    ],
)  # fmt: skip
def test_marker_environment(spec: str, expected: dict[str, str]) -> None:
    env = parse_target(spec).marker_environment()
    assert {k: env[k] for k in expected} == expected
    assert set(env) >= {
        "python_full_version",
        "implementation_version",
        "platform_release",
        "platform_version",
    }


@pytest.mark.parametrize("bad", ["py311-linux", "cp311", "cp311-beos_x86", "3.11:manylinux_2_28_x86_64"])
def test_inline_spec_errors_show_the_accepted_form(bad: str) -> None:
    with pytest.raises(InputError) as info:
        parse_target(bad)
    assert bad in str(info.value) or "platform" in str(info.value)


def test_config_and_resolution() -> None:
    configured = targets_from_config(
        [
            {"name": "rhel9-py39", "python": "3.9", "platform": "manylinux_2_34_x86_64"},
            {"name": "ee", "python": "3.11", "platforms": ["manylinux_2_28_aarch64"]},
        ]
    )
    assert [t.name for t in resolve_targets([], configured)] == ["rhel9-py39", "ee"]
    chosen = resolve_targets(["ee", "cp312-win_amd64"], configured)
    assert chosen[0] == Target(name="ee", python_version="3.11", platforms=("manylinux_2_28_aarch64",))
    assert chosen[1].label == "cp312-win_amd64"


@pytest.mark.parametrize(
    "raw",
    [
        [{"name": "x", "python": "3.11"}],
        [{"python": "3.11", "platform": "win_amd64"}],
        [{"name": "x", "python": "eleven", "platform": "win_amd64"}],
        [{"name": "x", "python": "3.11", "platform": "win_amd64", "implementation": "jy"}],
        [
            {"name": "x", "python": "3.11", "platform": "win_amd64"},
            {"name": "x", "python": "3.9", "platform": "win32"},
        ],
    ],
    ids=["no-platform", "no-name", "bad-python", "bad-impl", "duplicate"],
)
def test_config_errors(raw: list[dict[str, object]]) -> None:
    with pytest.raises(InputError):
        targets_from_config(raw)
