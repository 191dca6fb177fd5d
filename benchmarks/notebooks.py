"""Each notebook top to bottom in a fresh kernel: wall time and the kernel's peak memory.

Bars (DESIGN.md): <= 60 s (<= 120 s for the VAE notebooks, 03*), peak <= 1.5 GB.
Peak memory is the kernel process's high-water mark of resident memory
(VmHWM in /proc/<pid>/status, read after the last cell, before shutdown); it
does not include child processes the notebook may start.

    .venv/bin/python benchmarks/notebooks.py [NOTEBOOK ...]
    .venv/bin/python benchmarks/notebooks.py --json OUT.json [NOTEBOOK ...]   # results as JSON (binder_box.py)
"""

import argparse
import json
import os
import time
from pathlib import Path

import nbformat
from common import ROOT, Row, print_table
from nbclient import NotebookClient

MEMORY_BAR_GB = 1.5


def time_bar(path):
    return 120.0 if path.name.startswith("03") else 60.0


def vm_hwm_bytes(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # reported in kB
    raise RuntimeError(f"no VmHWM for process {pid}")


def cpu_seconds(pid):
    """User + system CPU seconds of process ``pid`` and of its waited-for children (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def run_notebook(path, timeout=1800, with_cpu=False):
    """Execute ``path`` in a fresh kernel (cwd = its folder); return (wall seconds, peak bytes[, kernel CPU s]).

    The kernel's CPU seconds estimate the wall time on a quiet machine when the kernel runs one thread (in
    Binder's box): on a machine shared with other work, wall time also counts the time spent waiting for a CPU.
    """
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    start = time.perf_counter()
    with client.setup_kernel():
        pid = client.km.provisioner.process.pid
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
        peak = vm_hwm_bytes(pid)
        cpu = cpu_seconds(pid)
        wall = time.perf_counter() - start
    return (wall, peak, cpu) if with_cpu else (wall, peak)


def measure(paths=None):
    """Run each notebook: [{"name", "wall", "peak"}, or {"name", "error"} for one that failed]."""
    os.environ.setdefault("VILAB_OFFLINE", "1")
    results = []
    for path in paths or sorted((ROOT / "notebooks").glob("*.ipynb")):
        print(f"running {path.name} ...", flush=True)
        try:
            wall, peak, cpu = run_notebook(path, with_cpu=True)
        except Exception as error:  # noqa: BLE001 - one broken notebook must not hide the others' numbers
            results.append({"name": path.name, "error": f"{type(error).__name__}: {str(error).splitlines()[0]}"})
            continue
        results.append({"name": path.name, "wall": wall, "peak": peak, "cpu": cpu})
        print(f"  {path.name}: {wall:.1f} s (kernel CPU {cpu:.1f} s), peak {peak / 1e9:.2f} GB", flush=True)
    return results


def result_rows(results, time_label="notebook time", memory_label="notebook memory"):
    """A time row and a peak-memory row per notebook, each with its bar."""
    result = []
    for item in results:
        if "error" in item:
            result.append(Row(time_label, item["name"], f"failed: {item['error'][:80]}", "", False))
            continue
        bar, gb = time_bar(Path(item["name"])), item["peak"] / 1e9
        result.append(Row(time_label, item["name"], f"{item['wall']:.1f} s", f"<= {bar:.0f} s", item["wall"] <= bar))
        result.append(
            Row(memory_label, item["name"], f"{gb:.2f} GB peak RSS", f"<= {MEMORY_BAR_GB} GB", gb <= MEMORY_BAR_GB)
        )
    return result


def rows(paths=None):
    return result_rows(measure(paths))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", help="write the results as JSON to this file instead of printing a table")
    parser.add_argument("notebooks", nargs="*")
    args = parser.parse_args()
    chosen = [Path(p).resolve() for p in args.notebooks] or None
    if args.json:
        Path(args.json).write_text(json.dumps(measure(chosen)))
    else:
        print_table(rows(chosen), "notebooks in a fresh kernel")
