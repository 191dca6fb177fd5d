"""Approximate Bayesian inference for a black-box log density (notebook 04).

Three ways to summarise a posterior p(θ | data) ∝ exp(log_prob(θ)), θ ∈ R^d:

- ``hmc``: Hamiltonian Monte Carlo, several chains, step size tuned by dual averaging
  and a diagonal mass matrix estimated during warm-up (asymptotically exact);
- ``laplace``: a Gaussian at the MAP with covariance the inverse of the negative
  Hessian (full, or its diagonal only for large d);
- ``bbvi``: black-box variational inference, a Gaussian q (mean-field or full-rank)
  fitted by maximising a Monte Carlo ELBO with reparameterisation gradients and Adam;

and the MCMC diagnostics ``rhat`` (split R-hat) and ``ess`` (effective sample size).

``log_prob`` is always a *batched* torch function: it maps a float64 tensor of shape
(n, d) to the n log densities, shape (n,), up to an additive constant (nats). It must
be differentiable with torch autograd.
"""

import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.optimize
import torch

from vilab import _validate
from vilab._validate import finite, one_of, positive, positive_int

DTYPE = torch.float64


# --- shared argument checks ---------------------------------------------------


def _as_init(init, name="init", ndim=(1,)):
    """Return ``init`` as a float64 tensor of one of the allowed ranks with finite entries."""
    if not isinstance(init, (torch.Tensor, np.ndarray, list, tuple)):
        raise TypeError(f"{name} must be a tensor, array or list of numbers, got {type(init).__name__}")
    init = torch.as_tensor(_validate.real_array(name, init, min_size=0), dtype=DTYPE)  # detached, float64 copy
    if init.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimension(s), got shape {tuple(init.shape)}")
    if init.shape[-1] < 1:
        raise ValueError(f"{name} must have at least one parameter, got shape {tuple(init.shape)}")
    return init


def _checked_log_prob(log_prob, theta):
    """Evaluate ``log_prob`` on a batch (the starting points) and check what comes back.

    It must be a torch function (differentiable by autograd) returning one finite
    value per row of ``theta``.
    """
    _validate.callable_("log_prob", log_prob, "callable (a batch (n, d) of parameters -> n log densities)")
    theta = theta.detach().clone().requires_grad_(True)
    value = _validate.call_torch_function("log_prob", log_prob, theta)
    if value.shape != theta.shape[:1]:
        raise ValueError(
            f"log_prob must map a batch of shape (n, d) to shape (n,), got {tuple(value.shape)} "
            f"for input {tuple(theta.shape)}"
        )
    if not value.requires_grad:
        raise TypeError("log_prob must be differentiable by torch autograd: build it from torch operations")
    if not torch.isfinite(value).all():
        raise ValueError(f"log_prob must be finite at init, got {value.detach().tolist()} at init = {theta.tolist()}")
    return value.detach()


def _fraction(name, value):
    value = finite(name, value)
    if not 0 < value < 1:
        raise ValueError(f"{name} must be in (0, 1), got {value!r}")
    return value


# --- Hamiltonian Monte Carlo --------------------------------------------------


@dataclass
class HMCResult:
    """Output of ``hmc``: draws after warm-up and what the warm-up tuned."""

    samples: torch.Tensor  # (n_chains, n_samples, d)
    accept_rate: torch.Tensor  # (n_chains,) mean Metropolis acceptance probability after warm-up
    step_size: torch.Tensor  # (n_chains,) tuned leapfrog step size
    inv_mass: torch.Tensor  # (d,) diagonal inverse mass matrix (≈ posterior variances)
    n_grad: int  # gradient evaluations per chain, warm-up included
    seconds: float  # wall time, warm-up included


def _log_prob_and_grad(log_prob, theta):
    theta = theta.detach().requires_grad_(True)
    value = log_prob(theta)
    (grad,) = torch.autograd.grad(value.sum(), theta)
    return value.detach(), grad


def hmc(
    log_prob,
    init,
    n_samples,
    *,
    n_warmup=500,
    n_leapfrog=10,
    step_size=0.1,
    target_accept=0.8,
    adapt_mass=True,
    seed=None,
):
    """Hamiltonian Monte Carlo with several chains run in parallel (one batch).

    Each iteration draws a momentum r ~ N(0, M), with M = diag(1 / inv_mass), and
    follows the Hamiltonian H(θ, r) = -log_prob(θ) + ½ rᵀ M⁻¹ r for ``n_leapfrog``
    leapfrog steps of size ε (times a random factor in [0.5, 1.5] per iteration, which
    breaks the periodic orbits a fixed trajectory length can get stuck in)::

        r ← r + ε/2 ∇log_prob(θ);   θ ← θ + ε M⁻¹ r;   r ← r + ε/2 ∇log_prob(θ)

    then accepts the end point with the Metropolis probability
    α = min(1, exp(H(θ₀, r₀) - H(θ₁, r₁))). Leapfrog is reversible and volume
    preserving, so this leaves p(θ) invariant exactly, whatever ε.

    Warm-up (``n_warmup`` iterations, discarded): ε is tuned per chain by dual averaging
    (Hoffman & Gelman 2014, NUTS paper, Alg. 5: γ = 0.05, t₀ = 10, κ = 0.75) so that the
    mean α is ``target_accept``. With ``adapt_mass``, after half the warm-up the inverse
    mass is set to the variance of the draws of the second quarter (pooled over chains),
    and the step-size adaptation restarts.

    Parameters: ``log_prob`` batched, (n, d) -> (n,); ``init`` the starting points, shape
    (n_chains, d) (or (d,) for one chain); ``n_samples`` draws kept per chain; ``seed``
    (``None``: torch's global generator).
    Returns an ``HMCResult``; ``samples`` has shape (n_chains, n_samples, d).
    """
    init = _as_init(init, ndim=(1, 2))
    theta = init if init.ndim == 2 else init[None]
    n_samples = positive_int("n_samples", n_samples)
    n_warmup = positive_int("n_warmup", n_warmup)
    n_leapfrog = positive_int("n_leapfrog", n_leapfrog)
    step_size = positive("step_size", step_size)
    target_accept = _fraction("target_accept", target_accept)
    generator = _validate.torch_generator(seed)
    n_chains, d = theta.shape

    start = time.perf_counter()
    _checked_log_prob(log_prob, theta)
    log_p, grad = _log_prob_and_grad(log_prob, theta)
    inv_mass = torch.ones(d, dtype=DTYPE)
    eps = torch.full((n_chains,), step_size, dtype=DTYPE)

    def restart_adaptation(eps):
        return {"mu": torch.log(10 * eps), "h_bar": torch.zeros(n_chains, dtype=DTYPE),
                "log_eps_bar": torch.zeros(n_chains, dtype=DTYPE), "t": 0}  # fmt: skip

    adapt = restart_adaptation(eps)
    half = n_warmup // 2
    warm_draws = []
    samples = torch.empty(n_chains, n_samples, d, dtype=DTYPE)
    accept_sum = torch.zeros(n_chains, dtype=DTYPE)

    for it in range(n_warmup + n_samples):
        jitter = 0.5 + torch.rand(n_chains, 1, generator=generator, dtype=DTYPE)
        e = eps[:, None] * jitter
        r0 = torch.randn(n_chains, d, generator=generator, dtype=DTYPE) / inv_mass.sqrt()
        q, r, g = theta, r0 + 0.5 * e * grad, grad
        for step in range(n_leapfrog):
            q = q + e * inv_mass * r
            lp_new, g = _log_prob_and_grad(log_prob, q)
            r = r + (e if step < n_leapfrog - 1 else 0.5 * e) * g
        h0 = -log_p + 0.5 * (inv_mass * r0**2).sum(1)
        h1 = -lp_new + 0.5 * (inv_mass * r**2).sum(1)
        alpha = torch.exp(torch.clamp(h0 - h1, max=0.0)).nan_to_num(0.0)
        accept = torch.rand(n_chains, generator=generator, dtype=DTYPE) < alpha
        theta = torch.where(accept[:, None], q, theta)
        log_p = torch.where(accept, lp_new, log_p)
        grad = torch.where(accept[:, None], g, grad)

        if it < n_warmup:  # dual averaging of log ε towards the target acceptance
            adapt["t"] += 1
            t = adapt["t"]
            adapt["h_bar"] = (1 - 1 / (t + 10)) * adapt["h_bar"] + (target_accept - alpha) / (t + 10)
            log_eps = adapt["mu"] - math.sqrt(t) / 0.05 * adapt["h_bar"]
            adapt["log_eps_bar"] = t**-0.75 * log_eps + (1 - t**-0.75) * adapt["log_eps_bar"]
            eps = log_eps.exp()
            if adapt_mass and half // 2 <= it < half:
                warm_draws.append(theta)
            if adapt_mass and it == half - 1 and len(warm_draws) > 1:
                inv_mass = torch.stack(warm_draws).reshape(-1, d).var(0).clamp(min=1e-10)
                eps = torch.full((n_chains,), step_size, dtype=DTYPE)
                adapt = restart_adaptation(eps)
            if it == n_warmup - 1:
                eps = adapt["log_eps_bar"].exp()
        else:
            samples[:, it - n_warmup] = theta
            accept_sum += alpha
    return HMCResult(
        samples=samples,
        accept_rate=accept_sum / n_samples,
        step_size=eps,
        inv_mass=inv_mass,
        n_grad=(n_warmup + n_samples) * n_leapfrog,
        seconds=time.perf_counter() - start,
    )


# --- MCMC diagnostics ---------------------------------------------------------


def _as_chains(samples):
    """Return draws as a float64 array of shape (chains, draws, d); a coordinate that never moves is an error."""
    samples = _validate.real_array("samples", samples, min_size=0)
    if samples.ndim == 2:
        samples = samples[:, :, None]
    if samples.ndim != 3:
        raise ValueError(f"samples must have shape (chains, draws) or (chains, draws, d), got {samples.shape}")
    if samples.shape[1] < 4 or samples.shape[0] < 1 or samples.shape[2] < 1:
        raise ValueError(f"samples must have at least 4 draws per chain, got shape {samples.shape}")
    halves = _split(samples)
    stuck = np.all(halves.var(axis=1) == 0, axis=0)  # no (half-)chain moves in this coordinate
    if stuck.any():
        j = int(np.argmax(stuck))
        raise ValueError(
            f"samples[..., {j}] never moves within a chain (every chain is constant there): the sampler is stuck, "
            "and R-hat and the ESS are undefined (0/0). Check the step size and log_prob, or drop that coordinate"
        )
    return samples


def _split(samples):
    half = samples.shape[1] // 2
    return np.concatenate([samples[:, :half], samples[:, half : 2 * half]], axis=0)


def rhat(samples):
    """Split R-hat (Gelman et al., *Bayesian Data Analysis*, 3rd ed., §11.4) per coordinate.

    Each of the m chains is cut in two halves (so a trend inside a chain counts too),
    giving m' = 2m chains of n draws. With W the mean within-chain variance and B/n the
    variance of the chain means,

        var⁺ = (n - 1)/n · W + B/n,        R-hat = sqrt(var⁺ / W).

    R-hat → 1 as the chains mix; values above ~1.01 (strict) or 1.1 (lenient) mean the
    chains have not forgotten where they started. ``samples``: (chains, draws[, d]); a
    coordinate that no chain moves in (W = 0) raises a ValueError.
    Returns a numpy array of shape (d,).
    """
    chains = _split(_as_chains(samples))
    n = chains.shape[1]
    within = chains.var(axis=1, ddof=1).mean(axis=0)  # > 0: _as_chains rejects stuck chains
    between_over_n = chains.mean(axis=1).var(axis=0, ddof=1)
    var_plus = (n - 1) / n * within + between_over_n
    return np.sqrt(var_plus / within)


def ess(samples):
    """Effective sample size per coordinate (BDA3 §11.5, with Geyer's initial positive sequence).

    With split chains as in ``rhat``, the autocorrelation at lag t pooled over chains is
    ρ_t = 1 - (W - mean_chains γ_t) / var⁺, where γ_t is each chain's autocovariance.
    The sum is truncated where the pair sums P_k = ρ_{2k} + ρ_{2k+1} stop being positive:

        ESS = m' n / τ,        τ = -1 + 2 Σ_{k < K} P_k.

    For independent draws τ = 1 and ESS = m' n. The ESS is capped at the number of draws
    m' n (τ ≥ 1): anti-correlated chains can give τ̂ < 1, but an estimate of more
    effective draws than draws is mostly noise, and Stan's larger cap, m' n log10(m' n),
    lets a degenerate chain report more. ``samples``: (chains, draws[, d]); a coordinate
    that no chain moves in raises a ValueError. Returns a numpy array of shape (d,).
    """
    chains = _split(_as_chains(samples))
    m, n, d = chains.shape
    centred = chains - chains.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=2 * n, axis=1)
    autocov = np.fft.irfft(spectrum * np.conj(spectrum), axis=1)[:, :n] / n  # biased, as in BDA3
    within = chains.var(axis=1, ddof=1).mean(axis=0)
    var_plus = (n - 1) / n * within + chains.mean(axis=1).var(axis=0, ddof=1)
    rho = 1 - (within - autocov.mean(axis=0)) / var_plus  # (n, d)
    n_pairs = n // 2
    pairs = rho[: 2 * n_pairs : 2] + rho[1 : 2 * n_pairs : 2]  # (n_pairs, d)
    positive_so_far = np.cumprod(pairs > 0, axis=0).astype(bool)
    tau = -1 + 2 * np.where(positive_so_far, pairs, 0.0).sum(axis=0)
    return m * n / np.maximum(tau, 1.0)


# --- Laplace approximation ----------------------------------------------------


@dataclass
class LaplaceResult:
    """Output of ``laplace``: the Gaussian N(mean, cov) (or its variances only)."""

    mean: torch.Tensor  # (d,) the MAP
    cov: torch.Tensor | None  # (d, d) inverse negative Hessian, None for covariance="diag"
    var: torch.Tensor  # (d,) marginal variances of the approximation
    n_iter: int  # L-BFGS iterations
    seconds_map: float
    seconds_hessian: float  # Hessian (or its diagonal) and its inversion


def laplace(log_prob, init, *, covariance="full", max_iter=500, tol=1e-10, chunk=64):
    """Laplace approximation q(θ) = N(θ̂, (-∇²log_prob(θ̂))⁻¹).

    1. MAP: θ̂ = argmax log_prob(θ) by L-BFGS (``scipy.optimize.minimize``, method
       "L-BFGS-B", gradients by torch autograd) from ``init``, until the gradient's largest
       entry is below ``tol`` or after ``max_iter`` iterations.
    2. ``covariance="full"``: H = ∇²log_prob(θ̂) by autograd, d Hessian-vector products
       computed ``chunk`` at a time (the numbers ``torch.autograd.functional.hessian`` gives;
       d² memory), and cov = (-H)⁻¹ by Cholesky (d³ time).
       ``covariance="diag"``: only the diagonal of H is kept (memory linear in d for a fixed
       chunk; time still d Hessian-vector products), and var_i = 1 / (-H_ii).
       That is the variance of θ_i with all other coordinates *fixed* at the MAP, so it
       under-estimates the marginal variance whenever coordinates are correlated.

    ``log_prob`` batched, (n, d) -> (n,); ``init`` shape (d,). Raises ValueError if -H is
    not positive definite (no maximum found), or if L-BFGS stops before ``max_iter`` at a point
    from which a Newton step would move more than one posterior sd (a start too far from the
    mode, where the line search fails). Returns a ``LaplaceResult``.
    """
    theta = _as_init(init)
    covariance = one_of("covariance", covariance, {"full", "diag"})
    max_iter = positive_int("max_iter", max_iter)
    tol = positive("tol", tol)
    chunk = positive_int("chunk", chunk)
    _checked_log_prob(log_prob, theta[None])

    def neg_log_prob(t):
        return -log_prob(t[None])[0]

    def value_and_grad(x):
        t = torch.as_tensor(x, dtype=DTYPE).requires_grad_(True)
        value = neg_log_prob(t)
        (grad,) = torch.autograd.grad(value, t)
        return float(value.detach()), grad.numpy()

    start = time.perf_counter()
    options = {"maxiter": max_iter, "gtol": tol, "ftol": 1e-15}
    result = scipy.optimize.minimize(value_and_grad, theta.numpy(), jac=True, method="L-BFGS-B", options=options)
    theta = torch.as_tensor(result.x, dtype=DTYPE)
    if not torch.isfinite(theta).all() or not np.isfinite(result.fun) or not np.all(np.isfinite(result.jac)):
        raise ValueError(
            f"L-BFGS reached a point where log_prob or its gradient is NaN or infinite (log_prob = {-result.fun!r}): "
            "log_prob has no maximum, or overflows between init and the mode; start nearer the mode"
        )
    seconds_map = time.perf_counter() - start

    start = time.perf_counter()
    if covariance == "full":
        neg_hessian = -_hessian_rows(log_prob, theta, chunk)
        chol, info = torch.linalg.cholesky_ex(0.5 * (neg_hessian + neg_hessian.T))
        if info != 0:
            raise ValueError("the negative Hessian at the optimum is not positive definite: no maximum was found")
        cov = torch.cholesky_inverse(chol)
        var = cov.diagonal().clone()
    else:
        neg_diag = -_hessian_rows(log_prob, theta, chunk, diagonal_only=True)
        if not (neg_diag > 0).all():
            raise ValueError("the negative Hessian diagonal at the optimum is not positive: no maximum was found")
        cov, var = None, 1 / neg_diag
    _check_mode(theta, cov, var, -torch.as_tensor(result.jac, dtype=DTYPE), result, max_iter, init)
    return LaplaceResult(theta, cov, var, int(result.nit), seconds_map, time.perf_counter() - start)


def _check_mode(theta, cov, var, grad, result, max_iter, init):
    """Raise if L-BFGS stopped (before ``max_iter``) where one Newton step would move more than one sd.

    At a mode the Newton step (-H)^-1 grad log_prob is a tiny fraction of each posterior sd
    sqrt(var_i); a start too far away for float64 (log_prob ~ 1e300, where no step changes it
    by more than its rounding error) leaves L-BFGS where it began, and the step is huge.
    """
    step = var * grad if cov is None else cov @ grad
    if result.nit < max_iter and bool((step.abs() > var.sqrt()).any()):
        i = int((step.abs() / var.sqrt()).argmax())
        raise ValueError(
            f"L-BFGS stopped after {result.nit} iterations at a point that is not the mode ({result.message}): "
            f"a Newton step from there moves theta[{i}] by {float(step[i]):.3g}, {float(step[i] / var[i].sqrt()):.3g} "
            f"posterior sds. init = {_validate.shown(init)} is probably too far from the mode for float64 "
            "arithmetic: start nearer it (for example at zeros)"
        )


def _hessian_rows(log_prob, theta, chunk, diagonal_only=False):
    """Rows e_iᵀ∇²log_prob(θ), for a chunk of basis vectors e_i at a time.

    One Hessian-vector product per row, all rows of a chunk in one double backward pass:
    evaluate the batched ``log_prob`` at k copies of θ, take the gradient of each copy
    (row j depends only on copy j), then differentiate Σ_j g_j · v_j, whose gradient
    with respect to copy j is H v_j. The same numbers as
    ``torch.autograd.functional.hessian``, without its vmap set-up (seconds on first use).
    Memory: the kept result (d² or d numbers) plus one chunk of log_prob evaluations.
    """
    d = theta.shape[0]
    kept = torch.empty(d, dtype=DTYPE) if diagonal_only else torch.empty(d, d, dtype=DTYPE)
    for first in range(0, d, chunk):
        idx = torch.arange(first, min(first + chunk, d))
        basis = torch.zeros(len(idx), d, dtype=DTYPE)
        basis[torch.arange(len(idx)), idx] = 1.0
        copies = theta.detach().expand(len(idx), d).clone().requires_grad_(True)
        (grads,) = torch.autograd.grad(log_prob(copies).sum(), copies, create_graph=True)
        (rows,) = torch.autograd.grad((grads * basis).sum(), copies)
        kept[idx] = rows[torch.arange(len(idx)), idx] if diagonal_only else rows
    return kept


# --- black-box variational inference ------------------------------------------


@dataclass
class BBVIResult:
    """Output of ``bbvi``: the fitted Gaussian q = N(mean, cov) and the ELBO trace."""

    mean: torch.Tensor  # (d,)
    cov: torch.Tensor  # (d, d); diagonal for the mean-field family
    var: torch.Tensor  # (d,) marginal variances of q
    elbo: np.ndarray  # (n_steps,) Monte Carlo ELBO estimate at each step, nats
    seconds: float


def bbvi(log_prob, init, *, family="meanfield", n_steps=2000, n_mc=8, lr=0.05, init_std=0.1, average=0.5, seed=None):
    """Black-box VI: fit q(θ) = N(m, S) by stochastic gradient ascent on the ELBO.

    ELBO(q) = E_q[log_prob(θ)] + H[q] ≤ log ∫ exp(log_prob) (nats), where the Gaussian
    entropy is exact: H[q] = ½ log det S + (d/2) log(2πe). Families:

    - ``"meanfield"``: S = diag(σ²), parameters m and log σ (2d numbers);
    - ``"fullrank"``: S = L Lᵀ with L lower-triangular, diagonal σ = exp(log σ) > 0
      (d + d(d+1)/2 numbers).

    Each step draws ``n_mc`` reparameterised samples θ_s = m + L ε_s, ε_s ~ N(0, I), and
    takes an Adam step (written out below) on the estimate
    (1/n_mc) Σ_s log_prob(θ_s) + H[q], whose gradient is unbiased for ∇ELBO (pathwise
    estimator). Maximising the ELBO minimises KL(q ‖ p) (mode-seeking). To damp the
    gradient noise the learning rate is ``lr`` for the first half of the steps and then
    decays linearly to lr/10, and the returned q averages the parameters over the last
    ``average`` fraction of the steps (Polyak–Ruppert averaging; 0 keeps the last iterate).

    ``log_prob`` batched, (n, d) -> (n,); ``init`` the initial mean, shape (d,); the initial
    scale is ``init_std`` in every direction; ``seed`` (``None``: torch's global generator).
    Returns a ``BBVIResult``.
    """
    mean = _as_init(init)
    family = one_of("family", family, {"meanfield", "fullrank"})
    n_steps = positive_int("n_steps", n_steps)
    n_mc = positive_int("n_mc", n_mc)
    lr = positive("lr", lr)
    init_std = positive("init_std", init_std)
    average = _validate.in_range("average", average, 0, 1, closed=(True, False))
    _checked_log_prob(log_prob, mean[None])
    generator = _validate.torch_generator(seed)
    d = mean.shape[0]

    # all variational parameters in one flat vector λ = (m, log σ, strictly-lower entries of L)
    rows, cols = torch.tril_indices(d, d, offset=-1)
    n_lower = len(rows) if family == "fullrank" else 0
    lam = torch.cat([mean, torch.full((d,), math.log(init_std), dtype=DTYPE), torch.zeros(n_lower, dtype=DTYPE)])

    def unpack(lam):
        mean, log_std = lam[:d], lam[d : 2 * d]
        if family == "meanfield":
            return mean, log_std, None
        scale = torch.diag(log_std.exp()).index_put((rows, cols), lam[2 * d :])
        return mean, log_std, scale

    lam.requires_grad_(True)
    m, v = torch.zeros_like(lam), torch.zeros_like(lam)  # Adam's moment estimates
    first_averaged = min(int(n_steps * (1 - average)), n_steps - 1)  # average=0: the last iterate alone
    lam_sum = torch.zeros_like(lam)
    trace = np.empty(n_steps)
    start = time.perf_counter()
    for step in range(n_steps):
        eps = torch.randn(n_mc, d, generator=generator, dtype=DTYPE)
        mean, log_std, scale = unpack(lam)
        theta = mean + (eps * log_std.exp() if scale is None else eps @ scale.T)
        entropy = log_std.sum() + 0.5 * d * math.log(2 * math.pi * math.e)
        elbo = log_prob(theta).mean() + entropy
        (grad,) = torch.autograd.grad(elbo, lam)
        step_lr = lr * min(1.0, 0.1 + 1.8 * (1 - step / n_steps))  # constant, then linear decay to lr/10
        with torch.no_grad():  # Adam (Kingma & Ba 2015) ascent step, β = (0.9, 0.999)
            m.mul_(0.9).add_(grad, alpha=0.1)
            v.mul_(0.999).addcmul_(grad, grad, value=0.001)
            bias = math.sqrt(1 - 0.999 ** (step + 1)) / (1 - 0.9 ** (step + 1))
            lam.addcdiv_(m, v.sqrt().add_(1e-8), value=step_lr * bias)
            if step >= first_averaged:
                lam_sum += lam
        trace[step] = float(elbo.detach())
    mean_avg, log_std_avg, scale = unpack(lam_sum / (n_steps - first_averaged))
    cov = torch.diag(torch.exp(2 * log_std_avg)) if scale is None else scale @ scale.T
    if not np.isfinite(trace).all():
        raise ValueError("the ELBO became NaN or infinite: lower lr or init_std, or check log_prob")
    return BBVIResult(
        mean_avg.detach(), cov.detach(), cov.diagonal().detach().clone(), trace, time.perf_counter() - start
    )
