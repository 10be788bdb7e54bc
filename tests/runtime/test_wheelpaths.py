"""Every path a wheel writes stays inside its scheme directory."""

from __future__ import annotations

import pytest

from netbundle.errors import UnsafeWheelPathError
from netbundle.runtime.wheelpaths import check_scheme_path, is_safe_relative

SCHEMES = {"purelib": "/v/lib/site-packages", "scripts": "/v/bin", "data": "/v"}


@pytest.mark.parametrize("path", ["a.py", "pkg/sub/m.py", "x.dist-info/RECORD", "share/a/b.txt", "..a/b..c"])
def test_plain_relative_paths_are_safe(path: str) -> None:
    assert is_safe_relative(path)
    assert check_scheme_path(SCHEMES, "data", path, "w.whl") == "/v/" + path


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/etc/passwd",
        "../x",
        "a/../../x",
        "a/./b",
        "a//b",
        "a/",
        "c:/x",
        "a\\..\\b",
        "a\nb",
        "a\x00b",
        "..",
    ],
)
def test_unsafe_paths_are_refused_with_the_wheel_named(path: str) -> None:
    assert not is_safe_relative(path)
    with pytest.raises(UnsafeWheelPathError, match=r"w\.whl names an unsafe path"):
        check_scheme_path(SCHEMES, "scripts", path, "w.whl")


def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(UnsafeWheelPathError, match="unknown scheme 'headers'"):
        check_scheme_path(SCHEMES, "headers", "a.h", "w.whl")
