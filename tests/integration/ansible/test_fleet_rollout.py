"""The collection netbundle.airgap with real ansible-core over real SSH, against three hosts that are network
namespaces with their own sshd and their own /opt (tests/support/fleet.py).

One scenario, in order (the steps build on each other, so they are one test): roll the sample bundle out
(changed), again (nothing changed), a check-mode run of the bumped bundle (plans, changes nothing), the bumped
bundle with one host's health check failing (that host rolls back, the others carry on), the bumped bundle again
(the last host upgrades: the whole fleet is on it), the rollback playbook (every host back on the first bundle),
a drift check with drift injected on one host (that host fails only), the DR rehearsal (evidence fetched), and
an installer error surfacing as msg + rc without a traceback, and netbundle_install copying its files itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import FleetRun, PlaybookRun, Release

pytestmark = pytest.mark.integration

PROJECT = "netops-sample"
PREFIX = f"/opt/netbundle/{PROJECT}"
GROUPS = ["arista"]
HEALTH_FAILURE = "h2 health probe failed"


def current_receipt(host_opt: Path) -> dict:
    return json.loads((host_opt / "netbundle" / PROJECT / "current" / "receipt.json").read_text())


def generation_numbers(host_opt: Path) -> list[int]:
    gens = host_opt / "netbundle" / PROJECT / "generations"
    return sorted(int(p.name.split("-")[0]) for p in gens.iterdir() if (p / "receipt.json").is_file())


def expected_target(python: str) -> str:
    return "cp39-manylinux_2_28_x86_64" if python.endswith("python3.9") else "cp311-manylinux_2_28_x86_64"


def sums_file(directory: Path, *files: Path) -> Path:
    import hashlib

    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.name}\n" for f in files]
    (directory / "SHA256SUMS").write_text("".join(lines))
    return directory / "SHA256SUMS"


def rollout(
    fleet: FleetRun, release: Release, bundle: Path, reports: Path, *options: str, serial: int = 3
) -> PlaybookRun:
    reports.mkdir(parents=True)
    sums = sums_file(reports.parent / f"sums-{bundle.stem}", release.pyz, bundle)
    extra = {
        "netbundle_hosts": "fleet",
        "netbundle_pyz_src": str(release.pyz),
        "netbundle_bundle_src": str(bundle),
        "netbundle_sha256sums_src": str(sums),
        "netbundle_groups": GROUPS,
        "netbundle_report_dir": str(reports),
        "netbundle_serial": serial,
        "netbundle_max_fail_percentage": 50,  # one failed host of a batch of two (or three) does not stop it
    }
    return fleet.ansible.playbook("netbundle.airgap.rollout", extra, *options)


def host_reports(reports: Path) -> dict[str, dict]:
    return json.loads((reports / "rollout-report.json").read_text())


def test_fleet_rollout_upgrade_failure_rollback_drift_rehearse(
    fleet: FleetRun, release: Release, tmp_path: Path
) -> None:
    hosts = {h.name: h for h in fleet.hosts}
    names = sorted(hosts)

    # 1. first rollout: every host installs generation 1 (the target fitting its Python), changed
    run = rollout(fleet, release, release.v1, tmp_path / "r1")
    assert run.rc == 0, run.output[-4000:]
    assert sorted(run.recap) == [*names, "localhost"]
    for name in names:
        assert run.recap[name].changed > 0 and run.recap[name].failed == 0, run.recap
    reports = host_reports(tmp_path / "r1")
    v1_id = reports["h1"]["bundle_id"]
    for name, host in hosts.items():
        assert (reports[name]["status"], reports[name]["generation"]) == ("upgraded", 1)
        assert (tmp_path / "r1" / f"{name}.json").is_file()
        receipt = current_receipt(host.opt)
        assert (receipt["bundle_id"], receipt["version"]) == (v1_id, "0.3.0")
        assert receipt["target"] == expected_target(host.python)
        assert receipt["groups"] == ["main", *GROUPS]
        assert "pyeapi" in receipt["distributions"]
    assert not any(Path("/opt/netbundle", PROJECT).exists() for _ in [0])  # the real /opt was never touched

    # 2. the same again: nothing changes anywhere
    run = rollout(fleet, release, release.v1, tmp_path / "r2")
    assert run.rc == 0, run.output[-4000:]
    for name in names:
        assert run.recap[name].changed == 0 and run.recap[name].failed == 0, (name, run.recap)
        assert host_reports(tmp_path / "r2")[name]["status"] == "unchanged"
        assert generation_numbers(hosts[name].opt) == [1]

    # 3. check mode + diff of the bumped bundle: planned on every host (install --dry-run), nothing changed
    run = rollout(fleet, release, release.v2, tmp_path / "r3", "--check", "--diff")
    assert run.rc == 0, run.output[-4000:]
    assert "-netops-sample==0.3.0" in run.output and "+netops-sample==0.3.1" in run.output
    for name in names:
        report = host_reports(tmp_path / "r3")[name]
        assert (report["status"], report["check_mode"]) == ("upgraded", True)
        assert report["changes"]["changed"] == {"netops-sample": ["0.3.0", "0.3.1"]}
        assert generation_numbers(hosts[name].opt) == [1]
        assert current_receipt(hosts[name].opt)["bundle_id"] == v1_id

    # 4. the bumped bundle with h2's health check failing: h2 back on generation 1, h1 and h3 upgraded
    (fleet.inventory / "host_vars" / "h2.yml").write_text(
        f"netbundle_health_commands: [\"sh -c 'echo {HEALTH_FAILURE} >&2; exit 1'\"]\n"
    )
    run = rollout(fleet, release, release.v2, tmp_path / "r4", serial=2)  # batches [h1, h2], [h3]
    (fleet.inventory / "host_vars" / "h2.yml").unlink()
    assert run.rc == 2, run.output[-4000:]  # a host failed
    assert (run.recap["h2"].failed, run.recap["h2"].rescued) == (1, 1), run.recap
    assert run.recap["h1"].failed == run.recap["h3"].failed == 0, run.recap
    reports = host_reports(tmp_path / "r4")
    v2_id = reports["h1"]["bundle_id"]
    assert v2_id != v1_id
    assert (reports["h2"]["status"], reports["h2"]["generation"]) == ("rolled_back", 1)
    assert HEALTH_FAILURE in reports["h2"]["message"]
    assert current_receipt(hosts["h2"].opt)["bundle_id"] == v1_id
    for name in ("h1", "h3"):
        assert (reports[name]["status"], reports[name]["generation"], reports[name]["previous_generation"]) == (
            "upgraded", 2, 1,
        )  # fmt: skip
        assert current_receipt(hosts[name].opt)["version"] == "0.3.1"

    # 5. the bumped bundle again, healthy: h2 upgrades too, h1 and h3 are unchanged; the fleet is on 0.3.1
    run = rollout(fleet, release, release.v2, tmp_path / "r5")
    assert run.rc == 0, run.output[-4000:]
    reports = host_reports(tmp_path / "r5")
    assert {n: reports[n]["status"] for n in names} == {
        "h1": "unchanged",
        "h2": "upgraded",
        "h3": "unchanged",
    }
    assert run.recap["h1"].changed == run.recap["h3"].changed == 0
    for name in names:
        assert current_receipt(hosts[name].opt)["bundle_id"] == v2_id

    # 6. the rollback playbook: every host back on its generation of the first bundle; a second run is a no-op
    rollback = {"netbundle_hosts": "fleet", "netbundle_prefix": PREFIX, "netbundle_rollback_to_bundle": v1_id}
    run = fleet.ansible.playbook("netbundle.airgap.rollback", rollback)
    assert run.rc == 0, run.output[-4000:]
    for name in names:
        assert run.recap[name].changed == 1, run.recap
        receipt = current_receipt(hosts[name].opt)
        assert (receipt["bundle_id"], receipt["generation"]) == (v1_id, 1)
    run = fleet.ansible.playbook("netbundle.airgap.rollback", rollback)
    assert run.rc == 0 and all(run.recap[n].changed == 0 for n in names), run.output[-4000:]

    # 7. drift injected on h3: the check playbook fails h3 only
    receipt = current_receipt(hosts["h3"].opt)
    site = hosts["h3"].opt / "netbundle" / PROJECT / "current" / receipt["site_packages"][0]
    with (site / "netops_sample" / "__init__.py").open("a") as handle:
        handle.write("# drift\n")
    run = fleet.ansible.playbook(
        "netbundle.airgap.check", {"netbundle_hosts": "fleet", "netbundle_prefix": PREFIX}
    )
    assert run.rc == 2, run.output[-4000:]
    assert {n: run.recap[n].failed for n in names} == {"h1": 0, "h2": 0, "h3": 1}
    assert "drift in generation 1" in run.output and "netops_sample/__init__.py" in run.output

    # 8. the DR rehearsal on every host; the evidence lands on the controller
    evidence = tmp_path / "evidence"
    rehearse = {"netbundle_hosts": "fleet", "netbundle_pyz_src": str(release.pyz),
                "netbundle_bundle_src": str(release.v2), "netbundle_groups": GROUPS,
                "netbundle_evidence_dir": str(evidence)}  # fmt: skip
    run = fleet.ansible.playbook("netbundle.airgap.rehearse", rehearse)
    assert run.rc == 0, run.output[-4000:]
    for name, host in hosts.items():
        report = json.loads((evidence / name / "rehearsal.json").read_text())
        assert report["ok"] is True and report["target"] == expected_target(host.python)
        assert report["bundle"]["bundle_id"] == v2_id
        assert (evidence / name / "rehearsal.md").read_text().startswith("#")
    assert current_receipt(hosts["h1"].opt)["bundle_id"] == v1_id  # the rehearsal did not touch the install

    # 9. an installer error: one clear line with the documented exit code, no traceback
    done = fleet.ansible.module("h1", "netbundle.airgap.netbundle_rollback",
                                {"pyz": "/opt/netbundle/.staging/netbundle.pyz", "prefix": "/opt/nothing-here"})  # fmt: skip
    assert done.returncode != 0
    assert "exit 24 PrefixError" in done.stdout and "is not a netbundle prefix" in done.stdout, done.stdout
    assert "Traceback" not in done.stdout + done.stderr

    # 10. netbundle_install on its own copies the files from the controller (action plugin); again: nothing to do
    adhoc = {"pyz_src": str(release.pyz), "bundle_src": str(release.v2), "stage_dir": "/var/tmp/adhoc",
             "prefix": "/opt/netbundle/adhoc"}  # fmt: skip
    done = fleet.ansible.module("h1", "netbundle.airgap.netbundle_install", adhoc)
    assert done.returncode == 0 and "h1 | CHANGED" in done.stdout, done.stdout + done.stderr
    assert (hosts["h1"].root / "var-tmp" / "adhoc" / release.v2.name).is_file()
    assert (
        json.loads((hosts["h1"].opt / "netbundle" / "adhoc" / "current" / "receipt.json").read_text())[
            "version"
        ]
        == "0.3.1"
    )
    done = fleet.ansible.module("h1", "netbundle.airgap.netbundle_install", adhoc)
    assert done.returncode == 0 and "h1 | SUCCESS" in done.stdout, done.stdout + done.stderr
