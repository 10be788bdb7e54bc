from __future__ import annotations

import io

from netbundle.runtime.progress import PREFIX, TerminalProgress, terminal_progress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_when_stderr_is_not_a_terminal() -> None:
    assert terminal_progress(io.StringIO()) is None


def test_steps_get_lines_and_counts_overwrite_each_other() -> None:
    stream = Tty()
    progress = terminal_progress(stream)
    assert isinstance(progress, TerminalProgress)
    for message in ("pip install of 2 distributions (4/6)", "  1/2 distributions", "  2/2 distributions"):
        progress(message)
    progress("pip check (5/6)")
    progress.close()
    assert stream.getvalue() == (
        f"{PREFIX}pip install of 2 distributions (4/6)\n"
        "\r\033[K  1/2 distributions\r\033[K  2/2 distributions\n"
        f"{PREFIX}pip check (5/6)\n"
    )
