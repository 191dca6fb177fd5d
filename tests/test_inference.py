"""vilab.inference against Bayesian linear regression, whose posterior is exactly Gaussian.

Model: y = X w + noise, noise ~ N(0, σ² I), prior w ~ N(0, τ² I). Posterior N(m, Σ) with
precision Λ = XᵀX/σ² + I/τ², Σ = Λ⁻¹, m = Σ Xᵀ y / σ². The design has correlated columns,
so mean-field VI has a known, different optimum: mean m, variances 1/Λ_ii < Σ_ii.
"""

import math

import numpy as np
import pytest
import torch

from vilab.inference import bbvi, ess, hmc, laplace, logistic_log_prob, lowrank_laplace, rhat

D = 3
NOISE_STD, PRIOR_STD = 1.0, 1.0


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small tensors: thread hand-offs cost more than they save (and this CPU is shared)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def regression():
    gen = torch.Generator().manual_seed(0)
    mixing = torch.tensor([[1.0, 0.8, 0.0], [0.0, 0.6, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    x = torch.randn(50, D, generator=gen, dtype=torch.float64) @ mixing
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    y = x @ w + NOISE_STD * torch.randn(50, generator=gen, dtype=torch.float64)
    precision = x.T @ x / NOISE_STD**2 + torch.eye(D, dtype=torch.float64) / PRIOR_STD**2
    cov = torch.linalg.inv(precision)
    mean = cov @ x.T @ y / NOISE_STD**2

    def log_prob(theta):
        resid = y - theta @ x.T
        return -0.5 * (resid**2).sum(-1) / NOISE_STD**2 - 0.5 * (theta**2).sum(-1) / PRIOR_STD**2

    return log_prob, mean, cov, precision


@pytest.fixture(scope="module")
def hmc_run(regression):
    log_prob = regression[0]
    start = torch.tensor([[3.0, 3.0, 3.0], [-3.0, -3.0, -3.0], [3.0, -3.0, 0.0], [0.0, 0.0, 0.0]])
    return hmc(log_prob, start, 300, n_warmup=150, n_leapfrog=4, seed=1)


# --- HMC ----------------------------------------------------------------------


def test_hmc_recovers_posterior_mean_within_monte_carlo_error(regression, hmc_run):
    _, mean, cov, _ = regression
    draws = hmc_run.samples.reshape(-1, D)
    # Monte Carlo standard error of a mean: sd / sqrt(ESS). ESS is capped at the number of
    # draws (HMC can be antithetic, ESS > N, which we do not rely on). 4 standard errors.
    n_eff = np.minimum(ess(hmc_run.samples), draws.shape[0])
    std_error = cov.diagonal().sqrt().numpy() / np.sqrt(n_eff)
    error = (draws.mean(0) - mean).abs().numpy()
    assert np.all(error < 4 * std_error), (error, std_error)
    assert 0.6 < float(hmc_run.accept_rate.mean()) < 0.99
    assert np.all(rhat(hmc_run.samples) < 1.02)


def test_hmc_recovers_posterior_covariance_within_monte_carlo_error(regression, hmc_run):
    _, mean, cov, _ = regression
    draws = hmc_run.samples.reshape(-1, D)
    centred = hmc_run.samples - mean
    # For Gaussian draws, Var[(θ_i-m_i)(θ_j-m_j)] = Σ_ii Σ_jj + Σ_ij²; its ESS is that of the
    # products themselves (an AR-like chain of squares mixes differently from the chain of θ).
    sample_cov = (draws - mean).T @ (draws - mean) / draws.shape[0]
    for i in range(D):
        for j in range(D):
            products = (centred[..., i] * centred[..., j]).numpy()
            n_eff = min(float(ess(products)[0]), draws.shape[0])
            std_error = math.sqrt((cov[i, i] * cov[j, j] + cov[i, j] ** 2) / n_eff)
            assert abs(sample_cov[i, j] - cov[i, j]) < 4 * std_error, (i, j, sample_cov[i, j], cov[i, j])


def test_hmc_mass_matrix_adapts_to_posterior_variances(hmc_run, regression):
    cov = regression[2]
    ratio = hmc_run.inv_mass / cov.diagonal()
    assert torch.all((ratio > 0.5) & (ratio < 2)), ratio


def test_hmc_one_chain_and_output_shapes(regression):
    run = hmc(regression[0], torch.zeros(D), 20, n_warmup=10, n_leapfrog=3, seed=0)
    assert run.samples.shape == (1, 20, D)
    assert run.n_grad == 30 * 3 and run.seconds > 0


def test_hmc_is_reproducible_with_a_seed(regression):
    first = hmc(regression[0], torch.zeros(2, D), 10, n_warmup=10, seed=3).samples
    again = hmc(regression[0], torch.zeros(2, D), 10, n_warmup=10, seed=3).samples
    assert torch.equal(first, again)


# --- R-hat and ESS ------------------------------------------------------------


def test_rhat_is_one_for_independent_chains_and_large_for_separated_ones():
    rng = np.random.default_rng(0)
    good = rng.standard_normal((4, 1000, 2))
    assert np.all(np.abs(rhat(good) - 1) < 0.01)
    apart = good + np.arange(4)[:, None, None] * 2.0  # chains stuck around different values
    assert np.all(rhat(apart) > 1.1)


def test_rhat_flags_hmc_chains_started_in_different_modes():
    def two_modes(theta):  # equal mixture of N(-8, 1) and N(8, 1): HMC cannot cross the gap
        return torch.logaddexp(-0.5 * (theta[:, 0] - 8) ** 2, -0.5 * (theta[:, 0] + 8) ** 2)

    run = hmc(two_modes, torch.tensor([[-8.0], [8.0], [-8.0], [8.0]]), 100, n_warmup=50, n_leapfrog=3, seed=0)
    assert rhat(run.samples)[0] > 1.1
    assert ((run.samples[0] < 0).all() and (run.samples[1] > 0).all()).item()


def test_ess_of_independent_and_autocorrelated_draws():
    rng = np.random.default_rng(1)
    n = 4000
    iid = rng.standard_normal((4, n))
    assert abs(ess(iid)[0] / (4 * n) - 1) < 0.1
    phi = 0.9  # AR(1): τ = (1 + φ) / (1 - φ) = 19, so ESS = N / 19
    ar = np.zeros((4, n))
    noise = rng.standard_normal((4, n))
    for t in range(1, n):
        ar[:, t] = phi * ar[:, t - 1] + noise[:, t]
    expected = 4 * n * (1 - phi) / (1 + phi)
    assert abs(ess(ar)[0] / expected - 1) < 0.25, (ess(ar)[0], expected)


# --- Laplace ------------------------------------------------------------------


def test_laplace_is_exact_for_a_gaussian_posterior(regression):
    log_prob, mean, cov, _ = regression
    fit = laplace(log_prob, torch.zeros(D))
    # deterministic: only the L-BFGS stopping tolerance limits the agreement
    # (torch.allclose, not torch.testing.assert_close, whose first call takes seconds)
    assert torch.allclose(fit.mean, mean, rtol=1e-6, atol=1e-8), fit.mean - mean
    assert torch.allclose(fit.cov, cov, rtol=1e-6, atol=1e-10), fit.cov - cov
    assert torch.allclose(fit.var, cov.diagonal(), rtol=1e-12)


def test_diagonal_laplace_gives_conditional_variances(regression):
    log_prob, mean, cov, precision = regression
    fit = laplace(log_prob, torch.zeros(D), covariance="diag", chunk=2)
    assert fit.cov is None
    assert torch.allclose(fit.var, 1 / precision.diagonal(), rtol=1e-6), fit.var * precision.diagonal()
    assert torch.all(fit.var < cov.diagonal())  # correlated design: conditional < marginal


def test_laplace_rejects_a_function_without_a_maximum():
    with pytest.raises(ValueError, match="not positive definite"):
        laplace(lambda t: (t**2).sum(-1), torch.ones(2), max_iter=1)


# --- BBVI ---------------------------------------------------------------------
# Tolerances: the ELBO optimum is known exactly here; what remains is the noise of the
# stochastic gradients. Measured over seeds 0-9 with these settings (1000 steps, averaging
# over the last 500): the fitted means scatter by 0.016-0.020 posterior sd (full-rank) and
# 0.009-0.014 (mean-field); covariance entries / (sd_i sd_j) by <= 0.023; mean-field
# var_i Λ_ii by <= 0.03. The bounds below are 5 of those standard deviations.


def test_fullrank_bbvi_recovers_mean_and_covariance(regression):
    log_prob, mean, cov, _ = regression
    fit = bbvi(log_prob, torch.zeros(D), family="fullrank", n_steps=1000, n_mc=8, lr=0.05, seed=0)
    sd = cov.diagonal().sqrt()
    assert torch.all((fit.mean - mean).abs() < 0.1 * sd), (fit.mean - mean) / sd
    correlation_error = (fit.cov - cov) / torch.outer(sd, sd)
    assert correlation_error.abs().max() < 0.12, correlation_error
    assert fit.elbo.shape == (1000,) and fit.elbo[-500:].mean() > fit.elbo[:50].mean()


def test_meanfield_bbvi_finds_mean_and_conditional_variances(regression):
    log_prob, mean, cov, precision = regression
    fit = bbvi(log_prob, torch.zeros(D), family="meanfield", n_steps=1000, n_mc=8, lr=0.05, seed=0)
    sd = cov.diagonal().sqrt()
    assert torch.all((fit.mean - mean).abs() < 0.07 * sd), (fit.mean - mean) / sd
    # optimum of KL(q‖p) over diagonal Gaussians: var_i = 1 / Λ_ii, below the true Σ_ii
    assert torch.all((fit.var * precision.diagonal() - 1).abs() < 0.15), fit.var * precision.diagonal()
    assert torch.all(fit.var[:2] < 0.5 * cov.diagonal()[:2])  # the two correlated coordinates: 0.32 Σ_ii
    assert torch.equal(fit.cov, torch.diag(fit.var))


# --- bad input ----------------------------------------------------------------


def _gauss(theta):
    return -0.5 * (theta**2).sum(-1)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_samples": 0}, ValueError, "n_samples must be >= 1, got 0"),
        ({"n_samples": 2.5}, TypeError, "n_samples must be an integer"),
        ({"n_warmup": -1}, ValueError, "n_warmup must be >= 1"),
        ({"n_leapfrog": 0}, ValueError, "n_leapfrog must be >= 1"),
        ({"step_size": -0.5}, ValueError, "step_size must be > 0, got -0.5"),
        ({"step_size": float("nan")}, ValueError, "step_size must be finite"),
        ({"target_accept": 1.5}, ValueError, r"target_accept must be in \(0, 1\), got 1.5"),
        ({"init": torch.tensor([0.0, float("nan")])}, ValueError, "init must be finite"),
        ({"init": torch.zeros(2, 2, 2)}, ValueError, r"init must have 1 or 2 dimension\(s\), got shape \(2, 2, 2\)"),
        ({"init": "zeros"}, TypeError, "init must be a tensor"),
        ({"log_prob": lambda t: t}, ValueError, r"log_prob must map a batch of shape \(n, d\) to shape \(n,\)"),
        ({"log_prob": 3.0}, TypeError, "log_prob must be callable"),
        ({"log_prob": lambda t: -math.inf * t.sum(-1) ** 0}, ValueError, "log_prob must be finite at init"),
    ],
)
def test_hmc_rejects_bad_input(kwargs, error, match):
    args = {"log_prob": _gauss, "init": torch.zeros(2), "n_samples": 5, "n_warmup": 5} | kwargs
    with pytest.raises(error, match=match):
        hmc(**args)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"covariance": "lowrank"}, ValueError, r"covariance must be one of \['diag', 'full'\], got 'lowrank'"),
        ({"max_iter": 0}, ValueError, "max_iter must be >= 1, got 0"),
        ({"tol": 0.0}, ValueError, "tol must be > 0, got 0.0"),
        ({"chunk": 0}, ValueError, "chunk must be >= 1, got 0"),
        ({"init": torch.zeros(3, 2)}, ValueError, r"init must have 1 dimension\(s\), got shape \(3, 2\)"),
        ({"init": torch.zeros(0)}, ValueError, "init must have at least one parameter"),
    ],
)
def test_laplace_rejects_bad_input(kwargs, error, match):
    args = {"log_prob": _gauss, "init": torch.zeros(2)} | kwargs
    with pytest.raises(error, match=match):
        laplace(**args)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"family": "gaussian"}, ValueError, r"family must be one of \['fullrank', 'meanfield'\], got 'gaussian'"),
        ({"n_steps": 0}, ValueError, "n_steps must be >= 1, got 0"),
        ({"n_mc": 0}, ValueError, "n_mc must be >= 1, got 0"),
        ({"lr": -1}, ValueError, "lr must be > 0, got -1"),
        ({"init_std": 0}, ValueError, "init_std must be > 0, got 0"),
        ({"average": 1.0}, ValueError, r"average must be in \[0, 1\), got 1.0"),
        ({"init": [1.0, float("inf")]}, ValueError, "init must be finite"),
        ({"lr": 1e6, "log_prob": lambda t: -(t**4).sum(-1)}, ValueError, "the ELBO became NaN or infinite"),
    ],
)
def test_bbvi_rejects_bad_input(kwargs, error, match):
    args = {"log_prob": _gauss, "init": torch.zeros(2), "n_steps": 20} | kwargs
    with pytest.raises(error, match=match):
        bbvi(**args)


@pytest.mark.parametrize(
    "samples, match",
    [
        (np.zeros((2, 3)), r"at least 4 draws per chain, got shape \(2, 3, 1\)"),
        (np.zeros(10), r"samples must have shape \(chains, draws\) or \(chains, draws, d\), got \(10,\)"),
        (np.full((2, 10), np.nan), "samples must be finite"),
    ],
)
def test_diagnostics_reject_bad_input(samples, match):
    for diagnostic in (rhat, ess):
        with pytest.raises(ValueError, match=match):
            diagnostic(samples)


# --- low-rank Laplace ---------------------------------------------------------


def _wide_regression(d=20, n=8, seed=0):
    """Linear regression with more parameters than data: -H = XᵀX + I, data part of rank n < d."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = torch.randn(n, generator=gen, dtype=torch.float64)

    def log_prob(theta):
        return -0.5 * ((y - theta @ x.T) ** 2).sum(-1) - 0.5 * (theta**2).sum(-1)

    precision = x.T @ x + torch.eye(d, dtype=torch.float64)
    return log_prob, torch.linalg.solve(precision, x.T @ y), torch.linalg.inv(precision)


def test_lowrank_laplace_is_exact_once_the_rank_covers_the_data():
    log_prob, mode, cov = _wide_regression()
    fit = lowrank_laplace(log_prob, mode, rank=8)
    assert torch.allclose(fit.var, cov.diagonal(), rtol=1e-8)
    assert torch.allclose(fit.eigenvectors.T @ fit.eigenvectors, torch.eye(8, dtype=torch.float64), atol=1e-8)


def test_lowrank_laplace_is_conservative_and_improves_with_the_rank():
    log_prob, mode, cov = _wide_regression()
    variances = [lowrank_laplace(log_prob, mode, rank=r).var for r in (1, 3, 6)]
    for var in variances:
        assert (var >= cov.diagonal() * (1 - 1e-10)).all()
    assert (variances[1] <= variances[0] + 1e-12).all() and (variances[2] <= variances[1] + 1e-12).all()
    assert (variances[0] > cov.diagonal() * 1.01).any()  # rank 1 really drops something


def test_lowrank_laplace_eigenvalues_match_the_dense_data_hessian():
    log_prob, mode, cov = _wide_regression()
    data_part = torch.linalg.inv(cov) - torch.eye(20, dtype=torch.float64)
    fit = lowrank_laplace(log_prob, mode, rank=5)
    assert torch.allclose(fit.eigenvalues, torch.linalg.eigvalsh(data_part).flip(0)[:5], rtol=1e-8)
    assert fit.n_hvp >= 5


def test_lowrank_laplace_rejects_a_wrong_prior_precision():
    log_prob, mode, _ = _wide_regression()
    with pytest.raises(ValueError, match="prior_precision"):
        lowrank_laplace(log_prob, mode, rank=15, prior_precision=3.0)  # -H - 3 I has negative eigenvalues


# --- the model of notebooks 04 and 04b ----------------------------------------------


def test_logistic_log_prob_matches_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    phi = torch.randn(30, 4, generator=gen, dtype=torch.float64)
    y = (torch.rand(30, generator=gen, dtype=torch.float64) < 0.4).double()
    theta = torch.randn(5, 4, generator=gen, dtype=torch.float64)
    dist = torch.distributions
    expected = dist.Bernoulli(logits=theta @ phi.T).log_prob(y).sum(-1) + dist.Normal(0.0, 2.0).log_prob(theta).sum(-1)
    got = logistic_log_prob(phi, y, prior_std=2.0)(theta)
    assert torch.allclose(got - expected, (got - expected)[:1].expand(5), atol=1e-10)  # equal up to a constant
