"""A variational autoencoder for 28x28 binary images: model, loss, training loop, IWAE bound.

Model (a fully connected encoder and decoder with one hidden layer each)::

    encoder  x (784) -> ReLU(hidden) -> (mu, logvar)     q(z|x) = N(mu, diag exp(logvar))
    decoder  z (latent) -> ReLU(hidden) -> logits (784)   p(x|z) = prod_j Bernoulli(x_j; sigmoid(logit_j))
    prior    p(z) = N(0, I)

With the defaults (hidden 400, latent 20) this is 784-400-20-400-784 with ReLU, the VAE of the PyTorch
examples (pytorch/examples, vae/main.py). Kingma & Welling (2014, section 5 and appendix C) used the
same one-hidden-layer shape with tanh hidden units, 500 of them for MNIST.

Conventions, used everywhere in this module and the notebooks:

- images are *dynamically binarised*: each time an image is used, pixel j
  becomes x_j ~ Bernoulli(pixel_j / 255), so the decoder's Bernoulli
  log-likelihood is a true log-probability of the data and the numbers are in
  nats, comparable with published results on binarised Fashion-MNIST;
- ``logvar`` means log sigma^2 (never log sigma);
- reductions are explicit: the reconstruction term is *summed* over the 784
  pixels, the KL *summed* over the latent dimensions, and the loss is the
  *mean over the batch* of (distortion + beta * rate).
"""

import math
import time
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vilab import _validate, threads
from vilab._validate import finite, positive, positive_int
from vilab.gaussian import kl_diag_normal
from vilab.threads import cpu_budget  # noqa: F401 - vilab.vae.cpu_budget, kept importable

N_PIXELS = 28 * 28
LOG_2PI = math.log(2 * math.pi)

# Defaults chosen on the validation split, never on the test set (benchmarks/vae_speed.py --grid).
# Criterion: the best validation ELBO per second of CPU, i.e. at equal training time. Each
# configuration trains 784-400-20-400-784 (torch.manual_seed(s), train(seed=s), s = 0..3) on
# load_fashion_mnist("fit") (the first 50,000 training images) with 1 torch thread; its ELBO (k=1)
# on load_fashion_mnist("validation") (the last 10,000, one fixed binarisation) is recorded after
# every epoch. The time budget is 10 epochs at batch 128; an epoch at batch b costs c_b epochs of
# batch 128, from a step-time microbenchmark run back to back (sizes interleaved, min of 10; quiet
# machine, 1 thread: c_64 = 1.34, c_256 = 0.865, c_512 = 0.825), so batch b gets 10 / c_b epochs
# (ELBO interpolated between epochs). Validation ELBO at equal time, nats, median over seeds (n):
#
#   batch \ lr    1e-3        2e-3        3e-3        5e-3        8e-3
#     64       -242.7 (2)  -242.5 (2)  -243.6 (2)  -246.3 (2)  -251.4 (1)
#    128       -242.4 (4)  -241.9 (4)  -242.1 (4)  -244.2 (2)
#    256                   -242.2 (4)  -242.2 (4)  -243.6 (2)  -248.2 (2)
#    512                               -242.6 (2)  -243.4 (2)  -253.7 (2)
#
# Batch 128 with lr 2e-3 has the best median; 128 / 3e-3 and 256 / 2e-3 or 3e-3 are within 0.3
# nats of it, less than the spread between the seeds of one configuration (up to 1.6 nats), so
# the grid cannot rank those four. At equal epochs (10) batch 64 / 1e-3 ties with it (-241.9),
# but an epoch at batch 64 costs 1.34 times as much.
DEFAULT_BATCH_SIZE = 128
DEFAULT_LR = 2e-3


# --- the model --------------------------------------------------------------


class VAE(nn.Module):
    """784 -> hidden -> (mu, logvar) in R^latent; latent -> hidden -> 784 Bernoulli logits."""

    stochastic = True  # the encoder samples z ~ q(z|x); an Autoencoder uses z = mu

    def __init__(self, latent_dim=20, hidden_dim=400):
        super().__init__()
        self.latent_dim = positive_int("latent_dim", latent_dim)
        self.hidden_dim = positive_int("hidden_dim", hidden_dim)
        self.encoder_hidden = nn.Linear(N_PIXELS, self.hidden_dim)
        self.encoder_out = nn.Linear(self.hidden_dim, 2 * self.latent_dim)  # mu and logvar side by side
        self.decoder_hidden = nn.Linear(self.latent_dim, self.hidden_dim)
        self.decoder_out = nn.Linear(self.hidden_dim, N_PIXELS)

    def encode(self, x):
        """x [B, 784] -> (mu, logvar), each [B, latent_dim]; logvar = log sigma^2.

        ``x`` is a float tensor (any float dtype: cast to the model's); see ``_model_input``.
        """
        return self._encode(_model_input(self, "x", x, N_PIXELS, "[B, 784]"))

    def decode(self, z):
        """z [..., latent_dim] -> Bernoulli logits [..., 784] (probabilities = sigmoid(logits))."""
        return self._decode(_model_input(self, "z", z, self.latent_dim, f"[..., {self.latent_dim}]"))

    def _encode(self, x):  # the unchecked forward passes, for inputs already checked (the training loop)
        h = F.relu(self.encoder_hidden(x))
        mu, logvar = self.encoder_out(h).chunk(2, dim=-1)
        return mu, logvar

    def _decode(self, z):
        return self.decoder_out(F.relu(self.decoder_hidden(z)))

    def forward(self, x):
        return self.encode(x)


class Autoencoder(VAE):
    """The same networks used as a plain autoencoder: z = mu (no noise) and no KL term.

    Trained with the same loop, its loss is the reconstruction term alone
    (the Bernoulli negative log-likelihood of x given z = mu(x)).
    """

    stochastic = False


def _float_tensor(name, value, shape, detach=True):
    """``value`` (detached unless ``detach=False``), if it is a floating-point tensor; integer ones are refused."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor {shape}, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor {shape}, got dtype {value.dtype} "
            "(binarise uint8 images 0..255 first with vilab.vae.binarize)"
        )
    return value.detach() if detach else value


def _model_input(model, name, value, width, shape):
    """A float tensor [..., width] of finite values, in the model's dtype and on its device.

    Any float dtype is cast (float64 made from numpy, float16...); integer tensors (uint8
    images 0..255 included) are rejected: binarise images with ``binarize``. The input is
    *not* detached: in a hand-written training loop ``decode(mu + sigma * eps)`` must pass
    the reconstruction's gradient back to the encoder (detaching it trains the encoder on
    the KL alone, which collapses every latent unit).
    """
    value = _float_tensor(name, value, shape, detach=False)
    if value.dim() == 0 or value.shape[-1] != width:
        raise ValueError(f"{name} must have shape {shape}, got {list(value.shape)}")
    parameter = next(model.parameters())
    value = value.to(device=parameter.device, dtype=parameter.dtype)
    bad = ~torch.isfinite(value)
    if bad.any():
        index = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(f"{name} must be finite, got {value[index].item()!r} at index {index}")
    return value


def _check_model(model):
    """A vilab VAE, or any torch module with ``encode(x) -> (mu, logvar)`` and ``decode(z) -> logits``."""
    if isinstance(model, VAE):
        return model
    has_networks = callable(getattr(model, "encode", None)) and callable(getattr(model, "decode", None))
    if not (isinstance(model, nn.Module) and has_networks and next(model.parameters(), None) is not None):
        raise TypeError(
            f"model must be a vilab.vae.VAE (or a torch module with encode and decode), got {type(model).__name__}"
        )
    return model


def _networks(model):
    """(encode, decode) without the input checks (for inputs already checked): a VAE's own, else the module's."""
    if isinstance(model, VAE):
        return model._encode, model._decode
    return model.encode, model.decode


def _latent_dim(model):
    latent_dim = getattr(_check_model(model), "latent_dim", None)
    if not isinstance(latent_dim, int):
        raise TypeError(f"model must have an integer latent_dim (a vilab.vae.VAE does), got {type(model).__name__}")
    return latent_dim


def model_device(model):
    """The device of ``model``'s parameters."""
    if not isinstance(model, nn.Module) or next(model.parameters(), None) is None:
        raise TypeError(f"model must be a torch module with parameters, got {type(model).__name__}")
    return next(model.parameters()).device


def best_device():
    """CUDA if present, else Apple MPS, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


# --- data: checks and dynamic binarisation -----------------------------------


def _check_images(images):
    """uint8 images [N, 28, 28] (or [N, 784]) -> a [N, 784] uint8 view."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a torch.uint8 tensor [N, 28, 28], got {type(images).__name__}")
    if images.dtype != torch.uint8:
        raise TypeError(f"images must have dtype torch.uint8 (pixels 0..255), got {images.dtype}")
    if tuple(images.shape[1:]) not in ((28, 28), (N_PIXELS,)) or images.shape[0] == 0:
        raise ValueError(f"images must have shape [N, 28, 28] with N >= 1, got {list(images.shape)}")
    return images.reshape(images.shape[0], N_PIXELS)


def _check_binary(x, name="x", model=None, binary=True):
    """Float images in {0, 1} (or [0, 1] when not ``binary``), shape [B, 784] (or [B, 28, 28]) -> [B, 784].

    Any float dtype is accepted and cast to the model's dtype (float32 for a fresh VAE);
    uint8 images (pixels 0..255) are rejected: binarisation is random, so it is never
    done silently (use ``binarize``). A tensor that requires grad is detached.
    """
    x = _float_tensor(name, x, "[B, 784] of 0s and 1s" if binary else "[B, 784] of values in [0, 1]")
    if x.dim() == 3 and tuple(x.shape[1:]) == (28, 28):
        x = x.reshape(x.shape[0], N_PIXELS)
    if x.dim() != 2 or x.shape[1] != N_PIXELS or x.shape[0] == 0:
        raise ValueError(f"{name} must have shape [B, 784] (or [B, 28, 28]) with B >= 1, got {list(x.shape)}")
    if model is not None:
        x = x.to(next(_check_model(model).parameters()).dtype)
    if not binary:
        bad = ~((x >= 0) & (x <= 1))
        if bad.any():
            raise ValueError(f"{name} must hold pixel values in [0, 1], found {x[bad][0].item()!r}")
        return x
    bad = (x != 0) & (x != 1)
    if bad.any():
        value = x[bad][0].item()
        raise ValueError(
            f"{name} must contain only 0s and 1s for the Bernoulli likelihood, found {value!r} "
            "(grey pixels give a cross-entropy, not a log-likelihood: binarise with vilab.vae.binarize)"
        )
    return x


def binarize(images, seed=0):
    """Dynamic binarisation, once: x_j ~ Bernoulli(pixel_j / 255), seeded. uint8 [N,28,28] -> float [N,784].

    ``seed=None`` draws from torch's global generator.
    """
    flat = _check_images(images)
    return torch.bernoulli(flat.float() / 255.0, generator=_validate.torch_generator(seed))


# --- the loss ---------------------------------------------------------------


class LossTerms(NamedTuple):
    """Batch means, in nats: loss = distortion + beta * rate."""

    loss: torch.Tensor  # mean over the batch of (distortion + beta * rate)
    rate: torch.Tensor  # mean over the batch of KL(q(z|x) || p(z)), summed over latent dimensions
    distortion: torch.Tensor  # mean over the batch of -log p(x|z), summed over the 784 pixels


def _loss_terms(model, x, beta, generator=None):
    encode, decode = _networks(model)
    mu, logvar = encode(x)
    if getattr(model, "stochastic", True):
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = mu + torch.exp(0.5 * logvar) * eps  # the reparameterised sample
        rate = kl_diag_normal(mu, logvar).mean()  # summed over latent dims, mean over batch
    else:
        z = mu
        rate = torch.zeros((), device=mu.device)
    logits = decode(z)
    # Bernoulli NLL: -sum_j [x_j log p_j + (1 - x_j) log(1 - p_j)], summed over pixels, mean over batch
    distortion = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
    return LossTerms(distortion + beta * rate, rate, distortion)


def vae_loss(model, x, beta=1.0, *, seed=None):
    """The negative (beta-)ELBO of a batch, with one reparameterised sample per image.

    loss = 1/B sum_b [ -log p(x_b | z_b) + beta * KL(q(z|x_b) || N(0, I)) ],  z_b = mu_b + sigma_b * eps_b,

    -log p(x|z) summed over the 784 pixels (Bernoulli), KL summed over the
    latent dimensions (closed form, ``vilab.gaussian.kl_diag_normal``), mean
    over the batch; nats. With beta = 1 this is minus the ELBO. ``x`` must be
    a float tensor [B, 784] of 0s and 1s (any float dtype, cast to the model's).
    ``seed=None`` draws the noise from torch's global generator.
    Returns ``LossTerms(loss, rate, distortion)``.
    """
    x = _check_binary(x, model=model)
    beta = _validate.nonnegative("beta", beta)
    generator = _validate.torch_generator(seed, model_device(model))
    return _loss_terms(model, x.to(model_device(model)), beta, generator)


# --- training ---------------------------------------------------------------


def train(
    model,
    images,
    *,
    epochs,
    batch_size=DEFAULT_BATCH_SIZE,
    lr=DEFAULT_LR,
    beta=1.0,
    seed=0,
    progress=True,
    callback=None,
    device=None,
):
    """Train ``model`` with Adam on uint8 ``images`` [N, 28, 28]; return the per-epoch history.

    Fast by construction: the images stay in memory as one uint8 tensor; each
    epoch shuffles an index, slices batches from it and binarises each batch
    on the fly (x ~ Bernoulli(pixels / 255)); no per-image Python work and no
    DataLoader. Shuffling, binarisation and the reparameterisation noise all
    come from one generator seeded with ``seed``. Runs on ``device`` (default:
    CUDA, else MPS, else CPU). ``callback(history)``, if given, is called after
    every epoch (for a live plot). Calling ``train`` again continues training
    with a fresh optimiser.

    The defaults ``batch_size=128``, ``lr=2e-3`` were chosen on the validation
    split (fit on ``load_fashion_mnist("fit")``, judged on ``"validation"``), never
    on the test set: the best validation ELBO at equal training time (median
    over seeds) on a grid of batch sizes 64..512 and learning rates 1e-3..8e-3.
    The cells measured and their numbers are in the comment above
    ``DEFAULT_LR``; ``benchmarks/vae_speed.py --grid`` measures them again.

    Returns a dict of per-epoch lists: ``epoch``, ``loss`` (mean over the
    epoch's images of distortion + beta * rate), ``rate`` (KL, nats),
    ``distortion`` (-log p(x|z), nats) and ``seconds`` (wall time of the epoch).
    """
    flat = _check_images(images)
    _check_model(model)
    epochs = positive_int("epochs", epochs)
    batch_size = positive_int("batch_size", batch_size)
    lr = positive("lr", lr)
    beta = finite("beta", beta)
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {callback!r}")

    device = best_device() if device is None else _device(device)
    model.to(device).train()
    data = flat.to(device)
    n = data.shape[0]
    generator = _validate.torch_generator(seed, device)
    optimizer = _adam(model.parameters(), lr)
    steps_per_epoch = math.ceil(n / batch_size)
    history = {"epoch": [], "loss": [], "rate": [], "distortion": [], "seconds": []}
    bar = _progress_bar(epochs * steps_per_epoch, progress)
    bar_every = max(1, steps_per_epoch // 20)
    with threads.Tuner() as tuner:  # the fastest thread count for these steps, measured (see vilab.threads)
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            totals = torch.zeros(3, device=device)  # sums over the epoch of batch-sum loss, rate, distortion
            order = torch.randperm(n, generator=generator, device=device)
            for step, first in enumerate(range(0, n, batch_size)):
                tuner.tick()
                pixels = data[order[first : first + batch_size]]
                # dynamic binarisation: x_j = 1 with probability pixel_j / 255 (U < p, cheaper than torch.bernoulli)
                uniform = torch.rand(pixels.shape, generator=generator, device=device)
                x = (uniform.mul_(255.0) < pixels).float()
                terms = _diverged_step(model, x, beta, generator, lr, epoch)
                optimizer.zero_grad(set_to_none=True)
                terms.loss.backward()
                optimizer.step()
                totals += torch.stack([t.detach() for t in terms]) * x.shape[0]
                if bar is not None and (step + 1) % bar_every == 0:
                    bar.update(bar_every)
            seconds = time.perf_counter() - start
            loss, rate, distortion = (totals / n).tolist()
            for key, value in zip(history, (epoch, loss, rate, distortion, seconds), strict=True):
                history[key].append(value)
            if bar is not None:
                bar.update(epoch * steps_per_epoch - bar.n)
                bar.set_postfix(loss=f"{loss:.1f}", rate=f"{rate:.1f}", distortion=f"{distortion:.1f}", refresh=True)
            if callback is not None:
                callback(history)
    if bar is not None:
        bar.close()
    model.eval()
    return history


def _device(device):
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be None or a torch device such as 'cpu' or 'cuda', got {device!r}") from error


def _diverged_step(model, x, beta, generator, lr, epoch):
    """The loss terms of one batch, or a clear error when training has diverged (a NaN or infinite loss)."""
    message = f"training diverged in epoch {epoch}: the loss became NaN or infinite; lower lr (got {lr!r})"
    try:
        terms = _loss_terms(model, x, beta, generator)
    except ValueError as error:  # train built x itself: only a diverged model's NaN/inf means get here
        raise ValueError(message) from error
    if not torch.isfinite(terms.loss):
        raise ValueError(message)
    return terms


def _adam(parameters, lr):
    """Adam; the fused kernel where this torch build has one (several times faster on a CPU)."""
    parameters = list(parameters)
    if parameters[0].device.type not in ("cpu", "cuda"):
        return torch.optim.Adam(parameters, lr=lr)
    try:
        return torch.optim.Adam(parameters, lr=lr, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(parameters, lr=lr)


def _progress_bar(total, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="training", unit="batch", leave=True)


# --- judging the model: ELBO, IWAE, active units --------------------------------


def _log_bernoulli(logits, x):
    """log p(x|z) = sum_j [x_j * l_j - softplus(l_j)] over the pixels (last dimension)."""
    return (x * logits).sum(-1) - F.softplus(logits).sum(-1)


@torch.no_grad()
def iwae_bound(model, x, k, *, seed=0, max_rows=16384):
    """One draw per example of the importance-weighted bound on log p(x), in nats (Burda et al. 2016).

    L_k(x) = log (1/k) sum_{i=1..k} p(x, z_i) / q(z_i | x),  z_i ~ q(z|x) i.i.d.,
           = logsumexp_i [log p(x|z_i) + log p(z_i) - log q(z_i|x)] - log k.

    Each value is random: a *stochastic* lower bound, below log p(x) in expectation, not in
    every draw. E[L_1] is the ELBO, E[L_k] <= E[L_{k+1}] <= log p(x) (Burda et al., Theorem 1),
    and E[L_k] -> log p(x) as k -> infinity when the weights are bounded (Burda et al.) or,
    more generally, when E_q|log w| < infinity (a finite ELBO). ``x`` is a
    float tensor [N, 784] of 0s and 1s; returns a float tensor [N] (on the CPU).
    Work is chunked so that at most ``max_rows`` decoder evaluations are in
    memory at once (k = 1000 on 10k images stays within a few hundred MB).
    ``seed=None`` draws from torch's global generator.
    """
    x = _check_binary(x, model=model)
    k = positive_int("k", k)
    max_rows = positive_int("max_rows", max_rows)
    device = model_device(model)
    was_training = model.training
    model.eval()
    generator = _validate.torch_generator(seed, device)
    images_per_chunk = max(1, max_rows // k)
    samples_per_chunk = min(k, max_rows)
    bounds = []
    tuner = threads.Tuner(probe_steps=2, first_interval=8)  # the fastest thread count for these chunks, measured
    for first in range(0, x.shape[0], images_per_chunk):
        tuner.tick()
        xb = x[first : first + images_per_chunk].to(device)
        mu, logvar = _networks(model)[0](xb)
        std = torch.exp(0.5 * logvar)
        log_w = []
        for done in range(0, k, samples_per_chunk):
            m = min(samples_per_chunk, k - done)
            eps = torch.randn((m, *mu.shape), generator=generator, device=device, dtype=mu.dtype)
            z = mu + std * eps  # [m, B, latent]
            log_q = -0.5 * (LOG_2PI + logvar + eps**2).sum(-1)  # log N(z; mu, sigma^2), since (z-mu)/sigma = eps
            log_prior = -0.5 * (LOG_2PI + z**2).sum(-1)
            log_w.append(_log_bernoulli(_networks(model)[1](z), xb) + log_prior - log_q)
        bounds.append((torch.logsumexp(torch.cat(log_w), dim=0) - math.log(k)).cpu())
    tuner.close()
    model.train(was_training)
    return torch.cat(bounds)


@torch.no_grad()
def encode_means(model, x, batch_size=4096):
    """E_q[z] = mu(x) for float images [N, 784] (0/1 or grey in [0, 1]), as a CPU tensor [N, latent]."""
    x = _check_binary(x, model=model, binary=False)
    batch_size = positive_int("batch_size", batch_size)
    device = model_device(model)
    return torch.cat(
        [_networks(model)[0](x[i : i + batch_size].to(device))[0].cpu() for i in range(0, x.shape[0], batch_size)]
    )


def active_units(model, x, threshold=0.01):
    """Number of active latent units (Burda et al. 2016): A_u = Cov_x(E_q[z_u | x]) > threshold.

    Returns ``(count, variances)``: the count of latent dimensions whose mean
    encoding varies across the images ``x`` by more than ``threshold``, and the
    per-dimension variance (numpy array). ``x`` must hold at least 2 images.
    """
    x = _check_binary(x, model=model)
    if x.shape[0] < 2:
        raise ValueError(f"x must hold at least 2 images to measure a variance across them, got {x.shape[0]}")
    threshold = positive("threshold", threshold)
    variances = encode_means(model, x).var(dim=0).numpy()
    return int((variances > threshold).sum()), variances


# --- decoding latent points (the manifold and the latent explorer) --------------

LATENT_EXPLORER_RANGES = {"z1": (-3.0, 3.0), "z2": (-3.0, 3.0)}


@torch.no_grad()
def decode_probabilities(model, z):
    """Pixel probabilities sigmoid(decode(z)) for latent points z [M, latent] -> numpy [M, 28, 28].

    ``z``: a list, numpy array or tensor (detached) of finite numbers.
    """
    latent_dim = _latent_dim(model)
    z = _validate.real_array("z", z, min_size=0)
    if z.ndim != 2 or z.shape[1] != latent_dim or z.shape[0] == 0:
        raise ValueError(f"z must have shape [M, {latent_dim}] with M >= 1, got {list(z.shape)}")
    parameter = next(model.parameters())
    z = torch.as_tensor(z, dtype=parameter.dtype, device=parameter.device)
    return torch.sigmoid(_networks(model)[1](z)).float().cpu().numpy().reshape(-1, 28, 28)


def decode_latent_point(model, z1, z2):
    """The latent explorer's pure function: a 2-D latent point -> 28x28 decoded pixel probabilities."""
    if _latent_dim(model) != 2:
        raise ValueError(f"the latent explorer needs a model with latent_dim=2, got latent_dim={model.latent_dim}")
    return decode_probabilities(model, [[finite("z1", z1), finite("z2", z2)]])[0]


def manifold_grid(model, n=15, span=2.5):
    """Decode an n x n grid of 2-D latent points in [-span, span]^2 -> (images [n, n, 28, 28], z values [n]).

    Row i, column j decodes z = (values[j], values[n-1-i]), so z2 grows upwards as in a plot.
    """
    if _latent_dim(model) != 2:
        raise ValueError(f"manifold_grid needs a model with latent_dim=2, got latent_dim={model.latent_dim}")
    n = positive_int("n", n)
    span = _validate.in_range("span", span, 0, 1e6, closed=(False, True))
    values = np.linspace(-span, span, n)
    z1, z2 = np.meshgrid(values, values[::-1])
    images = decode_probabilities(model, np.stack([z1.ravel(), z2.ravel()], axis=1))
    return images.reshape(n, n, 28, 28), values
