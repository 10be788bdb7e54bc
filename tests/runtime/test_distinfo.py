"""The fast METADATA reader gives what importlib.metadata gives on this interpreter, for real and odd files."""

from __future__ import annotations

import importlib.metadata as importlib_metadata
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from netbundle.errors import InstallError
from netbundle.runtime import distinfo
from netbundle.runtime.distinfo import parse_headers, read_distributions


def importlib_view(site: Path) -> dict[str, tuple[Any, ...]]:
    """What the installer read with importlib.metadata before: the first distribution of each name."""
    found: dict[str, tuple[Any, ...]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: a missing key warns
        for dist in importlib_metadata.distributions(path=[str(site)]):
            name = canonicalize_name(dist.metadata["Name"] or "")
            if name and name not in found:
                meta = dist.metadata
                found[name] = (
                    dist.version,
                    tuple(dist.requires or ()),
                    meta["Requires-Python"],
                    tuple(meta.get_all("Provides-Extra") or ()),
                )
    return found


def fast_view(site: Path) -> dict[str, tuple[Any, ...]]:
    return {
        info.name: (info.version, info.requires, info.requires_python, info.extras)
        for info in read_distributions([str(site)])
    }


def dist_info(site: Path, directory: str, metadata: bytes | str, **extra: str) -> Path:
    path = site / directory
    path.mkdir(parents=True)
    data = metadata.encode("utf-8") if isinstance(metadata, str) else metadata
    (path / "METADATA").write_bytes(data)
    for name, text in extra.items():
        (path / name.replace("_", ".")).write_text(text, encoding="utf-8")
    return path


ODD_METADATA = {
    "plain": "Metadata-Version: 2.1\nName: Foo.Bar\nVersion: 1.0\nRequires-Dist: b>=1\nRequires-Dist: c; extra == 'x'\n"
    "Provides-Extra: x\nRequires-Python: >=3.8\n\nlong description\nRequires-Dist: not-a-header\n",
    "folded requirement": "Name: foo\nVersion: 1\nRequires-Dist: b;\n  extra == 'x'\nRequires-Dist: c\n\n",
    "folded with tabs": "Name: foo\nVersion:\n\t1.0\nRequires-Dist: b\n\t>=1\n \n",
    "missing version": "Name: foo\nRequires-Dist: b\n",
    "missing name": "Version: 1.0\nRequires-Dist: b\n",
    "empty name": "Name:\nVersion: 1.0\n",
    "trailing spaces kept": "Name: foo  \nVersion: 1.0 \nRequires-Python:  >=3\t\n",
    "header names in any case": "NAME: foo\nversion: 2\nrequires-dist: b\nREQUIRES-DIST: c\nprovides-EXTRA: e\n",
    "first of repeated headers": "Name: foo\nName: bar\nVersion: 1\nVersion: 2\n",
    "crlf": "Name: foo\r\nVersion: 1\r\nRequires-Dist: b\r\n  >=1\r\n\r\nRequires-Dist: body\r\n",
    "cr only": "Name: foo\rVersion: 1\rRequires-Dist: b\r\rRequires-Dist: body\r",
    "mixed endings blank": "Name: foo\r\nVersion: 1\n\r\nRequires-Dist: body\n",
    "no blank line": "Name: foo\nVersion: 1\nRequires-Dist: b",
    "non-header line ends the block": "Name: foo\nVersion: 1\nthis is not a header\nRequires-Dist: b\n",
    "space in a header name ends the block": "Name: foo\nVersion: 1\nRequires Dist: b\nRequires-Dist: c\n",
    "colon first": "Name: foo\n: nothing\nVersion: 1\n",
    "first line a continuation": "  Name: ghost\nName: foo\nVersion: 1\n",
    "from line first": "From someone\nName: foo\nVersion: 1\n",
    "from line inside": "Name: foo\nFrom someone\nVersion: 1\nRequires-Dist: b\n",
    "from line last": "Name: foo\nVersion: 1\nFrom the body\n",
    "bom": "\ufeffName: foo\nVersion: 1\n",
    "form feed line": "Name: foo\nVersion: 1\n\x0c\nRequires-Dist: b\n",
    "unicode line separator": "Name: foo\nSummary: a\u2028b\x85c\nVersion: 1\nRequires-Dist: b\n",
    "non-ascii value": "Name: foo\nVersion: 1\nSummary: caf\u00e9 \u2603\nRequires-Dist: b\n",
    "whitespace-only continuation at the end": "Name: foo\nVersion: 1\nRequires-Dist: b\n   \n\t\n",
    "huge description": "Name: foo\nVersion: 1\nRequires-Dist: b\n\n"
    + ("Requires-Dist: x\n" + "y" * 200 + "\n") * 20000,
}


@pytest.mark.parametrize("text", ODD_METADATA.values(), ids=list(ODD_METADATA))
def test_the_fields_are_importlib_metadatas(tmp_path: Path, text: str) -> None:
    dist_info(tmp_path, "foo-1.0.dist-info", text)
    assert fast_view(tmp_path) == importlib_view(tmp_path)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
def test_a_blank_line_across_two_reads_ends_the_block(
    tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distinfo, "_CHUNK", chunk)
    for number, text in enumerate(ODD_METADATA.values()):
        if len(text) < 10000:
            dist_info(tmp_path / str(number), "foo-1.0.dist-info", text)
            assert fast_view(tmp_path / str(number)) == importlib_view(tmp_path / str(number)), text


def test_only_the_header_block_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = dist_info(tmp_path, "foo-1.0.dist-info", "Name: foo\nVersion: 1\n\n" + "x" * 10_000_000)
    assert distinfo.read_header_text(path / "METADATA") == "Name: foo\nVersion: 1\n"


def test_a_realistic_site_directory_reads_like_importlib(tmp_path: Path) -> None:
    site = Path(importlib_metadata.distribution("packaging").locate_file(""))
    view = fast_view(site)
    assert len(view) > 10 and view == importlib_view(site)


def test_two_directories_of_one_name_keep_importlibs_choice(tmp_path: Path) -> None:
    dist_info(tmp_path, "bar-2.0.dist-info", "Name: qux\nVersion: 2\n")
    dist_info(tmp_path, "foo-1.0.dist-info", "Name: foo\nVersion: 1\n")
    dist_info(tmp_path, "bar-1.0.dist-info", "Name: foo\nVersion: 9\n")
    dist_info(tmp_path, "Foo-0.5.dist-info", "Name: FOO\nVersion: 0.5\n")
    assert fast_view(tmp_path) == importlib_view(tmp_path)


def test_the_rare_layouts_are_read_by_importlib(tmp_path: Path) -> None:
    dist_info(tmp_path, "eggy-1.0.egg-info", "Name: eggy\nVersion: 1\n", requires_txt="b>=1\n[x]\nc\n")
    (tmp_path / "eggy-1.0.egg-info" / "METADATA").rename(tmp_path / "eggy-1.0.egg-info" / "PKG-INFO")
    dist_info(tmp_path, "old-1.0.dist-info", "Name: old\nVersion: 1\n", requires_txt="d\n")
    (tmp_path / "flat-1.0.dist-info").write_text(
        "Name: flat\nVersion: 3\nRequires-Dist: e\n", encoding="utf-8"
    )
    (tmp_path / "UPPER-1.0.DIST-INFO").mkdir()
    (tmp_path / "UPPER-1.0.DIST-INFO" / "METADATA").write_text("Name: upper\nVersion: 4\n", encoding="utf-8")
    view = fast_view(tmp_path)
    assert set(view) == {"eggy", "old", "flat", "upper"}
    assert view == importlib_view(tmp_path)
    assert view["eggy"][1] == ("b>=1", 'c; extra == "x"')


def test_non_utf8_in_the_header_block_is_a_clear_error(tmp_path: Path) -> None:
    dist_info(tmp_path, "foo-1.0.dist-info", b"Name: foo\nVersion: 1\nSummary: caf\xe9\n\n")
    with pytest.raises(InstallError, match=r"foo-1.0.dist-info/METADATA: it is not UTF-8"):
        read_distributions([str(tmp_path)])


def test_non_utf8_in_the_description_is_not_read(tmp_path: Path) -> None:
    dist_info(tmp_path, "foo-1.0.dist-info", b"Name: foo\nVersion: 1\n\ncaf\xe9\n")
    assert fast_view(tmp_path) == {"foo": ("1", (), None, ())}
    with pytest.raises(UnicodeDecodeError):  # importlib.metadata reads the whole file
        importlib_view(tmp_path)


def test_a_dist_info_without_metadata_has_no_name_and_is_skipped_like_importlib_skips_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "foo-1.0.dist-info").mkdir()
    dist_info(tmp_path, "bar-1.0.dist-info", "")
    assert fast_view(tmp_path) == importlib_view(tmp_path) == {}


def test_an_oversized_header_block_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distinfo, "MAX_HEADER_BYTES", 1000)
    dist_info(tmp_path, "foo-1.0.dist-info", "Name: foo\n" + "Summary: x\n" * 200)
    with pytest.raises(InstallError, match=r"header block is larger than 1000 bytes"):
        read_distributions([str(tmp_path)])


def test_missing_site_directories_are_empty(tmp_path: Path) -> None:
    assert read_distributions([str(tmp_path / "nope")]) == []


@pytest.mark.parametrize(
    ("redent", "value"), [(True, "      b;\nextra == 'x'"), (False, "b;\n  extra == 'x'")]
)
def test_folded_values_are_dedented_as_importlib_does_since_3_10(
    redent: bool, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(distinfo, "_REDENT", redent)  # 3.9's importlib keeps the email parser's value
    headers = dict(parse_headers("Name: foo\nRequires-Dist: b;\n  extra == 'x'\n"))
    assert headers["Requires-Dist"] == value


HEADER_PIECES = st.sampled_from(
    [
        "Name",
        "Version",
        "Requires-Dist",
        "requires-python",
        "Provides-Extra",
        "From ",
        "",
        " ",
        "\t",
        ":",
        "x y",
    ]
)
LINE = st.tuples(
    HEADER_PIECES, st.sampled_from([": ", ":", " ", ""]), st.text(alphabet="ab >=1;\t'\r\n\x0c:", max_size=12)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINE, max_size=12), ending=st.sampled_from(["\n", "\r\n", "\r"]))
def test_random_header_blocks_read_like_importlib(
    tmp_path_factory: Any, lines: list[Any], ending: str
) -> None:
    text = "Name: seed\n" + ending.join(a + b + c for a, b, c in lines) + ending + "\nbody: x\n"
    site = tmp_path_factory.mktemp("site")
    dist_info(site, "seed-1.dist-info", text)
    assert fast_view(site) == importlib_view(site), repr(text)
