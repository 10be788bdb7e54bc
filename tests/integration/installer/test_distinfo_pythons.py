"""The fast METADATA reader against importlib.metadata of every CPython the runtime supports (3.9 on), on the
odd files of the unit tests: importlib's header handling changed in 3.10 (folded values are dedented) and its
directory order too, so each interpreter is compared with itself."""

from __future__ import annotations

import glob
import json
import os
import subprocess
from pathlib import Path

import pytest
from tests.integration.installer.test_python39 import runtime_path
from tests.runtime.test_distinfo import ODD_METADATA

pytestmark = pytest.mark.integration

CHILD = """
import importlib.metadata as im, json, sys, warnings
sys.path.insert(0, sys.argv[1])
from netbundle.runtime.distinfo import read_distributions
from packaging.utils import canonicalize_name
warnings.simplefilter("ignore")
results = []
for site in json.loads(sys.argv[2]):
    fast = {d.name: [d.version, list(d.requires), d.requires_python, list(d.extras)] for d in read_distributions([site])}
    slow = {}
    for dist in im.distributions(path=[site]):
        name = canonicalize_name(dist.metadata["Name"] or "")
        if name and name not in slow:
            meta = dist.metadata
            slow[name] = [dist.version, list(dist.requires or ()), meta["Requires-Python"],
                          list(meta.get_all("Provides-Extra") or ())]
    results.append([site, fast == slow, fast, slow])
print(json.dumps(results))
"""


def pyenv_python(minor: str) -> str | None:
    found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/3.{minor}*/bin/python3.{minor}")))
    return found[-1] if found else None


@pytest.mark.parametrize("minor", ["9", "10", "12", "13"])
def test_the_reader_matches_importlib_metadata_on_each_python(tmp_path: Path, minor: str) -> None:
    python = pyenv_python(minor)
    if python is None:
        pytest.skip(f"no 3.{minor} under ~/.pyenv/versions: the reader was not compared with its importlib")
    sites = []
    for number, text in enumerate(ODD_METADATA.values()):
        site = tmp_path / f"site{number}"
        (site / "foo-1.0.dist-info").mkdir(parents=True)
        (site / "foo-1.0.dist-info" / "METADATA").write_text(text, encoding="utf-8", newline="")
        sites.append(str(site))
    order = tmp_path / "order"
    for directory, text in [("bar-2.0", "Name: qux\nVersion: 2\n"), ("foo-1.0", "Name: foo\nVersion: 1\n"),
                            ("bar-1.0", "Name: foo\nVersion: 9\n")]:  # fmt: skip
        (order / (directory + ".dist-info")).mkdir(parents=True)
        (order / (directory + ".dist-info") / "METADATA").write_text(text, encoding="utf-8")
    sites.append(str(order))
    done = subprocess.run(
        [python, "-I", "-c", CHILD, str(runtime_path(tmp_path / "lib")), json.dumps(sites)],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) == len(sites)
    assert [result for result in results if not result[1]] == []
