"""The thread policy: cgroup quotas read from fake /proc and /sys trees, the user's choice respected."""

import os

import pytest
import torch

import vilab
from vilab import threads


def fake_tree(tmp_path, cgroup, mounts, files):
    """A fake /proc/self (``cgroup`` and ``mountinfo`` text) and cgroup files under tmp_path; returns proc_self.

    ``mounts``: (fstype, root, mount point relative to tmp_path, super options);
    ``files``: {path relative to tmp_path: content}.
    """
    proc_self = tmp_path / "proc" / "self"
    proc_self.mkdir(parents=True)
    (proc_self / "cgroup").write_text(cgroup)
    lines = [
        f"{30 + i} 25 0:{40 + i} {root} {tmp_path / point} rw,nosuid - {fstype} {fstype} {options}"
        for i, (fstype, root, point, options) in enumerate(mounts)
    ]
    (proc_self / "mountinfo").write_text("\n".join(["22 1 8:1 / / rw - ext4 /dev/sda1 rw", *lines]) + "\n")
    for path, content in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(content)
    return proc_self


def test_cgroup_v2_reads_the_process_own_cgroup_not_only_the_root(tmp_path):
    proc = fake_tree(
        tmp_path,
        "0::/user.slice/user-1000.slice/session-3.scope\n",
        [("cgroup2", "/", "sys/fs/cgroup", "rw,nsdelegate")],
        {
            "sys/fs/cgroup/cpu.max": "max 100000\n",
            "sys/fs/cgroup/user.slice/user-1000.slice/cpu.max": "150000 100000\n",  # a hub's per-user limit
            "sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope/cpu.max": "max 100000\n",
        },
    )
    assert threads.cgroup_cpu_limit(proc) == pytest.approx(1.5)


def test_cgroup_v2_unlimited_and_missing_files(tmp_path):
    proc = fake_tree(
        tmp_path, "0::/a\n", [("cgroup2", "/", "sys/fs/cgroup", "rw")], {"sys/fs/cgroup/a/cpu.max": "max 100000\n"}
    )
    assert threads.cgroup_cpu_limit(proc) is None
    assert threads.cgroup_cpu_limit(tmp_path / "no" / "proc") is None


def test_cgroup_v2_in_a_container_namespace(tmp_path):
    """Inside a cgroup namespace the process sees itself at "/" and the quota sits at the mount point."""
    proc = fake_tree(
        tmp_path, "0::/\n", [("cgroup2", "/", "sys/fs/cgroup", "rw")], {"sys/fs/cgroup/cpu.max": "100000 100000\n"}
    )
    assert threads.cgroup_cpu_limit(proc) == pytest.approx(1.0)


def test_cgroup_v1_quota_and_period_with_a_mount_root(tmp_path):
    """Docker without a cgroup namespace: the mount's root is the container's own cgroup."""
    proc = fake_tree(
        tmp_path,
        "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n",
        [
            ("cgroup", "/docker/abc", "sys/fs/cgroup/cpu,cpuacct", "rw,cpu,cpuacct"),
            ("cgroup", "/docker/abc", "sys/fs/cgroup/memory", "rw,memory"),
        ],
        {
            "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "250000\n",
            "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
        },
    )
    assert threads.cgroup_cpu_limit(proc) == pytest.approx(2.5)


def test_cgroup_v1_nested_limit_and_unlimited_root(tmp_path):
    proc = fake_tree(
        tmp_path,
        "3:cpu:/class/student7\n",
        [("cgroup", "/", "sys/fs/cgroup/cpu", "rw,cpu")],
        {
            "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
            "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
            "sys/fs/cgroup/cpu/class/cpu.cfs_quota_us": "400000\n",
            "sys/fs/cgroup/cpu/class/cpu.cfs_period_us": "100000\n",
            "sys/fs/cgroup/cpu/class/student7/cpu.cfs_quota_us": "50000\n",
            "sys/fs/cgroup/cpu/class/student7/cpu.cfs_period_us": "100000\n",
        },
    )
    assert threads.cgroup_cpu_limit(proc) == pytest.approx(0.5)


def test_hybrid_v1_and_v2_take_the_tightest(tmp_path):
    proc = fake_tree(
        tmp_path,
        "4:cpu:/job\n0::/job\n",
        [("cgroup", "/", "sys/fs/cgroup/cpu", "rw,cpu"), ("cgroup2", "/", "sys/fs/cgroup/unified", "rw")],
        {
            "sys/fs/cgroup/cpu/job/cpu.cfs_quota_us": "300000\n",
            "sys/fs/cgroup/cpu/job/cpu.cfs_period_us": "100000\n",
            "sys/fs/cgroup/unified/job/cpu.max": "200000 100000\n",
        },
    )
    assert threads.cgroup_cpu_limit(proc) == pytest.approx(2.0)


def test_garbage_is_ignored(tmp_path):
    proc = fake_tree(
        tmp_path,
        "garbage\n0::/a\n",
        [("cgroup2", "/", "sys/fs/cgroup", "rw")],
        {"sys/fs/cgroup/a/cpu.max": "lots 100000\n", "sys/fs/cgroup/cpu.max": "\n"},
    )
    assert threads.cgroup_cpu_limit(proc) is None


def test_budget_is_the_floor_of_the_quota_capped_by_affinity(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    quota = {"sys/fs/cgroup/a/cpu.max": "150000 100000\n"}
    proc = fake_tree(tmp_path, "0::/a\n", [("cgroup2", "/", "sys/fs/cgroup", "rw")], quota)
    assert threads.cpu_budget(proc) == 1  # 1.5 CPUs: a second thread would wait for the quota half the time
    (tmp_path / "sys/fs/cgroup/a/cpu.max").write_text("20000 100000\n")
    assert threads.cpu_budget(proc) == 1  # at least one
    (tmp_path / "sys/fs/cgroup/a/cpu.max").write_text("max 100000\n")
    assert threads.cpu_budget(proc) == 4  # the affinity mask


def test_this_machine_budget_is_sane():
    assert 1 <= threads.cpu_budget() <= (os.cpu_count() or 1)


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    state = dict(threads._state)
    yield
    torch.set_num_threads(before)
    threads._state.update(state)


@pytest.mark.parametrize("variable", [None, *threads.USER_VARIABLES])
def test_apply_policy_and_the_users_variables(monkeypatch, restore_threads, variable):
    for name in ("VILAB_THREADS", *threads.USER_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    torch.set_num_threads(1)  # as a user's OMP_NUM_THREADS=1 would have made it
    if variable is None:
        torch.set_num_threads(os.cpu_count() or 1)
        expected = min(os.cpu_count() or 1, threads.cpu_budget())
        assert threads.apply() == expected
        assert "CPU budget" in threads.describe()
    else:
        monkeypatch.setenv(variable, "1")
        assert threads.apply() == 1  # left as the variable made it
        assert variable in threads.describe()


def test_vilab_threads_variable(monkeypatch, restore_threads):
    monkeypatch.setenv("VILAB_THREADS", "1")
    assert threads.apply() == 1
    for bad in ("0", "two"):
        monkeypatch.setenv("VILAB_THREADS", bad)
        with pytest.raises(ValueError, match="VILAB_THREADS"):
            threads.apply()


def test_import_applies_the_policy():
    assert vilab.threads._state["reason"] != "not applied yet"


class FakeClock:
    """perf_counter for a loop whose step costs ``cost[torch threads]`` seconds."""

    def __init__(self, cost):
        self.now, self.cost = 0.0, cost

    def __call__(self):
        return self.now

    def step(self):
        self.now += self.cost[torch.get_num_threads()]


def run_tuned(monkeypatch, cost, steps, n=2, **options):
    monkeypatch.delenv("VILAB_THREADS", raising=False)
    for name in threads.USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "cpu_budget", lambda: n)
    torch.set_num_threads(n)
    threads.apply()
    clock = FakeClock(cost)
    monkeypatch.setattr(threads.time, "perf_counter", clock)
    used = []
    with threads.Tuner(**options) as tuner:
        for _ in range(steps):
            tuner.tick()
            used.append(torch.get_num_threads())
            clock.step()
    assert torch.get_num_threads() == n  # restored
    return tuner, used


@pytest.mark.parametrize("cost, best", [({1: 1.0, 2: 0.6}, 2), ({1: 1.0, 2: 9.0}, 1)])
def test_tuner_keeps_the_faster_count(monkeypatch, restore_threads, cost, best):
    """Alone on an idle CPU two threads win; on a busy one (a second training), one thread wins by far."""
    tuner, used = run_tuned(monkeypatch, cost, 1000, probe_steps=5, first_interval=50, max_interval=400)
    assert tuner.candidates == [1, 2]
    assert [choice for choice, _ in tuner.choices] == [best] * len(tuner.choices) and len(tuner.choices) >= 3
    assert used.count(best) >= 0.95 * len(used)  # probes are a few percent of the steps
    first_probe = tuner.choices[0][1]
    assert first_probe == pytest.approx({c: cost[c] for c in (2, 1)})
    if best == 1:  # the slow count was dropped after its first step: one step per probe
        assert used.count(2) <= len(tuner.choices) + 1


def test_tuner_follows_a_change_of_load(monkeypatch, restore_threads):
    cost = {1: 1.0, 2: 0.6}
    monkeypatch.delenv("VILAB_THREADS", raising=False)
    for name in threads.USER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(threads, "cpu_budget", lambda: 2)
    torch.set_num_threads(2)
    threads.apply()
    clock = FakeClock(cost)
    monkeypatch.setattr(threads.time, "perf_counter", clock)
    used = []
    with threads.Tuner(probe_steps=5, first_interval=200, max_interval=3200) as tuner:
        for step in range(2000):
            if step == 1000:
                cost[2] = 30.0  # another process starts training: an oversubscribed step costs 30 ordinary ones
            tuner.tick()
            used.append(torch.get_num_threads())
            clock.step()
    chosen = [choice for choice, _ in tuner.choices]
    assert chosen[0] == 2 and chosen[-1] == 1
    assert used[1001:1006] == [1] * 5, (
        "the run with two threads must notice the busy CPU at once, not at its next probe"
    )
    later_probes = sum(1 for choice in chosen if choice == 1)
    assert used[1000:].count(2) <= 1 + later_probes  # then one step with two threads per probe


def test_tuner_four_cores_tries_half_and_one(monkeypatch, restore_threads):
    tuner, used = run_tuned(monkeypatch, {4: 1.0, 2: 0.7, 1: 1.5}, 300, n=4, first_interval=50)
    assert tuner.candidates == [1, 2, 4] and tuner.choices[0][0] == 2


def test_tuner_leaves_a_users_choice_alone(monkeypatch, restore_threads):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    torch.set_num_threads(2)
    threads.apply()
    with threads.Tuner() as tuner:
        for _ in range(50):
            tuner.tick()
            assert torch.get_num_threads() == 2
    assert tuner.candidates == [] and tuner.choices == []
