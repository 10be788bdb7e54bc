"""Every error class's exit code is documented, and codes identify one failure class each."""

from __future__ import annotations

import re
from pathlib import Path

from netbundle.errors import LockError, NetbundleError, iter_error_classes

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "exit-codes.md"


def documented() -> dict[int, set[str]]:
    table: dict[int, set[str]] = {}
    for line in DOC.read_text().splitlines():
        match = re.match(r"^\|\s*(\d+)\s*\|([^|]*)\|", line)
        if match:
            table[int(match.group(1))] = set(re.findall(r"`(\w+)`", match.group(2)))
    return table


def test_every_error_class_is_documented_with_its_code() -> None:
    table = documented()
    classes = iter_error_classes()
    assert LockError in classes
    for cls in classes:
        assert cls.__name__ in table.get(cls.exit_code, set()), (
            f"{cls.__name__} (exit {cls.exit_code}) not in {DOC}"
        )
        assert cls.__doc__, f"{cls.__name__} needs a docstring"


def test_documented_classes_exist_with_those_codes() -> None:
    by_name = {cls.__name__: cls for cls in iter_error_classes()}
    for code, names in documented().items():
        for name in names:
            assert by_name[name].exit_code == code


def test_root_code_and_hint() -> None:
    error = NetbundleError("x is wrong", hint="do y")
    assert (error.exit_code, str(error), error.hint) == (1, "x is wrong", "do y")
