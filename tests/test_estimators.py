"""Score-function and pathwise estimators: exact values, unbiasedness, variances, errors, the explorer."""

import itertools
import math

import matplotlib
import numpy as np
import pytest
import torch

from vilab import estimators as E
from vilab.models import ConjugateGaussian

matplotlib.use("Agg")

POINTS = [(1.0, 1.0, 2.0), (-0.5, 0.3, 5.0), (2.0, 1.5, 0.7)]  # (mu, sigma, k)
CASES = [(name, *point) for name in E.FUNCTIONS for point in POINTS]
NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(300)
WEIGHTS = WEIGHTS / math.sqrt(2 * math.pi)  # E[g(eps)] = sum_k w_k g(t_k), eps ~ N(0, 1)


def f_and_derivative(name, x, k):
    """The test functions in numpy, written independently of vilab, with their derivatives."""
    if name == "quadratic":
        return (x - k) ** 2, 2 * (x - k)
    if name == "exponential":
        return np.exp(-k * x**2), -2 * k * x * np.exp(-k * x**2)
    return np.cos(k * x), -k * np.sin(k * x)


def quadrature_reference(name, mu, sigma, k, b=0.0):
    """Gradient and single-sample variances by 300-point Gauss-Hermite quadrature."""
    f, df = f_and_derivative(name, mu + sigma * NODES, k)
    eps = NODES
    gradient = np.array([WEIGHTS @ (f * eps), WEIGHTS @ (f * (eps**2 - 1))]) / sigma
    sf = np.array([WEIGHTS @ ((f - b) ** 2 * eps**2), WEIGHTS @ ((f - b) ** 2 * (eps**2 - 1) ** 2)]) / sigma**2
    pw = np.array([WEIGHTS @ df**2, WEIGHTS @ (df**2 * eps**2)])
    return gradient, sf - gradient**2, pw - gradient**2


def variance_and_se(samples):
    """Sample variance per column and its standard error sqrt((m4 - var^2) / n), m4 the 4th central moment."""
    centred = samples - samples.mean(0)
    var = (centred**2).mean(0)
    m4 = (centred**4).mean(0)
    return var, np.sqrt((m4 - var**2) / len(samples))


# --- exact values ------------------------------------------------------------------


@pytest.mark.parametrize("name, mu, sigma, k", CASES)
def test_exact_values_match_quadrature(name, mu, sigma, k):
    gradient, sf, pw = quadrature_reference(name, mu, sigma, k)
    np.testing.assert_allclose(E.exact_gradient(name, mu, sigma, k), gradient, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(E.exact_variance(name, "score_function", mu, sigma, k), sf, rtol=1e-10)
    np.testing.assert_allclose(E.exact_variance(name, "pathwise", mu, sigma, k), pw, rtol=1e-10, atol=1e-12)
    _, sf_b, _ = quadrature_reference(name, mu, sigma, k, b=0.7)
    np.testing.assert_allclose(E.exact_variance(name, "score_function", mu, sigma, k, baseline=0.7), sf_b, rtol=1e-10)


@pytest.mark.parametrize("mu, sigma, k", POINTS)
def test_exact_gradient_matches_textbook_closed_forms(mu, sigma, k):
    # E[(x-k)^2] = (mu-k)^2 + sigma^2
    np.testing.assert_allclose(E.exact_gradient("quadratic", mu, sigma, k), [2 * (mu - k), 2 * sigma], rtol=1e-12)
    # E[cos(kx)] = cos(k mu) exp(-k^2 sigma^2 / 2)
    damp = math.exp(-(k**2) * sigma**2 / 2)
    expected = [-k * math.sin(k * mu) * damp, -(k**2) * sigma * math.cos(k * mu) * damp]
    np.testing.assert_allclose(E.exact_gradient("cosine", mu, sigma, k), expected, rtol=1e-10, atol=1e-14)
    # E[exp(-k x^2)] = exp(-k mu^2 / (1 + 2 k sigma^2)) / sqrt(1 + 2 k sigma^2): check by finite differences
    h = 1e-6
    value = lambda m, s: math.exp(-k * m**2 / (1 + 2 * k * s**2)) / math.sqrt(1 + 2 * k * s**2)  # noqa: E731
    fd = [
        (value(mu + h, sigma) - value(mu - h, sigma)) / (2 * h),
        (value(mu, sigma + h) - value(mu, sigma - h)) / (2 * h),
    ]
    np.testing.assert_allclose(E.exact_gradient("exponential", mu, sigma, k), fd, rtol=1e-6)
    assert E.exact_value("exponential", mu, sigma, k) == pytest.approx(value(mu, sigma), rel=1e-12)


@pytest.mark.parametrize("name, mu, sigma, k", CASES)
def test_optimal_baseline_minimises_the_exact_variance(name, mu, sigma, k):
    best = E.optimal_baseline(name, mu, sigma, k)
    at_best = E.exact_variance(name, "score_function", mu, sigma, k, baseline="optimal")
    for j in range(2):
        assert at_best[j] <= E.exact_variance(name, "score_function", mu, sigma, k)[j] + 1e-12
        for shift in (-0.1, 0.1):
            other = E.exact_variance(name, "score_function", mu, sigma, k, baseline=float(best[j] + shift))
            assert at_best[j] < other[j]


# --- Monte Carlo against the exact values ---------------------------------------------


@pytest.mark.parametrize("estimator", E.ESTIMATORS)
@pytest.mark.parametrize("name, mu, sigma, k", CASES)
def test_unbiased_and_variance_matches_exact(estimator, name, mu, sigma, k):
    n = 100_000
    samples = getattr(E, estimator)(E.objective(name, k), mu, sigma, n, seed=11)
    assert samples.shape == (n, 2) and samples.dtype == np.float64
    gradient = E.exact_gradient(name, mu, sigma, k)
    se_mean = samples.std(0, ddof=1) / math.sqrt(n)
    assert np.all(np.abs(samples.mean(0) - gradient) <= 4 * se_mean + 1e-12)
    var, se_var = variance_and_se(samples)
    assert np.all(np.abs(var - E.exact_variance(name, estimator, mu, sigma, k)) <= 5 * se_var + 1e-12)


@pytest.mark.parametrize("name, mu, sigma, k", CASES)
def test_baselines_keep_the_mean_and_the_optimal_one_reduces_variance(name, mu, sigma, k):
    n = 100_000
    f = E.objective(name, k)
    gradient = E.exact_gradient(name, mu, sigma, k)
    for baseline in (1.5, "optimal"):
        samples = E.score_function(f, mu, sigma, n, baseline=baseline, seed=5)
        se_mean = samples.std(0, ddof=1) / math.sqrt(n)
        assert np.all(np.abs(samples.mean(0) - gradient) <= 4 * se_mean + 1e-12)
        var, se_var = variance_and_se(samples)
        exact = E.exact_variance(name, "score_function", mu, sigma, k, baseline=baseline)
        assert np.all(np.abs(var - exact) <= 5 * se_var + 1e-12)
    plain = E.score_function(f, mu, sigma, n, seed=5)  # the same draws without a baseline
    assert np.all(var < plain.var(0))


def test_leave_one_out_baseline_is_unbiased_even_for_tiny_batches():
    # n = 3 per call: a baseline fitted on the same batch *including* sample i would be biased at this size
    name, mu, sigma, k = "quadratic", 1.0, 1.0, 2.0
    f = E.objective(name, k)
    batches = np.stack([E.score_function(f, mu, sigma, 3, baseline="optimal", seed=s) for s in range(6000)])
    rows = batches.reshape(-1, 2)
    se = rows.std(0, ddof=1) / math.sqrt(len(rows))  # rows are uncorrelated (see score_function's docstring)
    assert np.all(np.abs(rows.mean(0) - E.exact_gradient(name, mu, sigma, k)) <= 4 * se)
    # the test has power: the same-batch ("plug-in") baseline is visibly biased on the same draws
    eps = torch.stack([E.standard_normal_draws(3, seed=s) for s in range(6000)]).numpy()
    fx = (mu + sigma * eps - k) ** 2
    score = (eps**2 - 1) / sigma
    plug_in = (fx * score**2).sum(1, keepdims=True) / (score**2).sum(1, keepdims=True)
    biased = ((fx - plug_in) * score).ravel()
    assert abs(biased.mean() - 2 * sigma) > 4 * biased.std() / math.sqrt(biased.size)


def test_separable_dimension_formula_matches_monte_carlo():
    # x ~ N(mu 1, sigma^2 I_d), F(x) = sum_i f(x_i): score-function estimate of dF/dmu_1 and dF/dsigma_1
    name, mu, sigma, k, d, n = "cosine", 0.5, 1.0, 1.0, 8, 200_000
    eps = np.random.default_rng(3).standard_normal((n, d))
    F = np.cos(k * (mu + sigma * eps)).sum(1)
    samples = np.stack([F * eps[:, 0] / sigma, F * (eps[:, 0] ** 2 - 1) / sigma], axis=1)
    var, se_var = variance_and_se(samples)
    exact = E.exact_variance(name, "score_function", mu, sigma, k, dim=d)
    assert np.all(np.abs(var - exact) <= 5 * se_var)
    assert np.all(exact > E.exact_variance(name, "score_function", mu, sigma, k))  # grows with d
    b = E.optimal_baseline(name, mu, sigma, k, dim=d)
    assert np.all(E.exact_variance(name, "score_function", mu, sigma, k, baseline="optimal", dim=d) <= exact)
    assert b.shape == (2,)


def test_seeded_draws_are_reproducible_and_shared():
    f = E.objective("cosine", 2.0)
    a = E.pathwise(f, 0.3, 0.8, 50, seed=4)
    np.testing.assert_array_equal(a, E.pathwise(f, 0.3, 0.8, 50, seed=4))
    eps = E.standard_normal_draws(50, seed=4).numpy()
    np.testing.assert_allclose(a[:, 0], -2 * np.sin(2 * (0.3 + 0.8 * eps)), rtol=1e-12)
    s = E.score_function(f, 0.3, 0.8, 50, seed=4)
    np.testing.assert_allclose(s[:, 1], np.cos(2 * (0.3 + 0.8 * eps)) * (eps**2 - 1) / 0.8, rtol=1e-12)


# --- bad input ------------------------------------------------------------------------

F = E.objective("quadratic", 1.0)


@pytest.mark.parametrize("estimator", [E.score_function, E.pathwise])
@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"sigma": 0.0}, ValueError, r"sigma must be > 0, got 0\.0"),
        ({"sigma": -0.5}, ValueError, r"sigma must be > 0, got -0\.5"),
        ({"sigma": float("nan")}, ValueError, r"sigma must be finite, got nan"),
        ({"mu": float("nan")}, ValueError, r"mu must be finite, got nan"),
        ({"mu": "1"}, TypeError, r"mu must be a real number, got '1'"),
        ({"n_samples": 0}, ValueError, r"n_samples must be >= 1, got 0"),
        ({"n_samples": 2.5}, TypeError, r"n_samples must be an integer, got 2\.5"),
        ({"f": 3.0}, TypeError, r"f must be callable .* got 3\.0"),
        ({"f": lambda x: x.detach().numpy() ** 2}, TypeError, r"f must use torch operations .*ndarray"),
        ({"f": lambda x: x.sum()}, ValueError, r"f must act elementwise: .* shape \(10,\) .* shape \(\)"),
        ({"f": lambda x: x[:, None] ** 2}, ValueError, r"shape \(10, 1\)"),
        ({"seed": 1.5}, TypeError, r"seed must be None or an integer, got 1\.5"),
    ],
)
def test_bad_input_raises_naming_the_parameter(estimator, kwargs, error, message):
    args = {"f": F, "mu": 0.0, "sigma": 1.0, "n_samples": 10} | kwargs
    with pytest.raises(error, match=message):
        estimator(args.pop("f"), **args)


@pytest.mark.parametrize(
    "baseline, error, message",
    [
        ("best", ValueError, r"baseline must be None, a number or 'optimal', got 'best'"),
        (True, TypeError, r"baseline must be None, a number or 'optimal', got True"),
        ([1.0], TypeError, r"got \[1\.0\]"),
        (float("inf"), ValueError, r"baseline must be finite, got inf"),
    ],
)
def test_bad_baseline(baseline, error, message):
    with pytest.raises(error, match=message):
        E.score_function(F, 0.0, 1.0, 10, baseline=baseline)


def test_pathwise_needs_an_autograd_function():
    with pytest.raises(TypeError, match="differentiable by torch autograd"):
        E.pathwise(lambda x: torch.from_numpy(np.cos(x.detach().numpy())), 0.0, 1.0, 10)


def test_bad_test_function_arguments():
    with pytest.raises(ValueError, match=r"function must be one of .* got 'sine'"):
        E.objective("sine", 1.0)
    with pytest.raises(ValueError, match=r"k must be >= 0 for the exponential test function.* got -1\.0"):
        E.exact_gradient("exponential", 0.0, 1.0, -1.0)
    with pytest.raises(ValueError, match=r"k must be finite, got nan"):
        E.objective("cosine", float("nan"))
    with pytest.raises(ValueError, match=r"estimator must be one of .* got 'reinforce'"):
        E.exact_variance("cosine", "reinforce", 0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match=r"sigma must be > 0, got -1\.0"):
        E.exact_variance("cosine", "pathwise", 0.0, -1.0, 1.0)
    with pytest.raises(ValueError, match=r"dim must be >= 1, got 0"):
        E.exact_variance("cosine", "score_function", 0.0, 1.0, 1.0, dim=0)


# --- the estimator explorer -------------------------------------------------------------


def check_explorer_output(out, n_samples):
    assert set(out["estimates"]) == {*E.ESTIMATORS, "measure_valued"}
    for e in out["estimates"]:
        assert out["estimates"][e].shape == (1000, 2)
        for key in ("estimates", "exact_variance", "empirical_variance", "density", "outside"):
            assert np.all(np.isfinite(out[key][e])), (key, e)
        assert np.all(out["exact_variance"][e] >= 0)
    assert np.all(np.isfinite(out["exact_gradient"])) and np.all(np.isfinite(out["bin_edges"]))
    assert np.all(np.diff(out["bin_edges"], axis=1) > 0)


def test_explorer_sweeps_corners_and_a_grid_of_its_ranges():
    ranges = E.ESTIMATOR_EXPLORER_RANGES
    choices = list(itertools.product(*E.ESTIMATOR_EXPLORER_CHOICES.values()))
    for function, baseline in choices:
        for mu, sigma, k, n_samples in itertools.product(*ranges.values()):
            out = E.explore_estimators(function, mu, sigma, k, n_samples, baseline)
            check_explorer_output(out, n_samples)
    grid = itertools.product(*(np.linspace(lo, hi, 4) for lo, hi in list(ranges.values())[:3]))
    for i, (mu, sigma, k) in enumerate(grid):
        function, baseline = choices[i % len(choices)]
        out = E.explore_estimators(function, float(mu), float(sigma), float(k), 1 + 13 * (i % 8), baseline)
        check_explorer_output(out, 1 + 13 * (i % 8))


def test_explorer_variances_agree_with_exact():
    for baseline in ("none", "mean"):
        out = E.explore_estimators("cosine", 1.0, 1.0, 2.0, 10, baseline)
        for e in (*E.ESTIMATORS, "measure_valued"):
            var, se = variance_and_se(out["estimates"][e])
            assert np.all(np.abs(var - out["exact_variance"][e]) <= 5 * se)
            assert not out["exact_is_lower_bound"][e]
    np.testing.assert_allclose(out["exact_variance"]["pathwise"] * 10, E.exact_variance("cosine", "pathwise", 1, 1, 2))


def test_explorer_draws_are_those_of_the_estimators_and_threads_are_left_alone():
    threads = torch.get_num_threads()
    f, exact_mean = E.objective("exponential", 1.5), E.exact_value("exponential", 0.5, 0.7, 1.5)
    for baseline, b in [("none", None), ("mean", exact_mean)]:
        out = E.explore_estimators("exponential", 0.5, 0.7, 1.5, 7, baseline, n_replicates=3000, seed=9)
        score = E.score_function(f, 0.5, 0.7, 21_000, baseline=b, seed=9).reshape(3000, 7, 2).mean(1)
        path = E.pathwise(f, 0.5, 0.7, 21_000, seed=10).reshape(3000, 7, 2).mean(1)
        np.testing.assert_allclose(out["estimates"]["score_function"], score, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out["estimates"]["pathwise"], path, rtol=1e-12, atol=1e-15)
        weak = E.measure_valued(f, 0.5, 0.7, 21_000, seed=11).reshape(3000, 7, 2).mean(1)
        np.testing.assert_allclose(out["estimates"]["measure_valued"], weak, rtol=1e-12, atol=1e-15)
    assert torch.get_num_threads() == threads


def test_explorer_optimal_baseline_uses_only_the_draws_of_its_own_estimate():
    L, replicates, seed, (mu, sigma, k) = 4, 50, 3, (0.5, 0.8, 2.0)
    out = E.explore_estimators("cosine", mu, sigma, k, L, "optimal", n_replicates=replicates, seed=seed)
    eps = E.standard_normal_draws(L * replicates, seed).numpy().reshape(replicates, L)
    for r in range(replicates):  # written out draw by draw, independently of the package
        e = eps[r]
        f, scores = np.cos(k * (mu + sigma * e)), [e / sigma, (e**2 - 1) / sigma]
        expected = []
        for s in scores:
            others = [[j for j in range(L) if j != i] for i in range(L)]
            b = [np.sum(f[o] * s[o] ** 2) / np.sum(s[o] ** 2) for o in others]
            expected.append(np.mean([(f[i] - b[i]) * s[i] for i in range(L)]))
        np.testing.assert_allclose(out["estimates"]["score_function"][r], expected, rtol=1e-10, atol=1e-12)


def test_explorer_optimal_baseline_at_one_sample_falls_back_to_none_and_says_so():
    optimal, none = (E.explore_estimators("quadratic", 1.0, 1.0, 2.0, 1, b) for b in ("optimal", "none"))
    np.testing.assert_array_equal(optimal["estimates"]["score_function"], none["estimates"]["score_function"])
    np.testing.assert_array_equal(optimal["exact_variance"]["score_function"], none["exact_variance"]["score_function"])
    assert optimal["baseline_used"] == "none" and "L = 1" in optimal["note"] and none["note"] == ""
    assert not optimal["exact_is_lower_bound"]["score_function"]


@pytest.mark.parametrize("name, mu, sigma, k", CASES)
def test_leave_one_out_variance_by_quadrature(name, mu, sigma, k):
    f, _ = f_and_derivative(name, mu + sigma * NODES, k)
    _, no_baseline, _ = quadrature_reference(name, mu, sigma, k)
    variance, exact = E.leave_one_out_variance(name, mu, sigma, k, 1)
    assert exact
    np.testing.assert_allclose(variance, no_baseline, rtol=1e-8, atol=1e-12)
    expected = []
    for s2, s2_mean in [(NODES**2 / sigma**2, 1 / sigma**2), ((NODES**2 - 1) ** 2 / sigma**2, 2 / sigma**2)]:
        mean_f, mean_f2, f_s2, f2_s2 = WEIGHTS @ f, WEIGHTS @ f**2, WEIGHTS @ (f * s2), WEIGHTS @ (f**2 * s2)
        expected.append((f2_s2 + mean_f2 * s2_mean - 2 * mean_f * f_s2) / 2)
    variance, exact = E.leave_one_out_variance(name, mu, sigma, k, 2)
    assert exact
    np.testing.assert_allclose(variance, expected, rtol=1e-8, atol=1e-12)
    floor = E.exact_variance(name, "score_function", mu, sigma, k, baseline="optimal")
    assert np.all(variance >= floor / 2 - 1e-12)  # Var = V(b*)/L + E[R^2]
    variance, exact = E.leave_one_out_variance(name, mu, sigma, k, 7)
    assert not exact
    np.testing.assert_allclose(variance, floor / 7)


@pytest.mark.parametrize("name", E.FUNCTIONS)
def test_explorer_leave_one_out_variance_is_exact_at_two_samples_and_bounded_below_beyond(name):
    mu, sigma, k = 1.0, 1.0, 2.0
    for L in (2, 5):
        out = E.explore_estimators(name, mu, sigma, k, L, "optimal", n_replicates=100_000, seed=11)
        var, se = variance_and_se(out["estimates"]["score_function"])
        exact = out["exact_variance"]["score_function"]
        if L == 2:  # a pooled baseline (shared across the replicates) would give about V(b*)/2 instead
            assert not out["exact_is_lower_bound"]["score_function"]
            assert np.all(np.abs(var - exact) <= 5 * se), (var, exact, se)
        else:
            assert out["exact_is_lower_bound"]["score_function"]
            assert np.all(var >= exact - 5 * se), (var, exact, se)


def test_explorer_rejects_bad_choices():
    with pytest.raises(ValueError, match=r"baseline must be one of .* got 'zero'"):
        E.explore_estimators("cosine", 1.0, 1.0, 2.0, 10, "zero")
    with pytest.raises(ValueError, match=r"n_samples must be >= 1, got 0"):
        E.explore_estimators("cosine", 1.0, 1.0, 2.0, 0)


def test_explorer_panel_builds_and_updates():
    from vilab.widgets import estimator_explorer_panel

    panel = estimator_explorer_panel()
    image, readout = panel.children[2], panel.children[3]
    controls = dict(zip(E.ESTIMATOR_EXPLORER_DEFAULTS, panel.children[1].children, strict=True))
    first_image, first_text = image.value, readout.value
    assert first_image[:4] == b"\x89PNG" and "exact gradient" in first_text
    controls["k"].value = 8.0
    controls["baseline"].value = "optimal"
    assert "L = 1: no other draw" in readout.value and "≥" not in readout.value
    controls["n_samples"].value = 100
    assert image.value != first_image and readout.value != first_text
    assert "L = 100" in readout.value and "nan" not in readout.value.lower()
    assert "≥" in readout.value and "lower bound" in readout.value


# --- sticking the landing (elbo_pathwise on a ConjugateGaussian) ----------------------------------------------------

CONJUGATE = ConjugateGaussian(np.random.default_rng(1).normal(1.5, 1.0, size=20))
CONJ_DATA = torch.from_numpy(CONJUGATE.x)


def conjugate_log_joint(z):
    """log p(x, z) for CONJUGATE, written independently of vilab.models (prior N(0, 1), unit noise)."""
    n = len(CONJ_DATA)
    return -0.5 * (n + 1) * math.log(2 * math.pi) - 0.5 * z**2 - 0.5 * ((CONJ_DATA - z[..., None]) ** 2).sum(-1)


Q_POINTS = [(CONJUGATE.posterior()[0] + 0.3, 0.5 * CONJUGATE.posterior()[1]), (-1.0, 1.0), (1.2, 0.3)]


def test_conjugate_log_joint_matches_the_model():
    z = np.array([-1.0, 0.4, 2.0])
    np.testing.assert_allclose(conjugate_log_joint(torch.from_numpy(z)).numpy(), CONJUGATE.log_joint(z), rtol=1e-12)


@pytest.mark.parametrize("mu, sigma", Q_POINTS)
def test_conjugate_elbo_gradient_matches_differences_of_the_exact_elbo(mu, sigma):
    h = 1e-6
    numeric = [
        (CONJUGATE.elbo(mu + h, sigma) - CONJUGATE.elbo(mu - h, sigma)) / (2 * h),
        (CONJUGATE.elbo(mu, sigma + h) - CONJUGATE.elbo(mu, sigma - h)) / (2 * h),
    ]
    np.testing.assert_allclose(E.conjugate_elbo_gradient(CONJUGATE, mu, sigma), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("stick", [False, True])
@pytest.mark.parametrize("mu, sigma", Q_POINTS)
def test_elbo_pathwise_is_unbiased_with_the_exact_variance(mu, sigma, stick):
    n = 200_000
    rows = E.elbo_pathwise(conjugate_log_joint, mu, sigma, n, stick_the_landing=stick, seed=11)
    exact = E.conjugate_elbo_gradient(CONJUGATE, mu, sigma)
    assert np.all(np.abs(rows.mean(0) - exact) < 4 * rows.std(0, ddof=1) / math.sqrt(n))
    var, se = variance_and_se(rows)
    assert np.all(
        np.abs(var - E.conjugate_elbo_pathwise_variance(CONJUGATE, mu, sigma, stick_the_landing=stick)) < 5 * se
    )


def test_elbo_pathwise_without_sticking_is_autograds_total_derivative():
    mu, sigma = 0.4, 0.7
    eps = E.standard_normal_draws(6, seed=2)
    phi = torch.tensor([mu, sigma], dtype=torch.float64, requires_grad=True)
    z = phi[0] + phi[1] * eps
    log_q = -0.5 * math.log(2 * math.pi) - torch.log(phi[1]) - 0.5 * ((z - phi[0]) / phi[1]) ** 2
    rows = [torch.autograd.grad(value, phi, retain_graph=True)[0].numpy() for value in conjugate_log_joint(z) - log_q]
    np.testing.assert_allclose(E.elbo_pathwise(conjugate_log_joint, mu, sigma, 6, seed=2), rows, rtol=1e-12)
    # sticking the landing: the same with q's parameters detached inside log q (Roeder et al. 2017)
    log_q_stopped = -0.5 * math.log(2 * math.pi) - math.log(sigma) - 0.5 * ((z - mu) / sigma) ** 2
    rows = [
        torch.autograd.grad(value, phi, retain_graph=True)[0].numpy()
        for value in conjugate_log_joint(z) - log_q_stopped
    ]
    np.testing.assert_allclose(
        E.elbo_pathwise(conjugate_log_joint, mu, sigma, 6, stick_the_landing=True, seed=2), rows, rtol=1e-12
    )


def test_sticking_the_landing_has_zero_variance_at_the_posterior_only():
    m_n, s_n = CONJUGATE.posterior()
    rows = E.elbo_pathwise(conjugate_log_joint, m_n, s_n, 10_000, stick_the_landing=True, seed=3)
    assert rows.var(0).max() < 1e-25
    usual = E.conjugate_elbo_pathwise_variance(CONJUGATE, m_n, s_n)
    np.testing.assert_allclose(usual, [1 / s_n**2, 2 / s_n**2], rtol=1e-12)  # a^2 s_n^2 and 2 a^2 s_n^2
    for factor, stl_smaller in [(0.6, False), (0.8, True), (2.0, True)]:  # the crossing is at s_n / sqrt(2)
        v = [
            E.conjugate_elbo_pathwise_variance(CONJUGATE, m_n, factor * s_n, stick_the_landing=s) for s in (True, False)
        ]
        assert (v[0][0] < v[1][0]) == stl_smaller


# --- the variance-reduction toolbox: exact variances against Monte Carlo --------------------------------------------


def toolbox_estimates(name, mu, sigma, k, method, L, n, seed, decay=0.9):
    """n independent L-sample score-function estimates with ``method``, in numpy, written independently of vilab."""
    rng = np.random.default_rng(seed)
    burn = 200 if method == "running" else 0
    eps = rng.standard_normal((n + burn, L))
    if method == "antithetic":
        eps = np.concatenate([eps[:, : L // 2], -eps[:, : L // 2]], axis=1)
    f, _ = f_and_derivative(name, mu + sigma * eps, k)
    scores = np.stack([eps / sigma, (eps**2 - 1) / sigma], -1)  # (n, L, 2)
    shift = np.zeros(2)
    if method in ("none", "antithetic"):
        b = 0.0
    elif method == "mean":
        b = E.exact_value(name, mu, sigma, k)
    elif method == "optimal":
        b = E.optimal_baseline(name, mu, sigma, k)
    elif method == "running":  # b_t = decay b_{t-1} + (1 - decay) mean(f_{t-1}), from b_0 = 0
        means, b = f.mean(1), np.zeros(n + burn)
        for t in range(1, n + burn):
            b[t] = decay * b[t - 1] + (1 - decay) * means[t - 1]
        b = b[:, None, None]
    elif method == "rloo":
        b = ((f.sum(1, keepdims=True) - f) / (L - 1))[..., None]
    elif method == "plug-in":
        b = f.mean(1, keepdims=True)[..., None]
    else:  # taylor
        f_mu, df_mu = f_and_derivative(name, np.array(mu), k)
        b = (f_mu + df_mu * sigma * eps)[..., None]  # h(x), subtracted like a baseline
        shift = np.array([df_mu, 0.0])
    b = b if np.ndim(b) == 3 else np.broadcast_to(b, (2,))
    return (((f[..., None] - b) * scores).mean(1) + shift)[burn:]


@pytest.mark.parametrize("method", E.TOOLBOX)
@pytest.mark.parametrize(
    "name, mu, sigma, k", [("quadratic", 1.0, 1.0, 2.0), ("exponential", 0.5, 0.8, 1.5), ("cosine", 1.0, 1.0, 2.0)]
)
def test_toolbox_variances_match_monte_carlo(name, mu, sigma, k, method):
    L, n = 4, 100_000
    est = toolbox_estimates(
        name, mu, sigma, k, method, L, n, seed=10 * E.TOOLBOX.index(method) + E.FUNCTIONS.index(name)
    )
    gradient = E.exact_gradient(name, mu, sigma, k)
    expected_mean = gradient * (1 - 1 / L) if method == "plug-in" else gradient  # the plug-in's bias is -g/L
    assert np.all(np.abs(est.mean(0) - expected_mean) < 4 * est.std(0, ddof=1) / math.sqrt(n))
    var, se = variance_and_se(est)
    exact = E.score_function_variance(name, mu, sigma, k, method, L)
    assert np.all(np.abs(var - exact) < 5 * se), (var, exact, se)


def test_toolbox_constant_baselines_are_exact_variance_over_L():
    for b, method in [(None, "none"), ("optimal", "optimal")]:
        np.testing.assert_allclose(
            E.score_function_variance("cosine", 1.0, 1.0, 2.0, method, 8),
            E.exact_variance("cosine", "score_function", 1.0, 1.0, 2.0, baseline=b) / 8,
            rtol=1e-14,
        )


def test_plug_in_is_a_scaled_rloo():
    rloo = E.score_function_variance("quadratic", 1.0, 1.0, 2.0, "rloo", 5)
    np.testing.assert_allclose(E.score_function_variance("quadratic", 1.0, 1.0, 2.0, "plug-in", 5), 0.64 * rloo)


# --- the measure-valued derivative ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name, mu, sigma, k", [c for c in CASES if c[1:] != (2.0, 1.5, 0.7)])
def test_measure_valued_is_unbiased_with_the_exact_variance(name, mu, sigma, k):
    n = 200_000
    est = E.measure_valued(E.objective(name, k), mu, sigma, n, seed=E.FUNCTIONS.index(name))
    assert np.all(np.abs(est.mean(0) - E.exact_gradient(name, mu, sigma, k)) < 4 * est.std(0, ddof=1) / math.sqrt(n))
    var, se = variance_and_se(est)
    assert np.all(np.abs(var - E.measure_valued_variance(name, mu, sigma, k)) < 5 * se)


def test_measure_valued_draws_have_the_stated_laws():
    # with f(x) = x and f(x) = x^2 the two sides give the Rayleigh and Maxwell moments: E R = sqrt(pi/2), E D^2 = 3
    est = E.measure_valued(lambda x: x, 0.0, 1.0, 200_000, seed=4)
    assert abs(est[:, 0].mean() - 2 * math.sqrt(math.pi / 2) / math.sqrt(2 * math.pi)) < 4 * est[:, 0].std() / 447
    est = E.measure_valued(lambda x: x**2, 0.0, 1.0, 200_000, seed=5)
    assert abs(est[:, 1].mean() - (3 - 1)) < 4 * est[:, 1].std() / 447  # d/dsigma E[x^2] = 2 sigma = 2


@pytest.mark.parametrize("name, mu, sigma, k", CASES + [("cosine", -2.0, 0.1, 10.0), ("exponential", 2.0, 2.0, 10.0)])
def test_measure_valued_mu_variance_closed_form_matches_quadrature(name, mu, sigma, k):
    from scipy import integrate

    f = lambda x: f_and_derivative(name, x, k)[0]  # noqa: E731
    second = integrate.quad(
        lambda r: (f(mu + sigma * r) - f(mu - sigma * r)) ** 2 * r * math.exp(-r * r / 2), 0, np.inf
    )[0]
    expected = second / (2 * math.pi * sigma**2) - E.exact_gradient(name, mu, sigma, k)[0] ** 2
    assert math.isclose(E.measure_valued_variance(name, mu, sigma, k)[0], expected, rel_tol=1e-7, abs_tol=1e-12)
