from __future__ import annotations

import pytest
from tests.support.requirements import ENVIRONMENTS

from netbundle.errors import LockError
from netbundle.lock import markers as m

MARKERS = [
    'python_version >= "3.9"',
    'sys_platform == "win32" or platform_system == "Darwin"',
    '(python_version < "3.11" or platform_machine == "aarch64") and os_name == "posix"',
    'python_full_version >= "3.14.0" and platform_python_implementation != "PyPy"',
    '"linux" in sys_platform and implementation_name == "cpython"',
]


@pytest.mark.parametrize("text", MARKERS)
def test_parse_render_round_trip_is_semantically_identical(text: str) -> None:
    from packaging.markers import Marker

    node = m.parse(text)
    rendered = m.render(node)
    for env in ENVIRONMENTS:
        assert m.evaluate(node, env) == Marker(text).evaluate(env) == Marker(rendered).evaluate(env)


@pytest.mark.parametrize(
    ("text", "extras", "expected"),
    [
        ('extra == "yaml"', frozenset({"yaml"}), True),
        ('extra == "yaml"', frozenset(), False),
        ('extra != "yaml"', frozenset({"yaml"}), False),
        ('python_version < "3.11" and extra == "yaml"', frozenset({"yaml"}), 'python_version < "3.11"'),
        ('python_version < "3.11" and extra == "yaml"', frozenset({"socks"}), False),
        ('extra == "a" or extra == "b"', frozenset({"b"}), True),
        (
            '(extra == "a" and sys_platform == "win32") or python_version >= "3.12"',
            frozenset(),
            'python_version >= "3.12"',
        ),
        ('extra == "Some_Extra"', frozenset({"some-extra"}), True),
    ],
)
def test_apply_extras(text: str, extras: frozenset[str], expected: object) -> None:
    result = m.apply_extras(m.parse(text), extras)
    assert (m.render(result) if isinstance(expected, str) else result) == expected


def test_all_and_any_simplify() -> None:
    a, b = m.parse('os_name == "nt"'), m.parse('python_version >= "3.9"')
    assert m.all_of(a, m.TRUE) == a
    assert m.all_of(a, m.FALSE) is m.FALSE
    assert m.any_of([a, m.TRUE]) is m.TRUE
    assert m.any_of([m.FALSE, m.FALSE]) is m.FALSE
    assert m.all_of(a, a) == a
    assert (
        m.render(m.any_of([m.all_of(a, b), a]))
        == '(os_name == "nt" and python_version >= "3.9") or os_name == "nt"'
    )
    assert (
        m.render(m.all_of(m.any_of([a, b]), a))
        == '(os_name == "nt" or python_version >= "3.9") and os_name == "nt"'
    )
    with pytest.raises(ValueError, match="never-true"):
        m.render(m.FALSE)


def test_invalid_marker_names_the_place() -> None:
    with pytest.raises(LockError, match="invalid marker in pkg: 'python_version >>'"):
        m.parse("python_version >>", where="pkg")


@pytest.mark.parametrize(
    ("constraint", "inside", "outside"),
    [
        (">=3.9,<4.0", ["3.9.0", "3.13.1"], ["3.8.18", "4.0.0"]),
        ("^3.9", ["3.9.1", "3.14.0"], ["3.8.18", "4.0.0"]),
        ("~3.10", ["3.10.0", "3.10.14"], ["3.11.0", "3.9.18"]),
        ("~=3.10", ["3.10.0", "3.13.1"], ["4.0.0", "3.9.18"]),
        ("3.9.*", ["3.9.0", "3.9.18"], ["3.10.1"]),
        (">=3.8 || <3", ["3.12.4", "2.7.18"], ["3.7.1"]),
        (">=3.9.2", ["3.9.2", "3.10.0"], ["3.9.1"]),
        ("*", ["2.7.18", "3.14.0"], []),
        ("!=3.10.*,>=3.9", ["3.9.0", "3.11.1"], ["3.10.5"]),
    ],
)
def test_python_constraints(constraint: str, inside: list[str], outside: list[str]) -> None:
    node = m.python_constraint(constraint)

    def env(version: str) -> dict[str, str]:
        return {"python_version": ".".join(version.split(".")[:2]), "python_full_version": version}

    for version in inside:
        assert m.evaluate(node, {**ENVIRONMENTS[0], **env(version)}), (constraint, version)
    for version in outside:
        assert not m.evaluate(node, {**ENVIRONMENTS[0], **env(version)}), (constraint, version)


def test_unsupported_python_constraint() -> None:
    with pytest.raises(LockError, match="unsupported Python version constraint"):
        m.python_constraint(">=three")


@pytest.mark.parametrize(
    "text", ["python_version > '3'\n--find-links http://127.0.0.1/", "python_version > '3\n-r x'"]
)
def test_a_marker_cannot_carry_a_line_break(text: str) -> None:
    from netbundle.errors import LockError
    from netbundle.lock import markers

    with pytest.raises(LockError, match="invalid marker"):
        markers.parse(text)
