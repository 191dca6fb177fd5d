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
"""

import argparse
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="2 epochs, IWAE k=100 on 1000 test images")
    parser.add_argument("--iwae-k", type=int, default=1000)
    parser.add_argument("--iwae-images", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args()
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
