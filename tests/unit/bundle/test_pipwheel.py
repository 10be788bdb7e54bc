"""Which pip wheel a bundle carries in tools/ (pure choice over index links)."""

from __future__ import annotations

import pytest

from netbundle.bundle.pipwheel import choose_pip
from netbundle.errors import NetworkError
from netbundle.fetch.index import Link
from netbundle.targets import parse_target

PY39 = parse_target("cp39-manylinux_2_28_x86_64")
PY311 = parse_target("cp311-manylinux_2_28_x86_64")


def link(version: str, requires: str | None = ">=3.9", *, sha: str | None = "a" * 64, yanked: bool = False,
         name: str | None = None) -> Link:  # fmt: skip
    filename = name or f"pip-{version}-py3-none-any.whl"
    return Link(filename=filename, url=f"http://127.0.0.1/{filename}", sha256=sha, yanked=yanked,
                requires_python=requires)  # fmt: skip


LINKS = [
    link("25.3", ">=3.9"),
    link("26.3", ">=3.10"),
    link("26.4b1", ">=3.10"),
    link("24.0", ">=3.7"),
    link("25.3", name="pip-25.3.tar.gz"),
]


@pytest.mark.parametrize(
    ("targets", "version", "expected"),
    [
        ([PY311], None, "pip-26.3-py3-none-any.whl"),  # newest final release that runs on 3.11
        ([PY39, PY311], None, "pip-25.3-py3-none-any.whl"),  # 26.x needs 3.10: the oldest target decides
        ([PY311], "24.0", "pip-24.0-py3-none-any.whl"),  # pinned
        ([PY311], "26.4b1", "pip-26.4b1-py3-none-any.whl"),  # a pre-release only when asked for
    ],
)
def test_choice(targets: list, version: str | None, expected: str) -> None:  # type: ignore[type-arg]
    assert choose_pip(LINKS, targets, version).filename == expected


@pytest.mark.parametrize(
    "links",
    [
        [link("25.3", sha=None)],  # no hash published: nothing to pin
        [link("25.3", yanked=True)],
        [link("26.3", ">=3.10")],  # does not run on 3.9
        [link("25.3", "not a specifier")],
        [link("25.3", name="pip-25.3-cp311-cp311-linux_x86_64.whl")],  # not a pure py3 wheel
    ],
)
def test_nothing_suitable_is_a_clear_error(links: list[Link]) -> None:
    with pytest.raises(NetworkError, match="no wheel of a pip release"):
        choose_pip(links, [PY39], None)


def test_pinned_version_missing_names_it() -> None:
    with pytest.raises(NetworkError, match=r"pip 23\.0"):
        choose_pip(LINKS, [PY311], "23.0")
