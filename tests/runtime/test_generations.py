from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from netbundle.errors import PrefixError
from netbundle.runtime import generations as gens
from netbundle.runtime.receipt import Receipt, parse_receipt, write_receipt

RECEIPT = Receipt(
    generation=1,
    bundle_id="demo-1.0-0123456789ab",
    project="demo",
    version="1.0",
    build_time="2026-01-01T00:00:00Z",
    manifest_sha256="0" * 64,
    signers=("ABCDEF0123456789",),
    target="cp311-manylinux_2_28_x86_64",
    groups=("main",),
    distributions={"alpha": "1.0"},
    site_packages=("lib/python3.11/site-packages",),
    netbundle_version="0.1.0",
    installed_at="2026-01-02T00:00:00Z",
)


def add_generation(prefix: Path, number: int, *, complete: bool = True, current: bool = False) -> Path:
    path = prefix / "generations" / gens.generation_name(number, RECEIPT.bundle_id)
    (path / "bin").mkdir(parents=True)
    if complete:
        write_receipt(path, replace(RECEIPT, generation=number))
    if current:
        gens.switch_current(prefix, path.name)
    return path


@pytest.fixture
def prefix(tmp_path: Path) -> Path:
    return gens.open_prefix(tmp_path / "prefix", create=True)


def test_receipt_round_trips_and_keeps_unknown_keys() -> None:
    data = RECEIPT.to_json()
    data["future"] = {"x": 1}
    parsed = parse_receipt(json.loads(json.dumps(data)))
    assert replace(parsed, extra={}) == RECEIPT
    assert parsed.to_json()["future"] == {"x": 1}


def test_receipt_of_another_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown receipt format"):
        parse_receipt({**RECEIPT.to_json(), "format": 2})


@pytest.mark.parametrize(
    ("name", "number"),
    [("0001-demo", 1), ("12345-x.y_z", 12345), ("001-demo", None), ("0001", None), (".staging-1", None)],
)
def test_generation_names(name: str, number: int | None) -> None:
    assert gens.parse_generation_name(name) == number


def test_generation_name_carries_the_whole_bundle_id() -> None:
    name = gens.generation_name(7, "netmiko-4.5.0-1a2b3c4d5e6f")
    assert name == "0007-netmiko-4.5.0-1a2b3c4d5e6f"
    assert gens.parse_generation_name(name) == 7


def test_old_shortened_generation_names_stay_readable(prefix: Path) -> None:
    old = prefix / "generations" / "0003-netmiko-4.5."
    old.mkdir(parents=True)
    write_receipt(old, RECEIPT)
    assert [(g.number, g.name) for g in gens.read_generations(prefix)] == [(3, "0003-netmiko-4.5.")]


def test_a_new_prefix_is_created_and_marked(tmp_path: Path) -> None:
    prefix = gens.open_prefix(tmp_path / "p", create=True)
    assert (prefix / ".netbundle-prefix").read_text() == "netbundle-prefix 1\n"
    assert gens.open_prefix(tmp_path / "p") == prefix


def test_a_foreign_non_empty_directory_is_never_taken_over(tmp_path: Path) -> None:
    (tmp_path / "usr-local").mkdir()
    (tmp_path / "usr-local" / "file").write_text("x")
    with pytest.raises(PrefixError, match="exists and is not a netbundle prefix"):
        gens.open_prefix(tmp_path / "usr-local", create=True)


def test_a_missing_prefix_is_an_error_unless_created(tmp_path: Path) -> None:
    with pytest.raises(PrefixError, match="is not a netbundle prefix"):
        gens.open_prefix(tmp_path / "nothing")


def test_the_lock_refuses_a_second_holder(prefix: Path) -> None:
    with gens.prefix_lock(prefix), pytest.raises(PrefixError, match="locked by another netbundle run"):  # noqa: SIM117
        with gens.prefix_lock(prefix):
            pass
    with gens.prefix_lock(prefix):  # released again
        pass


def test_switch_points_current_and_the_prefix_links(prefix: Path) -> None:
    first = add_generation(prefix, 1, current=True)
    second = add_generation(prefix, 2)
    gens.switch_current(prefix, second.name)
    assert (prefix / "current").readlink() == Path("generations") / second.name
    for link in ("bin", "lib", "lib64", "pyvenv.cfg"):
        assert (prefix / link).readlink() == Path("current") / link
    assert (prefix / "bin").resolve() == (second / "bin").resolve()
    assert first.is_dir()
    assert not list(prefix.glob(".*.tmp"))


def test_list_shows_complete_generations_oldest_first(prefix: Path) -> None:
    add_generation(prefix, 1)
    add_generation(prefix, 2, current=True)
    add_generation(prefix, 3, complete=False)
    listed = gens.list_generations(prefix)
    assert [(g.number, g.current) for g in listed.generations] == [(1, False), (2, True)]
    assert listed.to_json()["generations"][1]["receipt"]["bundle_id"] == RECEIPT.bundle_id
    text = listed.render_text().splitlines()
    assert text[1].startswith("*    2  demo 1.0  target cp311-manylinux_2_28_x86_64  groups main")


def test_list_of_an_empty_prefix(prefix: Path) -> None:
    assert gens.list_generations(prefix).render_text() == "no generations installed"
    assert gens.current_generation(prefix) is None


def test_a_damaged_receipt_is_a_prefix_error(prefix: Path) -> None:
    path = add_generation(prefix, 1)
    (path / "receipt.json").write_text("{")
    with pytest.raises(PrefixError, match=r"receipt\.json is damaged"):
        gens.list_generations(prefix)


def test_new_generation_numbers_continue_past_every_directory(prefix: Path) -> None:
    assert gens.new_generation_dir(prefix, "b-2").name == "0001-b-2"
    add_generation(prefix, 4, complete=False)
    assert gens.new_generation_dir(prefix, "b-2").name == "0005-b-2"


def test_rollback_to_the_previous_generation(prefix: Path) -> None:
    add_generation(prefix, 1)
    add_generation(prefix, 2)
    add_generation(prefix, 3, current=True)
    result = gens.rollback(prefix)
    assert (result.previous.number, result.current.number) == (3, 2)
    assert gens.current_generation(prefix).number == 2  # type: ignore[union-attr]
    assert result.to_json()["to"]["number"] == 2
    assert result.render_text() == "rolled back from generation 3 (demo 1.0) to generation 2 (demo 1.0)"


def test_rollback_to_a_given_generation_also_forward(prefix: Path) -> None:
    add_generation(prefix, 1, current=True)
    add_generation(prefix, 2)
    assert gens.rollback(prefix, to=2).current.number == 2


@pytest.mark.parametrize(
    ("to", "message"), [(None, "is the oldest kept; nothing to roll back to"), (9, "has no generation 9")]
)
def test_rollback_without_a_target_generation(prefix: Path, to: int | None, message: str) -> None:
    add_generation(prefix, 1, current=True)
    with pytest.raises(PrefixError, match=message) as caught:
        gens.rollback(prefix, to=to)
    assert caught.value.hint == "generations: 1"


def test_rollback_without_current(prefix: Path) -> None:
    with pytest.raises(PrefixError, match="has no current generation"):
        gens.rollback(prefix)


def test_clean_leftovers_removes_staging_and_incomplete_generations_only(prefix: Path) -> None:
    add_generation(prefix, 1, current=True)
    add_generation(prefix, 2, complete=False)
    (prefix / ".staging-abc" / "wheels").mkdir(parents=True)
    removed = gens.clean_leftovers(prefix)
    assert removed == [".staging-abc", "generations/" + gens.generation_name(2, RECEIPT.bundle_id)]
    assert [p.name for p in (prefix / "generations").iterdir()] == [
        gens.generation_name(1, RECEIPT.bundle_id)
    ]


def test_an_incomplete_current_generation_is_kept(prefix: Path) -> None:
    add_generation(prefix, 1, complete=False, current=True)
    assert gens.clean_leftovers(prefix) == []


def test_prune_keeps_the_newest_and_current(prefix: Path) -> None:
    for number in range(1, 9):
        add_generation(prefix, number, current=number == 1)
    removed = gens.prune(prefix, keep=5)
    assert [gens.parse_generation_name(n) for n in removed] == [2, 3]
    assert [g.number for g in gens.read_generations(prefix)] == [1, 4, 5, 6, 7, 8]


# --- generations remove N, the keep setting --------------------------------------------------------------------


def test_remove_a_generation_that_is_not_current(prefix: Path) -> None:
    add_generation(prefix, 1)
    add_generation(prefix, 2, current=True)
    result = gens.remove_generation(prefix, 1)
    assert result.removed.number == 1 and result.to_json()["format"] == 1
    assert [g.number for g in gens.read_generations(prefix)] == [2]
    assert "removed generation 1" in result.render_text()


def test_the_current_generation_cannot_be_removed(prefix: Path) -> None:
    add_generation(prefix, 1, current=True)
    with pytest.raises(PrefixError, match="generation 1 is current") as caught:
        gens.remove_generation(prefix, 1)
    assert caught.value.hint is not None and "rollback" in caught.value.hint
    assert [g.number for g in gens.read_generations(prefix)] == [1]


def test_removing_an_unknown_generation_names_the_known_ones(prefix: Path) -> None:
    add_generation(prefix, 1, current=True)
    with pytest.raises(PrefixError, match="no generation 9") as caught:
        gens.remove_generation(prefix, 9)
    assert caught.value.hint == "generations: 1"


def test_keep_setting_is_stored_and_used_by_prune(prefix: Path) -> None:
    assert gens.read_keep(prefix) == gens.KEEP_GENERATIONS
    for number in range(1, 5):
        add_generation(prefix, number, current=number == 4)
    assert gens.set_keep(prefix, 2).to_json() == {"format": 1, "prefix": str(prefix), "keep": 2}
    assert gens.read_keep(prefix) == 2
    assert [gens.parse_generation_name(n) for n in gens.prune(prefix)] == [1, 2]
    assert [g.number for g in gens.read_generations(prefix)] == [3, 4]


def test_an_explicit_keep_beats_the_setting(prefix: Path) -> None:
    gens.set_keep(prefix, 1)
    for number in range(1, 4):
        add_generation(prefix, number, current=number == 3)
    assert gens.prune(prefix, keep=3) == []


@pytest.mark.parametrize("text", ['{"keep": 0}', '{"keep": "5"}', "[1]", "{bad"], ids=str)
def test_a_damaged_keep_setting_is_a_prefix_error(prefix: Path, text: str) -> None:
    (prefix / gens.SETTINGS).write_text(text)
    with pytest.raises(PrefixError, match=r"settings\.json"):
        gens.read_keep(prefix)
