"""Can this answer be trusted? Diagnostics for MCMC draws and for importance weights (notebook 04).

- ``rhat``: split R-hat, do several chains agree (Gelman et al., BDA3 §11.4);
- ``ess``: effective sample size of a mean from correlated draws (Geyer's initial
  monotone sequence, as in Stan; Vehtari et al. 2021);
- ``psis``: Pareto-smoothed importance sampling and its k̂ diagnostic, how far an
  approximation q is from the target p, judged from draws of q alone (Vehtari, Simpson,
  Gelman, Yao & Gabry 2024, JMLR 25(72); for VI: Yao, Vehtari, Simpson & Gelman 2018).

``vilab.inference`` re-exports ``rhat`` and ``ess``.
"""

import math
from dataclasses import dataclass

import numpy as np

from vilab import _validate

# --- MCMC: R-hat and the effective sample size -------------------------------


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
    """Each chain cut into two halves, (2m, n // 2, d); for an odd n the middle draw is dropped (Stan, ArviZ)."""
    half = samples.shape[1] // 2
    return np.concatenate([samples[:, :half], samples[:, samples.shape[1] - half :]], axis=0)


def rhat(samples):
    """Split R-hat (Gelman et al., *Bayesian Data Analysis*, 3rd ed., §11.4) per coordinate.

    Each of the m chains is cut in two halves (so a trend inside a chain counts too),
    giving m' = 2m chains of n draws. With W the mean within-chain variance and B/n the
    variance of the chain means,

        var⁺ = (n - 1)/n · W + B/n,        R-hat = sqrt(var⁺ / W).

    R-hat → 1 as the chains mix. This is the classic statistic, on the draws as given;
    the 1.01 threshold of Vehtari et al. (2021) is meant for the larger of this statistic
    computed on rank-normalised draws and on rank-normalised folded draws (notebook 04
    computes both with this function). ``samples``: (chains, draws[, d]); a coordinate
    that no chain moves in (W = 0) raises a ValueError. Returns a numpy array of shape (d,).
    """
    chains = _split(_as_chains(samples))
    n = chains.shape[1]
    within = chains.var(axis=1, ddof=1).mean(axis=0)  # > 0: _as_chains rejects stuck chains
    between_over_n = chains.mean(axis=1).var(axis=0, ddof=1)
    var_plus = (n - 1) / n * within + between_over_n
    return np.sqrt(var_plus / within)


def ess(samples):
    """Effective sample size per coordinate, as Stan computes it (Vehtari et al. 2021, with BDA3 §11.5).

    With split chains as in ``rhat`` (m' chains of n draws, S = m' n), the autocorrelation at
    lag t pooled over chains is ρ_t = 1 - (W - mean_chains γ_t) / var⁺, with γ_t each chain's
    (biased) autocovariance. Geyer's (1992) initial sequence: the pair sums
    P_k = ρ_{2k} + ρ_{2k+1} are kept while they are positive (K pairs), and made monotone,
    P_k ← min(P_k, P_{k-1}) (the *initial monotone sequence*); then

        τ = -1 + 2 Σ_{k < K} P_k + ρ_{2K}⁺,      ESS = S / max(τ, 1 / log10 S),

    where ρ_{2K}⁺ is ρ_{2K} if positive (Stan's "improved estimate": the average of the
    truncations at lags 2K - 1 and 2K). Known difference from Stan: when the pair sums stay
    positive up to the last lags (short, strongly autocorrelated chains), Stan's final term
    differs from ρ_{2K}⁺ here, and the two ESS values can differ by several per cent.
    For independent draws τ ≈ 1 and ESS ≈ S. Antithetic chains (negative ρ_1, common
    for HMC) have τ < 1 and an ESS *above* S, which is real: their mean is more precise
    than that of S independent draws. Stan's cap, ESS ≤ S log10 S, only stops a
    degenerate (e.g. perfectly alternating) chain from reporting an infinite ESS.
    ``samples``: (chains, draws[, d]); a coordinate that no chain moves in raises a
    ValueError. Returns a numpy array of shape (d,).
    """
    chains = _split(_as_chains(samples))
    m, n, d = chains.shape
    centred = chains - chains.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=2 * n, axis=1)
    autocov = np.fft.irfft(spectrum * np.conj(spectrum), n=2 * n, axis=1)[:, :n] / n  # biased, as in BDA3
    within = chains.var(axis=1, ddof=1).mean(axis=0)
    var_plus = (n - 1) / n * within + chains.mean(axis=1).var(axis=0, ddof=1)
    rho = 1 - (within - autocov.mean(axis=0)) / var_plus  # (n, d), rho[0] = 1 up to rounding
    rho[0] = 1.0
    n_pairs = max((n - 3) // 2, 0) + 1  # pairs (0, 1), (2, 3), ... up to lag n - 2, as in Stan and ArviZ
    pairs = rho[: 2 * n_pairs : 2] + rho[1 : 2 * n_pairs : 2]  # (n_pairs, d)
    n_positive = np.cumprod(pairs > 0, axis=0).sum(axis=0)  # leading positive pairs
    kept = np.minimum(n_positive, n_pairs - 1)  # K: the last pair is never summed, only its even lag
    monotone = np.minimum.accumulate(pairs, axis=0)
    in_sum = np.arange(n_pairs)[:, None] < kept[None, :]
    last_even = rho[2 * kept, np.arange(d)]  # signed if its pair was kept (sum >= 0), else only if positive
    last_even = np.where(pairs[kept, np.arange(d)] >= 0, last_even, np.maximum(last_even, 0.0))
    tau = -1 + 2 * np.where(in_sum, monotone, 0.0).sum(axis=0) + last_even
    size = m * n
    return size / np.maximum(tau, 1 / math.log10(size))


# --- importance weights: Pareto-smoothed importance sampling -----------------


@dataclass
class PSISResult:
    """Output of ``psis``: smoothed, normalised log weights and the diagnostic k̂."""

    log_weights: np.ndarray  # (S,) log of the smoothed weights, normalised: logsumexp = 0
    khat: float  # estimated shape of the generalised Pareto tail of the ratios
    threshold: float  # k̂ below min(1 - 1/log10 S, 0.7): the importance-sampling estimate is reliable
    tail_length: int  # M, the number of largest ratios fitted and smoothed
    ess: float  # 1 / Σ w_s² of the smoothed normalised weights (importance-sampling ESS)


def _gpd_fit(x):
    """Shape k and scale σ of a generalised Pareto fitted to exceedances x ≥ 0 (sorted ascending).

    Zhang & Stephens (2009), section 4: the profile likelihood of θ = -k/σ on a grid of
    30 + √M points, θ̂ its posterior mean, then k = mean(log(1 - θ̂ x)) (here k > 0 is a heavy
    tail, the negative of their k). Finally the weakly informative prior of Vehtari et al.
    (2024): k ← (M k + 10 · 0.5) / (M + 10).
    """
    size = len(x)
    grid = 30 + int(math.sqrt(size))
    first_quartile = max(x[int(size / 4 + 0.5) - 1], x[x > 0].min())  # > 0 even with ties at the cutoff
    j = np.arange(1, grid + 1)
    theta = 1 / x[-1] + (1 - np.sqrt(grid / (j - 0.5))) / (3 * first_quartile)
    k = np.log1p(-theta[:, None] * x[None, :]).mean(axis=1)
    profile = size * (np.log(-theta / k) - k - 1)
    weights = np.exp(profile - profile.max())
    theta_hat = float((theta * weights).sum() / weights.sum())
    k_hat = float(np.log1p(-theta_hat * x).mean())
    sigma = -k_hat / theta_hat
    return (size * k_hat + 10 * 0.5) / (size + 10), sigma


def psis(log_ratios):
    """Pareto-smoothed importance sampling of draws θ_s ~ q (Vehtari et al. 2024).

    ``log_ratios``: r_s = log p̃(θ_s) - log q(θ_s), s = 1..S, for any unnormalised target p̃
    (nats; a constant offset does not matter). The M = ⌈min(S/5, 3√S)⌉ largest ratios are
    fitted by a generalised Pareto distribution above the (M+1)-th largest (``_gpd_fit``)
    and replaced by its quantiles at (z - ½)/M, z = 1..M, capped at the largest ratio.

    The shape k̂ says how heavy the tail of the ratios is: the ratios have finite moments
    of order < 1/k̂, so for k̂ < ½ their variance is finite, and above min(1 - 1/log10 S, 0.7)
    (``threshold``) importance sampling, even smoothed, is unreliable at this S (its
    error no longer falls as 1/√S). For VI, k̂ judges q as a whole (Yao et al. 2018):
    a q much narrower than p in some direction gives a heavy tail and a large k̂.
    When the M largest ratios are all equal (a bounded tail) there is nothing to fit and
    k̂ = -inf. Returns a ``PSISResult``.
    """
    log_ratios = _validate.real_array("log_ratios", log_ratios, ndim=1)
    size = len(log_ratios)
    if size < 25:
        raise ValueError(f"log_ratios must hold at least 25 draws (a tail of 5 to fit), got {size}")
    tail_length = math.ceil(min(0.2 * size, 3 * math.sqrt(size)))
    shifted = log_ratios - log_ratios.max()  # largest ratio 1: no overflow
    order = np.argsort(shifted)
    tail, cutoff = order[-tail_length:], shifted[order[-tail_length - 1]]
    exceed = np.exp(shifted[tail]) - math.exp(cutoff)
    smoothed = shifted.copy()
    if exceed[-1] <= 0:  # the M + 1 largest ratios are equal
        khat = -math.inf
    else:
        khat, sigma = _gpd_fit(exceed)
        p = (np.arange(1, tail_length + 1) - 0.5) / tail_length
        quantiles = sigma * np.expm1(-khat * np.log1p(-p)) / khat if khat != 0 else -sigma * np.log1p(-p)
        smoothed[tail] = np.minimum(np.log(quantiles + math.exp(cutoff)), 0.0)
    log_weights = smoothed - (np.log(np.exp(smoothed - smoothed.max()).sum()) + smoothed.max())
    threshold = min(1 - 1 / math.log10(size), 0.7)
    return PSISResult(log_weights, float(khat), threshold, tail_length, float(1 / np.exp(2 * log_weights).sum()))
