"""Which pip wheel a bundle carries in tools/: a pinned release (version and sha256), never the index's newest."""

from __future__ import annotations

import re

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from netbundle.bundle.pipwheel import PIP_PINS, PipPin, choose_pin
from netbundle.errors import InputError
from netbundle.lock.pyproject import NetbundleConfig
from netbundle.targets import parse_target

PY39 = parse_target("cp39-manylinux_2_28_x86_64")
PY311 = parse_target("cp311-manylinux_2_28_x86_64")
PY313 = parse_target("cp313-win_amd64")
NONE = NetbundleConfig()


def test_the_table_pins_a_version_and_a_sha256_per_python_range() -> None:
    assert PIP_PINS, "the builder must ship at least one pin"
    for pin in PIP_PINS:
        assert re.fullmatch(r"[0-9a-f]{64}", pin.sha256), pin
        assert Version(pin.version).release and not Version(pin.version).is_prerelease, pin
        SpecifierSet(pin.requires_python)  # a valid Requires-Python
        assert pin.filename == f"pip-{pin.version}-py3-none-any.whl"
    assert len({p.sha256 for p in PIP_PINS}) == len(PIP_PINS)
    # preferred first: newest first, and every target Python 3.9+ has a pin
    assert [Version(p.version) for p in PIP_PINS] == sorted(
        (Version(p.version) for p in PIP_PINS), reverse=True
    )
    for python in ("3.9.0", "3.10.0", "3.13.0", "3.14.0"):
        assert any(SpecifierSet(p.requires_python).contains(python) for p in PIP_PINS), python


def test_the_default_pin_for_current_pythons_has_the_console_script_fix() -> None:
    # pip 26.1.2 rejects console-script names that resolve outside the scripts directory (pip #14000)
    assert Version(choose_pin([PY311], NONE, where="p").version) >= Version("26.1.2")
    assert Version(choose_pin([PY313], NONE, where="p").version) >= Version("26.1.2")


def test_a_python_39_target_gets_the_last_pip_for_39_with_its_known_gap_named() -> None:
    pin = choose_pin([PY39, PY311], NONE, where="p")
    assert pin.version == "26.0.1"
    assert "console-script" in pin.note


def test_the_configured_pin_replaces_the_table() -> None:
    config = NetbundleConfig(pip_version="25.3", pip_sha256="b" * 64)
    assert choose_pin([PY311], config, where="p") == PipPin(version="25.3", sha256="b" * 64)


@pytest.mark.parametrize(
    ("version", "expected"),
    [("26.0.1", "26.0.1"), ("26.3", "26.3")],
)
def test_pip_version_chooses_among_pins(version: str, expected: str) -> None:
    assert choose_pin([PY311], NONE, version, where="p").version == expected


def test_an_unpinned_pip_version_is_refused_with_how_to_pin_it() -> None:
    with pytest.raises(InputError, match=r"--pip-version 99\.0: no sha256 is pinned") as caught:
        choose_pin([PY311], NONE, "99.0", where="p")
    assert "[tool.netbundle] pip = { version" in (caught.value.hint or "")


def test_no_pin_runs_on_every_target_is_a_clear_error() -> None:
    with pytest.raises(InputError, match=r"pyproject.toml: no pinned pip runs on Python 3.9.0"):
        choose_pin([PY39], NONE, "26.3", where="pyproject.toml")
