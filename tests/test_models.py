"""vilab.models against independent computations (scipy, brute-force quadrature)."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from vilab.models import ConjugateGaussian, SymmetricMixture

CASES = [  # (n, prior_mean, prior_std, noise_std, seed)
    (1, 0.0, 1.0, 1.0, 0),
    (5, 0.7, 2.0, 0.5, 1),
    (30, -1.5, 0.3, 3.0, 2),
    (200, 2.0, 5.0, 1.7, 3),
]


def _model(n, prior_mean, prior_std, noise_std, seed):
    x = np.random.default_rng(seed).normal(prior_mean + 1.0, noise_std, size=n)
    return ConjugateGaussian(x, prior_mean=prior_mean, prior_std=prior_std, noise_std=noise_std)


@pytest.mark.parametrize("case", CASES)
def test_evidence_matches_multivariate_normal_marginal(case):
    n, prior_mean, prior_std, noise_std, _ = case
    model = _model(*case)
    # x = z 1 + noise: x ~ N(m0 1, sigma^2 I + s0^2 1 1^T)
    cov = noise_std**2 * np.eye(n) + prior_std**2 * np.ones((n, n))
    reference = stats.multivariate_normal(np.full(n, prior_mean), cov).logpdf(model.x)
    assert model.log_evidence() == pytest.approx(reference, rel=1e-10)


@pytest.mark.parametrize("case", CASES)
def test_identity_log_evidence_equals_elbo_plus_kl_for_random_q(case):
    model = _model(*case)
    rng = np.random.default_rng(42)
    evidence = model.log_evidence()
    for q_mean, log_std in zip(rng.normal(0, 3, 100), rng.normal(0, 1.5, 100), strict=True):
        q_std = math.exp(log_std)
        elbo, kl = model.elbo(q_mean, q_std), model.kl_to_posterior(q_mean, q_std)
        assert kl >= 0
        assert elbo <= evidence
        assert elbo + kl == pytest.approx(evidence, rel=1e-10)


@pytest.mark.parametrize("case", CASES)
def test_posterior_matches_brute_force_quadrature(case):
    model = _model(*case)
    mean, std = model.posterior()
    z = np.linspace(mean - 12 * std, mean + 12 * std, 20001)
    log_joint = model.log_joint(z)
    weights = np.exp(log_joint - log_joint.max())
    norm = integrate.simpson(weights, x=z)
    quad_mean = integrate.simpson(z * weights, x=z) / norm
    quad_var = integrate.simpson((z - quad_mean) ** 2 * weights, x=z) / norm
    assert quad_mean == pytest.approx(mean, rel=1e-8, abs=1e-10)
    assert math.sqrt(quad_var) == pytest.approx(std, rel=1e-8)
    # and the normaliser of the joint is the evidence
    assert log_joint.max() + math.log(norm) == pytest.approx(model.log_evidence(), rel=1e-8)


@pytest.mark.parametrize("case", CASES)
def test_elbo_is_maximal_and_kl_zero_at_the_posterior(case):
    model = _model(*case)
    mean, std = model.posterior()
    assert model.kl_to_posterior(mean, std) == pytest.approx(0.0, abs=1e-12)
    assert model.elbo(mean, std) == pytest.approx(model.log_evidence(), rel=1e-12)
    assert model.elbo(mean + 0.01 * std, std) < model.elbo(mean, std)
    assert model.elbo(mean, 1.01 * std) < model.elbo(mean, std)


def test_log_joint_is_vectorised_and_keeps_floats_as_floats():
    model = _model(*CASES[1])
    z = np.linspace(-3, 3, 7)
    values = model.log_joint(z)
    assert isinstance(values, np.ndarray) and values.shape == (7,)
    assert isinstance(model.log_joint(0.5), float)
    assert values[3] == pytest.approx(model.log_joint(0.0))
    reference = (
        stats.norm(model.prior_mean, model.prior_std).logpdf(0.5)
        + stats.norm(0.5, model.noise_std).logpdf(model.x).sum()
    )
    assert model.log_joint(0.5) == pytest.approx(reference, rel=1e-12)
    assert model.log_joint(np.zeros((2, 3))).shape == (2, 3)


@pytest.mark.parametrize("case", CASES)
def test_mc_elbo_is_unbiased_within_standard_error(case):
    model = _model(*case)
    mean, std = model.posterior()
    q_mean, q_std = mean + 1.5 * std, 2.0 * std  # a q away from the posterior: the integrand varies
    n_samples, n_repeats = 2000, 50
    estimates = np.array([model.elbo_mc(q_mean, q_std, n_samples, seed=seed) for seed in range(n_repeats)])
    standard_error = estimates.std(ddof=1) / math.sqrt(n_repeats)
    assert standard_error > 0
    assert abs(estimates.mean() - model.elbo(q_mean, q_std)) < 4 * standard_error


def test_mc_elbo_is_reproducible_with_a_seed_and_exact_at_the_posterior():
    model = _model(*CASES[1])
    assert model.elbo_mc(0.3, 0.7, 100, seed=5) == model.elbo_mc(0.3, 0.7, 100, seed=5)
    assert model.elbo_mc(0.3, 0.7, 100, seed=5) != model.elbo_mc(0.3, 0.7, 100, seed=6)
    # at q = posterior, log p(x, z) - log q(z) = log p(x) for every z: zero variance
    mean, std = model.posterior()
    assert model.elbo_mc(mean, std, 10, seed=0) == pytest.approx(model.log_evidence(), rel=1e-10)


def test_returns_are_floats():
    model = _model(*CASES[1])
    outputs = [model.log_evidence(), *model.posterior(), model.elbo(0.0, 1.0), model.kl_to_posterior(0.0, 1.0)]
    outputs.append(model.elbo_mc(0.0, 1.0, 10, seed=0))
    assert all(type(value) is float for value in outputs)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: ConjugateGaussian([]), ValueError, "x must not be empty"),
        (lambda: ConjugateGaussian([1.0, float("nan")]), ValueError, "x must be finite"),
        (lambda: ConjugateGaussian([1.0, float("inf")]), ValueError, "x must be finite"),
        (lambda: ConjugateGaussian([[1.0, 2.0]]), ValueError, r"x must be 1-D, got shape \(1, 2\)"),
        (lambda: ConjugateGaussian(3.0), ValueError, r"shape \(\)"),
        (lambda: ConjugateGaussian("abc"), TypeError, "x must be an array of real numbers"),
        (lambda: ConjugateGaussian([1.0], prior_std=0.0), ValueError, "prior_std must be > 0, got 0.0"),
        (lambda: ConjugateGaussian([1.0], prior_std=-1.0), ValueError, "prior_std must be > 0, got -1.0"),
        (lambda: ConjugateGaussian([1.0], noise_std=-0.5), ValueError, "noise_std must be > 0, got -0.5"),
        (lambda: ConjugateGaussian([1.0], prior_mean=float("nan")), ValueError, "prior_mean must be finite"),
        (lambda: ConjugateGaussian([1.0]).elbo(0.0, 0.0), ValueError, "q_std must be > 0, got 0.0"),
        (lambda: ConjugateGaussian([1.0]).elbo(float("nan"), 1.0), ValueError, "q_mean must be finite"),
        (lambda: ConjugateGaussian([1.0]).kl_to_posterior(0.0, -2.0), ValueError, "q_std must be > 0, got -2.0"),
        (lambda: ConjugateGaussian([1.0]).elbo_mc(0.0, 1.0, 0), ValueError, "n_samples must be >= 1, got 0"),
        (lambda: ConjugateGaussian([1.0]).elbo_mc(0.0, 1.0, 2.5), TypeError, "n_samples must be an integer"),
        (lambda: ConjugateGaussian([1.0]).elbo_mc(0.0, 1.0, 10, seed=1.5), TypeError, "seed must be None or an int"),
        (lambda: ConjugateGaussian([1.0]).log_joint(float("nan")), ValueError, "z must be finite, got nan"),
        (lambda: ConjugateGaussian([1.0]).log_joint("a"), TypeError, "z must be an array of real numbers"),
        (lambda: SymmetricMixture([]), ValueError, "x must not be empty"),
        (lambda: SymmetricMixture([1.0], noise_std=0), ValueError, "noise_std must be > 0, got 0.0"),
        (lambda: SymmetricMixture([1.0]).elbo(0.0, -1.0), ValueError, "q_std must be > 0, got -1.0"),
    ],
)
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- the non-conjugate model ---------------------------------------------------

MIXTURE_DATA = [1.8, 2.2, -2.1, 1.9, -2.0, 2.3]


def test_mixture_evidence_matches_dense_trapezoid():
    model = SymmetricMixture(MIXTURE_DATA, prior_std=2.0, noise_std=0.5)
    z = np.linspace(-20, 20, 400001)
    log_joint = model.log_joint(z)
    reference = log_joint.max() + math.log(np.trapezoid(np.exp(log_joint - log_joint.max()), z))
    assert model.log_evidence() == pytest.approx(reference, rel=1e-9)
    assert integrate.trapezoid(model.posterior_pdf(z), z) == pytest.approx(1.0, rel=1e-9)


def test_mixture_joint_is_symmetric_and_vectorised():
    model = SymmetricMixture(MIXTURE_DATA)
    z = np.linspace(-3, 3, 11)
    np.testing.assert_allclose(model.log_joint(z), model.log_joint(-z), rtol=1e-14)
    assert isinstance(model.log_joint(0.3), float)
    assert model.log_joint(0.3) == pytest.approx(model.log_joint(np.array([0.3]))[0])


def test_mixture_elbo_matches_monte_carlo():
    model = SymmetricMixture(MIXTURE_DATA)
    q_mean, q_std = 1.5, 0.6
    z = np.random.default_rng(0).normal(q_mean, q_std, 200_000)
    terms = model.log_joint(z) - stats.norm(q_mean, q_std).logpdf(z)
    standard_error = terms.std(ddof=1) / math.sqrt(z.size)
    assert abs(terms.mean() - model.elbo(q_mean, q_std)) < 4 * standard_error


def test_best_gaussian_leaves_a_gap_of_about_log_two():
    # two well-separated, equal modes: the best Gaussian covers one, missing half the mass
    model = SymmetricMixture(MIXTURE_DATA, prior_std=2.0, noise_std=0.5)
    q_mean, q_std = model.best_gaussian()
    gap = model.kl_to_posterior(q_mean, q_std)
    assert abs(q_mean) > 1.5
    assert gap == pytest.approx(math.log(2), abs=1e-3)
    for other in [(q_mean + 0.05, q_std), (q_mean, 1.1 * q_std), (0.0, 2.0)]:
        assert model.elbo(*other) < model.elbo(q_mean, q_std)
