"""Rows and the one table every benchmark prints (``make bench`` collects them all)."""

import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "browser")]  # widget_sweep, lab_driver


@dataclass
class Row:
    benchmark: str  # e.g. "notebook", "widget compute"
    item: str  # what was measured
    measured: str  # the number(s), with units
    bar: str = ""  # the quality bar, e.g. "<= 60 s"
    ok: bool | None = None  # None: no bar (information only)

    @property
    def status(self):
        return {True: "ok", False: "OVER", None: "-"}[self.ok]


def failed(benchmark, item, error):
    return Row(benchmark, item, f"failed: {type(error).__name__}: {str(error).splitlines()[0][:80]}", "", False)


def percentiles_ms(seconds):
    """(p50, p95) in milliseconds."""
    p50, p95 = np.percentile(np.asarray(seconds, dtype=float) * 1e3, [50, 95])
    return float(p50), float(p95)


def machine():
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    python = platform.python_version()
    return f"{platform.node()}: {os.cpu_count()} CPUs, {platform.machine()}, Python {python}, load average {load}"


def print_table(rows, title="vilab benchmarks"):
    header = ("benchmark", "item", "measured", "bar", "status")
    cells = [header] + [(r.benchmark, r.item, r.measured, r.bar, r.status) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    print(f"\n{title} ({machine()})")
    print(line)
    for i, c in enumerate(cells):
        print("  ".join(text.ljust(w) for text, w in zip(c, widths, strict=True)).rstrip())
        if i == 0:
            print(line)
    print(line)
    over = [r for r in rows if r.ok is False]
    print(f"{len(over)} of {len(rows)} rows over their bar" + (": " + "; ".join(r.item for r in over) if over else ""))
