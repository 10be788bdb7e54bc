"""Progress for a person on a terminal; quiet, line-oriented logging when stderr is not one (CI logs).

On a terminal a step shows ``message ...`` and then ``done (3.2 s)`` on the same line, and a counter redraws one
line (``\\r``). Elsewhere a step is one ``INFO:`` log line and a counter logs nothing but its end. ``-q`` (log level
WARNING) silences both.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Iterator

import click

_log = logging.getLogger("netbundle")


def on_terminal() -> bool:
    """Whether stderr is a terminal and progress is not silenced by -q (a test replaces this)."""
    return sys.stderr.isatty() and _log.getEffectiveLevel() <= logging.INFO


@contextlib.contextmanager
def step(message: str) -> Iterator[None]:
    """Announce a slow step (scrypt, signing) and say when it is done."""
    if not on_terminal():
        _log.info("%s", message)
        yield
        return
    click.echo(f"{message} ...", err=True, nl=False)
    started = time.monotonic()
    try:
        yield
    except BaseException:
        click.echo(" failed", err=True)
        raise
    click.echo(f" done ({time.monotonic() - started:.1f} s)", err=True)


def human_bytes(count: int) -> str:
    """``12.3 MiB``."""
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # not reached


class DownloadProgress:
    """The download line of ``fetch`` and ``build``: files done of total and bytes downloaded.

    Pass :meth:`files` as ``FetchRequest.progress`` and :meth:`downloaded` as ``FetchRequest.on_download``; call
    :meth:`finish` afterwards. On a terminal the line is redrawn in place; elsewhere one summary line is logged.
    """

    def __init__(self, terminal: bool | None = None) -> None:
        self.terminal = on_terminal() if terminal is None else terminal
        self.done = self.total = self.count = self.bytes = 0
        self.drawn = False
        #: whether the line is on screen now (a log line clears it first, the next update draws it again)
        self.showing = False
        self._filter = _ClearLine(self)

    def files(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if self.terminal:
            if not self.drawn:
                for handler in logging.getLogger().handlers:
                    handler.addFilter(self._filter)
            width = 30
            filled = width * done // max(total, 1)
            bar = "#" * filled + "." * (width - filled)
            click.echo(
                f"\r  downloading [{bar}] {done}/{total} files, {human_bytes(self.bytes)}", err=True, nl=False
            )
            self.drawn = self.showing = True

    def downloaded(self, _name: str, size: int) -> None:
        self.count += 1
        self.bytes += size

    def finish(self) -> None:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(self._filter)
        if self.showing:
            click.echo("", err=True)
            self.showing = False
        if self.total:
            _log.info("%d files ready, %d downloaded (%s)", self.total, self.count, human_bytes(self.bytes))


class _ClearLine(logging.Filter):
    """Clears the download line before a log line is written, so the two never share a terminal line."""

    def __init__(self, progress: DownloadProgress) -> None:
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        if self.progress.showing:
            sys.stderr.write("\r\033[K")  # not click.echo: it drops escape sequences it thinks are styles
            self.progress.showing = False
        return True
