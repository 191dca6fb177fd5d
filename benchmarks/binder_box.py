"""Every notebook inside Binder's box: one CPU by quota and 2 GB of memory, made with a cgroup.

mybinder.org gives each user a container with a CPU quota of one CPU (the
host's cores stay visible) and a memory limit of 1 GB guaranteed, 2 GB at
most. This benchmark makes such a cgroup (v2: cpu.max and memory.max; v1:
cpu.cfs_quota_us / cpu.cfs_period_us and memory.limit_in_bytes, both under
this process's own cgroups), starts ``benchmarks/notebooks.py`` inside it
and reports each notebook's wall time and kernel peak memory, the whole
course's time, the cgroup's peak memory, and the thread count ``import
vilab`` chose inside the box. Where no cgroup can be made (not root, a
read-only /sys/fs/cgroup, no cpu or memory controller) it prints why and
reports one row saying it was skipped. Each notebook's kernel CPU seconds are
reported too, without a bar: inside the box the kernel runs one thread, so
they are a lower bound of its wall time on a quiet machine (which adds kernel
start-up, messaging and waits), while on a shared machine the wall time also
counts the waits for a CPU that other work holds.

Bars (issue 13): each notebook <= 60 s (the VAE notebooks, 03*, <= 120 s), the
whole course <= 300 s, peak memory <= 1.5 GB.

    .venv/bin/python benchmarks/binder_box.py [NOTEBOOK ...]
"""

import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, Row, print_table

from notebooks import result_rows
from vilab import threads

CPUS = 1.0
MEMORY_BYTES = 2 * 1024**3
PERIOD_US = 100_000
COURSE_BAR_S = 300.0


class CgroupError(RuntimeError):
    pass


class Box:
    """A cgroup with a CPU quota and a memory limit; ``procs`` are the files a process joins it by."""

    def __init__(self, name="vilab-binder-box"):
        self.name = f"{name}-{os.getpid()}"
        self.directories, self.procs = [], []
        self.peak_file = None
        own = threads._own_cgroups(Path("/proc/self"))
        mounts = threads._cgroup_mounts(Path("/proc/self"))
        errors = []
        for make in (self._make_v2, self._make_v1):
            try:
                make(own, mounts)
                return
            except (OSError, CgroupError) as error:
                self.remove()
                errors.append(f"{make.__name__[6:]}: {error}")
        raise CgroupError("; ".join(errors))

    def _child(self, mount_point, root, path):
        relative = os.path.relpath(path, root) if path.startswith(root) else "."
        directory = (mount_point / relative).resolve() / self.name
        directory.mkdir()
        self.directories.append(directory)
        return directory

    def _make_v2(self, own, mounts):
        v2 = [(root, point) for kind, root, point in mounts if kind == "2"]
        if not v2 or "2" not in own:
            raise CgroupError("no cgroup2 mount")
        root, point = v2[0]
        parent = (point / os.path.relpath(own["2"], root)).resolve()
        available = (parent / "cgroup.controllers").read_text().split()
        if not {"cpu", "memory"} <= set(available):
            raise CgroupError(f"cgroup2 at {parent} offers controllers {available}, not cpu and memory")
        enabled = (parent / "cgroup.subtree_control").read_text().split()
        for controller in {"cpu", "memory"} - set(enabled):
            (parent / "cgroup.subtree_control").write_text(f"+{controller}")
        box = self._child(point, root, own["2"])
        (box / "cpu.max").write_text(f"{int(CPUS * PERIOD_US)} {PERIOD_US}")
        (box / "memory.max").write_text(str(MEMORY_BYTES))
        self.procs = [box / "cgroup.procs"]
        self.peak_file = box / "memory.peak"

    def _make_v1(self, own, mounts):
        cpu = [(root, point) for kind, root, point in mounts if kind == "cpu"]
        memory = self._v1_memory_mount()
        if not cpu or "cpu" not in own:
            raise CgroupError("no cgroup v1 cpu controller")
        if memory is None:
            raise CgroupError("no cgroup v1 memory controller")
        cpu_box = self._child(cpu[0][1], cpu[0][0], own["cpu"])
        (cpu_box / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (cpu_box / "cpu.cfs_quota_us").write_text(str(int(CPUS * PERIOD_US)))
        memory_root, memory_point, memory_path = memory
        memory_box = self._child(memory_point, memory_root, memory_path)
        (memory_box / "memory.limit_in_bytes").write_text(str(MEMORY_BYTES))
        self.procs = [cpu_box / "cgroup.procs", memory_box / "cgroup.procs"]
        self.peak_file = memory_box / "memory.max_usage_in_bytes"

    @staticmethod
    def _v1_memory_mount():
        """(mount root, mount point, own path) of the v1 memory controller, or None."""
        path = None
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            hierarchy, controllers, where = line.split(":", 2)
            if "memory" in controllers.split(","):
                path = where
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            fields, _, tail = line.partition(" - ")
            fields, tail = fields.split(), tail.split()
            if path is not None and tail[:1] == ["cgroup"] and "memory" in tail[2].split(","):
                return fields[3], Path(fields[4]), path
        return None

    def command(self, argv):
        """A shell command that joins the box, then runs ``argv`` (its children stay in the box)."""
        joins = "; ".join(f"echo $$ > {shlex.quote(str(p))}" for p in self.procs)
        return ["sh", "-c", f"{joins}; exec {shlex.join(argv)}"]

    def peak_bytes(self):
        try:
            return int(self.peak_file.read_text())
        except (OSError, ValueError, AttributeError):
            return None

    def remove(self):
        for directory in reversed(self.directories):
            try:
                directory.rmdir()
            except OSError:
                pass
        self.directories = []


def rows(paths=None):
    try:
        box = Box()
    except (OSError, CgroupError) as error:
        message = f"skipped: no cgroup could be made here ({error})"
        print(f"binder box: {message}", flush=True)
        return [Row("binder box", "every notebook in 1 CPU, 2 GB", message, "", None)]
    try:
        inside = subprocess.run(
            box.command([sys.executable, "-c", "import vilab; print(vilab.threads.describe())"]),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        print(f"binder box ({', '.join(str(p.parent) for p in box.procs)}): {inside}", flush=True)
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "notebooks.json"
            names = [str(p) for p in paths or []]
            argv = [sys.executable, str(ROOT / "benchmarks" / "notebooks.py"), "--json", str(out), *names]
            subprocess.run(box.command(argv), check=True, cwd=ROOT)
            results = json.loads(out.read_text())
        peak = box.peak_bytes()
    finally:
        box.remove()
    result = [Row("binder box", "torch threads inside (vilab's policy)", inside)]
    result += result_rows(results, "binder box time", "binder box memory")
    for item in results:  # a lower bound of the wall time on a quiet machine (no wait for a CPU counted)
        if "cpu" in item:
            result.append(Row("binder box CPU", item["name"], f"{item['cpu']:.1f} kernel CPU s (lower bound)"))
    total = sum(item.get("wall", 0.0) for item in results)
    cpu = sum(item.get("cpu", 0.0) for item in results)
    ok = all("error" not in item for item in results)
    bar = f"<= {COURSE_BAR_S:.0f} s"
    result.append(
        Row("binder box", "the notebooks run, together: wall", f"{total:.1f} s", bar, ok and total <= COURSE_BAR_S)
    )
    result.append(Row("binder box", "the notebooks run, together: kernel CPU (lower bound)", f"{cpu:.1f} s"))
    if peak is not None:
        result.append(Row("binder box", "cgroup peak memory (kernel + runner)", f"{peak / 1e9:.2f} GB", "< 2 GB limit"))
        result[-1].ok = peak < MEMORY_BYTES
    return result


if __name__ == "__main__":
    print_table(rows([Path(p).resolve() for p in sys.argv[1:]] or None), "notebooks in Binder's box (1 CPU, 2 GB)")
