"""The served index (pure): which files per target, and the PEP 503 / 691 / 658 / 714 pages."""

from __future__ import annotations

import hashlib
import json
import re
import textwrap

import pytest

from netbundle.format.manifest import (
    FORMAT_VERSION,
    Artifact,
    FileEntry,
    Manifest,
    Origin,
    PackageEntry,
    TargetEntry,
)
from netbundle.runtime.serve.index import (
    JSON_TYPE,
    LEGACY_HTML_TYPE,
    build_index,
    normalize_name,
    render_pages,
    render_project_html,
    render_project_json,
    render_root_html,
    render_root_json,
    requires_python,
    selected_members,
)

X86, ARM = "cp311-manylinux_2_28_x86_64", "cp311-manylinux_2_28_aarch64"
WHEELS = {
    "wheels/ruamel_yaml-0.19.1-py3-none-any.whl": ("ruamel-yaml", "0.19.1", (X86, ARM)),
    "wheels/lxml-6.1-cp311-cp311-manylinux_2_28_x86_64.whl": ("lxml", "6.1", (X86,)),
    "wheels/lxml-6.1-cp311-cp311-manylinux_2_28_aarch64.whl": ("lxml", "6.1", (ARM,)),
    "wheels/site_app-1.0-py3-none-any.whl": ("site-app", "1.0", (X86, ARM)),
}
SDIST = "dist/site_app-1.0.tar.gz"
METADATA = (
    b"Metadata-Version: 2.1\nName: lxml\nVersion: 6.1\nRequires-Python: >=3.8, <4\n\nlong description\n"
)


def sha(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()


def target(name: str) -> TargetEntry:
    return TargetEntry(
        name, "3.11", "cp", (), (name.split("-", 1)[1],), {}, {"main": f"locks/{name}/r.txt"}, ""
    )


def manifest() -> Manifest:
    files = [FileEntry(path, 100 + len(path), sha(path), "wheel") for path in WHEELS]
    files += [
        FileEntry(SDIST, 50, sha(SDIST), "dist"),
        FileEntry("tools/pip-25.3-py3-none-any.whl", 9, sha("p"), "tool"),
    ]
    files += [FileEntry(f"locks/{t}/r.txt", 5, sha(t), "lock") for t in (X86, ARM)]
    packages: dict[str, PackageEntry] = {}
    for path, (name, version, targets) in WHEELS.items():
        origin = Origin("index", None, path.split("/")[1], sha(path))
        entry = packages.setdefault(name, PackageEntry(name, version, ("main",), ()))
        packages[name] = PackageEntry(
            name, version, ("main",), (*entry.artifacts, Artifact(path, targets, origin))
        )
    return Manifest(
        format_version=FORMAT_VERSION,
        bundle_id="site-app-1.0-000000000000",
        project_name="site-app",
        project_version="1.0",
        builder_version="tests",
        build_time="2026-01-01T00:00:00Z",
        lock_content_hash="0" * 64,
        lock_sha256="0" * 64,
        groups=("main",),
        extras=(),
        targets=(target(X86), target(ARM)),
        files=tuple(sorted(files, key=lambda f: f.path)),
        packages=tuple(packages.values()),
        project_artifacts=(SDIST, "wheels/site_app-1.0-py3-none-any.whl"),
        pip_wheel="tools/pip-25.3-py3-none-any.whl",
    )


def test_one_target_gets_only_its_files_and_the_project_artifacts() -> None:
    assert selected_members(manifest(), [X86]) == [
        ("site-app", "1.0", SDIST),
        ("lxml", "6.1", "wheels/lxml-6.1-cp311-cp311-manylinux_2_28_x86_64.whl"),
        ("ruamel-yaml", "0.19.1", "wheels/ruamel_yaml-0.19.1-py3-none-any.whl"),
        ("site-app", "1.0", "wheels/site_app-1.0-py3-none-any.whl"),
    ]


def test_every_target_gets_every_distribution_but_no_tool_or_lock() -> None:
    members = [member for _, _, member in selected_members(manifest(), [X86, ARM])]
    assert members == sorted([*WHEELS, SDIST])


def test_index_has_normalized_projects_sorted_with_hashes_sizes_and_metadata() -> None:
    lxml = "wheels/lxml-6.1-cp311-cp311-manylinux_2_28_x86_64.whl"
    index = build_index(manifest(), [X86], {lxml: METADATA})
    assert [p.name for p in index.projects] == ["lxml", "ruamel-yaml", "site-app"]
    (file,) = index.projects[0].files
    assert (file.filename, file.member, file.size, file.sha256) == (
        lxml.split("/")[1],
        lxml,
        100 + len(lxml),
        sha(lxml),
    )
    assert file.requires_python == ">=3.8, <4"
    assert file.metadata_sha256 == hashlib.sha256(METADATA).hexdigest()
    app = index.projects[2]
    assert [f.filename for f in app.files] == ["site_app-1.0-py3-none-any.whl", "site_app-1.0.tar.gz"]
    assert all(f.metadata_sha256 is None and f.requires_python is None for f in app.files)
    assert app.versions == ("1.0",)


def test_two_files_with_one_name_are_refused() -> None:
    m = manifest()
    clash = "dist/ruamel_yaml-0.19.1-py3-none-any.whl"
    files = (*m.files, FileEntry(clash, 1, sha(clash), "dist"))
    m = Manifest(**{**m.__dict__, "files": files, "project_artifacts": (*m.project_artifacts, clash)})
    with pytest.raises(
        ValueError, match=re.escape("two bundle files are named ruamel_yaml-0.19.1-py3-none-any.whl")
    ):
        build_index(m, [X86], {})


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (METADATA, ">=3.8, <4"),
        (b"Metadata-Version: 2.1\nName: a\nVersion: 1\n", None),
        (b"Metadata-Version: 2.1\nRequires-Python:   \n", None),
        (b"Metadata-Version: 2.1\nRequires-Python: >=3.9\n\nRequires-Python: <3\n", ">=3.9"),
    ],
)
def test_requires_python(metadata: bytes, expected: str | None) -> None:
    assert requires_python(metadata) == expected


def test_project_html_has_hash_fragment_requires_python_escaped_and_both_metadata_attributes() -> None:
    lxml = "wheels/lxml-6.1-cp311-cp311-manylinux_2_28_x86_64.whl"
    index = build_index(manifest(), [X86], {lxml: METADATA})
    page = render_project_html(index.projects[0]).decode()
    digest = hashlib.sha256(METADATA).hexdigest()
    assert page == textwrap.dedent(f"""\
        <!DOCTYPE html>
        <html>
        <head>
        <meta name="pypi:repository-version" content="1.1">
        <title>Links for lxml</title>
        </head>
        <body>
        <h1>Links for lxml</h1>
        <a href="../../files/lxml-6.1-cp311-cp311-manylinux_2_28_x86_64.whl#sha256={sha(lxml)}" \
data-requires-python="&gt;=3.8, &lt;4" data-dist-info-metadata="sha256={digest}" \
data-core-metadata="sha256={digest}">lxml-6.1-cp311-cp311-manylinux_2_28_x86_64.whl</a><br>
        </body>
        </html>
        """)


def test_project_json_is_pep_691_with_pep_700_fields() -> None:
    lxml = "wheels/lxml-6.1-cp311-cp311-manylinux_2_28_x86_64.whl"
    index = build_index(manifest(), [X86], {lxml: METADATA})
    data = json.loads(render_project_json(index.projects[0]))
    digest = hashlib.sha256(METADATA).hexdigest()
    assert data == {
        "meta": {"api-version": "1.1"},
        "name": "lxml",
        "versions": ["6.1"],
        "files": [
            {
                "filename": lxml.split("/")[1],
                "url": "../../files/" + lxml.split("/")[1],
                "hashes": {"sha256": sha(lxml)},
                "size": 100 + len(lxml),
                "requires-python": ">=3.8, <4",
                "core-metadata": {"sha256": digest},
                "dist-info-metadata": {"sha256": digest},
            }
        ],
    }
    app = json.loads(render_project_json(index.projects[2]))
    assert all(f["core-metadata"] is False and "requires-python" not in f for f in app["files"])


def test_root_pages_list_every_project() -> None:
    index = build_index(manifest(), [X86, ARM], {})
    assert json.loads(render_root_json(index)) == {
        "meta": {"api-version": "1.1"},
        "projects": [{"name": "lxml"}, {"name": "ruamel-yaml"}, {"name": "site-app"}],
    }
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', render_root_html(index).decode())
    assert links == [("lxml/", "lxml"), ("ruamel-yaml/", "ruamel-yaml"), ("site-app/", "site-app")]


def test_pages_exist_for_root_and_every_project_in_each_type() -> None:
    pages = render_pages(build_index(manifest(), [X86], {}))
    assert sorted(pages) == ["/simple/", "/simple/lxml/", "/simple/ruamel-yaml/", "/simple/site-app/"]
    assert json.loads(pages["/simple/lxml/"][JSON_TYPE])["name"] == "lxml"
    assert pages["/simple/lxml/"][LEGACY_HTML_TYPE].startswith(b"<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("name", "expected"), [("Ruamel.YAML", "ruamel-yaml"), ("a__b-.c", "a-b-c"), ("x", "x")]
)
def test_normalize_name(name: str, expected: str) -> None:
    assert normalize_name(name) == expected
