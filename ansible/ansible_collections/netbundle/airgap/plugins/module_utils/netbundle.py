# Copyright: netbundle contributors
# Apache License 2.0 (see LICENSE in the collection)
"""What every netbundle module shares: running ``python3 netbundle.pyz COMMAND ... --json`` on the host, turning
its documented exit codes into one clear ``msg`` and ``rc``, and checking files against a SHA256SUMS list.

Pure standard library and no import of ansible here, so the logic is testable without a controller; the modules
pass their AnsibleModule in. Keep it Python 3.8 code (ansible-core's oldest supported host Python).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import sys

#: The installer's exit codes (docs/reference/exit-codes.md): code -> (class, meaning).
EXIT_CODES = {
    1: ("NetbundleError", "an expected failure"),
    2: ("UsageError", "options that do not fit together, or a netbundle.pyz without this option"),
    3: ("InputError", "a file or option is missing, malformed or unsupported"),
    6: ("TargetError", "no bundle target fits this host"),
    8: (
        "OutputError",
        "an output cannot be written (a directory or special file in its place, read-only or full)",
    ),
    10: ("BundleFormatError", "not a well-formed bundle"),
    11: ("IntegrityError", "a file's size or sha256 differs from the manifest"),
    12: ("SignatureMissingError", "the bundle carries no signature"),
    13: ("SignatureInvalidError", "a signature does not verify"),
    14: ("UntrustedSignerError", "the signatures verify, but none is by a trusted key"),
    15: ("ThresholdError", "fewer trusted signers than the trust policy's threshold"),
    16: ("FreshnessError", "the bundle is past its signed expiry or dated in the future (set allow_expired)"),
    20: (
        "InstallError",
        "creating the environment or running pip failed; the previous generation stays active",
    ),
    21: ("DowngradeError", "the bundle is older than the installed one (set allow_downgrade)"),
    22: ("DriftError", "drift between the installed state and the receipt or bundle"),
    23: ("RehearsalError", "a DR rehearsal step failed"),
    24: ("PrefixError", "the prefix is unusable, has no such generation, or is locked by another run"),
    25: (
        "ServeError",
        "serve could not start: port in use, an address not of this host, or no room to stage",
    ),
    26: (
        "HostError",
        "this host cannot run the installer or fit the bundle (Python, venv module, free space)",
    ),
    130: ("", "interrupted"),
}
#: Exit code of ``check`` when it found drift (the report is still printed).
DRIFT_EXIT = 22
#: Where ``install`` puts a project without a prefix (``netbundle.runtime.cli.DEFAULT_PREFIX_ROOT``).
DEFAULT_PREFIX_ROOT = "/opt/netbundle"
PREFIX_MARKER = ".netbundle-prefix"
_SUMS_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


class NetbundleRunError(Exception):
    """netbundle.pyz failed (or could not run); ``result`` holds the module's failure fields (msg, rc, ...)."""

    def __init__(self, result):
        super().__init__(result["msg"])
        self.result = result


def pyz_argv(python, pyz, command, args):
    """``[python, -s, pyz, command, *args, --json]`` (``-s``: no user site-packages in the installer)."""
    return [python, "-s", pyz, command] + list(args) + ["--json"]


def trust_args(trust):
    """``--trust F`` for each trust file."""
    argv = []
    for path in trust or ():
        argv += ["--trust", path]
    return argv


def group_args(groups):
    argv = []
    for group in groups or ():
        argv += ["--group", group]
    return argv


def decode_output(command, rc, stdout, stderr, ok_codes=(0,)):
    """The JSON result of a pyz run, or raise :class:`NetbundleRunError` with a clear message.

    ``ok_codes`` are exit codes that still carry a result object (``check``'s 22: drift found).
    """
    data = _parse_json(stdout)
    if rc in ok_codes and isinstance(data, dict) and "error" not in data:
        return data
    raise NetbundleRunError(failure(command, rc, data, stderr))


def failure(command, rc, data, stderr):
    """The fields of a failed module result: ``msg`` (one line: what failed, the installer's message, its hint),
    ``rc``, the installer's ``error`` object when it printed one, and the meaning of the exit code."""
    cls, meaning = EXIT_CODES.get(rc, ("", "unexpected exit code"))
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        msg = "netbundle {} failed (exit {} {}): {}".format(
            command, rc, error.get("kind") or error.get("class") or cls, error["message"]
        )
        if error.get("hint"):
            msg += "; hint: {}".format(error["hint"])
    else:
        detail = last_line(stderr) or "no output"
        label = "{} {}".format(rc, cls).strip()
        msg = "netbundle {} failed (exit {}: {}): {}".format(command, label, meaning, detail)
    result = {"msg": msg, "rc": rc, "meaning": meaning, "stderr_lines": tail_lines(stderr)}
    if isinstance(error, dict):
        result["error"] = error
    return result


def last_line(text):
    """The installer's ``error: ...`` line (``netbundle: error: ...`` from installers before 0.2) when there is one,
    else the last non-empty line."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("error:", "netbundle: error:"))]
    return (errors or lines or [""])[-1]


def tail_lines(text, count=20):
    return [line for line in (text or "").splitlines() if line.strip()][-count:]


def _parse_json(stdout):
    try:
        return json.loads(stdout) if stdout and stdout.strip() else None
    except ValueError:
        return None


def run_pyz(module, python, pyz, command, args):
    """Run one netbundle.pyz command on the host with ``module.run_command``; return its JSON result."""
    return run_pyz_rc(module, python, pyz, command, args)[1]


def run_pyz_rc(module, python, pyz, command, args, ok_codes=(0,)):
    """Like :func:`run_pyz` with more exit codes that carry a result (``ok_codes``); return ``(rc, result)``."""
    check_file(pyz, "pyz")
    check_private(pyz, "pyz")
    argv = pyz_argv(python, pyz, command, args)
    rc, stdout, stderr = module.run_command(argv, environ_update={"LC_ALL": "C.UTF-8"})
    return rc, decode_output(command, rc, stdout, stderr, ok_codes)


def pyz_options(pyz_required=True):
    """The options every module takes: ``pyz`` (netbundle.pyz on the host) and ``python`` (what runs it)."""
    pyz = {"type": "path", "required": True} if pyz_required else {"type": "path"}
    return {"pyz": pyz, "python": {"type": "path"}}


def python_of(params):
    """The interpreter that runs the pyz: the ``python`` option, else the one running the module."""
    return params["python"] or sys.executable


def run_module(module, action):
    """``module.exit_json`` with ``action(module, module.params)``'s result; a :class:`NetbundleRunError` becomes
    ``module.fail_json`` with its fields."""
    try:
        result = action(module, module.params)
    except NetbundleRunError as exc:
        module.fail_json(**exc.result)
        return
    module.exit_json(**result)


def current_generation(module, python, pyz, prefix):
    """``(the prefix's list --json result, its current generation or None)``."""
    listing = run_pyz(module, python, pyz, "list", ["--prefix", prefix])
    return listing, current_of(listing)


def check_file(path, what):
    if not os.path.isfile(path):
        raise NetbundleRunError({"msg": "{} {} is not a file on this host".format(what, path), "rc": 3})


def check_private(path, what):
    """Refuse to run a pyz that another user could have written or could replace: the file and its directory
    must belong to root or to us and not be writable by group or others (a sticky directory such as /tmp is
    allowed for the directory, since others cannot replace our file there). Like sshd's StrictModes."""
    uid = os.getuid()
    for target, is_dir in ((path, False), (os.path.dirname(os.path.abspath(path)), True)):
        st = os.stat(target)
        sticky = is_dir and st.st_mode & stat.S_ISVTX
        if st.st_uid not in (0, uid) or (st.st_mode & 0o022 and not sticky):
            raise NetbundleRunError(
                {
                    "msg": "refusing to run {} {}: {} is writable by other users or owned by uid {}".format(
                        what, path, target, st.st_uid
                    ),
                    "rc": 3,
                }
            )


# --- SHA256SUMS ----------------------------------------------------------------------------------------------------


def parse_sha256sums(text, source="SHA256SUMS"):
    """``{file name: sha256}`` from ``sha256sum`` output (``HEX  NAME`` or ``HEX *NAME``); names by basename."""
    sums = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        found = _SUMS_LINE.match(line)
        if not found:
            raise NetbundleRunError(
                {"msg": "{} line {}: not 'SHA256  NAME': {!r}".format(source, number, line[:80]), "rc": 3}
            )
        sums[os.path.basename(found.group(2).strip())] = found.group(1).lower()
    return sums


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256sums(sums_path, paths):
    """Check each of ``paths`` against the SHA256SUMS file (every one must be listed); raise on the first
    problem. Returns ``{path: sha256}``."""
    check_file(sums_path, "sha256sums")
    with open(sums_path, encoding="utf-8") as handle:
        sums = parse_sha256sums(handle.read(), sums_path)
    found = {}
    for path in paths:
        name = os.path.basename(path)
        if name not in sums:
            raise NetbundleRunError({"msg": "{} is not listed in {}".format(name, sums_path), "rc": 11})
        actual = sha256_file(path)
        if actual != sums[name]:
            raise NetbundleRunError(
                {
                    "msg": "{}: sha256 {} but {} lists {}".format(path, actual, sums_path, sums[name]),
                    "rc": 11,
                    "meaning": EXIT_CODES[11][1],
                }
            )
        found[path] = actual
    return found


# --- prefixes, generations and diffs -------------------------------------------------------------------------------


def is_prefix(path):
    return os.path.isfile(os.path.join(path, PREFIX_MARKER))


def current_of(listing):
    """The current generation (a dict of ``list --json``) or None."""
    for generation in listing.get("generations", []):
        if generation.get("current"):
            return generation
    return None


def rollback_choice(listing, to=None, to_bundle=None):
    """The generation to make current, or None when there is none: generation ``to``; else the newest kept
    generation of bundle id ``to_bundle``; else (like ``netbundle.runtime.generations.rollback``) the newest one
    older than current."""
    generations = listing.get("generations", [])
    current = current_of(listing)
    if to is not None:
        return next((g for g in generations if g["number"] == to), None)
    if to_bundle is not None:
        same = [g for g in generations if g.get("receipt", {}).get("bundle_id") == to_bundle]
        return same[-1] if same else None
    if current is None:
        return None
    older = [g for g in generations if g["number"] < current["number"]]
    return older[-1] if older else None


def render_distributions(distributions):
    """``name==version`` lines, sorted: the text Ansible's diff mode compares."""
    return "".join(
        "{}=={}\n".format(name, version) for name, version in sorted((distributions or {}).items())
    )


def package_diff(before, after, before_header, after_header):
    """An Ansible ``diff`` dict of two ``{name: version}`` maps."""
    return {
        "before": render_distributions(before),
        "after": render_distributions(after),
        "before_header": before_header,
        "after_header": after_header,
    }


def package_changes(before, after):
    """``{added: {...}, removed: {...}, changed: {name: [old, new]}}`` between two ``{name: version}`` maps."""
    before, after = before or {}, after or {}
    return {
        "added": {n: v for n, v in sorted(after.items()) if n not in before},
        "removed": {n: v for n, v in sorted(before.items()) if n not in after},
        "changed": {n: [before[n], v] for n, v in sorted(after.items()) if n in before and before[n] != v},
    }
