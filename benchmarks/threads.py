"""One thread or two? The course's heavy work timed with each, and two VAE trainings at once.

Part 1 (what a second thread gains, alone): each workload runs in one fresh
process that alternates torch.set_num_threads(1) and (2) over several repeats
and keeps the minimum of each, so both see the same machine load:

- ``vae_epoch``: one epoch of ``vilab.vae.train`` (defaults) on the 50,000 "fit" images;
- ``iwae_k1000``: ``vilab.vae.iwae_bound`` with k = 1000 on 500 test images (notebook 03);
- ``svi``: ``vilab.mixture.svi`` on 10^6 points, K = 5, 2000 steps of 1000 (notebook 05);
- ``explorer``: one update of the estimator explorer's computation (notebook 02, its defaults).

Part 2 (two kernels at once, a student with 03 and 03b open or a shared class
server): one VAE training alone, then two started together, each set up the
same way: 2 threads fixed (torch's default here, and vilab's before its thread
policy), 1 thread fixed, or vilab's policy (``vilab.threads``: the budget at
import, then ``Tuner`` inside ``train``). The ratio is each pair member's median
epoch over the median epoch alone with the same set-up. Targets (issue 13):
<= 2.2x with vilab's policy, and the policy alone no slower than 2 threads alone.

    .venv/bin/python benchmarks/threads.py [--repeats 3] [--epochs 3] [--skip alone,pair]
    .venv/bin/python benchmarks/threads.py --work vae_epoch --threads 1   # one worker (used by part 2)
"""

import argparse
import json
import statistics
import subprocess
import sys
import time

from common import ROOT, Row, print_table

WORKLOADS = ("vae_epoch", "iwae_k1000", "svi", "explorer")


def prepare(work):
    """A zero-argument function doing one unit of ``work`` (data loaded and models built here, untimed)."""
    import numpy as np
    import torch

    from vilab import data, estimators, mixture, vae

    if work == "vae_epoch":
        images, _ = data.load_fashion_mnist("fit")
        torch.manual_seed(0)
        model = vae.VAE()
        return lambda: vae.train(model, images, epochs=1, progress=False)
    if work == "iwae_k1000":
        images, _ = data.load_fashion_mnist("test")
        x = vae.binarize(images[:500], seed=0)
        torch.manual_seed(0)
        model = vae.VAE()
        return lambda: vae.iwae_bound(model, x, 1000, seed=0)
    if work == "svi":
        rng = np.random.default_rng(0)
        means = np.array([-20.0, -10.0, 0.0, 10.0, 20.0])
        x = means[rng.integers(0, 5, 1_000_000)] + rng.standard_normal(1_000_000)
        init = mixture.init_means(x, 5, seed=1)
        return lambda: mixture.svi(x, 5, sigma2=100.0, init=init, batch_size=1000, n_steps=2000, seed=0, eval_steps=[])
    if work == "explorer":
        args = dict(estimators.ESTIMATOR_EXPLORER_DEFAULTS)
        explore = getattr(estimators, "_explore", None)  # the computation without its own thread choice
        if explore is None:
            return lambda: estimators.explore_estimators(**args)
        return lambda: explore(**args, n_replicates=1000, n_bins=30, seed=0)
    raise ValueError(f"unknown work {work!r}; choose from {WORKLOADS}")


def one_vs_two(work, repeats):
    """Seconds (min over repeats) of ``work`` with 1 and with 2 torch threads, alternating, in this process."""
    import torch

    from vilab import threads as policy

    policy._state["chosen"] = None  # fixed counts here: as after a user's own choice, vilab's Tuner stays out
    run = prepare(work)
    run()  # warm-up (first-call costs, allocator)
    seconds = {1: [], 2: []}
    for _ in range(repeats):
        for threads in (1, 2):
            torch.set_num_threads(threads)
            start = time.perf_counter()
            run()
            seconds[threads].append(time.perf_counter() - start)
    return {threads: min(values) for threads, values in seconds.items()}


def worker(work, threads, epochs):
    """Print JSON: per-epoch seconds of ``epochs`` VAE epochs with ``threads`` torch threads (0: vilab's policy)."""
    import torch

    from vilab import data, vae

    if threads:
        torch.set_num_threads(threads)  # an explicit choice: vilab's Tuner leaves it alone
    images, _ = data.load_fashion_mnist("fit")
    torch.manual_seed(0)
    history = vae.train(vae.VAE(), images, epochs=epochs, progress=False)
    print(json.dumps({"seconds": history["seconds"], "threads": torch.get_num_threads()}))


def start_worker(threads, epochs):
    command = [sys.executable, __file__, "--work", "vae_epoch", "--threads", str(threads), "--epochs", str(epochs)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)


def epochs_of(process):
    out, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"worker failed with exit {process.returncode}")
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def pair_ratio(threads, epochs):
    """(median epoch alone, [median epoch of each of two run together]) with ``threads`` threads each."""
    alone = statistics.median(epochs_of(start_worker(threads, epochs)))
    pair = [start_worker(threads, epochs) for _ in range(2)]
    together = [statistics.median(epochs_of(p)) for p in pair]
    return alone, together


def rows(repeats=3, epochs=3, skip=()):
    import vilab

    result = []
    if "alone" not in skip:
        for work in WORKLOADS:
            print(f"threads: {work} with 1 and 2 threads ...", flush=True)
            seconds = one_vs_two(work, repeats)
            gain = seconds[1] / seconds[2]
            result.append(
                Row(
                    "threads, alone",
                    f"{work}: 1 / 2 threads (2nd thread's speed-up)",
                    f"{seconds[1]:.3f} / {seconds[2]:.3f} s ({gain:.2f}x)",
                )
            )
    if "pair" not in skip:
        alone_by_setup = {}
        for threads, name in [(2, "2 threads fixed"), (1, "1 thread fixed"), (0, "vilab policy")]:
            print(f"threads: two VAE trainings at once, {name} ...", flush=True)
            alone, together = pair_ratio(threads, epochs)
            alone_by_setup[threads] = alone
            worst = max(together) / alone
            result.append(
                Row(
                    "two trainings at once",
                    f"{name}: epoch alone / each of a pair",
                    f"{alone:.2f} / {' + '.join(f'{t:.2f}' for t in together)} s ({worst:.2f}x)",
                    "<= 2.2x" if threads == 0 else "",
                    worst <= 2.2 if threads == 0 else None,
                )
            )
        ratio = alone_by_setup[0] / alone_by_setup[2]
        result.append(
            Row(
                "two trainings at once",
                "vilab policy alone / 2 threads fixed alone (epoch)",
                f"{ratio:.2f}x",
                "<= 1.1x (no slower, within noise)",
                ratio <= 1.1,
            )
        )
    result.append(Row("threads", "vilab's choice at import in this process", vilab.threads.describe()))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma-separated: alone,pair")
    parser.add_argument("--work", choices=WORKLOADS, help="run one worker (part 2) and print JSON")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: vilab's policy)")
    args = parser.parse_args()
    if args.work:
        worker(args.work, args.threads, args.epochs)
        return
    print_table(rows(args.repeats, args.epochs, set(args.skip.split(","))), "threads")


if __name__ == "__main__":
    main()
