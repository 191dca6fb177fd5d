"""`make bench`: every benchmark, then ONE table with all rows and their bars.

1. notebooks.py   each notebook in a fresh kernel: wall time, peak memory
2. binder_box.py  each notebook again inside a 1-CPU, 2 GB cgroup (Binder's box; skipped where none can be made)
3. threads.py     one vs two threads on the heavy cells; two VAE trainings at once
4. widgets.py     each widget's pure compute per update; each panel's full update (compute + PNG)
5. browser.py     slider key press to new plot image, in JupyterLab in headless Chromium
6. vae_speed.py   vilab.vae.train against the PyTorch-examples data pipeline (run with its defaults)

    .venv/bin/python benchmarks/run_all.py [--skip notebooks,binder,threads,widgets,browser,vae] [--strict]
"""

import argparse
import re
import subprocess
import sys
import time

import binder_box
import browser
import threads
import widgets
from common import ROOT, Row, failed, print_table

import notebooks

VAE_SPEED = ROOT / "benchmarks" / "vae_speed.py"


def vae_rows():
    """Run vae_speed.py (defaults), echo its output, and turn its summary lines into rows."""
    if not VAE_SPEED.exists():
        return [Row("vae speed", "benchmarks/vae_speed.py", "not present", "", None)]
    print("vae_speed.py ...", flush=True)
    process = subprocess.run([sys.executable, str(VAE_SPEED)], capture_output=True, text=True, cwd=ROOT, check=False)
    print(process.stdout, process.stderr[-2000:], sep="\n", flush=True)
    if process.returncode != 0:
        return [
            Row("vae speed", "vae_speed.py", f"failed (exit {process.returncode}), see its output above", "", False)
        ]
    text = process.stdout
    result = []
    if match := re.search(r"^seconds per epoch\s+([\d.]+)\s+([\d.]+)", text, re.M):
        result.append(Row("vae speed", "seconds per epoch (ours / reference)", f"{match[1]} / {match[2]} s"))
    if match := re.search(r"^speed-up \(reference / ours\)\s+([\d.]+)x", text, re.M):
        speedup = float(match[1])
        result.append(Row("vae speed", "training speed-up over the examples pipeline", f"{speedup:.2f}x", ">= 1.5x"))
        result[-1].ok = speedup >= 1.5
    if match := re.search(r"^test ELBO after (\d+) epochs \(nats\)\s+(-?[\d.]+)\s+(-?[\d.]+)", text, re.M):
        result.append(
            Row("vae speed", f"test ELBO after {match[1]} epochs (ours / reference)", f"{match[2]} / {match[3]} nats")
        )
    if match := re.search(r"^(IWAE k=\d+, \d+ test images)\s+(-?[\d.]+)", text, re.M):
        iwae = float(match[2])
        result.append(
            Row("vae speed", f"test log-likelihood, {match[1]}", f"{iwae:.2f} nats", "> -240 nats", iwae > -240)
        )
    return result or [Row("vae speed", "vae_speed.py", "ran, but its summary lines were not found", "", False)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip", default="", help="comma-separated: notebooks,binder,threads,widgets,browser,vae")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when a row misses its bar")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    start = time.perf_counter()
    rows = []
    for name, collect in [
        ("notebooks", notebooks.rows),
        ("binder", binder_box.rows),
        ("threads", threads.rows),
        ("widgets", widgets.rows),
        ("browser", browser.rows),
        ("vae", vae_rows),
    ]:
        if name in skip:
            continue
        try:
            rows += collect()
        except Exception as error:  # noqa: BLE001 - a broken benchmark is a row, not the end of the table
            rows.append(failed(name, "(whole benchmark)", error))
    print_table(rows, f"vilab benchmarks, {time.strftime('%Y-%m-%d %H:%M %Z')}, {time.perf_counter() - start:.0f} s")
    return 1 if args.strict and any(row.ok is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
