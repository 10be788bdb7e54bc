#!/usr/bin/python
# Copyright: netbundle contributors
# Apache License 2.0 (see LICENSE in the collection)
"""Ansible module: drift of a prefix's current generation, as facts; fails on drift unless told not to."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netbundle_check
short_description: Check a netbundle prefix for drift against its receipt (and a bundle)
version_added: "0.1.0"
description:
  - Runs C(netbundle.pyz check --prefix). Every installed distribution and every file with a RECORD hash in
    the current generation is compared with the receipt. With O(bundle), the distributions are also compared
    with that bundle's locks, after the bundle is verified.
  - The drift report is returned as RV(report) and as the fact C(netbundle_drift).
  - The module fails on drift (C(rc) 22) unless O(fail_on_drift=false). It never changes anything.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - netbundle.airgap.pyz
  - netbundle.airgap.pyz.PYZ
  - netbundle.airgap.pyz.TRUST
options:
  prefix:
    description: The install prefix.
    type: path
    required: true
  bundle:
    description: Also compare with this bundle C(.tar) on the host (verified first).
    type: path
  fail_on_drift:
    description: Fail the task when drift is found. With V(false) the drift is only reported.
    type: bool
    default: true
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
- name: Fail the host if its installation drifted
  netbundle.airgap.netbundle_check:
    pyz: /opt/netbundle/.staging/netbundle.pyz
    prefix: /opt/netbundle/netops-sample

- name: Report drift against the bundle without failing
  netbundle.airgap.netbundle_check:
    pyz: /opt/netbundle/.staging/netbundle.pyz
    prefix: /opt/netbundle/netops-sample
    bundle: /opt/netbundle/.staging/netops-1.4.0.tar
    fail_on_drift: false
  register: drift

- name: List drifted files
  ansible.builtin.debug:
    var: drift.report.files
  when: drift.drift
"""

RETURN = r"""
drift:
  description: Whether drift was found.
  returned: always, except when the check itself could not run
  type: bool
  sample: false
report:
  description: The installer's drift report (prefix, generation, bundle_id, bundle, drift, distributions,
    files, files_checked, files_skipped).
  returned: always, except when the check itself could not run
  type: dict
  sample: {"drift": true, "generation": 2, "files": [{"distribution": "rich", "path": "rich/__init__.py",
           "kind": "changed"}], "distributions": [], "files_checked": 1800, "files_skipped": 900}
ansible_facts:
  description: Facts set by the module.
  returned: success
  type: complex
  contains:
    netbundle_drift:
      description: The same as RV(report).
      type: dict
      returned: success
rc:
  description: The installer's exit code (22 for drift).
  returned: failure
  type: int
  sample: 22
error:
  description: The installer's error object (kind, exit_code, message, hint).
  returned: failure, when the installer printed one
  type: dict
"""


from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netbundle.airgap.plugins.module_utils.netbundle import (
    DRIFT_EXIT,
    NetbundleRunError,
    python_of,
    pyz_options,
    run_pyz_rc,
    trust_args,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **pyz_options(),
            prefix=dict(type="path", required=True),
            bundle=dict(type="path"),
            trust=dict(type="list", elements="path", default=[]),
            fail_on_drift=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    argv = ["--prefix", params["prefix"]]
    if params["bundle"]:
        argv += [params["bundle"]] + trust_args(params["trust"])
    try:
        rc, report = run_pyz_rc(
            module, python_of(params), params["pyz"], "check", argv, ok_codes=(0, DRIFT_EXIT)
        )
    except NetbundleRunError as exc:
        module.fail_json(**exc.result)
    result = dict(changed=False, drift=bool(report.get("drift")), report=report)
    if result["drift"] and params["fail_on_drift"]:
        module.fail_json(msg=drift_message(report), rc=rc, **result)
    module.exit_json(ansible_facts={"netbundle_drift": report}, **result)


def drift_message(report):
    """One line: which generation drifted, and how much."""
    against = "its receipt" + (" and bundle {}".format(report["bundle"]) if report.get("bundle") else "")
    parts = [
        "{} distribution(s)".format(len(report.get("distributions", []))),
        "{} file(s)".format(len(report.get("files", []))),
    ]
    first = [d.get("name") for d in report.get("distributions", [])][:3] + [
        f.get("path") for f in report.get("files", [])
    ][:3]
    return "drift in generation {} of {} against {}: {} differ ({})".format(
        report.get("generation"), report.get("prefix"), against, " and ".join(parts), ", ".join(first)
    )


if __name__ == "__main__":
    main()
