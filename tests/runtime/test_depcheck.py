"""The installer engine's dependency check: what pip check reports, from plain metadata."""

from __future__ import annotations

from pathlib import Path

import pytest

from netbundle.runtime.depcheck import InstalledDistribution, find_problems, read_installed

ENV = {"python_version": "3.11", "sys_platform": "linux", "platform_machine": "x86_64"}
HOST = ("cp311-cp311-manylinux_2_28_x86_64", "py3-none-any")


def dist(
    name: str, version: str, *requires: str, tags: tuple[str, ...] = ("py3-none-any",)
) -> InstalledDistribution:
    return InstalledDistribution(name, version, requires, tags)


def test_a_consistent_set_has_no_problems() -> None:
    installed = [
        dist("a", "1.0", "b>=2,<3", "c; python_version < '3'", "d; extra == 'socks'", "B_Pre>=1"),
        dist("b", "2.1"),
        dist("b-pre", "1.1rc1"),  # pre-releases satisfy, as in pip check
    ]
    assert find_problems(installed, ENV, HOST) == []


@pytest.mark.parametrize(
    ("installed", "problem"),
    [
        ([dist("a", "1.0", "b")], "a 1.0 requires b, which is not installed."),
        ([dist("a", "1.0", "b>=2"), dist("b", "1.0")], "a 1.0 has requirement b>=2, but you have b 1.0."),
        ([dist("a", "1.0", "c; sys_platform == 'linux'")], "a 1.0 requires c, which is not installed."),
        ([dist("a", "1.0", tags=("cp39-cp39-win_amd64",))], "a 1.0 is not supported on this platform"),
        ([dist("a", "1.0", "b (")], "a 1.0 has an invalid requirement 'b ('"),
    ],
)
def test_problems_are_worded_like_pip_check(installed: list[InstalledDistribution], problem: str) -> None:
    assert find_problems(installed, ENV, HOST) == [problem]


def test_read_installed_reads_metadata_and_wheel_tags(tmp_path: Path) -> None:
    info = tmp_path / "Alpha_X-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: Alpha_X\nVersion: 1.0\nRequires-Dist: b>=1\n"
    )
    (info / "WHEEL").write_text("Wheel-Version: 1.0\nTag: py3-none-any\n")
    assert read_installed([str(tmp_path)]) == [
        InstalledDistribution("alpha-x", "1.0", ("b>=1",), ("py3-none-any",))
    ]
