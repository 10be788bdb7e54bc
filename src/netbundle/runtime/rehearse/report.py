"""The rehearsal's result and its evidence files (``rehearsal.json``, ``rehearsal.md``), written atomically.

Pure except :func:`write_reports`. The JSON is the record a change-management system stores; the Markdown is the
same facts for a person (pasted into the change ticket).
"""

from __future__ import annotations

import json
import pathlib
import re
from dataclasses import dataclass

from ..._atomic import write_atomic
from ...errors import InputError, RehearsalError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, List, Mapping, Tuple

REPORT_FORMAT = 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
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
    #: ``(what, why)`` of what the step deliberately did not do (modules and console scripts of the import step).
    skipped: Tuple[Tuple[str, str], ...] = ()

    def to_json(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "command": self.command,
            "ok": self.ok,
            "seconds": self.seconds,
            "exit_code": self.exit_code,
            "detail": self.detail,
            "skipped": [{"what": what, "why": why} for what, why in self.skipped],
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
        if self.bundle.get("verified"):
            head = "rehearsal of {} {} (bundle {}): {}".format(
                self.bundle.get("project"),
                self.bundle.get("version"),
                self.bundle.get("bundle_id"),
                "PASSED" if self.ok else "FAILED",
            )
        else:
            head = "rehearsal of {}: FAILED (the bundle was not verified)".format(
                self.bundle.get("path", "?")
            )
        lines = [
            _CONTROL.sub(" ", head),
            "isolation: {}".format(self.isolation_detail),
        ]
        for step in self.steps:
            lines.append("  {:<4} {:>8.2f}s  {}".format("ok" if step.ok else "FAIL", step.seconds, step.name))
            if step.detail and not step.ok:
                lines.extend("         " + line for line in step.detail.splitlines()[-5:])
            lines.extend("         skipped {}: {}".format(what, why) for what, why in step.skipped)
        lines.append("report: {}".format(pathlib.Path(self.report_dir) / JSON_NAME))
        return "\n".join(lines)


def render_markdown(result: Rehearsal) -> str:
    """The report for a person: the outcome first, a facts table, one row per step, then the failures' output.

    Only verified facts are shown as facts: when the install step did not verify this very manifest, the title
    says FAILED and not verified, and nothing the manifest claims (project, version, bundle id) is rendered. Every
    other text that came from outside (commands, step output) is escaped or fenced, so no field can forge a
    heading, a table row or a "PASSED".
    """
    b = result.bundle
    verified = bool(b.get("verified"))
    passed = result.ok and verified
    outcome = "PASSED" if passed else "FAILED"
    if verified:
        title = "# DR rehearsal: {} {}".format(_text(str(b.get("project"))), _text(str(b.get("version"))))
        claimed = [
            ("Project", "{} {}".format(_cell(str(b.get("project"))), _cell(str(b.get("version"))))),
            ("Bundle id", _code(str(b.get("bundle_id")))),
        ]
    else:
        title = "# DR rehearsal FAILED: the bundle was not verified"
        claimed = [("Project, version, bundle id", "not shown: the manifest was not verified")]
    facts = [
        ("Outcome", "**{}**".format(outcome)),
        *claimed,
        ("Manifest sha256", _code(str(b.get("manifest_sha256")))),
        ("Signature verified", "yes" if verified else "**no**"),
        ("Signers", ", ".join(_code(str(s)) for s in b.get("signers", [])) or "none"),
        ("Target", _cell(result.target) if result.target else "(none chosen)"),
        ("Groups", _cell(", ".join(result.groups))),
        (
            "Host",
            "{} (Python {}, {})".format(
                _cell(str(result.host.get("hostname"))),
                _cell(str(result.host.get("python"))),
                _cell(str(result.host.get("label"))),
            ),
        ),
        ("Isolation", "{}: {}".format(_cell(result.isolation), _cell(result.isolation_detail))),
        ("Started (UTC)", _cell(result.started)),
        ("Duration", "{:.2f} s".format(result.seconds)),
        ("Installer", "netbundle.pyz {}".format(_cell(result.netbundle_version))),
    ]
    out: List[str] = [title, ""]
    out += ["| | |", "|---|---|"] + ["| {} | {} |".format(k, v) for k, v in facts]
    out += ["", "## Steps", "", "| # | step | outcome | seconds | command |", "|---:|---|---|---:|---|"]
    for number, step in enumerate(result.steps, start=1):
        out.append(
            "| {} | {} | {} | {:.2f} | {} |".format(
                number, _cell(step.name), "ok" if step.ok else "**FAILED**", step.seconds, _code(step.command)
            )
        )
    skipped = [(step.name, what, why) for step in result.steps for what, why in step.skipped]
    if skipped:
        out += ["", "## Skipped", "", "| step | what | why |", "|---|---|---|"]
        out += [
            "| {} | {} | {} |".format(_cell(name), _cell(what), _cell(why)) for name, what, why in skipped
        ]
    for step in result.steps:
        if step.detail and not step.ok:
            fence = _fence(step.detail)
            out += [
                "",
                "### {} (exit {})".format(_text(step.name), step.exit_code),
                "",
                fence,
                step.detail,
                fence,
            ]
    return "\n".join(out) + "\n"


def _text(text: str) -> str:
    """Plain text for a heading: one line, no HTML, no Markdown emphasis, code or links."""
    flat = _CONTROL.sub(" ", text)
    for char in "\\`*_[]<>#!":
        flat = flat.replace(char, "\\" + char)
    return flat


def _cell(text: str) -> str:
    """Plain text for a table cell: :func:`_text` with pipes escaped."""
    return _text(text).replace("|", "\\|")


def _code(text: str) -> str:
    """A code span (Markdown and HTML are not interpreted inside it): one line, no backtick, pipes escaped."""
    return "`{}`".format(_CONTROL.sub(" ", text).replace("`", "'").replace("|", "\\|"))


def _fence(text: str) -> str:
    """A code fence longer than any backtick run in ``text``, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


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
