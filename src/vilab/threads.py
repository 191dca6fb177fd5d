"""How many threads torch uses: one policy, applied once when ``vilab`` is imported.

torch starts one thread per core it can see. In a container or on a hub that
limits a user to one CPU by a *quota* (Binder, Docker, Kubernetes, systemd), it
still sees every core of the host, and threads that outnumber the CPUs the
process may use wait for each other: a VAE epoch becomes several times slower.
On a shared CPU (two notebooks training at once), two threads each do the same.

The policy, applied by ``apply()`` at ``import vilab``:

1. The budget: ``cpu_budget()``, the CPUs this process may really use, is the
   size of its affinity mask (``os.sched_getaffinity``) capped by every CPU
   quota on its own cgroup path, from its cgroup up to the root: cgroup v2
   ``cpu.max`` ("<quota> <period>") and cgroup v1 ``cpu.cfs_quota_us`` /
   ``cpu.cfs_period_us``, located through ``/proc/self/cgroup`` and
   ``/proc/self/mountinfo``. A quota of q/p CPUs gives floor(q/p) threads, at
   least one (a thread beyond the quota only waits for it).
2. torch runs with min(its own default, ``cpu_budget()``) threads.
3. Fewer where more do not gain, measured as the work runs: the package's long
   loops (``vae.train``'s steps, ``vae.iwae_bound``'s chunks) time their steps
   with ``Tuner``, which tries the policy's count, half of it and one thread
   for a few steps each, keeps the fastest, and checks again now and then
   (more and more rarely while the answer stays the same). Alone on an idle
   CPU the extra threads win; when another process wants the CPU (two
   notebooks training at once, a busy hub), one thread wins by far:
   ``benchmarks/threads.py`` measures both.
4. The user's explicit choice wins and is never changed: with ``VILAB_THREADS=N``
   vilab sets N; with ``OMP_NUM_THREADS`` (or ``MKL_NUM_THREADS``) set, vilab
   leaves torch's count as the variable made it; and after
   ``torch.set_num_threads(n)`` the ``Tuner`` sees the changed count and leaves
   it alone.

A thread count can change the last bits of a float sum, so a seeded training
run may differ in its last digits between an idle and a busy machine.

Work too small to gain from any extra thread (the estimator explorer's update) is
cut into pieces below torch's parallel grain instead (see ``vilab.estimators``), so
it runs in the calling thread without changing the count.
"""

import math
import os
import statistics
import time
from pathlib import Path

import torch

from vilab import _validate

USER_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")

_state = {"chosen": None, "reason": "not applied yet"}


# --- the CPUs this process may use -------------------------------------------------


def _own_cgroups(proc_self):
    """{"2": path} for the cgroup v2 hierarchy and {"cpu": path} for the v1 cpu controller, from /proc/self/cgroup."""
    paths = {}
    try:
        lines = (proc_self / "cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            paths["2"] = path
        elif "cpu" in controllers.split(","):
            paths["cpu"] = path
    return paths


def _cgroup_mounts(proc_self):
    """(kind, mount root, mount point) of each cgroup mount: kind "2" for cgroup2, "cpu" for a v1 cpu controller."""
    mounts = []
    try:
        lines = (proc_self / "mountinfo").read_text().splitlines()
    except OSError:
        return mounts
    for line in lines:
        fields, _, tail = line.partition(" - ")
        fields, tail = fields.split(), tail.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        root, point = fields[3], fields[4]
        if tail[0] == "cgroup2":
            mounts.append(("2", root, Path(point)))
        elif tail[0] == "cgroup" and "cpu" in tail[2].split(","):
            mounts.append(("cpu", root, Path(point)))
    return mounts


def _quota(directory, kind):
    """CPUs allowed by the quota file in ``directory`` (a float), or None when unlimited or absent."""
    try:
        if kind == "2":
            quota, period = (directory / "cpu.max").read_text().split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        quota = int((directory / "cpu.cfs_quota_us").read_text())
        period = int((directory / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 or period <= 0 else quota / period
    except (OSError, ValueError):
        return None


def _path(name, value):
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or pathlib.Path), got {value!r} of type {type(value).__name__}")
    return Path(value)


def cgroup_cpu_limit(proc_self=Path("/proc/self")):
    """The tightest CPU quota (in CPUs, possibly fractional) on this process's own cgroup path, or None.

    For each cgroup mount (v2, or v1 with the cpu controller) the process's
    path in that hierarchy, relative to the mount's root, is looked up under
    the mount point, then each parent up to the mount point: a parent's quota
    limits its children too. ``proc_self`` is a parameter so tests can use a
    fake /proc and /sys tree.
    """
    proc_self = _path("proc_self", proc_self)
    own = _own_cgroups(proc_self)
    limits = []
    for kind, root, point in _cgroup_mounts(proc_self):
        if kind not in own:
            continue
        path = own[kind]
        relative = os.path.relpath(path, root) if path == root or path.startswith(root.rstrip("/") + "/") else "."
        directory = point / relative if relative != "." else point
        while True:
            limit = _quota(directory, kind)
            if limit is not None:
                limits.append(limit)
            if directory == point or point not in directory.parents:
                break
            directory = directory.parent
    return min(limits) if limits else None


def cpu_budget(proc_self=Path("/proc/self")):
    """CPUs this process may really use: the affinity mask, capped by a cgroup quota (floor, at least 1)."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    limit = cgroup_cpu_limit(proc_self)
    if limit is not None:
        count = min(count, max(1, math.floor(limit)))
    return max(1, count)


# --- the policy --------------------------------------------------------------------


def _user_choice():
    """The thread count the user asked for (VILAB_THREADS), "environment" when OMP/MKL variables decide, or None."""
    value = os.environ.get("VILAB_THREADS", "").strip()
    if value:
        try:
            threads = int(value)
        except ValueError:
            raise ValueError(f"VILAB_THREADS must be a positive integer, got {value!r}") from None
        if threads < 1:
            raise ValueError(f"VILAB_THREADS must be a positive integer, got {value!r}")
        return threads
    if any(os.environ.get(name, "").strip() for name in USER_VARIABLES):
        return "environment"
    return None


def apply():
    """Set torch's thread count once by the policy above; return it. Called by ``import vilab``."""
    choice = _user_choice()
    if choice == "environment":
        variables = ", ".join(f"{n}={os.environ[n]}" for n in USER_VARIABLES if os.environ.get(n, "").strip())
        reason = f"left as set by {variables}"
    elif choice is not None:
        torch.set_num_threads(choice)
        reason = f"VILAB_THREADS={choice}"
    else:
        budget = cpu_budget()
        torch.set_num_threads(max(1, min(torch.get_num_threads(), budget)))
        reason = f"CPU budget {budget} (affinity and cgroup quota); loops keep the fastest of these and fewer"
    _state["chosen"] = None if choice is not None else torch.get_num_threads()
    _state["reason"] = reason
    return torch.get_num_threads()


def describe():
    """One line: how many threads torch uses and why."""
    return f"torch threads {torch.get_num_threads()}: {_state['reason']}"


def _policy_in_force():
    """True while nobody but vilab chose the thread count (no variable, no later torch.set_num_threads)."""
    return _state["chosen"] is not None and torch.get_num_threads() == _state["chosen"]


class Tuner:
    """Keeps, while a loop runs, the fastest of a few thread counts, by timing the loop's own steps.

    Call ``tick()`` at the start of every step. The candidates are 1, n // 2
    and the policy's count n, in that order (none when the user chose the
    count, or n is 1: then ``tick`` does nothing). A probe times
    ``probe_steps`` steps with each candidate and keeps the one with the
    smallest median step time for ``interval`` steps; the interval doubles (up
    to ``max_interval``) while the probes agree and falls back to
    ``first_interval`` when they do not. On a busy CPU an oversubscribed step
    can cost 30 to 50 ordinary ones (measured here), so a probe drops a
    candidate at its first step over 1.5 times the best median so far, and a
    run with more than one thread probes again at once when a step takes over
    twice its probe's median (another process has started to compete).
    ``close()`` restores the thread count. ``choices`` lists each probe's
    (chosen count, {count: median seconds}).
    """

    def __init__(self, probe_steps=5, first_interval=200, max_interval=3200):
        probe_steps = _validate.positive_int("probe_steps", probe_steps)
        first_interval = _validate.positive_int("first_interval", first_interval)
        max_interval = _validate.positive_int("max_interval", max_interval)
        if max_interval < first_interval:
            raise ValueError(f"max_interval must be >= first_interval ({first_interval}), got {max_interval}")
        n = torch.get_num_threads()
        self._before = n
        self.candidates = sorted({1, max(1, n // 2), n}) if _policy_in_force() and n > 1 else []
        self._probe = [(c, True) for c in self.candidates for _ in range(probe_steps)]
        self._first, self._max = first_interval, max_interval
        self._interval, self._best, self._best_seconds = first_interval, None, None
        self._queue, self._samples = [], {}
        self._current, self._timed, self._last = n, False, None
        self.choices = []

    def tick(self):
        if not self.candidates:
            return
        now = time.perf_counter()
        if self._last is not None:
            seconds = now - self._last
            if self._timed:
                self._samples.setdefault(self._current, []).append(seconds)
                others = [statistics.median(v) for c, v in self._samples.items() if c != self._current]
                if others and seconds > 1.5 * min(others):  # clearly slower: stop probing this count
                    while self._queue and self._queue[-1][0] == self._current:
                        self._queue.pop()
            elif self._current > 1 and seconds > 2 * self._best_seconds:  # the CPU got busy: probe again now
                self._queue = []
        self._last = now
        if not self._queue:
            self._plan()
        self._current, self._timed = self._queue.pop()
        if torch.get_num_threads() != self._current:
            torch.set_num_threads(self._current)

    def _plan(self):
        if self._samples:  # a probe has just ended: keep the fastest
            medians = {c: statistics.median(v) for c, v in self._samples.items()}
            best = min(medians, key=medians.get)
            self._interval = min(2 * self._interval, self._max) if best == self._best else self._first
            self._best, self._best_seconds, self._samples = best, medians[best], {}
            self.choices.append((best, medians))
            steps = [(best, False)] * self._interval + self._probe
        else:
            steps = list(self._probe)
        self._queue = steps[::-1]  # popped from the end

    def close(self):
        torch.set_num_threads(self._before)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
