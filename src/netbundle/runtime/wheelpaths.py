"""Where a wheel may write: every file stays inside its scheme directory (pure checks).

pypa/installer 0.7 joins a wheel's member names and console-script names onto the scheme directory as they come,
so a member ``../../etc/x`` or an entry point named ``../x`` would land outside the venv. The installer engine
checks each path before anything is written (its destination calls :func:`check_scheme_path`); the check is here
and not in pypa/installer because the shipped version has none.
"""

from __future__ import annotations

import posixpath

from ..errors import UnsafeWheelPathError
from ..format.wheel import path_problem

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping


def is_safe_relative(path: str) -> bool:
    """A relative POSIX file path whose parts are plain names: :func:`netbundle.format.wheel.path_problem` (the
    rule every wheel of a bundle is checked against before any engine runs) finds nothing, and, a file being
    written, no trailing slash.

    >>> [is_safe_relative(p) for p in ("a/b.py", "../x", "/etc/x", "a//b", "c:/x", "a\\\\..\\\\b", "a/")]
    [True, False, False, False, False, False, False]
    """
    return not path.endswith("/") and not path_problem(path)


def check_scheme_path(scheme_dirs: Mapping[str, str], scheme: str, path: str, wheel: str) -> str:
    """The absolute target of ``path`` in ``scheme``; refused unless it is a safe path inside that directory.

    :raises UnsafeWheelPathError: the path could escape (names the wheel and the path).
    """
    root = scheme_dirs.get(scheme)
    if root is None:
        raise UnsafeWheelPathError("{} writes into an unknown scheme {!r}".format(wheel, scheme))
    if not is_safe_relative(path):
        raise UnsafeWheelPathError(
            "{} names an unsafe path {!r} (in its {} files)".format(wheel, path[:200], scheme),
            hint="the wheel is refused; nothing was switched",
        )
    # plain names below root cannot leave it (no part is "..", none is absolute): no normalization needed
    return posixpath.join(root, path)
