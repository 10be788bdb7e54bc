"""The bundle's requirement files read back, and the rule that each target's locks pin only its own files."""

from __future__ import annotations

import pytest

from netbundle.format.locks import assignment_problems, parse_group_lock, target_files


def parse_pins(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(pin.name, pin.version, pin.hashes) for pin in parse_group_lock(text)]


from netbundle.format.manifest import (
    Artifact,
    FileEntry,
    Manifest,
    Origin,
    PackageEntry,
    TargetEntry,
)

A, B, C = "a" * 64, "b" * 64, "c" * 64


def lock(*pins: tuple[str, str, str]) -> str:
    lines = ["# netbundle: target t, group main"]
    lines += [f"{name}=={version} \\\n    --hash=sha256:{digest}" for name, version, digest in pins]
    return "\n".join(lines) + "\n"


def manifest() -> Manifest:
    """bcrypt 4.3.0: the 2_28 wheel serves old, the 2_34 wheel serves new; six serves both."""
    files = {"wheels/bcrypt-2_28.whl": A, "wheels/bcrypt-2_34.whl": B, "wheels/six.whl": C}

    def target(name: str) -> TargetEntry:
        return TargetEntry(
            name, "3.11", "cp", (), ("manylinux_2_28_x86_64",), {}, {"main": f"locks/{name}/r.txt"}, ""
        )

    def artifact(path: str, *targets: str) -> Artifact:
        return Artifact(path, targets, Origin("index", None, path[7:], files[path]))

    return Manifest(
        format_version="1.0", bundle_id="b", project_name="p", project_version="1", builder_version="t",
        build_time="2026-01-01T00:00:00Z", lock_content_hash="", lock_sha256=A, groups=("main",), extras=(),
        targets=(target("old"), target("new")),
        files=tuple(FileEntry(p, 1, d, "wheel") for p, d in files.items()),
        packages=(
            PackageEntry("bcrypt", "4.3.0", ("main",), (
                artifact("wheels/bcrypt-2_28.whl", "old"), artifact("wheels/bcrypt-2_34.whl", "new"))),
            PackageEntry("six", "1.0", ("main",), (artifact("wheels/six.whl", "new", "old"),)),
        ),
    )  # fmt: skip


def test_parse_pins_joins_continuations_and_skips_comments() -> None:
    text = lock(("bcrypt", "4.3.0", A), ("six", "1.0", C)) + "# six==9 --hash=sha256:" + B + "\n"
    assert parse_pins(text) == [("bcrypt", "4.3.0", (A,)), ("six", "1.0", (C,))]
    assert parse_pins("x[extra]==1 --hash=sha256:" + A + " --hash=sha256:" + B) == [("x", "1", (A, B))]


def test_target_files_are_the_artifacts_assigned_to_it() -> None:
    assert target_files(manifest(), "old") == ("wheels/bcrypt-2_28.whl", "wheels/six.whl")
    assert target_files(manifest(), "new") == ("wheels/bcrypt-2_34.whl", "wheels/six.whl")
    assert target_files(manifest(), "other") == ()


def test_locks_that_pin_their_own_files_pass() -> None:
    texts = {
        "locks/old/r.txt": lock(("bcrypt", "4.3.0", A), ("six", "1.0", C)),
        "locks/new/r.txt": lock(("bcrypt", "4.3.0", B)),
    }
    assert assignment_problems(manifest(), texts) == []


@pytest.mark.parametrize(
    ("old_lock", "problem"),
    [
        (
            lock(("bcrypt", "4.3.0", B)),
            "bcrypt==4.3.0 pins sha256:bbbbbbbbbbbbbbbb…, which is not a file the manifest assigns to target old",
        ),
        (lock(("ghost", "1", "d" * 64)), "ghost==1 pins sha256:dddddddddddddddd…"),
        ("bcrypt==4.3.0\n", "bcrypt==4.3.0 has no --hash"),
        (None, "locks/old/r.txt: missing (target old, group main)"),
    ],
    ids=["another-targets-file", "unknown-hash", "no-hash", "missing-lock"],
)
def test_every_other_pin_is_a_problem(old_lock: str | None, problem: str) -> None:
    texts = {"locks/new/r.txt": lock(("bcrypt", "4.3.0", B))}
    if old_lock is not None:
        texts["locks/old/r.txt"] = old_lock
    problems = assignment_problems(manifest(), texts)
    assert len(problems) == 1 and problem in problems[0]
