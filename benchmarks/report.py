"""Print a benchmarks/realworld.py result file as the Markdown tables of benchmarks/README.md.

Every cell is the median of the rounds with the range of the samples after it, so nothing measured is hidden:
``5.67 (5.00-13.99)``. Ratios are of the medians, as realworld.py computes them, followed by the range of the
per-round ratios.

Usage: .venv/bin/python benchmarks/report.py benchmarks/results/realworld-<date>.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROWS = (
    "seed fetch",
    "build cold",
    "build warm",
    "key unlock alone (scrypt)",
    "build cold, password key",
    "build warm, password key",
    "install: pyz, pip engine",
    "install: bare pip (bundled pip)",
    "install: pyz, installer engine",
    "install: uv --compile-bytecode",
    "install: pyz, installer engine --no-compile",
    "install: uv (no bytecode)",
    "install: bare pip --no-compile",
)
RSS = ("build cold peak RSS KiB", "build cold, password key peak RSS KiB")
#: (label, numerator, denominator, whether the label reads "× faster": denominator / numerator)
RATIOS = (
    ("build cold vs seed (× faster)", "build cold", "seed fetch", True),
    ("build warm vs seed (× faster)", "build warm", "seed fetch", True),
    ("build cold, password key vs seed (× faster)", "build cold, password key", "seed fetch", True),
    ("password key adds to a cold build (s)", "build cold, password key", "build cold", None),
    ("pip engine / bare pip", "install: pyz, pip engine", "install: bare pip (bundled pip)", False),
    ("installer engine / uv --compile-bytecode", "install: pyz, installer engine",
     "install: uv --compile-bytecode", False),
    ("installer engine --no-compile / uv", "install: pyz, installer engine --no-compile",
     "install: uv (no bytecode)", False),
    ("installer engine / pip engine", "install: pyz, installer engine", "install: pyz, pip engine", False),
)  # fmt: skip


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def cell(values: list[float], digits: int = 2) -> str:
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def ratio_cell(samples: dict[str, list[float]], numerator: str, denominator: str, faster: bool | None) -> str:
    tops, bottoms = samples[numerator], samples[denominator]
    if faster is None:  # a difference in seconds
        per_round = [top - bottom for top, bottom in zip(tops, bottoms, strict=True)]
        return cell(per_round)
    per_round = [
        (bottom / top if faster else top / bottom) for top, bottom in zip(tops, bottoms, strict=True)
    ]
    middle = median(bottoms) / median(tops) if faster else median(tops) / median(bottoms)
    if len(per_round) == 1:
        return f"{middle:.2f}"
    return f"{middle:.2f} ({min(per_round):.2f}-{max(per_round):.2f})"


def render(result: dict[str, object]) -> str:
    corpora: dict[str, dict[str, object]] = result["corpora"]  # type: ignore[assignment]
    names = list(corpora)
    samples = {name: corpora[name]["samples"] for name in names}  # type: ignore[index]
    packages = {name: int(samples[name]["locked packages"][0]) for name in names}  # type: ignore[index]
    head = "| | " + " | ".join(f"{name} ({packages[name]} pkgs)" for name in names) + " |"
    rule = "|---|" + "---:|" * len(names)
    lines = [head, rule]
    for row in ROWS:
        if all(row in samples[name] for name in names):  # type: ignore[operator]
            lines.append(f"| {row} | " + " | ".join(cell(samples[n][row]) for n in names) + " |")  # type: ignore[index]
    for row in RSS:
        if all(row in samples[name] for name in names):  # type: ignore[operator]
            mib = {n: [v / 1024 for v in samples[n][row]] for n in names}  # type: ignore[index]
            lines.append(
                f"| {row.replace('KiB', 'MiB')} | " + " | ".join(cell(mib[n], 0) for n in names) + " |"
            )
    lines += ["", "| ratio | " + " | ".join(names) + " |", rule]
    for label, numerator, denominator, faster in RATIOS:
        if all(numerator in samples[n] and denominator in samples[n] for n in names):  # type: ignore[operator]
            cells = [ratio_cell(samples[n], numerator, denominator, faster) for n in names]  # type: ignore[arg-type]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    print(render(json.loads(Path(sys.argv[1]).read_text())), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
