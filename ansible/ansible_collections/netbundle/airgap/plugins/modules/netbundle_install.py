#!/usr/bin/python
# Copyright: netbundle contributors
# Apache License 2.0 (see LICENSE in the collection)
"""Ansible module: install a netbundle bundle as a new generation of a prefix."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: netbundle_install
short_description: Verify and install a signed netbundle bundle offline
version_added: "0.1.0"
description:
  - Runs C(netbundle.pyz install) on the managed host. The installer verifies the bundle's signatures and every
    file, chooses the bundle target that fits the host's Python, builds a new generation venv with offline,
    hash-checked pip, runs C(pip check), writes the receipt and switches C(current) atomically.
  - Idempotent. C(changed) comes from the installer's status. C(installed) means a new generation is current.
    C(unchanged) means the same bundle, target and groups were already current.
  - In check mode the module runs C(install --dry-run). That verifies the bundle, chooses the target and
    computes the plan, without creating a venv or changing the prefix.
  - In diff mode the module shows the package changes (C(name==version) lines) against the current generation.
  - The files are either on the host already (O(pyz), O(bundle), O(sha256sums)), or the module copies them
    there from the controller first (O(pyz_src), O(bundle_src), O(sha256sums_src) into O(stage_dir)). A file
    that is already there with the same content is not copied again. The copy runs in check mode too, because
    the host needs the files to plan; it touches only O(stage_dir).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - netbundle.airgap.pyz
  - netbundle.airgap.pyz.TRUST
options:
  pyz:
    description:
      - Path on the managed host of the installer C(netbundle.pyz).
      - Default with O(pyz_src) is its copy in O(stage_dir). One of O(pyz) and O(pyz_src) is required.
    type: path
  bundle:
    description:
      - Path on the host of the bundle C(.tar).
      - Default with O(bundle_src) is its copy in O(stage_dir). One of O(bundle) and O(bundle_src) is required.
    type: path
  pyz_src:
    description: Path on the controller of C(netbundle.pyz), copied to O(stage_dir) on the host.
    type: str
  bundle_src:
    description: Path on the controller of the bundle, copied to O(stage_dir) on the host.
    type: str
  sha256sums_src:
    description: Path on the controller of a C(SHA256SUMS) file, copied to O(stage_dir) and used as O(sha256sums).
    type: str
  stage_dir:
    description: Directory on the host for the files copied from the controller (created with mode 0700).
    type: path
    default: /opt/netbundle/.staging
  prefix:
    description:
      - The install prefix (it holds the generations).
      - Default is C(/opt/netbundle/<project>), with the project name from the bundle's manifest.
    type: path
  groups:
    description: Dependency groups to install besides C(main) (C(--group), repeatable).
    type: list
    elements: str
    default: []
  target:
    description: The bundle target to use. Default is the best fit for the host's Python and platform.
    type: str
  allow_downgrade:
    description: Install even if the bundle is older than the current generation.
    type: bool
    default: false
  force:
    description: Make a new generation even when the same bundle, target and groups are current.
    type: bool
    default: false
  sha256sums:
    description:
      - Path on the host of a C(SHA256SUMS) file (C(sha256sum) output). The bundle and the pyz must both be
        listed there by file name and match, before anything runs.
    type: path
attributes:
  check_mode:
    support: full
    details: Runs C(install --dry-run) (verify, target choice, plan; no venv, no prefix change).
  diff_mode:
    support: full
    details: The distributions of the current generation against those of the new one (or of the plan).
  platform:
    support: full
    platforms: posix
author:
  - netbundle contributors (@netbundle)
"""

EXAMPLES = r"""
- name: Copy the installer and the bundle from the controller, then install
  netbundle.airgap.netbundle_install:
    pyz_src: dist/netbundle.pyz
    bundle_src: dist/netops-1.4.0.tar
    sha256sums_src: dist/SHA256SUMS
    groups: [junos]

- name: Install the bundle with two vendor groups into the default prefix
  netbundle.airgap.netbundle_install:
    pyz: /opt/netbundle/.staging/netbundle.pyz
    bundle: /opt/netbundle/.staging/netops-1.4.0.tar
    sha256sums: /opt/netbundle/.staging/SHA256SUMS
    groups: [junos, cisco]
  register: installed

- name: Reinstall the same bundle as a new generation, into an explicit prefix
  netbundle.airgap.netbundle_install:
    pyz: /opt/netbundle/.staging/netbundle.pyz
    bundle: /opt/netbundle/.staging/netops-1.4.0.tar
    prefix: /opt/netbundle/netops
    force: true

- name: What would an install do? (no change)
  netbundle.airgap.netbundle_install:
    pyz: /opt/netbundle/.staging/netbundle.pyz
    bundle: /opt/netbundle/.staging/netops-1.5.0.tar
  check_mode: true
  diff: true
"""

RETURN = r"""
status:
  description: The installer's status, C(installed) (a new generation is current) or C(unchanged).
  returned: success
  type: str
  sample: installed
prefix:
  description: The install prefix.
  returned: success
  type: str
  sample: /opt/netbundle/netops-sample
generation:
  description: The number of the generation that is (or in check mode would be) current; null in check mode
    for a new install.
  returned: success
  type: int
  sample: 3
previous_generation:
  description: The generation that was current before, or null.
  returned: success
  type: int
  sample: 2
target:
  description: The bundle target chosen for this host.
  returned: success
  type: str
  sample: cp311-manylinux_2_28_x86_64
receipt:
  description: The receipt of the current generation (what it holds and where it came from). In check mode the
    receipt of the generation current now, or null.
  returned: success
  type: dict
  sample: {"bundle_id": "netops-sample-0.3.0-d2ab43fc869c", "generation": 1, "target": "cp311-manylinux_2_28_x86_64",
           "groups": ["main"], "distributions": {"httpx": "0.28.1"}, "signers": ["55DAFB586A741F71"]}
changes:
  description: The package changes against the generation that was current, C(added) and C(removed) as
    C({name, version}) maps, C(changed) as C({name, [old, new]}).
  returned: success
  type: dict
  sample: {"added": {}, "removed": {}, "changed": {"httpx": ["0.27.2", "0.28.1"]}}
log:
  description: The install log (pip's output) on the host, when a generation was made.
  returned: when status is installed and not in check mode
  type: str
  sample: /opt/netbundle/netops-sample/logs/0002-netops-sampl.log
staged:
  description: The files copied from the controller to O(stage_dir), with whether each changed.
  returned: when one of pyz_src, bundle_src, sha256sums_src is given
  type: list
  elements: dict
  sample: [{"dest": "/opt/netbundle/.staging/netops-1.4.0.tar", "changed": true}]
sha256:
  description: The sha256 of the bundle and of the pyz, when O(sha256sums) was given.
  returned: when sha256sums is given
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
  description: The installer's exit code (see the collection's docs/exit-codes.md).
  returned: failure
  type: int
  sample: 14
error:
  description: The installer's error object (kind, exit_code, message, hint).
  returned: failure, when the installer printed one
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.netbundle.airgap.plugins.module_utils.netbundle import (
    DEFAULT_PREFIX_ROOT,
    check_file,
    check_sha256sums,
    current_generation,
    group_args,
    is_prefix,
    package_changes,
    package_diff,
    python_of,
    pyz_options,
    run_module,
    run_pyz,
    trust_args,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            **pyz_options(pyz_required=False),
            bundle=dict(type="path"),
            pyz_src=dict(type="str"),
            bundle_src=dict(type="str"),
            sha256sums_src=dict(type="str"),
            stage_dir=dict(type="path", default="/opt/netbundle/.staging"),
            prefix=dict(type="path"),
            groups=dict(type="list", elements="str", default=[]),
            target=dict(type="str"),
            trust=dict(type="list", elements="path", default=[]),
            allow_downgrade=dict(type="bool", default=False),
            force=dict(type="bool", default=False),
            sha256sums=dict(type="path"),
        ),
        required_one_of=[("pyz", "pyz_src"), ("bundle", "bundle_src")],
        supports_check_mode=True,
    )
    run_module(module, install)


def install(module, params):
    python = python_of(params)
    pyz, bundle = staged(params, "pyz"), staged(params, "bundle")
    params = dict(params, pyz=pyz, bundle=bundle, sha256sums=staged(params, "sha256sums"))
    check_file(bundle, "bundle")
    result = {}
    if params["sha256sums"]:
        result["sha256"] = check_sha256sums(params["sha256sums"], [bundle, pyz])
    prefix = params["prefix"] or default_prefix(module, python, pyz, bundle)
    before = current_receipt(module, python, pyz, prefix)
    if module.check_mode:
        plan = run_pyz(module, python, pyz, "install", install_args(params, prefix) + ["--dry-run"])
        after = plan.get("distributions") or {}
        result.update(status=plan["status"], prefix=prefix, target=plan.get("target"), receipt=before, log=None,
                      generation=plan.get("generation"), previous_generation=plan.get("previous_generation"))  # fmt: skip
    else:
        done = run_pyz(module, python, pyz, "install", install_args(params, prefix))
        receipt = done["generation"]["receipt"]
        after = receipt.get("distributions") or {}
        result.update(status=done["status"], prefix=done["prefix"], target=receipt.get("target"), receipt=receipt,
                      log=done.get("log"), generation=done["generation"]["number"],
                      previous_generation=done.get("previous_generation"))  # fmt: skip
    old = (before or {}).get("distributions") or {}
    result["changed"] = result["status"] == "installed"
    result["changes"] = package_changes(old, after if result["changed"] else old)
    if module._diff and result["changed"]:
        result["diff"] = package_diff(old, after, _header(before), "{} ({})".format(bundle, result["target"]))
    result["ansible_facts"] = {"netbundle_receipt": result["receipt"]}
    return result


def staged(params, name):
    """The host path of file option ``name``: as given, else the staged copy of ``<name>_src`` (the action plugin
    copied it there), else None."""
    if params.get(name):
        return params[name]
    source = params.get(name + "_src")
    return os.path.join(params["stage_dir"], os.path.basename(source)) if source else None


def install_args(params, prefix):
    """The ``install`` arguments (without ``--json``) for the module's options."""
    argv = [params["bundle"], "--prefix", prefix] + group_args(params["groups"]) + trust_args(params["trust"])
    if params["target"]:
        argv += ["--target", params["target"]]
    if params["allow_downgrade"]:
        argv.append("--allow-downgrade")
    if params["force"]:
        argv.append("--force")
    return argv


def default_prefix(module, python, pyz, bundle):
    """The installer's default ``/opt/netbundle/<project>`` (the name from the manifest, read unverified)."""
    described = run_pyz(module, python, pyz, "inspect", [bundle])
    return "{}/{}".format(DEFAULT_PREFIX_ROOT, described["project"]["name"])


def current_receipt(module, python, pyz, prefix):
    if not is_prefix(prefix):
        return None
    current = current_generation(module, python, pyz, prefix)[1]
    return current["receipt"] if current else None


def _header(receipt):
    if not receipt:
        return "nothing installed"
    return "generation {} ({})".format(receipt["generation"], receipt["bundle_id"])


if __name__ == "__main__":
    main()
