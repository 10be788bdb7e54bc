# Copyright: netbundle contributors
# Apache License 2.0 (see LICENSE in the collection)
"""Options every netbundle module shares: where the installer is and which Python runs it."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  python:
    description:
      - The Python that runs C(netbundle.pyz) on the host (CPython 3.9 or newer).
      - Default is the interpreter Ansible runs the module with (C(ansible_python_interpreter)), so the
        installer chooses the bundle target that fits that interpreter.
    type: path
notes:
  - The module runs C(python -s netbundle.pyz COMMAND ... --json) on the host and reads its JSON result.
    Failures keep the installer's documented exit code as C(rc) and its message and hint in C(msg)
    (see the collection's docs/exit-codes.md); C(error) holds the installer's error object.
"""

    PYZ = r"""
options:
  pyz:
    description:
      - Path on the managed host of the installer C(netbundle.pyz).
      - The modules need nothing else on the host. The role M(netbundle.airgap.rollout) and
        M(netbundle.airgap.netbundle_install) (with O(netbundle.airgap.netbundle_install#module:pyz_src)) copy it there.
    type: path
    required: true
"""

    TRUST = r"""
options:
  trust:
    description:
      - Trust files or minisign C(.pub) files on the host, added to the keys embedded in the pyz
        (C(--trust), repeatable). They can add keys but never lower the embedded threshold.
    type: list
    elements: path
    default: []
"""
