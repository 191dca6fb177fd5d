"""vilab.diagnostics: the ESS against Stan's algorithm written out as loops, and PSIS's
generalised Pareto fit against draws of scipy.stats.genpareto with known shapes.

(Also checked once, outside the test suite, against ArviZ 0.21's ``_ess_mean`` and ``_psislw``:
equal to 1e-15 on AR(1) chains and Pareto ratios; ArviZ is not a dependency of vilab.)"""

import math

import numpy as np
import pytest
from scipy import stats

from vilab.diagnostics import ess, psis, rhat


def ar1(phi, chains, draws, seed):
    """AR(1) chains x_t = φ x_{t-1} + ε_t, started in their stationary law: τ = (1 + φ) / (1 - φ)."""
    rng = np.random.default_rng(seed)
    x = np.empty((chains, draws))
    x[:, 0] = rng.standard_normal(chains) / math.sqrt(1 - phi**2)
    noise = rng.standard_normal((chains, draws))
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + noise[:, t]
    return x


def stan_ess(chains):
    """ESS of one coordinate, (chains, draws), transcribed loop by loop from Stan's / ArviZ's ``_ess``
    (split chains, Geyer's initial positive then initial monotone sequence, τ ≥ 1 / log10 S)."""
    half = chains.shape[1] // 2
    x = np.concatenate([chains[:, :half], chains[:, -half:]])  # an odd middle draw dropped
    m, n = x.shape
    acov = np.array([[np.dot(c[: n - t] - c.mean(), c[t:] - c.mean()) / n for t in range(n)] for c in x])
    mean_var = acov[:, 0].mean() * n / (n - 1)
    var_plus = mean_var * (n - 1) / n + (x.mean(1).var(ddof=1) if m > 1 else 0.0)
    rho = np.zeros(n)
    rho_even, rho_odd = 1.0, 1.0 - (mean_var - acov[:, 1].mean()) / var_plus
    rho[0], rho[1] = rho_even, rho_odd
    t = 1
    while t < n - 3 and rho_even + rho_odd > 0:
        rho_even = 1.0 - (mean_var - acov[:, t + 1].mean()) / var_plus
        rho_odd = 1.0 - (mean_var - acov[:, t + 2].mean()) / var_plus
        if rho_even + rho_odd >= 0:
            rho[t + 1], rho[t + 2] = rho_even, rho_odd
        t += 2
    max_t = t - 2
    if rho_even > 0:
        rho[max_t + 1] = rho_even
    t = 1
    while t <= max_t - 2:
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t]:
            rho[t + 1] = rho[t + 2] = (rho[t - 1] + rho[t]) / 2
        t += 2
    tau = -1 + 2 * rho[: max_t + 1].sum() + rho[max_t + 1 : max_t + 2].sum()
    return m * n / max(tau, 1 / math.log10(m * n))


# --- ESS ------------------------------------------------------------------------


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.9, -0.3, -0.6])
@pytest.mark.parametrize("seed", [0, 1])
def test_ess_matches_stans_algorithm(phi, seed):
    chains = ar1(phi, 4, 301, seed)  # an odd length: the split drops the middle draw, as Stan does
    assert ess(chains)[0] == pytest.approx(stan_ess(chains), rel=1e-9)


def test_ess_of_antithetic_chains_exceeds_the_number_of_draws():
    phi, chains = -0.5, ar1(-0.5, 4, 5000, seed=2)
    expected = chains.size * (1 - phi) / (1 + phi)  # τ = 1/3: three times the draws
    assert ess(chains)[0] > 2 * chains.size
    assert ess(chains)[0] / expected == pytest.approx(1, abs=0.15)


def test_ess_is_capped_at_s_log10_s_for_a_perfectly_alternating_chain():
    chains = np.tile([1.0, -1.0], (4, 100)) + 1e-9 * np.random.default_rng(0).standard_normal((4, 200))
    assert ess(chains)[0] == pytest.approx(chains.size * math.log10(chains.size), rel=1e-6)


def test_ess_and_rhat_per_coordinate():
    rng = np.random.default_rng(3)
    draws = np.stack(
        [ar1(0.0, 4, 400, 4), ar1(0.9, 4, 400, 5), rng.standard_normal((4, 400)) + np.arange(4)[:, None]], -1
    )
    values, r = ess(draws), rhat(draws)
    assert values.shape == r.shape == (3,)
    for j in range(3):
        assert values[j] == pytest.approx(stan_ess(draws[..., j]), rel=1e-9)
    assert r[0] < 1.01 and r[2] > 1.5


# --- PSIS -----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [0.1, 0.3, 0.5, 0.7, 1.0])
def test_generalised_pareto_fit_recovers_known_shapes(shape):
    """Zhang & Stephens' estimate on 4000 draws of scipy's generalised Pareto; the asymptotic sd of an
    efficient estimate of the shape is (1 + k) / sqrt(n) (Smith 1985), about 0.03 here: 4 sd allowed."""
    from vilab.diagnostics import _gpd_fit

    n = 4000
    draws = np.sort(stats.genpareto.rvs(shape, scale=2.0, size=n, random_state=np.random.default_rng(7)))
    k, sigma = _gpd_fit(draws)
    tolerance = 4 * (1 + shape) / math.sqrt(n)
    assert abs(k - shape) < tolerance, (k, shape, tolerance)
    assert abs(sigma / 2.0 - 1) < 4 * math.sqrt(2 * (1 + shape) / n) * 2, sigma
    mle_shape, _, _ = stats.genpareto.fit(draws, floc=0.0)  # scipy's maximum likelihood on the same draws
    assert abs(k - mle_shape) < tolerance / 2


@pytest.mark.parametrize("shape", [0.2, 0.5, 0.9])
def test_psis_khat_sees_the_tail_of_pareto_ratios(shape):
    """Ratios whose tail is generalised Pareto with shape k: k̂ estimates k from the M = 3 √S largest."""
    size = 20_000
    ratios = stats.genpareto.rvs(shape, size=size, random_state=np.random.default_rng(11))
    result = psis(np.log(ratios))
    assert result.tail_length == math.ceil(3 * math.sqrt(size))
    assert abs(result.khat - shape) < 4 * (1 + shape) / math.sqrt(result.tail_length)
    assert (result.khat < result.threshold) == (shape < 0.7)
    assert np.exp(result.log_weights).sum() == pytest.approx(1.0)
    assert result.log_weights.max() <= np.log(ratios / ratios.sum()).max() + 1e-12  # smoothing never raises the top


def test_psis_of_gaussian_proposals():
    """p = N(0, 1), q = N(0, s²): a wider q has bounded ratios (k̂ < 0.5 is the verdict); a narrow q, s = 0.5,
    has ratios with a tail of shape 1 - s² = 0.75 (P(w > t) ~ t^(-1/(1 - s²))) and fails the threshold."""
    rng = np.random.default_rng(5)
    for s, good in [(1.5, True), (0.5, False)]:
        theta = s * rng.standard_normal(4000)
        log_ratios = stats.norm.logpdf(theta) - stats.norm.logpdf(theta, scale=s)
        result = psis(log_ratios)
        assert (result.khat < 0.5) == good and (result.khat < result.threshold) == good, (s, result.khat)


def test_psis_estimate_is_better_than_plain_importance_sampling_on_a_heavy_tail():
    """Mean of θ² under p = N(0, 1) from q = N(0, 0.6²) (exact 1): over 200 replicates, the smoothed
    estimate's root mean squared error is below that of the raw self-normalised one."""
    rng = np.random.default_rng(9)
    raw, smoothed = [], []
    for _ in range(200):
        theta = 0.6 * rng.standard_normal(1000)
        log_ratios = stats.norm.logpdf(theta) - stats.norm.logpdf(theta, scale=0.6)
        w = np.exp(log_ratios - log_ratios.max())
        raw.append((w * theta**2).sum() / w.sum())
        smoothed.append((np.exp(psis(log_ratios).log_weights) * theta**2).sum())
    assert np.sqrt(np.mean((np.array(smoothed) - 1) ** 2)) < np.sqrt(np.mean((np.array(raw) - 1) ** 2))
