"""Reading what ``netbundle.pyz serve --json`` prints once it listens (for the tests and benchmarks/serve.py)."""

from __future__ import annotations

from typing import IO


def read_ready_object(stdout: IO[str]) -> str:
    """The indented JSON object ``serve --json`` prints when it is ready: the lines up to the closing ``}``,
    or what came before the output ended ("" when the server exited first)."""
    text = ""
    for line in stdout:
        text += line
        if line.startswith("}"):
            break
    return text
