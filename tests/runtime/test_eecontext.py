"""EE build context: target choice, group resolution, wheel selection by pinned hash, the definition, the writer."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from netbundle.errors import BundleFormatError, TargetError, UsageError
from netbundle.format.manifest import FileEntry, Manifest, TargetEntry
from netbundle.format.tar import VerifiedBundle
from netbundle.runtime import eecontext
from netbundle.runtime.host import select_groups

CONTENT = {
    "wheels/alpha-1.0-py3-none-any.whl": b"alpha wheel",
    "wheels/junos_eznc-2.7-py3-none-any.whl": b"junos wheel",
    "wheels/lxml-5.0-cp311-cp311-manylinux_2_28_x86_64.whl": b"lxml x86",
    "wheels/lxml-5.0-cp311-cp311-manylinux_2_28_aarch64.whl": b"lxml arm",
    "dist/sample_project-1.0-py3-none-any.whl": b"project wheel",
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def requirement(name: str, version: str, *members: str) -> str:
    hashes = " \\\n".join(f"    --hash=sha256:{sha(CONTENT[m])}" for m in members)
    return f"{name}=={version} \\\n{hashes}\n"


def target(name: str, python: str, machine: str, platform: str = "linux") -> TargetEntry:
    return TargetEntry(
        name=name,
        python_version=python,
        implementation="cp",
        abis=(f"cp{python.replace('.', '')}",),
        platforms=(f"manylinux_2_28_{machine}",),
        marker_environment={"python_version": python, "sys_platform": platform, "platform_machine": machine},
        locks={g: f"locks/{name}/requirements-{g}.txt" for g in ("main", "junos", "cisco")},
        pylock=f"locks/{name}/pylock.toml",
    )


TARGETS = (
    target("cp39-x86", "3.9", "x86_64"),
    target("cp311-x86", "3.11", "x86_64"),
    target("cp311-arm", "3.11", "aarch64"),
    target("cp311-mac", "3.11", "x86_64", platform="darwin"),
)

LOCKS = {
    "locks/cp311-x86/requirements-main.txt": requirement("alpha", "1.0", "wheels/alpha-1.0-py3-none-any.whl")
    + requirement("sample-project", "1.0", "dist/sample_project-1.0-py3-none-any.whl"),
    "locks/cp311-x86/requirements-junos.txt": requirement(
        "junos-eznc", "2.7", "wheels/junos_eznc-2.7-py3-none-any.whl"
    )
    + requirement("lxml", "5.0", "wheels/lxml-5.0-cp311-cp311-manylinux_2_28_x86_64.whl"),
    "locks/cp311-x86/requirements-cisco.txt": "",
}


def make_manifest(targets: tuple[TargetEntry, ...] = TARGETS) -> Manifest:
    files = [FileEntry(path, len(data), sha(data), "dist" if path.startswith("dist/") else "wheel")
             for path, data in CONTENT.items()]  # fmt: skip
    files += [FileEntry(path, len(text), sha(text.encode()), "lock") for path, text in LOCKS.items()]
    return Manifest(
        format_version="1.0",
        bundle_id="sample-project-1.0-0123456789ab",
        project_name="sample-project",
        project_version="1.0",
        builder_version="0.1.0",
        build_time="2026-01-01T00:00:00Z",
        lock_content_hash="c" * 64,
        lock_sha256="d" * 64,
        groups=("main", "junos", "cisco"),
        extras=(),
        targets=targets,
        files=tuple(files),
        packages=(),
    )


@pytest.mark.parametrize(
    ("name", "python", "machine", "expected"),
    [
        ("cp39-x86", None, "x86_64", "cp39-x86"),
        (None, "3.9", "x86_64", "cp39-x86"),
        (None, "3.11", "x86_64", "cp311-x86"),
        (None, "3.11", "aarch64", "cp311-arm"),
        (None, None, "aarch64", "cp311-arm"),
    ],
    ids=["by-name", "py39", "py311-x86", "py311-arm", "only-arm-target"],
)
def test_select_target(name: str | None, python: str | None, machine: str, expected: str) -> None:
    assert eecontext.select_target(make_manifest(), name, python, machine).name == expected


def test_select_target_lists_the_choices_when_several_fit() -> None:
    with pytest.raises(TargetError, match=r"several targets .* cp39-x86, cp311-x86") as info:
        eecontext.select_target(make_manifest(), None, None, "x86_64")
    assert "--target" in (info.value.hint or "")


def test_select_target_refuses_an_unknown_name_and_names_the_targets() -> None:
    with pytest.raises(UsageError, match="no target 'nope'") as info:
        eecontext.select_target(make_manifest(), "nope", None)
    assert info.value.hint == "choose one of: cp39-x86, cp311-x86, cp311-arm, cp311-mac"


def test_select_target_when_none_fits() -> None:
    with pytest.raises(TargetError, match=r"no target for a Linux x86_64 image with Python 3\.12"):
        eecontext.select_target(make_manifest(), None, "3.12")


@pytest.mark.parametrize(
    ("image", "python"),
    [
        ("awx-ee:latest", "3.11"),
        ("mirror.internal:5000/ansible/awx-ee:24.6.1", "3.11"),
        ("awx-ee@sha256:" + "0" * 64, "3.11"),
        ("my-ee:1", None),
    ],
)
def test_base_image_python(image: str, python: str | None) -> None:
    assert eecontext.base_image_python(image) == python


def test_groups_keep_the_bundle_order_with_main_first() -> None:
    manifest = make_manifest()
    assert select_groups(manifest, TARGETS[1], ["cisco", "junos"]) == ("main", "junos", "cisco")
    assert select_groups(manifest, TARGETS[1], []) == ("main",)


def test_unknown_groups_are_refused() -> None:
    with pytest.raises(UsageError, match=r"does not carry group arista") as info:
        select_groups(make_manifest(), TARGETS[1], ["arista"])
    assert info.value.hint == "it carries: main, junos, cisco"


def test_pip_command_is_offline_and_hash_checked() -> None:
    command = eecontext.pip_command(["requirements-main.txt", "requirements-junos.txt"], "/x")
    assert command == (
        "env PIP_CONFIG_FILE=/dev/null $PYCMD -m pip install --no-index --find-links /x/wheels "
        "--require-hashes --only-binary=:all: --no-cache-dir --disable-pip-version-check "
        "-r /x/requirements-main.txt -r /x/requirements-junos.txt"
    )


def test_plan_takes_exactly_the_pinned_wheels_of_the_chosen_groups() -> None:
    manifest = make_manifest()
    plan = eecontext.plan_ee_context(manifest, LOCKS, TARGETS[1], ("main", "junos"))
    assert [name for _, name in plan.wheels] == [
        "alpha-1.0-py3-none-any.whl",
        "junos_eznc-2.7-py3-none-any.whl",
        "lxml-5.0-cp311-cp311-manylinux_2_28_x86_64.whl",
        "sample_project-1.0-py3-none-any.whl",
    ]
    assert plan.requirements == (
        ("locks/cp311-x86/requirements-main.txt", "requirements-main.txt"),
        ("locks/cp311-x86/requirements-junos.txt", "requirements-junos.txt"),
    )
    assert plan.python_path == "/usr/bin/python3.11"
    assert plan.provenance["groups"] == ["main", "junos"]


def test_plan_refuses_a_pin_the_bundle_does_not_carry() -> None:
    locks = dict(LOCKS)
    locks["locks/cp311-x86/requirements-main.txt"] += f"ghost==1 \\\n    --hash=sha256:{'e' * 64}\n"
    with pytest.raises(BundleFormatError, match=r"requirements-main\.txt .* pins sha256:e{64}"):
        eecontext.plan_ee_context(make_manifest(), locks, TARGETS[1], ("main",))


def test_definition_is_version_3_with_an_offline_step_only() -> None:
    plan = eecontext.plan_ee_context(make_manifest(), LOCKS, TARGETS[1], ("main",), "my-ee:1", "/opt/py")
    text = plan.definition
    assert "\nversion: 3\n" in text
    assert '    name: "my-ee:1"\n' in text
    assert '    python_path: "/opt/py"\n' in text
    assert "galaxy" not in text and "index-url" not in text
    assert "\n  python:" not in text  # no requirements handed to ansible-builder's own (online) assemble step
    run = [line for line in text.splitlines() if "RUN " in line]
    assert len(run) == 1 and "--no-index" in run[0] and "--require-hashes" in run[0]


# --- the writer, over a staged bundle made of plain files ----------------------------------------------------------


def staged_bundle(tmp_path: Path) -> VerifiedBundle:
    root = tmp_path / "staging"
    for path, data in [*CONTENT.items(), *((p, t.encode()) for p, t in LOCKS.items())]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return VerifiedBundle("b.tar", make_manifest(), b"{}", "f" * 64, (), root)


def test_write_ee_context_writes_the_planned_files(tmp_path: Path) -> None:
    out = tmp_path / "ee"
    result = eecontext.write_ee_context(staged_bundle(tmp_path), out, ["junos"], target="cp311-x86")
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == [
        "execution-environment.yml",
        "netbundle/bundle.json",
        "netbundle/requirements-junos.txt",
        "netbundle/requirements-main.txt",
        "netbundle/wheels/alpha-1.0-py3-none-any.whl",
        "netbundle/wheels/junos_eznc-2.7-py3-none-any.whl",
        "netbundle/wheels/lxml-5.0-cp311-cp311-manylinux_2_28_x86_64.whl",
        "netbundle/wheels/sample_project-1.0-py3-none-any.whl",
    ]
    assert (
        out / "netbundle/wheels/lxml-5.0-cp311-cp311-manylinux_2_28_x86_64.whl"
    ).read_bytes() == b"lxml x86"
    assert json.loads((out / "netbundle/bundle.json").read_text())["manifest_sha256"] == "f" * 64
    assert result.to_dict()["groups"] == ["main", "junos"]
    assert [p.name for p in tmp_path.iterdir()] != [] and not list(tmp_path.glob(".ee.*"))


def test_write_ee_context_picks_the_default_base_images_python(tmp_path: Path) -> None:
    bundle = staged_bundle(tmp_path)
    assert eecontext.write_ee_context(bundle, tmp_path / "ee").target == "cp311-x86"


def test_write_ee_context_accepts_an_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "ee").mkdir()
    eecontext.write_ee_context(staged_bundle(tmp_path), tmp_path / "ee", python="3.11")
    assert (tmp_path / "ee" / eecontext.DEFINITION_NAME).is_file()


def test_write_ee_context_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "ee").mkdir()
    (tmp_path / "ee" / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not an empty directory"):
        eecontext.write_ee_context(staged_bundle(tmp_path), tmp_path / "ee", python="3.11")
    assert (tmp_path / "ee" / "keep.txt").read_text() == "mine"


def test_write_ee_context_leaves_nothing_on_failure(tmp_path: Path) -> None:
    bundle = staged_bundle(tmp_path)
    (tmp_path / "staging/wheels/alpha-1.0-py3-none-any.whl").unlink()
    with pytest.raises(FileNotFoundError):
        eecontext.write_ee_context(bundle, tmp_path / "ee", python="3.11")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["staging"]
