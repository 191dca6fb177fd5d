"""Benchmark vilab.vae.train against the PyTorch-examples way of feeding a VAE, in one run.

Both train the same 784-400-20-400-784 VAE on dynamically binarised
Fashion-MNIST, epochs alternating (one of ours, one of the reference, ...) so
that both see the same machine load:

- ours: ``vilab.vae.train`` with its defaults (uint8 tensor in memory, batches
  sliced from a shuffled index, binarised on the fly, fused Adam);
- reference: written the way pytorch/examples ``vae/main.py`` feeds its data:
  a Dataset whose ``__getitem__`` turns one image into a PIL image and then a
  float tensor (torchvision's ``ToTensor``, written out by hand because
  torchvision is not a dependency), a shuffled ``DataLoader`` with batch 128,
  ``Adam(lr=1e-3)``, the loss summed over the batch, and ``torch.bernoulli``
  on each batch so that both optimise the same objective.

Prints seconds per epoch of each and their ratio, the test ELBO of each after
every epoch, the wall time each needs to reach the reference's final test
ELBO, the IWAE bound of ours after the last epoch, and the achieved GFLOP/s of
our training step against a measured matrix-multiply peak.

    .venv/bin/python benchmarks/vae_speed.py            # 10 epochs, IWAE k=1000 on the 10k test images
    .venv/bin/python benchmarks/vae_speed.py --quick    # 2 epochs, IWAE k=100 on 1000 test images

Nothing is chosen here: this mode only reports. The defaults it runs with
(``vae.DEFAULT_BATCH_SIZE``, ``vae.DEFAULT_LR``) were chosen on the validation
split by the grid below, which never touches the test set:

    .venv/bin/python benchmarks/vae_speed.py --grid                 # batch x lr, 10 epochs-of-batch-128 budget
    .venv/bin/python benchmarks/vae_speed.py --grid --seeds 1 2 --batch-sizes 128 256 --lrs 2e-3 3e-3

The grid trains on ``load_fashion_mnist("fit")`` (the first 50,000 training
images) with 1 torch thread and records the validation ELBO (k=1, the last
10,000 training images, one fixed binarisation) after every epoch. The
criterion is the best validation ELBO at equal training time: the time of one
epoch at each batch size, relative to batch 128, is measured by a step-time
microbenchmark run back to back (the batch sizes interleaved, minimum of
repeats, so machine load cancels in the ratios), and a configuration with
relative epoch cost c gets budget / c epochs (the ELBO interpolated linearly
between epochs).
"""

import argparse
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset

from vilab import vae
from vilab.data import load_fashion_mnist

TARGET_SPEEDUP = 1.5
TARGET_IWAE = -240.0
GRID_BATCH_SIZES = (64, 128, 256, 512)
GRID_LRS = (1e-3, 2e-3, 3e-3, 5e-3, 8e-3)


# --- the reference: the PyTorch examples VAE and its data pipeline ----------------


class PILImages(Dataset):
    """One PIL image per item, converted like torchvision.transforms.ToTensor: [1, 28, 28] float in [0, 1]."""

    def __init__(self, images):
        self.images = images.numpy()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        image = Image.fromarray(self.images[index], mode="L")
        array = torch.from_numpy(np.array(image, np.uint8, copy=True))  # ToTensor, by hand
        tensor = array.view(image.size[1], image.size[0], 1).permute(2, 0, 1).contiguous()
        return tensor.float().div(255), 0


class ExamplesVAE(nn.Module):
    """The model of pytorch/examples vae/main.py (fc1, fc21, fc22, fc3, fc4)."""

    latent_dim = 20

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def decode(self, z):
        return self.fc4(F.relu(self.fc3(z)))  # logits (the example applies a sigmoid, then BCE)

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z), mu, logvar


def examples_loss(logits, x, mu, logvar):
    bce = F.binary_cross_entropy_with_logits(logits, x.view(-1, 784), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def examples_epoch(model, optimizer, loader):
    model.train()
    start = time.perf_counter()
    for data, _ in loader:
        data = torch.bernoulli(data)  # dynamic binarisation, so both optimise the same objective
        optimizer.zero_grad()
        logits, mu, logvar = model(data)
        examples_loss(logits, data, mu, logvar).backward()
        optimizer.step()
    return time.perf_counter() - start


# --- measurements -------------------------------------------------------------------


def flops_per_image(hidden=400, latent=20, pixels=784):
    """FLOPs (2 per multiply-add) of one training step per image.

    Forward F, weight gradients F, input gradients F minus the first layer's (x needs no gradient).
    """
    forward = 2 * (pixels * hidden + hidden * 2 * latent + latent * hidden + hidden * pixels)
    return 3 * forward - 2 * pixels * hidden


def matmul_peak_gflops(n=1024, seconds=2.0):
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        count += 1
    return 2 * n**3 * count / (time.perf_counter() - start) / 1e9


def time_to_reach(target, seconds, elbos):
    """Cumulative training seconds at the first epoch whose test ELBO >= target (None if never)."""
    elapsed = np.cumsum(seconds)
    for t, elbo in zip(elapsed, elbos, strict=True):
        if elbo >= target:
            return t
    return None


# --- the grid that chose the defaults: validation only --------------------------------


def relative_epoch_cost(images, batch_sizes, repeats=5, n_images=12_800):
    """Seconds per epoch at each batch size divided by that at batch 128 (always measured, as the unit).

    One epoch of ``vae.train`` on ``n_images`` images per batch size, the sizes
    interleaved and repeated, the minimum of the repeats kept: the ratios of
    runs measured back to back, so a busy machine inflates all of them alike.
    """
    sizes = sorted({128, *batch_sizes})
    seconds = {b: [] for b in sizes}
    for _ in range(repeats):
        for b in sizes:
            torch.manual_seed(0)
            model = vae.VAE(latent_dim=20, hidden_dim=400)
            seconds[b].append(vae.train(model, images[:n_images], epochs=1, batch_size=b, progress=False)["seconds"][0])
    return {b: min(seconds[b]) / min(seconds[128]) for b in batch_sizes}


def elbo_at(epochs, elbos):
    """The ELBO after a fractional number of epochs, linear between the epochs measured (elbos[i] after i + 1)."""
    if epochs <= 1:
        return elbos[0]
    low = min(math.floor(epochs), len(elbos))
    high = min(low + 1, len(elbos))
    return elbos[low - 1] + (epochs - low) * (elbos[high - 1] - elbos[low - 1])


def grid(args):
    torch.set_num_threads(1)
    fit_images = load_fashion_mnist("fit")[0][: args.fit_images]
    validation_x = vae.binarize(load_fashion_mnist("validation")[0], seed=0)  # one fixed binarisation
    if args.cost:  # ratios measured earlier, e.g. "64:1.34,256:0.87,512:0.82" (batch 128 is 1)
        cost = {128: 1.0, **{int(b): float(c) for b, c in (item.split(":") for item in args.cost.split(","))}}
        cost = {b: cost[b] for b in args.batch_sizes}
    else:
        cost = relative_epoch_cost(fit_images, args.batch_sizes, repeats=args.repeats)
    budget = args.budget_epochs
    print(
        f"torch {torch.__version__}, 1 thread; fit on {len(fit_images)} images, validation ELBO on {len(validation_x)}"
    )
    how = "given" if args.cost else f"step-time microbenchmark, min of {args.repeats}, interleaved"
    print(f"relative epoch cost ({how}):")
    print("  " + "  ".join(f"batch {b}: {c:.2f}" for b, c in cost.items()))
    if args.cost_only:
        return
    results = {}
    for seed in args.seeds:
        for b in args.batch_sizes:
            equal_time_epochs = budget / cost[b]
            epochs = max(budget, math.ceil(equal_time_epochs))
            for lr in args.lrs:
                torch.manual_seed(seed)
                model = vae.VAE(latent_dim=20, hidden_dim=400)
                elbos = []

                def evaluate(history, model=model, elbos=elbos):
                    elbos.append(vae.iwae_bound(model, validation_x, 1, seed=0).mean().item())

                vae.train(
                    model, fit_images, epochs=epochs, batch_size=b, lr=lr, seed=seed, progress=False, callback=evaluate
                )
                results[seed, b, lr] = at_epochs, at_time = elbos[budget - 1], elbo_at(equal_time_epochs, elbos)
                print(
                    f"seed {seed}  batch {b:4d}  lr {lr:.0e}:  validation ELBO after {budget} epochs {at_epochs:8.2f}"
                    f"   at equal time ({equal_time_epochs:.1f} epochs) {at_time:8.2f}   "
                    f"curve {[round(e, 1) for e in elbos]}",
                    flush=True,
                )
    for column, title in ((0, f"after {budget} epochs"), (1, f"at equal time ({budget} epochs of batch 128)")):
        print(f"\nvalidation ELBO {title}, median over seeds {list(args.seeds)} (nats)")
        print("batch \\ lr " + "".join(f"{lr:>10.0e}" for lr in args.lrs))
        for b in args.batch_sizes:
            cells = [np.median([results[s, b, lr][column] for s in args.seeds]) for lr in args.lrs]
            print(f"{b:10d} " + "".join(f"{c:10.2f}" for c in cells))
    best = max(
        ((b, lr) for b in args.batch_sizes for lr in args.lrs),
        key=lambda c: np.median([results[s, c[0], c[1]][1] for s in args.seeds]),
    )
    print(f"\nbest at equal time: batch_size={best[0]}, lr={best[1]:g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="2 epochs, IWAE k=100 on 1000 test images")
    parser.add_argument("--iwae-k", type=int, default=1000)
    parser.add_argument("--iwae-images", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--grid", action="store_true", help="the validation grid that chose the defaults")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="grid: seeds (median over them)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(GRID_BATCH_SIZES), help="grid")
    parser.add_argument("--lrs", type=float, nargs="+", default=list(GRID_LRS), help="grid")
    parser.add_argument("--budget-epochs", type=int, default=10, help="grid: budget in epochs of batch 128")
    parser.add_argument("--fit-images", type=int, default=50_000, help="grid: first N images of the fit split")
    parser.add_argument("--repeats", type=int, default=5, help="grid: repeats of the step-time microbenchmark")
    parser.add_argument("--cost-only", action="store_true", help="grid: only the step-time microbenchmark")
    parser.add_argument("--cost", default="", help='grid: given epoch-cost ratios, e.g. "64:1.34,256:0.87,512:0.82"')
    args = parser.parse_args()
    if args.grid:
        return grid(args)
    if args.quick:
        args.epochs, args.iwae_k, args.iwae_images = 2, 100, 1000
    if args.threads:
        torch.set_num_threads(args.threads)

    train_images, _ = load_fashion_mnist("train")
    test_images, _ = load_fashion_mnist("test")
    test_x = vae.binarize(test_images, seed=0)  # one fixed binarisation of the test set for both models
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {vae.best_device()}")
    print(
        f"defaults: batch_size={vae.DEFAULT_BATCH_SIZE}, lr={vae.DEFAULT_LR}; {args.epochs} epochs each, alternating\n"
    )

    torch.manual_seed(0)
    ours = vae.VAE(latent_dim=20, hidden_dim=400)
    torch.manual_seed(0)
    reference = ExamplesVAE()
    ref_optimizer = torch.optim.Adam(reference.parameters(), lr=1e-3)
    ref_loader = DataLoader(PILImages(train_images), batch_size=128, shuffle=True)
    log = {"ours_elbo": [], "ref_seconds": [], "ref_elbo": []}

    def after_our_epoch(history):
        # evaluation and the reference's epoch run here, outside our epoch's timer
        log["ours_elbo"].append(vae.iwae_bound(ours, test_x, 1).mean().item())
        log["ref_seconds"].append(examples_epoch(reference, ref_optimizer, ref_loader))
        log["ref_elbo"].append(vae.iwae_bound(reference, test_x, 1).mean().item())
        epoch = history["epoch"][-1]
        print(
            f"epoch {epoch:3d}   ours {history['seconds'][-1]:6.2f} s  test ELBO {log['ours_elbo'][-1]:8.2f}   "
            f"reference {log['ref_seconds'][-1]:6.2f} s  test ELBO {log['ref_elbo'][-1]:8.2f}",
            flush=True,
        )

    history = vae.train(ours, train_images, epochs=args.epochs, progress=False, callback=after_our_epoch)
    ours_s, ref_s = np.mean(history["seconds"]), np.mean(log["ref_seconds"])
    target = log["ref_elbo"][-1]
    t_ours = time_to_reach(target, history["seconds"], log["ours_elbo"])
    t_ref = time_to_reach(target, log["ref_seconds"], log["ref_elbo"])

    start = time.perf_counter()
    iwae = vae.iwae_bound(ours, test_x[: args.iwae_images], args.iwae_k).mean().item()
    iwae_seconds = time.perf_counter() - start

    achieved = flops_per_image() * len(train_images) / ours_s / 1e9
    peak = matmul_peak_gflops()

    def fmt(t):
        return "not reached" if t is None else f"{t:.1f} s"

    rows = [
        ("seconds per epoch", f"{ours_s:.2f}", f"{ref_s:.2f}"),
        ("speed-up (reference / ours)", f"{ref_s / ours_s:.2f}x (target >= {TARGET_SPEEDUP}x)", ""),
        (f"test ELBO after {args.epochs} epochs (nats)", f"{log['ours_elbo'][-1]:.2f}", f"{target:.2f}"),
        (f"time to reach ELBO {target:.2f}", fmt(t_ours), fmt(t_ref)),
        (f"IWAE k={args.iwae_k}, {args.iwae_images} test images", f"{iwae:.2f} ({iwae_seconds:.0f} s)", ""),
        ("training step GFLOP/s", f"{achieved:.1f} of {peak:.1f} peak ({achieved / peak:.0%})", ""),
    ]
    print(f"\n{'':44s} {'vilab.vae.train':>34s} {'PyTorch-examples pipeline':>26s}")
    for name, a, b in rows:
        print(f"{name:44s} {a:>34s} {b:>26s}")
    print(f"\nIWAE target better than {TARGET_IWAE} nats: {'met' if iwae > TARGET_IWAE else 'NOT met'}")


if __name__ == "__main__":
    main()
