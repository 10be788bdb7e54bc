#!/usr/bin/python
# Copyright: netbundle contributors
# Apache License 2.0 (see LICENSE in the collection)
"""Ansible module: make an earlier generation of a netbundle prefix current."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netbundle_rollback
short_description: Make an earlier generation of a netbundle prefix current
version_added: "0.1.0"
description:
  - Runs C(netbundle.pyz rollback --prefix). The C(current) link is switched atomically to generation O(to),
    or to the newest kept generation of bundle O(to_bundle), or, without either, to the newest generation
    older than the current one.
  - With O(to) or O(to_bundle), the module is idempotent. When that generation is current already, nothing
    changes. Without them, every run goes back one more generation.
  - Generation numbers differ from host to host (a failed and rolled-back install keeps its generation), so a
    fleet is best rolled back with O(to_bundle).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - netbundle.airgap.pyz
  - netbundle.airgap.pyz.PYZ
options:
  prefix:
    description: The install prefix.
    type: path
    required: true
  to:
    description: The generation number to make current. Default is the one before the current one.
    type: int
  to_bundle:
    description: The bundle id (as in the receipt, for example C(netops-sample-0.3.0-d2ab43fc869c)) whose newest
      kept generation to make current.
    type: str
attributes:
  check_mode:
    support: full
    details: Reads the generations and reports which one would become current.
  diff_mode:
    support: full
    details: The distributions of the current generation against those of the one made current.
  platform:
    support: full
    platforms: posix
author:
  - netbundle contributors (@netbundle)
"""

EXAMPLES = r"""
- name: Back to the previous generation
  netbundle.airgap.netbundle_rollback:
    pyz: /opt/netbundle/.staging/netbundle.pyz
    prefix: /opt/netbundle/netops-sample

- name: Every host back to the bundle of the last release (idempotent)
  netbundle.airgap.netbundle_rollback:
    pyz: /opt/netbundle/.staging/netbundle.pyz
    prefix: /opt/netbundle/netops-sample
    to_bundle: netops-sample-0.3.0-d2ab43fc869c

- name: Back to generation 3 (idempotent)
  netbundle.airgap.netbundle_rollback:
    pyz: /opt/netbundle/.staging/netbundle.pyz
    prefix: /opt/netbundle/netops-sample
    to: 3
"""

RETURN = r"""
from_generation:
  description: The generation that was current.
  returned: success
  type: int
  sample: 4
to_generation:
  description: The generation that is current now (in check mode, would be).
  returned: success
  type: int
  sample: 3
receipt:
  description: The receipt of the generation that is (or would be) current.
  returned: success
  type: dict
ansible_facts:
  description: Facts set by the module.
  returned: success
  type: complex
  contains:
    netbundle_receipt:
      description: The same as RV(receipt).
      type: dict
      returned: success
rc:
  description: The installer's exit code (24 when there is nothing to roll back to).
  returned: failure
  type: int
  sample: 24
error:
  description: The installer's error object (kind, exit_code, message, hint).
  returned: failure, when the installer printed one
  type: dict
"""


from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netbundle.airgap.plugins.module_utils.netbundle import (
    NetbundleRunError,
    current_generation,
    package_diff,
    python_of,
    pyz_options,
    rollback_choice,
    run_module,
    run_pyz,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **pyz_options(),
            prefix=dict(type="path", required=True),
            to=dict(type="int"),
            to_bundle=dict(type="str"),
        ),
        mutually_exclusive=[("to", "to_bundle")],
        supports_check_mode=True,
    )
    run_module(module, rollback)


def rollback(module, params):
    python = python_of(params)
    pyz, prefix, to, to_bundle = params["pyz"], params["prefix"], params["to"], params["to_bundle"]
    listing, current = current_generation(module, python, pyz, prefix)
    chosen = rollback_choice(listing, to, to_bundle)
    if current is None or chosen is None:
        numbers = ", ".join(str(g["number"]) for g in listing.get("generations", [])) or "none"
        what = "nothing older to roll back to"
        if to is not None:
            what = "no generation {}".format(to)
        elif to_bundle is not None:
            what = "no kept generation of bundle {}".format(to_bundle)
        raise NetbundleRunError(
            {"msg": "prefix {}: {} (generations: {})".format(prefix, what, numbers), "rc": 24}
        )
    result = dict(
        from_generation=current["number"], to_generation=chosen["number"], receipt=chosen["receipt"]
    )
    result["changed"] = chosen["number"] != current["number"]
    if result["changed"] and not module.check_mode:
        argv = ["--prefix", prefix, "--to", str(chosen["number"])]
        done = run_pyz(module, python, pyz, "rollback", argv)
        result.update(to_generation=done["to"]["number"], receipt=done["to"]["receipt"])
    if module._diff and result["changed"]:
        result["diff"] = package_diff(
            current["receipt"].get("distributions"),
            chosen["receipt"].get("distributions"),
            "generation {}".format(current["number"]),
            "generation {}".format(chosen["number"]),
        )
    result["ansible_facts"] = {"netbundle_receipt": result["receipt"]}
    return result


if __name__ == "__main__":
    main()
