"""The collection's shared module code (plugins/module_utils/netbundle.py): exit-code mapping, SHA256SUMS,
rollback choice, package changes. Pure: no ansible import needed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from ansible_collections.netbundle.airgap.plugins.module_utils import netbundle as nb

from netbundle.errors import iter_error_classes


def test_the_exit_code_table_matches_the_installers_error_tree() -> None:
    names: dict[int, set[str]] = {}
    for cls in iter_error_classes():
        names.setdefault(cls.exit_code, set()).add(cls.__name__)
    for code, (name, meaning) in nb.EXIT_CODES.items():
        assert meaning and (not name or name in names[code]), code
    assert set(names) - {4, 5, 7} <= set(nb.EXIT_CODES)  # 4, 5, 7 are builder-only (lock, network, build)


def test_an_installer_error_becomes_one_line_with_code_class_message_and_hint() -> None:
    error = {"class": "UntrustedSignerError", "exit_code": 14, "message": "no signature is by a trusted key",
             "hint": "pass --trust"}  # fmt: skip
    with pytest.raises(nb.NetbundleRunError) as caught:
        nb.decode_output("verify", 14, json.dumps({"error": error}), "netbundle: error: ...\nhint: ...")
    result = caught.value.result
    assert result["msg"] == (
        "netbundle verify failed (exit 14 UntrustedSignerError): no signature is by a trusted key; hint: pass --trust"
    )
    assert (result["rc"], result["error"], result["meaning"]) == (14, error, nb.EXIT_CODES[14][1])


def test_the_error_object_of_this_installer_names_its_kind() -> None:
    error = {"kind": "PrefixError", "exit_code": 24, "message": "/opt/x is locked", "hint": None}
    with pytest.raises(nb.NetbundleRunError) as caught:
        nb.decode_output(
            "install", 24, json.dumps({"format": 1, "error": error}), "error: /opt/x is locked\n"
        )
    assert caught.value.result["msg"] == "netbundle install failed (exit 24 PrefixError): /opt/x is locked"
    with pytest.raises(nb.NetbundleRunError) as caught:
        nb.decode_output("install", 1, "not json", "Traceback (most recent call last):\nerror: boom\nmore\n")
    assert caught.value.result["msg"].endswith("): error: boom")


def test_output_that_is_not_json_still_gives_a_clear_message() -> None:
    stderr = "Traceback (most recent call last):\n  File x\nnetbundle: error: boom\n"
    with pytest.raises(nb.NetbundleRunError) as caught:
        nb.decode_output("install", 1, "not json", stderr)
    assert caught.value.result["msg"] == "netbundle install failed (exit 1 NetbundleError: an expected failure): " \
        "netbundle: error: boom"  # fmt: skip
    with pytest.raises(nb.NetbundleRunError) as caught:
        nb.decode_output("install", 2, "", "netbundle.pyz: error: unrecognized arguments: --dry-run\n")
    assert "unrecognized arguments: --dry-run" in caught.value.result["msg"]
    assert "UsageError" in caught.value.result["msg"]


def test_drift_exit_code_still_carries_the_report() -> None:
    report = {"drift": True, "files": []}
    assert nb.decode_output("check", 22, json.dumps(report), "", ok_codes=(0, 22)) == report
    with pytest.raises(nb.NetbundleRunError):
        nb.decode_output("check", 22, json.dumps(report), "")


def test_sha256sums(tmp_path: Path) -> None:
    bundle, pyz = tmp_path / "b.tar", tmp_path / "netbundle.pyz"
    bundle.write_bytes(b"bundle")
    pyz.write_bytes(b"pyz")
    sums = tmp_path / "SHA256SUMS"
    digest = hashlib.sha256(b"bundle").hexdigest()
    sums.write_text(
        f"# release 1\n{digest}  dist/b.tar\n{hashlib.sha256(b'pyz').hexdigest()} *netbundle.pyz\n"
    )
    assert nb.check_sha256sums(str(sums), [str(bundle), str(pyz)])[str(bundle)] == digest
    bundle.write_bytes(b"tampered")
    with pytest.raises(nb.NetbundleRunError, match=r"but .* lists") as caught:
        nb.check_sha256sums(str(sums), [str(bundle)])
    assert caught.value.result["rc"] == 11
    (tmp_path / "other.tar").write_bytes(b"")
    with pytest.raises(nb.NetbundleRunError, match=r"other\.tar is not listed"):
        nb.check_sha256sums(str(sums), [str(tmp_path / "other.tar")])
    sums.write_text("not a sums line\n")
    with pytest.raises(nb.NetbundleRunError, match="line 1: not 'SHA256  NAME'"):
        nb.check_sha256sums(str(sums), [str(bundle)])


def _listing(*gens: tuple[int, str], current: int) -> dict:
    return {
        "generations": [{"number": n, "current": n == current, "receipt": {"bundle_id": b}} for n, b in gens]
    }


def test_rollback_choice() -> None:
    listing = _listing((1, "v1"), (2, "v2"), (3, "v2"), (4, "v3"), current=4)
    assert nb.rollback_choice(listing)["number"] == 3
    assert nb.rollback_choice(listing, to=1)["number"] == 1
    assert nb.rollback_choice(listing, to=9) is None
    assert nb.rollback_choice(listing, to_bundle="v2")["number"] == 3
    assert nb.rollback_choice(listing, to_bundle="v9") is None
    assert nb.rollback_choice(_listing((1, "v1"), current=1)) is None


def test_package_changes_and_diff() -> None:
    before, after = {"a": "1", "b": "1", "c": "1"}, {"a": "1", "b": "2", "d": "1"}
    assert nb.package_changes(before, after) == {
        "added": {"d": "1"},
        "removed": {"c": "1"},
        "changed": {"b": ["1", "2"]},
    }
    diff = nb.package_diff(before, after, "generation 1", "new")
    assert diff["before"] == "a==1\nb==1\nc==1\n" and diff["after"] == "a==1\nb==2\nd==1\n"


def test_a_pyz_others_can_write_or_replace_is_refused(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    stage.mkdir(mode=0o700)
    pyz = stage / "netbundle.pyz"
    pyz.write_bytes(b"zip")
    pyz.chmod(0o600)
    nb.check_private(str(pyz), "pyz")
    pyz.chmod(0o666)
    with pytest.raises(nb.NetbundleRunError, match="writable by other users") as caught:
        nb.check_private(str(pyz), "pyz")
    assert caught.value.result["rc"] == 3
    pyz.chmod(0o600)
    stage.chmod(0o777)  # anyone could swap the file
    with pytest.raises(nb.NetbundleRunError, match=str(stage)):
        nb.check_private(str(pyz), "pyz")
    stage.chmod(0o1777)  # sticky, like /tmp: others cannot replace our file
    nb.check_private(str(pyz), "pyz")


class FakeModule:
    """What the helpers use of an AnsibleModule: run_command, exit_json and fail_json (recorded, not exiting)."""

    def __init__(self, params: dict[str, object], stdout: str = "", rc: int = 0) -> None:
        self.params = params
        self.stdout, self.rc = stdout, rc
        self.ran: list[list[str]] = []
        self.exited: dict[str, object] | None = None
        self.failed: dict[str, object] | None = None

    def run_command(self, argv: list[str], environ_update: dict[str, str]) -> tuple[int, str, str]:
        self.ran.append(argv)
        return self.rc, self.stdout, ""

    def exit_json(self, **result: object) -> None:
        self.exited = result

    def fail_json(self, **result: object) -> None:
        self.failed = result


def test_every_module_takes_pyz_and_python() -> None:
    assert nb.pyz_options() == {"pyz": {"type": "path", "required": True}, "python": {"type": "path"}}
    assert nb.pyz_options(pyz_required=False)["pyz"] == {"type": "path"}
    assert nb.python_of({"python": "/usr/bin/python3.9"}) == "/usr/bin/python3.9"
    assert nb.python_of({"python": None}) == __import__("sys").executable


def test_run_module_exits_with_the_result_or_fails_with_the_run_error() -> None:
    module = FakeModule({"x": 1})
    nb.run_module(module, lambda m, params: {"changed": False, "x": params["x"]})
    assert module.exited == {"changed": False, "x": 1} and module.failed is None

    def broken(module: object, params: object) -> dict[str, object]:
        raise nb.NetbundleRunError({"msg": "netbundle list failed (exit 24 PrefixError): locked", "rc": 24})

    module = FakeModule({})
    nb.run_module(module, broken)
    assert module.failed == {"msg": "netbundle list failed (exit 24 PrefixError): locked", "rc": 24}
    assert module.exited is None


def test_current_generation_lists_the_prefix(tmp_path: Path) -> None:
    pyz = tmp_path / "netbundle.pyz"
    pyz.write_bytes(b"")
    pyz.chmod(0o644)
    tmp_path.chmod(0o755)
    listing = {"generations": [{"number": 1, "current": False}, {"number": 2, "current": True}]}
    module = FakeModule({}, stdout=json.dumps(listing))
    assert nb.current_generation(module, "/py", str(pyz), "/opt/p") == (listing, listing["generations"][1])
    assert module.ran == [["/py", "-s", str(pyz), "list", "--prefix", "/opt/p", "--json"]]
