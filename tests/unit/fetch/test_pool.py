"""Which sources a package without a source pin (and the carried pip) is looked up on: Poetry 2's pool."""

from __future__ import annotations

import pytest

from netbundle.fetch.sources import pool_order
from netbundle.lock.pyproject import Source, parse_pyproject


def sources(*entries: tuple[str, str]) -> list[Source]:
    return [Source(name=name, url=f"https://{name}.example/simple", priority=prio) for name, prio in entries]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ([], (None,)),  # no source: the default index (Poetry's implicit PyPI)
        ([("corp", "primary")], ("corp",)),  # a primary source disables the implicit default index
        ([("a", "primary"), ("b", "primary")], ("a", "b")),  # pyproject order within a class
        ([("extra", "supplemental")], (None, "extra")),
        ([("priv", "explicit")], (None,)),  # explicit: only for packages pinned to it
        ([("s", "supplemental"), ("p", "primary"), ("x", "explicit")], ("p", "s")),
        ([("old", "default"), ("p", "primary")], ("old", "p")),  # Poetry 1's default ranks first
        (
            [("sec", "secondary")],
            (None, "sec"),
        ),  # Poetry 1's secondary: after primary, keeps the default index
        ([("old", "default")], ("old",)),  # a default source disables the implicit default index
    ],
)
def test_pool_order_follows_poetry(
    configured: list[tuple[str, str]], expected: tuple[str | None, ...]
) -> None:
    assert pool_order(sources(*configured)) == expected


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        # a url-less `pypi` entry puts the default index at its priority and position
        (
            [{"name": "corp", "url": "https://corp/simple"}, {"name": "PyPI", "priority": "primary"}],
            ("corp", None),
        ),
        (
            [{"name": "pypi", "priority": "primary"}, {"name": "corp", "url": "https://corp/simple"}],
            (None, "corp"),
        ),
        (
            [{"name": "corp", "url": "https://corp/simple"}, {"name": "pypi", "priority": "supplemental"}],
            ("corp", None),
        ),
        (
            [{"name": "corp", "url": "https://corp/simple"}, {"name": "pypi", "priority": "explicit"}],
            ("corp",),
        ),
        (
            [
                {"name": "x", "url": "https://x/simple", "priority": "supplemental"},
                {"name": "pypi", "priority": "explicit"},
            ],
            ("x",),
        ),
    ],
)
def test_an_explicit_pypi_entry_places_the_default_index(
    entries: list[dict[str, str]], expected: tuple[str | None, ...]
) -> None:
    project = parse_pyproject({"tool": {"poetry": {"name": "demo", "source": entries}}})
    assert pool_order(project.sources, project.default_index) == expected
