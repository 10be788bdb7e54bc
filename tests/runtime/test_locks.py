"""The bundle's requirement files: one renderer, one strict parser; nothing but name==version + hashes reaches pip
(issue 14, finding 4)."""

from __future__ import annotations

import pytest

from netbundle.errors import BundleFormatError
from netbundle.format.locks import Pin, parse_strict, pin_problem, render_group_lock

A, B = "a" * 64, "b" * 64


def test_render_then_parse_strict_round_trips() -> None:
    text = render_group_lock(
        "cp311-manylinux_2_28_x86_64", "main", [("zeta", "2.0rc1", B), ("alpha", "1!1.0+l.1", A)]
    )
    assert parse_strict(text, "x.txt") == (Pin("alpha", "1!1.0+l.1", (A,)), Pin("zeta", "2.0rc1", (B,)))


def test_several_hashes_per_entry() -> None:
    text = f"# c\nalpha==1.0 \\\n    --hash=sha256:{A} \\\n    --hash=sha256:{B}\n"
    assert parse_strict(text, "x") == (Pin("alpha", "1.0", (A, B)),)


@pytest.mark.parametrize(
    ("name", "version", "sha"),
    [
        ("alpha", "1.0\n--find-links http://127.0.0.1/", A),
        ("alpha\n-r other.txt", "1.0", A),
        ("alpha", "1.0 ; python_version>'3'", A),
        ("alpha[x]", "1.0", A),
        ("-e", "1.0", A),
        ("alpha", "1.0", "A" * 64),
        ("alpha", "", A),
    ],
)
def test_render_refuses_what_pip_could_read_as_something_else(name: str, version: str, sha: str) -> None:
    assert pin_problem(name, version, sha)
    with pytest.raises(ValueError, match="is not a"):
        render_group_lock("t", "main", [(name, version, sha)])


@pytest.mark.parametrize(("target", "group"), [("t\n--index-url x", "main"), ("t", "main\n-r x"), ("t", "")])
def test_render_refuses_bad_labels(target: str, group: str) -> None:
    with pytest.raises(ValueError, match="not a target or group name"):
        render_group_lock(target, group, [])


GOOD = f"alpha==1.0 \\\n    --hash=sha256:{A}\n"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("--find-links http://127.0.0.1/\n" + GOOD, 1),
        (GOOD + "--index-url http://127.0.0.1/\n", 3),
        (GOOD + "-r other.txt\n", 3),
        (GOOD + "-e .\n", 3),
        (GOOD + "\n", 3),
        (f"alpha==1.0 --hash=sha256:{A}\n", 1),
        (f"alpha==1.0 ; sys_platform == 'linux' \\\n    --hash=sha256:{A}\n", 1),
        (f"alpha @ http://127.0.0.1/a.whl \\\n    --hash=sha256:{A}\n", 1),
        (f"alpha==1.0 \\\n    --hash=sha256:{A} --find-links x\n", 2),
        (f"alpha==1.0 \\\n\n    --hash=sha256:{A}\n", 2),
        (f"alpha==1.0 \\\r\n    --hash=sha256:{A}\n", 1),
        ("# comment ending in a continuation \\\n" + GOOD, 1),
        (f"alpha>=1.0 \\\n    --hash=sha256:{A}\n", 1),
    ],
)
def test_parse_strict_refuses_any_other_shape(text: str, line: int) -> None:
    with pytest.raises(BundleFormatError, match=rf"^locks/t/r\.txt, line {line}: ") as info:
        parse_strict(text, "locks/t/r.txt")
    assert info.value.exit_code == 10


def test_parse_strict_refuses_an_unfinished_entry() -> None:
    with pytest.raises(BundleFormatError, match="ends without its last --hash line"):
        parse_strict(f"alpha==1.0 \\\n    --hash=sha256:{A} \\\n", "r.txt")
