"""The bundle's requirement files: one renderer and one parser for both halves."""

from __future__ import annotations

import pytest

from netbundle.errors import BundleFormatError
from netbundle.format.locks import (
    Pin,
    parse_group_lock,
    parse_strict,
    pin_problem,
    pinned_hashes,
    pinned_versions,
    render_group_lock,
)


def test_pinned_versions_reads_the_bundle_lock_format() -> None:
    text = (
        "# netbundle lock for target t, group main\n"
        "alpha==1.0 \\\n"
        "    --hash=sha256:" + "a" * 64 + " \\\n"
        "    --hash=sha256:" + "b" * 64 + "\n"
        "Beta.Thing[extra]==2.0.post1 \\\n"
        "    --hash=sha256:" + "c" * 64 + "\n"
        "--only-binary=:all:\n"
        "\n"
        "gamma==3 ; python_version >= '3'  # stray marker\n"
    )
    assert pinned_versions(text) == {"alpha": "1.0", "beta-thing": "2.0.post1", "gamma": "3"}


def test_pinned_hashes_reads_both_spellings() -> None:
    text = f"a==1 \\\n    --hash=sha256:{'a' * 64} \\\n    --hash sha256:{'b' * 64}\nb==2 --hash=md5:{'c' * 32}\n"
    assert pinned_hashes(text) == ("a" * 64, "b" * 64)


def test_render_then_parse_round_trips() -> None:
    rows = [("beta", "2.0", "b" * 64), ("alpha", "1.0", "a" * 64)]
    text = render_group_lock("cp311-manylinux_2_28_x86_64", "main", rows)
    assert text.splitlines()[0] == (
        "# netbundle: target cp311-manylinux_2_28_x86_64, group main; every hash is a file in this bundle's wheels/"
    )
    assert parse_group_lock(text) == (
        Pin(name="alpha", version="1.0", hashes=("a" * 64,)),
        Pin(name="beta", version="2.0", hashes=("b" * 64,)),
    )


# --- the strict shape (issue 14, finding 4): nothing but name==version and hashes reaches pip ---------------

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
