"""The list of builder subcommands; each module under netbundle.cli adds its own here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netbundle.cli.bundle import build, diff, inspect, merge, sign, verify
from netbundle.cli.ee import ee_context
from netbundle.cli.export import export
from netbundle.cli.fetch import fetch
from netbundle.cli.keys import keygen, trust_group

if TYPE_CHECKING:
    import click

COMMANDS: list[click.Command] = [
    export,
    fetch,
    build,
    verify,
    inspect,
    diff,
    merge,
    sign,
    ee_context,
    keygen,
    trust_group,
]
