"""The ``netops`` command: small, offline checks of what an installed environment can do.

``netops versions`` reports which vendor SDK groups are installed (and their versions), which is what an operator
wants to see right after an offline install; ``netops hosts CIDR`` renders an Ansible inventory for a subnet with
the project's own main dependencies (netaddr + Jinja2), so a smoke test exercises real code, not just imports.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib import metadata

from netops_sample import __version__

#: The distributions of each dependency group (pyproject.toml), in the order operators think of them.
GROUPS = {
    "main": ["httpx", "pydantic", "jinja2", "pyyaml", "rich", "paramiko", "netaddr"],
    "junos": ["junos-eznc", "ncclient"],
    "cisco": ["netmiko", "textfsm", "ntc-templates", "ciscoconfparse2"],
    "arista": ["pyeapi"],
}

INVENTORY = """[{{ group }}]
{% for host in hosts -%}
{{ prefix }}-{{ loop.index }} ansible_host={{ host }}
{% endfor %}"""


def installed_versions() -> dict:
    """Group -> distribution -> installed version (None when the distribution is not installed)."""
    found = {}
    for group, names in GROUPS.items():
        found[group] = {}
        for name in names:
            try:
                found[group][name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                found[group][name] = None
    return found


def render_hosts(cidr: str, group: str = "devices", prefix: str = "dev") -> str:
    """An Ansible INI inventory with one host per usable address of ``cidr``."""
    import jinja2
    import netaddr

    network = netaddr.IPNetwork(cidr)
    hosts = [str(ip) for ip in network.iter_hosts()]
    return jinja2.Template(INVENTORY).render(group=group, hosts=hosts, prefix=prefix)


def _out(text: str) -> None:
    sys.stdout.write(text)


def _versions(args: argparse.Namespace) -> int:
    found = installed_versions()
    if args.json:
        _out(json.dumps(found, indent=2, sort_keys=True) + "\n")
    else:
        for group, dists in found.items():
            state = (
                "installed" if all(dists.values()) else "missing" if not any(dists.values()) else "partial"
            )
            _out(f"{group:<7} {state}\n")
            for name, version in dists.items():
                _out(f"  {name:<16} {version or '-'}\n")
    return 0 if all(found["main"].values()) else 1


def _hosts(args: argparse.Namespace) -> int:
    _out(render_hosts(args.cidr, args.group, args.prefix))
    return 0


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="netops", description="Offline checks of a netops installation.")
    parser.add_argument("--version", action="version", version="netops " + __version__)
    commands = parser.add_subparsers(dest="command")
    versions = commands.add_parser("versions", help="Show the installed vendor SDK groups and versions.")
    versions.add_argument("--json", action="store_true", help="Print JSON.")
    versions.set_defaults(run=_versions)
    hosts = commands.add_parser("hosts", help="Render an Ansible inventory for a subnet.")
    hosts.add_argument("cidr", help="e.g. 192.0.2.0/29")
    hosts.add_argument("--group", default="devices")
    hosts.add_argument("--prefix", default="dev")
    hosts.set_defaults(run=_hosts)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except BrokenPipeError:  # `netops versions | head`: the reader left early, which is not a failure
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
