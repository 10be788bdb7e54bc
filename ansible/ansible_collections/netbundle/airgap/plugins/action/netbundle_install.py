# Copyright: netbundle contributors
# Apache License 2.0 (see LICENSE in the collection)
"""Controller side of netbundle_install: copy pyz_src, bundle_src and sha256sums_src to stage_dir on the host
(with ansible.builtin.copy, so an unchanged file is not sent again), then run the module there."""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

DEFAULT_STAGE_DIR = "/opt/netbundle/.staging"
SOURCES = ("pyz_src", "bundle_src", "sha256sums_src")


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        stage = args.get("stage_dir") or DEFAULT_STAGE_DIR
        staged = []
        for option in SOURCES:
            if not args.get(option):
                continue
            copied = self._copy(args[option], stage, task_vars)
            if copied.get("failed"):
                copied["msg"] = "copying {} to {} failed: {}".format(args[option], stage, copied.get("msg"))
                return copied
            staged.append({"dest": os.path.join(stage, os.path.basename(args[option])),
                           "changed": bool(copied.get("changed"))})  # fmt: skip
        result.update(self._execute_module(module_name="netbundle.airgap.netbundle_install", module_args=args,
                                           task_vars=task_vars))  # fmt: skip
        if staged:
            result["staged"] = staged
            result["changed"] = bool(result.get("changed")) or any(s["changed"] for s in staged)
        return result

    def _copy(self, source, stage, task_vars):
        """ansible.builtin.copy of one controller file into ``stage/`` (created 0700), in check mode too: the
        host needs the files to plan (install --dry-run), and staging touches only that directory."""
        task = self._task.copy()
        task.args = {"src": source, "dest": stage.rstrip("/") + "/", "mode": "0600", "directory_mode": "0700"}
        task.check_mode = False
        task.diff = False
        copy_action = self._shared_loader_obj.action_loader.get(
            "ansible.legacy.copy",
            task=task,
            connection=self._connection,
            play_context=self._play_context,
            loader=self._loader,
            templar=self._templar,
            shared_loader_obj=self._shared_loader_obj,
        )
        return copy_action.run(task_vars=task_vars)
