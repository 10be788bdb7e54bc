#!/usr/bin/python
# Copyright: netbundle contributors
# Apache License 2.0 (see LICENSE in the collection)
"""Ansible module: the DR rehearsal of a bundle on the host, with its evidence report."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netbundle_rehearse
short_description: Run a netbundle DR rehearsal on the host and write its evidence report
version_added: "0.1.0"
description:
  - Runs C(netbundle.pyz rehearse). It does a full offline install of the bundle into a scratch prefix, then
    C(pip check), an import of every top-level module, and the bundle's smoke commands (and O(smoke)). Every
    step runs without network, in a network namespace where the host allows one, else under a socket guard.
  - The evidence C(rehearsal.json) and C(rehearsal.md) is written to O(report_dir) on the host. The role
    M(netbundle.airgap.rehearse) fetches both to the controller.
  - The scratch prefix is removed afterwards unless O(keep). The real installation is never touched.
  - The module fails (C(rc) 23) when a step fails. The report is written and returned all the same.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - netbundle.airgap.pyz
  - netbundle.airgap.pyz.PYZ
  - netbundle.airgap.pyz.TRUST
options:
  bundle:
    description: Path on the host of the bundle C(.tar).
    type: path
    required: true
  report_dir:
    description: Directory on the host for C(rehearsal.json) and C(rehearsal.md) (created if missing).
    type: path
    required: true
  groups:
    description: Dependency groups besides C(main).
    type: list
    elements: str
    default: []
  target:
    description: The bundle target to use. Default is the best fit for the host.
    type: str
  smoke:
    description: More smoke commands, after the bundle's own. Each is split like a shell line, without pipes
      or globbing.
    type: list
    elements: str
    default: []
  isolation:
    description: V(netns) runs every step in an empty network namespace. V(guard) uses a socket guard in every
      Python process instead. V(auto) picks netns where it works.
    type: str
    choices: [auto, netns, guard]
    default: auto
  keep:
    description: Keep the scratch prefix (its path is in the report).
    type: bool
    default: false
attributes:
  check_mode:
    support: none
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
author:
  - netbundle contributors (@netbundle)
"""

EXAMPLES = r"""
- name: Rehearse the DR install of the staged bundle
  netbundle.airgap.netbundle_rehearse:
    pyz: /opt/netbundle/.staging/netbundle.pyz
    bundle: /opt/netbundle/.staging/netops-1.4.0.tar
    groups: [junos]
    report_dir: /opt/netbundle/.staging/dr-2026-11
  register: rehearsal
"""

RETURN = r"""
ok:
  description: Whether every step passed.
  returned: always, except when the rehearsal could not start
  type: bool
  sample: true
rehearsal:
  description: The rehearsal report (bundle, target, groups, host, isolation, steps with outcome and duration).
  returned: always, except when the rehearsal could not start
  type: dict
report_json:
  description: Path on the host of C(rehearsal.json).
  returned: always, except when the rehearsal could not start
  type: str
  sample: /opt/netbundle/.staging/dr-2026-11/rehearsal.json
report_md:
  description: Path on the host of C(rehearsal.md).
  returned: always, except when the rehearsal could not start
  type: str
  sample: /opt/netbundle/.staging/dr-2026-11/rehearsal.md
rc:
  description: The installer's exit code (23 when a step failed).
  returned: failure
  type: int
  sample: 23
error:
  description: The installer's error object (kind, exit_code, message, hint).
  returned: failure, when the installer printed one
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netbundle.airgap.plugins.module_utils.netbundle import (
    NetbundleRunError,
    group_args,
    python_of,
    pyz_options,
    run_pyz_rc,
    trust_args,
)

REHEARSAL_FAILED = 23  # exit code of a rehearsal whose step failed (the report is still printed)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **pyz_options(),
            bundle=dict(type="path", required=True),
            report_dir=dict(type="path", required=True),
            groups=dict(type="list", elements="str", default=[]),
            target=dict(type="str"),
            smoke=dict(type="list", elements="str", default=[]),
            isolation=dict(type="str", choices=["auto", "netns", "guard"], default="auto"),
            keep=dict(type="bool", default=False),
            trust=dict(type="list", elements="path", default=[]),
        ),
        supports_check_mode=False,
    )
    params = module.params
    report_dir = params["report_dir"]
    argv = [params["bundle"], "--report", report_dir, "--isolation", params["isolation"]]
    argv += group_args(params["groups"]) + trust_args(params["trust"])
    argv += [arg for smoke in params["smoke"] for arg in ("--smoke", smoke)]
    if params["target"]:
        argv += ["--target", params["target"]]
    if params["keep"]:
        argv.append("--keep")
    try:
        if not os.path.isdir(report_dir):
            os.makedirs(report_dir)
        rc, report = run_pyz_rc(
            module,
            python_of(params),
            params["pyz"],
            "rehearse",
            argv,
            ok_codes=(0, REHEARSAL_FAILED),
        )
    except OSError as exc:
        module.fail_json(msg="cannot create report_dir {}: {}".format(report_dir, exc.strerror), rc=3)
    except NetbundleRunError as exc:
        module.fail_json(**exc.result)
    result = dict(
        changed=True,
        ok=bool(report.get("ok")),
        rehearsal=report,
        report_json=os.path.join(report_dir, "rehearsal.json"),
        report_md=os.path.join(report_dir, "rehearsal.md"),
    )
    if not result["ok"]:
        failed = [s.get("name") for s in report.get("steps", []) if not s.get("ok")]
        module.fail_json(
            msg="rehearsal of {} failed at step(s) {}; report in {}".format(
                report.get("bundle", {}).get("bundle_id"), ", ".join(str(f) for f in failed), report_dir
            ),
            rc=rc,
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
