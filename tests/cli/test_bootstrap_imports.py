"""scripts/bootstrap runs `python -m netbundle export` with only packaging and click installed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

PROBE = """
import sys
import netbundle.cli
heavy = sorted(m for m in ("urllib3", "cryptography", "cyclonedx", "build", "installer", "ecdsa", "tomli_w") if m in sys.modules)
print(",".join(heavy))
"""


def test_cli_imports_no_heavy_dependency() -> None:
    result = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(SRC)!r})\n{PROBE}"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == ""
