"""Every command line in the operator docs and CI templates names a real subcommand with real options.

The docs are written from the commands' ``--help``; this keeps them honest when an option is renamed. Each
``netbundle ...`` / ``netbundle.pyz ...`` invocation in a fenced code block (docs) or anywhere (templates) is
split with shlex; its subcommand must exist in the builder CLI (click) or the installer CLI (argparse), and every
``--option`` it uses must be one that subcommand accepts.
"""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import click
import pytest

from netbundle.cli import cli
from netbundle.runtime.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
DOCS = [
    *sorted((REPO / "docs").glob("*.md")),
    *sorted((REPO / "docs" / "runbooks").glob("*.md")),
    REPO / "sample-bundles" / "netops-automation" / "README.md",
]
TEMPLATES = [p for p in sorted((REPO / "ci-templates").rglob("*")) if p.is_file() and p.suffix != ".md"]
_FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.DOTALL)
_STOP = {"|", "||", "&&", ";", ">", ">>", "<", "2>&1"}


def command_lines(text: str) -> list[str]:
    """Shell lines that run netbundle, with backslash continuations joined."""
    joined = text.replace("\\\n", " ")
    lines = [line for line in joined.splitlines() if not line.strip().startswith(("#", "//"))]
    return [line for line in lines if re.search(r"\bnetbundle(\.pyz)?\s+[a-z]", line)]


#: Words that run the next word as a program (interpreters and wrappers), as they appear before netbundle.
_WRAPPERS = re.compile(
    r"^(python[0-9.]*|sudo|env|exec|unshare|nsenter|ip|netns|timeout|time|nice|[0-9]+[smh]?|[A-Z_][A-Z0-9_]*=.*)$"
)


def invocations(line: str) -> list[tuple[str, list[str]]]:
    """(which CLI, argv after the program) for each netbundle call in a shell line: a netbundle word counts only
    where a command starts (line start, after ``|``/``&&``/``;``, after an interpreter or wrapper and its options),
    so ``sha256sum dist/netbundle.pyz ...`` or a YAML ``name: netbundle rollout`` are not calls."""
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError:
        return []
    found = []
    at_command = True
    for index, token in enumerate(tokens):
        if token in _STOP or token.endswith(";"):
            at_command = True
            continue
        if not at_command:
            continue
        name = token.rsplit("/", 1)[-1]
        if name in ("netbundle", "netbundle.pyz"):
            rest = []
            for item in tokens[index + 1 :]:
                if item in _STOP or item.endswith(";"):
                    break
                rest.append(item)
            found.append(("pyz" if name.endswith(".pyz") else "builder", rest))
            at_command = False
        elif not (token.startswith("-") or _WRAPPERS.match(name)):
            at_command = False
    return found


def builder_options(argv: list[str]) -> tuple[str, set[str]]:
    command: click.Command = cli
    args = [a for a in argv if a not in ("-q", "-v", "--quiet", "--verbose")]
    path = []
    while isinstance(command, click.Group) and args and not args[0].startswith("-"):
        name = args.pop(0)
        assert name in command.commands, f"netbundle has no command {' '.join([*path, name])!r}"
        path.append(name)
        command = command.commands[name]
    options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"--help", "-h"}
    return " ".join(path), options


def pyz_options(argv: list[str]) -> tuple[str, set[str]]:
    parser = build_parser()
    args = [a for a in argv if a not in ("-v", "--verbose", "-q", "--quiet")]
    path: list[str] = []
    while True:  # down the command groups (`generations remove`)
        sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if sub is None or (path and (not args or args[0] not in sub.choices)):
            break
        assert args and args[0] in sub.choices, f"netbundle.pyz has no command {[*path, *args[:1]]}"
        path.append(args.pop(0))
        parser = sub.choices[path[-1]]
    return " ".join(path), set(parser._option_string_actions)


def cases() -> list[tuple[str, str]]:
    found = []
    for path in DOCS:
        for block in _FENCE.findall(path.read_text()):
            found.extend((str(path.relative_to(REPO)), line) for line in command_lines(block))
    for path in TEMPLATES:
        found.extend((str(path.relative_to(REPO)), line) for line in command_lines(path.read_text()))
    return found


def test_the_docs_show_commands() -> None:
    assert len(cases()) > 30


@pytest.mark.parametrize(("where", "line"), cases())
def test_documented_command_exists_with_its_options(where: str, line: str) -> None:
    for kind, argv in invocations(line):
        if not argv or argv[0].startswith("<"):
            continue
        command, options = builder_options(argv) if kind == "builder" else pyz_options(argv)
        used = {a.split("=", 1)[0] for a in argv if a.startswith("--")}
        unknown = sorted(used - options)
        assert not unknown, f"{where}: `{command}` has no option {', '.join(unknown)}: {line.strip()}"
