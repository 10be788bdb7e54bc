"""Progress of ``install`` and ``rehearse`` for a person at a terminal; nothing when stderr is not one.

The runtime reports through a plain ``Callable[[str], None]`` (``install(progress=...)``): a step is a message
such as ``pip check (5/6)``, a count within a step is indented by two spaces (``  37/200 distributions``). On a
terminal each step gets its own line and the counts of a step overwrite each other on the line below it.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, TextIO

PREFIX = "netbundle: "


class TerminalProgress:
    """The callback: writes steps and counts to ``stream``; :meth:`close` ends a pending count line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.counting = False

    def __call__(self, message: str) -> None:
        if message.startswith("  "):
            self.stream.write("\r\033[K" + message)
            self.counting = True
        else:
            self.close()
            self.stream.write(PREFIX + message + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.counting:
            self.stream.write("\n")
            self.stream.flush()
            self.counting = False


def terminal_progress(stream: Any = None) -> Optional[TerminalProgress]:
    """A :class:`TerminalProgress` on ``stream`` (stderr) when it is a terminal, else None (quiet)."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return TerminalProgress(stream) if isatty is not None and isatty() else None
