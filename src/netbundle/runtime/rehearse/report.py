"""The rehearsal's result and its evidence files (``rehearsal.json``, ``rehearsal.md``), written atomically.

Pure except :func:`write_reports`. The JSON is the record a change-management system stores; the Markdown is the
same facts for a person (pasted into the change ticket).
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass

from ..._atomic import write_atomic
from ...errors import InputError, RehearsalError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Mapping, Tuple

REPORT_FORMAT = 1
JSON_NAME = "rehearsal.json"
MARKDOWN_NAME = "rehearsal.md"


@dataclass(frozen=True)
class Step:
    """One rehearsal step: the command as run (shell-quoted), outcome, duration, exit status, and on failure the
    output's last lines (on success, a short summary when there is one)."""

    name: str
    command: str
    ok: bool
    seconds: float
    exit_code: int
    detail: str = ""

    def to_json(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "command": self.command,
            "ok": self.ok,
            "seconds": self.seconds,
            "exit_code": self.exit_code,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Rehearsal:
    """What a rehearsal did and found. ``bundle`` holds the manifest facts and ``verified`` (the install step
    verified exactly this manifest); ``host`` the hostname, Python and platform label."""

    bundle: Mapping[str, Any]
    target: str
    groups: Tuple[str, ...]
    host: Mapping[str, str]
    netbundle_version: str
    isolation: str
    isolation_detail: str
    started: str
    seconds: float
    scratch: str
    kept: bool
    steps: Tuple[Step, ...]
    report_dir: str

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else RehearsalError.exit_code

    def failure(self) -> str:
        """One line naming the first failed step ("" when the rehearsal passed)."""
        failed = [step for step in self.steps if not step.ok]
        if not failed:
            return ""
        return "rehearsal of {} failed at step '{}' ({} of {} steps failed); report in {}".format(
            self.bundle.get("bundle_id", "?"), failed[0].name, len(failed), len(self.steps), self.report_dir
        )

    def to_json(self) -> Dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "ok": self.ok,
            "bundle": dict(self.bundle),
            "target": self.target,
            "groups": list(self.groups),
            "host": dict(self.host),
            "netbundle_version": self.netbundle_version,
            "isolation": {"mode": self.isolation, "detail": self.isolation_detail},
            "started": self.started,
            "seconds": self.seconds,
            "scratch_prefix": {"path": self.scratch, "kept": self.kept},
            "steps": [step.to_json() for step in self.steps],
        }

    def render_text(self) -> str:
        lines = [
            "rehearsal of {} {} (bundle {}): {}".format(
                self.bundle.get("project"),
                self.bundle.get("version"),
                self.bundle.get("bundle_id"),
                "PASSED" if self.ok else "FAILED",
            ),
            "isolation: {}".format(self.isolation_detail),
        ]
        for step in self.steps:
            lines.append("  {:<4} {:>8.2f}s  {}".format("ok" if step.ok else "FAIL", step.seconds, step.name))
            if step.detail and not step.ok:
                lines.extend("         " + line for line in step.detail.splitlines()[-5:])
        lines.append("report: {}".format(pathlib.Path(self.report_dir) / JSON_NAME))
        return "\n".join(lines)


def render_markdown(result: Rehearsal) -> str:
    """The report for a person: a facts table, then one row per step, then the failures' output."""
    b = result.bundle
    facts = [
        ("Outcome", "**PASSED**" if result.ok else "**FAILED**"),
        ("Project", "{} {}".format(b.get("project"), b.get("version"))),
        ("Bundle id", "`{}`".format(b.get("bundle_id"))),
        ("Manifest sha256", "`{}`".format(b.get("manifest_sha256"))),
        ("Signature verified", "yes" if b.get("verified") else "no"),
        ("Signers", ", ".join("`{}`".format(s) for s in b.get("signers", [])) or "none"),
        ("Target", result.target or "(none chosen)"),
        ("Groups", ", ".join(result.groups)),
        (
            "Host",
            "{} (Python {}, {})".format(
                result.host.get("hostname"), result.host.get("python"), result.host.get("label")
            ),
        ),
        ("Isolation", "{}: {}".format(result.isolation, result.isolation_detail)),
        ("Started (UTC)", result.started),
        ("Duration", "{:.2f} s".format(result.seconds)),
        ("Installer", "netbundle.pyz {}".format(result.netbundle_version)),
    ]
    out: List[str] = ["# DR rehearsal: {} {}".format(b.get("project"), b.get("version")), ""]
    out += ["| | |", "|---|---|"] + ["| {} | {} |".format(k, _cell(v)) for k, v in facts]
    out += ["", "## Steps", "", "| # | step | outcome | seconds | command |", "|---:|---|---|---:|---|"]
    for number, step in enumerate(result.steps, start=1):
        out.append(
            "| {} | {} | {} | {:.2f} | `{}` |".format(
                number, _cell(step.name), "ok" if step.ok else "**FAILED**", step.seconds, _cell(step.command)
            )
        )
    for step in result.steps:
        if step.detail and not step.ok:
            out += ["", "### {} (exit {})".format(step.name, step.exit_code), "", "```", step.detail, "```"]
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_reports(directory: str, result: Rehearsal) -> Tuple[pathlib.Path, pathlib.Path]:
    """Write ``rehearsal.json`` and ``rehearsal.md`` into ``directory`` (created if missing), each atomically.

    :raises InputError: the directory cannot be created or written.
    """
    data = json.dumps(result.to_json(), indent=2, sort_keys=True) + "\n"
    where = pathlib.Path(directory)
    try:
        where.mkdir(parents=True, exist_ok=True)
        return (
            _write_atomic(where / JSON_NAME, data),
            _write_atomic(where / MARKDOWN_NAME, render_markdown(result)),
        )
    except OSError as exc:
        raise InputError("cannot write the rehearsal report into {}: {}".format(directory, exc)) from None


def _write_atomic(path: pathlib.Path, text: str) -> pathlib.Path:
    write_atomic(path, text.encode("utf-8"))
    return path
