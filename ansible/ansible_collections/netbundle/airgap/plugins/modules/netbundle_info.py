#!/usr/bin/python
# Copyright: netbundle contributors
# Apache License 2.0 (see LICENSE in the collection)
"""Ansible module: a prefix's generations and receipt, and/or a verified bundle's description."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netbundle_info
short_description: Show a netbundle prefix's generations and receipt, or verify and describe a bundle
version_added: "0.1.0"
description:
  - With O(prefix), runs C(netbundle.pyz list --prefix). It returns the prefix's generations, the current one
    and its receipt. A prefix that does not exist (nothing installed yet) is not an error. It gives
    RV(installed=false).
  - With O(bundle), runs C(netbundle.pyz verify). The signatures and every file are checked, then the module
    returns the verified manifest's description, with its targets, groups, packages and smoke commands. The
    role M(netbundle.airgap.rollout) uses this to verify the bundle on every host before any install.
  - Changes nothing on the host.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - netbundle.airgap.pyz
  - netbundle.airgap.pyz.PYZ
  - netbundle.airgap.pyz.TRUST
options:
  prefix:
    description: An install prefix.
    type: path
  bundle:
    description: A bundle C(.tar) on the host, to verify and describe.
    type: path
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
author:
  - netbundle contributors (@netbundle)
"""

EXAMPLES = r"""
- name: Which generations does the host hold?
  netbundle.airgap.netbundle_info:
    pyz: /opt/netbundle/.staging/netbundle.pyz
    prefix: /opt/netbundle/netops-sample
  register: info

- name: Show the current bundle
  ansible.builtin.debug:
    msg: "{{ info.receipt.bundle_id }} (generation {{ info.current.number }})"
  when: info.installed

- name: Verify the staged bundle and read its smoke commands
  netbundle.airgap.netbundle_info:
    pyz: /opt/netbundle/.staging/netbundle.pyz
    bundle: /opt/netbundle/.staging/netops-1.4.0.tar
  register: verified
"""

RETURN = r"""
installed:
  description: Whether the prefix holds a current generation.
  returned: when prefix is given
  type: bool
  sample: true
generations:
  description: The complete generations of the prefix, oldest first (number, name, path, current, receipt).
  returned: when prefix is given
  type: list
  elements: dict
current:
  description: The current generation (number, name, path, current, receipt), or null.
  returned: when prefix is given
  type: dict
receipt:
  description: The current generation's receipt, or null.
  returned: when prefix is given
  type: dict
  sample: {"bundle_id": "netops-sample-0.3.0-d2ab43fc869c", "generation": 1, "version": "0.3.0"}
bundle:
  description: The verified bundle's description (bundle_id, project, targets, groups, packages, signers,
    smoke commands), as C(netbundle.pyz verify --json) prints it.
  returned: when bundle is given
  type: dict
  sample: {"bundle_id": "netops-sample-0.3.0-d2ab43fc869c", "verified": true, "smoke": ["netops --help"]}
rc:
  description: The installer's exit code.
  returned: failure
  type: int
error:
  description: The installer's error object (kind, exit_code, message, hint).
  returned: failure, when the installer printed one
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netbundle.airgap.plugins.module_utils.netbundle import (
    current_generation,
    python_of,
    pyz_options,
    run_module,
    run_pyz,
    trust_args,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **pyz_options(),
            prefix=dict(type="path"),
            bundle=dict(type="path"),
            trust=dict(type="list", elements="path", default=[]),
        ),
        required_one_of=[("prefix", "bundle")],
        supports_check_mode=True,
    )
    run_module(module, info)


def info(module, params):
    python = python_of(params)
    result = {"changed": False}
    if params["prefix"]:
        result.update(prefix_info(module, python, params["pyz"], params["prefix"]))
    if params["bundle"]:
        argv = [params["bundle"]] + trust_args(params["trust"])
        result["bundle"] = run_pyz(module, python, params["pyz"], "verify", argv)
    return result


def prefix_info(module, python, pyz, prefix):
    if not os.path.exists(prefix) or (os.path.isdir(prefix) and not os.listdir(prefix)):
        return {"installed": False, "generations": [], "current": None, "receipt": None}
    listing, current = current_generation(module, python, pyz, prefix)
    return {
        "installed": current is not None,
        "generations": listing["generations"],
        "current": current,
        "receipt": current["receipt"] if current else None,
    }


if __name__ == "__main__":
    main()
