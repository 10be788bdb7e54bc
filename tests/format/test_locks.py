"""The bundle's requirement files: one renderer and one parser for both halves."""

from __future__ import annotations

from netbundle.format.locks import Pin, parse_group_lock, pinned_hashes, pinned_versions, render_group_lock


def test_pinned_versions_reads_the_bundle_lock_format() -> None:
    text = (
        "# netbundle lock for target t, group main\n"
        "alpha==1.0 \\\n"
        "    --hash=sha256:" + "a" * 64 + " \\\n"
        "    --hash=sha256:" + "b" * 64 + "\n"
        "Beta.Thing[extra]==2.0.post1 \\\n"
        "    --hash=sha256:" + "c" * 64 + "\n"
        "--only-binary=:all:\n"
        "\n"
        "gamma==3 ; python_version >= '3'  # stray marker\n"
    )
    assert pinned_versions(text) == {"alpha": "1.0", "beta-thing": "2.0.post1", "gamma": "3"}


def test_pinned_hashes_reads_both_spellings() -> None:
    text = f"a==1 \\\n    --hash=sha256:{'a' * 64} \\\n    --hash sha256:{'b' * 64}\nb==2 --hash=md5:{'c' * 32}\n"
    assert pinned_hashes(text) == ("a" * 64, "b" * 64)


def test_render_then_parse_round_trips() -> None:
    rows = [("beta", "2.0", "b" * 64), ("alpha", "1.0", "a" * 64)]
    text = render_group_lock("cp311-manylinux_2_28_x86_64", "main", rows)
    assert text.splitlines()[0] == (
        "# netbundle: target cp311-manylinux_2_28_x86_64, group main; every hash is a file in this bundle's wheels/"
    )
    assert parse_group_lock(text) == (
        Pin(name="alpha", version="1.0", hashes=("a" * 64,)),
        Pin(name="beta", version="2.0", hashes=("b" * 64,)),
    )
