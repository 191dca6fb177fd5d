"""Discrete latent variables, judged by exact enumeration (notebook 02b).

The model: K binary latents and D binary pixels,

    p(z) = prod_k Bernoulli(z_k; 1/2),   p(x | z) = prod_d Bernoulli(x_d; sigmoid(l_d)),   l = W z + b,

and the amortised factorised posterior q(z | x) = prod_k Bernoulli(z_k; sigmoid(eta_k)), eta = A x + c.
With K <= ~16 every expectation under q is a finite sum over the 2^K configurations, so the ELBO, log p(x)
and the gradient of any expectation are exact; the estimators of the notebook are judged against them.

``GradientProblem`` is one such expectation, grad_eta E_{q_eta}[g(z)] with g(z) = log p(x | z) for one image,
with the score-function estimator (its baselines and their exact variances) and the Gumbel-softmax
(binary Concrete) and straight-through relaxations. ``BinaryVAE`` and ``train`` fit the model with
REINFORCE + RLOO, Gumbel-softmax or exact enumeration. Every log-likelihood is in nats, summed over pixels.
"""

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from vilab import _validate, threads

MAX_LATENTS = 20  # 2^20 configurations: enumeration beyond this is not what this module is for
BASELINES = ("none", "mean", "optimal", "rloo")
METHODS = ("exact", "reinforce", "gumbel", "straight_through")


def configurations(n_latents):
    """All 2^K binary vectors of length K as a float64 array [2^K, K]; row c is the binary expansion of c.

    Bit k of row c is (c >> k) & 1, so row 0 is all zeros and row 2^K - 1 all ones.
    """
    n_latents = _validate.integer("n_latents", n_latents, 1, MAX_LATENTS)
    codes = np.arange(2**n_latents)
    return ((codes[:, None] >> np.arange(n_latents)) & 1).astype(float)


def downsample(images, size=14):
    """Fashion-MNIST images (uint8 [N, 28, 28]) as binary float32 pixels [N, size * size].

    Each pixel is the mean of a (28 / size) x (28 / size) block, scaled to [0, 1] and thresholded at 1/2
    (a fixed binarisation, so that log p(x) of an image is one number). ``size`` divides 28.
    """
    size = _validate.integer("size", size, 1, 28)
    if 28 % size:
        raise ValueError(f"size must divide 28 (1, 2, 4, 7, 14, 28), got {size}")
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8:
        raise TypeError(f"images must be a torch.uint8 tensor [N, 28, 28] (as vilab.data returns), got {images!r:.60}")
    if images.dim() != 3 or tuple(images.shape[1:]) != (28, 28) or len(images) == 0:
        raise ValueError(f"images must have shape [N, 28, 28] with N >= 1, got {tuple(images.shape)}")
    pooled = F.avg_pool2d(images[:, None].float() / 255.0, 28 // size)
    return (pooled > 0.5).float().reshape(len(images), size * size)


# --- one expectation, estimated every way -------------------------------------------------------


def _logistic(shape, rng):
    u = rng.random(shape)
    u = np.clip(u, 1e-12, 1.0 - 1e-12)
    return np.log(u) - np.log1p(-u)  # logistic noise: the difference of two Gumbel(0, 1) draws


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow warning for large |x|


def _softplus(x):
    return np.logaddexp(0.0, x)


@dataclass(frozen=True, eq=False)
class GradientProblem:
    """grad_eta E_{q_eta}[g(z)], q_eta = prod_k Bernoulli(sigmoid(eta_k)), g(z) = log p(x | z) for one image x.

    g(z) = sum_d [x_d l_d - softplus(l_d)] with l = W z + b is defined for every z in [0, 1]^K (what the
    relaxations evaluate); on {0, 1}^K it is the decoder's log-likelihood in nats. The exact gradient is

        grad_k = sum_z q(z) g(z) (z_k - sigmoid(eta_k))   (the score of q is d log q / d eta_k = z_k - sigmoid(eta_k)),

    a sum over the 2^K configurations. Arguments: ``x`` [D] in {0, 1}, ``weight`` W [D, K], ``bias`` b [D],
    ``logits`` eta [K] (numbers, arrays or tensors; tensors are detached).
    """

    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray
    logits: np.ndarray

    def __post_init__(self):
        x = _validate.real_array("x", self.x, ndim=1)
        if not np.isin(x, (0.0, 1.0)).all():
            raise ValueError(f"x must be binary pixels (0 or 1), got {_validate.shown(x[~np.isin(x, (0.0, 1.0))])}")
        weight = _validate.real_array("weight", self.weight, ndim=2)
        bias = _validate.real_array("bias", self.bias, ndim=1)
        logits = _validate.real_array("logits", self.logits, ndim=1)
        if weight.shape != (len(x), len(logits)) or bias.shape != x.shape:
            raise ValueError(
                f"weight must be [D, K] = [{len(x)}, {len(logits)}] and bias [D] for x of {len(x)} pixels and "
                f"{len(logits)} logits, got weight {weight.shape} and bias {bias.shape}"
            )
        if len(logits) > MAX_LATENTS:
            raise ValueError(f"logits must have at most {MAX_LATENTS} entries (2^K configurations), got {len(logits)}")
        for name, value in (("x", x), ("weight", weight), ("bias", bias), ("logits", logits)):
            object.__setattr__(self, name, value)
        table = configurations(len(logits))
        object.__setattr__(self, "_table", self.values(table))
        log_q = table @ _log_sigmoid(logits) + (1 - table) @ _log_sigmoid(-logits)
        object.__setattr__(self, "_q", np.exp(log_q))
        object.__setattr__(self, "_scores", table - _sigmoid(logits))

    @property
    def n_latents(self):
        return len(self.logits)

    def _z(self, z):
        z = _validate.real_array("z", z, ndim=(1, 2, 3))
        if z.shape[-1] != self.n_latents:
            raise ValueError(f"z must have {self.n_latents} entries in its last dimension, got shape {z.shape}")
        return z

    def values(self, z):
        """g(z) = log p(x | z) in nats for z [..., K] (binary or relaxed in [0, 1]); shape [...]."""
        z = self._z(z)
        logits = z.reshape(-1, z.shape[-1]) @ self.weight.T + self.bias
        return (self.x * logits - _softplus(logits)).sum(-1).reshape(z.shape[:-1])

    def derivatives(self, z):
        """dg/dz = W^T (x - sigmoid(W z + b)) for z [..., K]; shape [..., K] (what a relaxation backpropagates)."""
        return self._derivatives(self._z(z))

    def _derivatives(self, z):
        # in torch, whose thread count follows vilab.threads: numpy's BLAS starts one thread per core, and its
        # [4000, 8] x [8, 196] product measured 25x slower (1 ms -> 26 ms) while other processes shared the CPU
        weight = torch.from_numpy(self.weight)
        probabilities = torch.sigmoid(
            torch.from_numpy(z.reshape(-1, z.shape[-1])) @ weight.T + torch.from_numpy(self.bias)
        )
        return (torch.from_numpy(self.x) - probabilities).matmul(weight).numpy().reshape(z.shape)

    def exact_value(self):
        """E_q[g(z)] = sum_z q(z) g(z), nats (exact, by enumeration)."""
        return float(self._q @ self._table)

    def exact_gradient(self):
        """grad_eta E_q[g(z)] = sum_z q(z) g(z) (z - sigmoid(eta)), [K] (exact, by enumeration)."""
        return self._q @ (self._table[:, None] * self._scores)

    def _moments(self):
        """E[s^2], E[g s^2], E[g^2 s^2], E[g], E[g^2] (per coordinate where they carry s), by enumeration."""
        q, g, s2 = self._q, self._table, self._scores**2
        return q @ s2, q @ (g[:, None] * s2), q @ (g[:, None] ** 2 * s2), q @ g, q @ g**2

    def optimal_baseline(self):
        """b*_k = E[g s_k^2] / E[s_k^2], the constant minimising coordinate k's variance, [K] (exact)."""
        s2, gs2, *_ = self._moments()
        # a latent with q(z_k) = 0 or 1 in float64 has s_k = 0 always: any b gives variance 0; take b = 0
        return np.divide(gs2, s2, out=np.zeros_like(s2), where=s2 > 0)

    def _baseline(self, baseline):
        """The constant b [K] of "none", "mean" or "optimal" (RLOO has no constant)."""
        if baseline == "none":
            return np.zeros(self.n_latents)
        if baseline == "mean":
            return np.full(self.n_latents, self.exact_value())
        return self.optimal_baseline()

    def exact_variance(self, baseline="none", n_samples=1):
        """Exact variance [K] of the L-sample score-function estimate with ``baseline``, by enumeration.

        With a constant b (none: 0; mean: E[g]; optimal: b*, exact): Var = (E[(g - b)^2 s^2] - grad^2) / L.
        RLOO (Kool et al. 2019), (1/(L-1)) sum_i (g_i - gbar) s_i, needs L >= 2; with a_i = g_i s_i,

            Var = (E[a^2] - grad^2) / L - 2 E[g s^2] E[g] / L
                  + (E[g^2] E[s^2] + grad^2) / (L (L - 1)) + (L - 2) E[s^2] E[g]^2 / (L (L - 1)),

        (expand the leave-one-out term; only pairs whose scores meet twice survive, as E[s] = 0).
        """
        n_samples = _validate.positive_int("n_samples", n_samples)
        grad = self.exact_gradient()
        s2, gs2, g2s2, mean, mean_sq = self._moments()
        if _validate.one_of("baseline", baseline, BASELINES) == "rloo":
            if n_samples < 2:
                raise ValueError(f"n_samples must be >= 2 for the RLOO baseline (it leaves one out), got {n_samples}")
            L = n_samples
            pairs = (mean_sq * s2 + grad**2) / (L * (L - 1)) + (L - 2) * s2 * mean**2 / (L * (L - 1))
            return (g2s2 - grad**2) / L - 2 * gs2 * mean / L + pairs
        b = self._baseline(baseline)
        return (g2s2 - 2 * b * gs2 + b**2 * s2 - grad**2) / n_samples

    def score_function(self, n_samples, n_replicates, *, baseline="none", seed=None):
        """``n_replicates`` independent L-sample score-function estimates of the gradient, [n_replicates, K].

        Each averages (g(z_i) - b) s(z_i) over L = ``n_samples`` draws z_i ~ q; ``baseline`` is "none" (b = 0),
        "mean" (b = E[g], exact), "optimal" (b*_k, exact) or "rloo" (b_i = the mean of the other L - 1 g's).
        """
        n_samples = _validate.positive_int("n_samples", n_samples)
        n_replicates = _validate.positive_int("n_replicates", n_replicates)
        baseline = _validate.one_of("baseline", baseline, BASELINES)
        if baseline == "rloo" and n_samples < 2:
            raise ValueError(f"n_samples must be >= 2 for the RLOO baseline (it leaves one out), got {n_samples}")
        rng = _validate.numpy_rng(seed)
        p = _sigmoid(self.logits)
        z = rng.random((n_replicates, n_samples, self.n_latents)) < p
        g = self._table[z.astype(np.int64) @ (1 << np.arange(self.n_latents))]  # [R, L], looked up
        if baseline == "rloo":
            b = (g.sum(1, keepdims=True) - g) / (n_samples - 1)
            return ((g - b)[..., None] * (z - p)).mean(1)
        return ((g[..., None] - self._baseline(baseline)) * (z - p)).mean(1)

    def relaxed(self, temperature, n_samples, n_replicates, *, straight_through=False, seed=None):
        """L-sample Gumbel-softmax (binary Concrete) or straight-through estimates of the gradient, [R, K].

        With logistic noise n = log u - log(1 - u), u ~ U(0, 1), the relaxed sample is
        z~ = sigmoid((eta + n) / tau), and d z~_k / d eta_k = z~_k (1 - z~_k) / tau. Gumbel-softmax
        (Jang et al. 2017; Maddison et al. 2017) estimates grad_k by dg/dz_k (z~) z~_k (1 - z~_k) / tau;
        straight-through evaluates the derivative at the hard sample z = [eta + n > 0] (an exact draw from q)
        and backpropagates through z~. Both are biased; the bias and variance depend on tau.
        """
        temperature = _validate.positive("temperature", temperature)
        n_samples = _validate.positive_int("n_samples", n_samples)
        n_replicates = _validate.positive_int("n_replicates", n_replicates)
        if not isinstance(straight_through, bool):
            raise TypeError(f"straight_through must be True or False, got {_validate.shown(straight_through)}")
        rng = _validate.numpy_rng(seed)
        noisy = self.logits + _logistic((n_replicates, n_samples, self.n_latents), rng)
        soft = _sigmoid(noisy / temperature)
        at = (noisy > 0).astype(float) if straight_through else soft
        return (self._derivatives(at) * soft * (1 - soft) / temperature).mean(1)


def _log_sigmoid(x):
    return -_softplus(-x)


# --- the model and its training -----------------------------------------------------------------


class BinaryVAE(torch.nn.Module):
    """K binary latents, D binary pixels: p(z) = Bern(1/2)^K, p(x|z) = Bern(sigmoid(W z + b)).

    The encoder is q(z|x) = Bern(sigmoid(A x + c)), factorised over the K latents.

    ``pixel_means`` (optional, [D] in (0, 1)) sets b = logit(mean) at the start, so training begins at the
    model with independent pixels. Weights are drawn from N(0, 0.1^2) with ``seed``. Float64 throughout.
    """

    def __init__(self, n_latents=8, n_pixels=196, *, pixel_means=None, seed=0):
        super().__init__()
        n_latents = _validate.integer("n_latents", n_latents, 1, MAX_LATENTS)
        n_pixels = _validate.positive_int("n_pixels", n_pixels)
        generator = _validate.torch_generator(seed)
        self.encoder = torch.nn.Linear(n_pixels, n_latents, dtype=torch.float64)
        self.decoder = torch.nn.Linear(n_latents, n_pixels, dtype=torch.float64)
        with torch.no_grad():
            for layer in (self.encoder, self.decoder):
                layer.weight.copy_(0.1 * torch.randn(layer.weight.shape, generator=generator, dtype=torch.float64))
                layer.bias.zero_()
            if pixel_means is not None:
                means = _validate.real_array("pixel_means", pixel_means, ndim=1)
                if means.shape != (n_pixels,) or not ((means > 0) & (means < 1)).all():
                    raise ValueError(f"pixel_means must be {n_pixels} numbers in (0, 1), got {_validate.shown(means)}")
                self.decoder.bias.copy_(torch.logit(torch.as_tensor(means)))
        self.register_buffer("table", torch.as_tensor(configurations(n_latents)), persistent=False)

    def _x(self, x):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch tensor of binary pixels, got {_validate.shown(x)}")
        if x.dim() != 2 or x.shape[1] != self.decoder.out_features:
            raise ValueError(f"x must be a tensor [N, {self.decoder.out_features}] of pixels, got {tuple(x.shape)}")
        if not ((x == 0) | (x == 1)).all():
            raise ValueError("x must be binary pixels (0 or 1), e.g. from vilab.discrete.downsample")
        return x.to(torch.float64)

    def _latents(self, name, value):
        k = self.decoder.in_features
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch tensor [..., {k}], got {_validate.shown(value)}")
        if value.dim() < 1 or value.shape[-1] != k:
            raise ValueError(f"{name} must be a tensor [..., {k}] (one entry per latent), got {tuple(value.shape)}")
        if not torch.isfinite(value).all():
            raise ValueError(f"{name} must be finite, got a tensor with NaN or inf entries")
        return value.to(torch.float64)

    def encode(self, x):
        """The logits eta [N, K] of q(z | x)."""
        return self.encoder(self._x(x))

    def log_likelihood(self, x, z):
        """log p(x | z) = sum_d x_d l_d - softplus(l_d), l = W z + b, nats; x [N, D], z [..., N, K] -> [..., N].

        z may be relaxed (entries in [0, 1]): the Gumbel-softmax estimator evaluates it there.
        """
        logits = self.decoder(self._latents("z", z))
        return (self._x(x) * logits - F.softplus(logits)).sum(-1)

    def kl(self, logits):
        """KL(q || p) = sum_k [q_k log q_k + (1 - q_k) log(1 - q_k) + log 2], q_k = sigmoid(eta_k), nats; [N]."""
        logits = self._latents("logits", logits)
        q = torch.sigmoid(logits)
        return (q * F.logsigmoid(logits) + (1 - q) * F.logsigmoid(-logits)).sum(-1) + logits.shape[-1] * np.log(2.0)

    def _joint_terms(self, x):
        x = self._x(x)
        eta = self.encoder(x)
        logits = self.decoder(self.table)  # [C, D], every configuration once
        log_lik = x @ logits.T - F.softplus(logits).sum(-1)  # [N, C]
        log_q = F.logsigmoid(eta) @ self.table.T + F.logsigmoid(-eta) @ (1 - self.table).T  # [N, C]
        return eta, log_lik, log_q

    def elbo(self, x):
        """The exact ELBO per image, sum_z q(z|x) log p(x|z) - KL(q || p), nats [N] (enumerates 2^K z's)."""
        eta, log_lik, log_q = self._joint_terms(x)
        return (log_q.exp() * log_lik).sum(-1) - self.kl(eta)

    def log_evidence(self, x):
        """The exact log p(x) = logsumexp_z [log p(x|z) + log p(z)], nats [N]; log p(z) = -K log 2."""
        _, log_lik, _ = self._joint_terms(x)
        return torch.logsumexp(log_lik, -1) - self.table.shape[1] * np.log(2.0)


def _surrogate(model, x, method, n_samples, temperature, generator):
    """A loss whose gradient is the method's estimate of -grad ELBO (averaged over the batch)."""
    eta = model.encode(x)
    if method == "exact":
        return -model.elbo(x).mean()
    shape = (n_samples, *eta.shape)
    if method == "reinforce":  # score function on E_q[log p(x|z)], RLOO baseline; the KL is exact
        z = (torch.rand(shape, generator=generator, dtype=eta.dtype) < torch.sigmoid(eta)).to(eta.dtype)
        log_lik = model.log_likelihood(x, z)  # [L, B]
        log_q = (z * F.logsigmoid(eta) + (1 - z) * F.logsigmoid(-eta)).sum(-1)
        baseline = (log_lik.sum(0, keepdim=True) - log_lik) / (n_samples - 1)
        recon = log_lik + (log_lik - baseline).detach() * (log_q - log_q.detach())  # value: log_lik
    else:  # Gumbel-softmax, or straight-through: the hard sample forward, the relaxed one backward
        u = torch.rand(shape, generator=generator, dtype=eta.dtype).clamp(1e-12, 1 - 1e-12)
        soft = torch.sigmoid((eta + torch.log(u) - torch.log1p(-u)) / temperature)
        z = soft if method == "gumbel" else soft + ((soft > 0.5).to(eta.dtype) - soft).detach()
        recon = model.log_likelihood(x, z)
    return -(recon.mean(0) - model.kl(eta)).mean()


def train(model, x, *, method, steps, batch_size=100, lr=0.01, n_samples=4, temperature=0.5, seed=0):
    """Fit ``model`` to binary images ``x`` [N, D] with Adam: ``steps`` steps of ``batch_size`` images, drawn
    with replacement.

    ``method``: "exact" (the enumerated ELBO, 2^K terms per image), "reinforce" (score function with the RLOO
    baseline over ``n_samples`` >= 2 draws per image), "gumbel" (binary Concrete at ``temperature``, ``n_samples``
    draws) or "straight_through" (hard forward, relaxed backward). The KL to the prior is exact in every method.
    Returns {"seconds": wall time, "loss": [steps] the per-step surrogate loss (nats per image)}.
    """
    if not isinstance(model, BinaryVAE):
        raise TypeError(f"model must be a vilab.discrete.BinaryVAE, got {type(model).__name__}")
    x = model._x(x)
    method = _validate.one_of("method", method, METHODS)
    steps = _validate.positive_int("steps", steps)
    batch_size = _validate.positive_int("batch_size", batch_size)  # drawn with replacement
    lr = _validate.positive("lr", lr)
    n_samples = _validate.positive_int("n_samples", n_samples)
    if method == "reinforce" and n_samples < 2:
        raise ValueError(f"n_samples must be >= 2 for REINFORCE with RLOO (it leaves one out), got {n_samples}")
    temperature = _validate.positive("temperature", temperature)
    generator = _validate.torch_generator(_validate.fresh_seed(seed))
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, fused=True)  # the fused CPU kernel: fewer small ops
    losses = np.empty(steps)
    start = time.perf_counter()
    with threads.Tuner() as tuner:  # the fastest thread count for these small steps, measured (see vilab.threads)
        for step in range(steps):
            tuner.tick()
            batch = x[torch.randint(len(x), (batch_size,), generator=generator)]
            loss = _surrogate(model, batch, method, n_samples, temperature, generator)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses[step] = loss.item()
    return {"seconds": time.perf_counter() - start, "loss": losses}


# --- the relaxation explorer (notebook 02b): temperature, baseline and samples -----------------------

RELAXATION_EXPLORER_RANGES = {"tau": (0.05, 5.0), "n_samples": (2, 16)}  # tau: the temperature
RELAXATION_EXPLORER_CHOICES = {"baseline": BASELINES}
RELAXATION_EXPLORER_DEFAULTS = {"tau": 0.5, "n_samples": 4, "baseline": "rloo"}
RELAXED = ("gumbel", "straight_through")


def relaxation_sweep(problem, temperatures, n_samples, n_replicates, *, seed=0):
    """Bias and variance of both relaxations over a grid of temperatures (summed over the K coordinates).

    For each tau: ``bias2`` = ||mean - grad||^2 minus its expected excess tr(Cov)/R (so it estimates ||bias||^2
    without the Monte Carlo noise of the mean), ``variance`` = tr(Cov) of the L-sample estimate, and ``mse`` =
    bias2 + variance, each [T] per method, with ``bias2_se`` and ``variance_se`` (delta method). Same noise
    (``seed``) at every temperature, so the curves are smooth in tau.
    """
    if not isinstance(problem, GradientProblem):
        raise TypeError(f"problem must be a vilab.discrete.GradientProblem, got {type(problem).__name__}")
    temperatures = _validate.positive_array("temperatures", temperatures, ndim=1)
    n_replicates = _validate.integer("n_replicates", n_replicates, 2, 10**7)
    seed = _validate.fresh_numpy_seed(seed)
    exact = problem.exact_gradient()
    out = {"temperatures": temperatures}
    for method in RELAXED:
        rows = {"bias2": [], "bias2_se": [], "variance": [], "variance_se": []}
        for tau in temperatures:
            est = problem.relaxed(tau, n_samples, n_replicates, straight_through=method != "gumbel", seed=seed)
            centred = est - est.mean(0)
            variance = (centred**2).sum(1)  # per replicate: its contribution to tr(Cov)
            bias = est.mean(0) - exact
            rows["variance"].append(variance.mean() * n_replicates / (n_replicates - 1))
            rows["variance_se"].append(variance.std(ddof=1) / np.sqrt(n_replicates))
            rows["bias2"].append(bias @ bias - rows["variance"][-1] / n_replicates)
            rows["bias2_se"].append(
                2 * np.sqrt(bias @ np.cov(est.T, ddof=1).reshape(len(bias), -1) @ bias / n_replicates)
            )
        out[method] = {key: np.array(value) for key, value in rows.items()}
        out[method]["mse"] = out[method]["bias2"] + out[method]["variance"]
    return out


EXPLORER_DRAWS = 4000  # draws per estimator and update (R = 4000 // L estimates): ~20 ms on a 2-core CPU


def relaxation_explorer(problem, tau, baseline, n_samples, *, n_replicates=None, n_bins=30, seed=0):
    """Pure compute for the relaxation explorer: three estimators of one gradient, against the exact one.

    For the coordinate k with the largest |grad_k|: ``density`` {method: [n_bins]} histograms of R =
    ``n_replicates`` L-sample estimates (default 4000 // L: a fixed budget of draws per update) of the score
    function with ``baseline``, and of Gumbel-softmax and straight-through at temperature ``tau``, on the shared
    ``bin_edges``; and, summed over all K coordinates, ``bias2`` (||mean - grad||^2), ``variance`` (tr Cov,
    empirical) per method, ``exact_variance`` of the score function
    (by enumeration); ``exact`` = grad_k. The bins span grad_k +- 4 sd of the widest estimator.
    """
    if not isinstance(problem, GradientProblem):
        raise TypeError(f"problem must be a vilab.discrete.GradientProblem, got {type(problem).__name__}")
    n_bins = _validate.integer("n_bins", n_bins, 1, 1000)
    n_samples = _validate.positive_int("n_samples", n_samples)
    if n_replicates is None:
        n_replicates = max(2, EXPLORER_DRAWS // n_samples)
    exact = problem.exact_gradient()
    k = int(np.argmax(np.abs(exact)))
    estimates = {
        "score_function": problem.score_function(n_samples, n_replicates, baseline=baseline, seed=seed),
        "gumbel": problem.relaxed(tau, n_samples, n_replicates, seed=seed),
        "straight_through": problem.relaxed(tau, n_samples, n_replicates, straight_through=True, seed=seed),
    }
    spread = max(float(e[:, k].std()) for e in estimates.values())
    centre = float(np.mean([e[:, k].mean() for e in estimates.values()] + [exact[k]]))
    half = max(4.0 * spread, 1.5 * max(abs(float(e[:, k].mean()) - centre) for e in estimates.values()), 1e-6)
    edges = np.linspace(centre - half, centre + half, n_bins + 1)
    out = {"coordinate": k, "exact": float(exact[k]), "bin_edges": edges, "density": {}, "bias2": {}, "variance": {}}
    for method, est in estimates.items():
        out["density"][method] = np.histogram(np.clip(est[:, k], edges[0], edges[-1]), edges, density=True)[0]
        bias = est.mean(0) - exact
        out["bias2"][method] = float(bias @ bias)
        out["variance"][method] = float(est.var(0, ddof=1).sum())
    out["exact_variance"] = float(problem.exact_variance(baseline, n_samples).sum())
    return out
