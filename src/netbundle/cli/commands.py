"""The list of builder subcommands; each module under netbundle.cli adds its own here."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
