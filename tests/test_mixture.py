"""Tests for vilab.mixture: CAVI, EM and SVI for the Bayesian Gaussian mixture."""

import math

import numpy as np
import pytest
from scipy import optimize, stats
from scipy.special import logsumexp, softmax

from vilab import mixture as mx


def mixture_data(n, means, seed, dim=1):
    """n points from an equal-weight mixture of unit-variance Gaussians at ``means``."""
    rng = np.random.default_rng(seed)
    means = np.asarray(means, dtype=float).reshape(len(means), -1)[:, :dim]
    labels = rng.integers(0, len(means), n)
    x = means[labels] + rng.standard_normal((n, means.shape[1]))
    return x[:, 0] if dim == 1 else x


TINY_X = np.array([-2.1, -1.4, -0.3, 0.8, 1.9, 2.6])


def tiny_state(alpha0=None):
    """A non-optimal mean-field state on a 6-point, K=2 problem."""
    phi = np.array([[0.9, 0.1], [0.7, 0.3], [0.5, 0.5], [0.4, 0.6], [0.2, 0.8], [0.1, 0.9]])
    m, s2 = np.array([-1.0, 1.5]), np.array([0.4, 0.7])
    alpha = None if alpha0 is None else np.array([2.5, 4.0])
    return phi, m, s2, alpha


# --- the ELBO ---------------------------------------------------------------------


@pytest.mark.parametrize("alpha0", [None, 0.7])
def test_elbo_matches_monte_carlo_estimate(alpha0):
    """The closed form equals E_q[log p(x, mu, c, pi) - log q], estimated by sampling (4 standard errors)."""
    x, sigma2 = TINY_X, 4.0
    phi, m, s2, alpha = tiny_state(alpha0)
    rng = np.random.default_rng(0)
    S, (N, K) = 40_000, phi.shape
    mu = m + np.sqrt(s2) * rng.standard_normal((S, K))
    c = (rng.random((S, N, 1)) > np.cumsum(phi, axis=1)[None]).sum(-1)  # [S, N] categorical draws
    log_p = stats.norm.logpdf(mu, 0, math.sqrt(sigma2)).sum(1) - stats.norm.logpdf(mu, m, np.sqrt(s2)).sum(1)
    log_p += stats.norm.logpdf(x, np.take_along_axis(mu, c, 1), 1).sum(1) - np.log(phi[np.arange(N), c]).sum(1)
    if alpha0 is None:
        log_p += -N * math.log(K)
    else:
        pi = rng.dirichlet(alpha, S)
        log_p += np.log(np.take_along_axis(pi, c, 1)).sum(1)
        log_p += stats.dirichlet.logpdf(pi.T, np.full(K, alpha0)) - stats.dirichlet.logpdf(pi.T, alpha)
    closed = mx.elbo(x, phi, m, s2, sigma2=sigma2, alpha=alpha, alpha0=alpha0)
    assert abs(log_p.mean() - closed) < 4 * log_p.std() / math.sqrt(S)


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize("alpha0", [None, 0.5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_elbo_never_decreases_under_cavi(dim, alpha0, seed):
    x = mixture_data(300, [[-3, 1], [0, -2], [3, 2]], seed, dim)
    fit = mx.cavi(x, 4, sigma2=10.0, alpha0=alpha0, max_iter=60, tol=0, seed=seed)
    assert len(fit.elbo) == 1 + (3 if alpha0 else 2) * 60
    assert np.all(np.diff(fit.elbo) >= -1e-9 * np.abs(fit.elbo[1:]))
    assert fit.elbo[-1] > fit.elbo[0]
    assert np.all(np.diff(fit.seconds) >= 0)


def test_cavi_trace_equals_direct_elbo():
    """The ELBO CAVI records from sufficient statistics equals the closed form on the returned factors."""
    x = mixture_data(200, [-4, 0, 4], 3)
    fit = mx.cavi(x, 3, sigma2=50.0, alpha0=2.0, max_iter=5, tol=0, keep_history=True)
    for value, (phi, m, s2, alpha) in zip(fit.elbo, fit.history, strict=True):
        assert value == pytest.approx(mx.elbo(x, phi, m, s2, sigma2=50.0, alpha=alpha, alpha0=2.0), rel=1e-12)
    phi, m, s2, alpha = fit.history[-1]
    np.testing.assert_allclose(fit.phi, phi, atol=1e-12)
    np.testing.assert_allclose(fit.m, m)


# --- each CAVI update is the exact maximiser of the ELBO in its coordinate ------------


@pytest.mark.parametrize("alpha0", [None, 0.7])
@pytest.mark.parametrize("i", [0, 2, 5])
def test_assignment_update_maximises_elbo(alpha0, i):
    x, sigma2 = TINY_X, 4.0
    phi, m, s2, alpha = tiny_state(alpha0)

    def negative_elbo(logits):
        trial = phi.copy()
        trial[i] = softmax(np.r_[0.0, logits])
        return -mx.elbo(x, trial, m, s2, sigma2=sigma2, alpha=alpha, alpha0=alpha0)

    best = optimize.minimize(negative_elbo, [0.0], method="BFGS", options={"gtol": 1e-10})
    updated = mx.update_assignments(x, m, s2, mx.expected_log_weights(2, alpha))
    np.testing.assert_allclose(updated[i], softmax(np.r_[0.0, best.x]), atol=1e-5)


@pytest.mark.parametrize("k", [0, 1])
def test_mean_update_maximises_elbo(k):
    x, sigma2 = TINY_X, 4.0
    phi, m, s2, _ = tiny_state()

    def negative_elbo(params):
        m_trial, s2_trial = m.copy(), s2.copy()
        m_trial[k], s2_trial[k] = params[0], math.exp(params[1])
        return -mx.elbo(x, phi, m_trial, s2_trial, sigma2=sigma2)

    best = optimize.minimize(negative_elbo, [0.0, 0.0], method="BFGS", options={"gtol": 1e-10})
    m_new, s2_new = mx.update_means(x, phi, sigma2)
    assert m_new[k] == pytest.approx(best.x[0], abs=1e-5)
    assert s2_new[k] == pytest.approx(math.exp(best.x[1]), rel=1e-5)


def test_mean_update_maximises_elbo_in_two_dimensions():
    x = mixture_data(8, [[-2, 1], [2, -1]], 5, dim=2)
    phi = np.linspace(0.1, 0.9, 8)[:, None] * np.array([1, -1]) + np.array([0, 1])
    m, s2 = np.array([[-1.0, 0.0], [1.0, 0.5]]), np.array([0.3, 0.6])

    def negative_elbo(params):
        m_trial, s2_trial = m.copy(), s2.copy()
        m_trial[1], s2_trial[1] = params[:2], math.exp(params[2])
        return -mx.elbo(x, phi, m_trial, s2_trial, sigma2=3.0)

    best = optimize.minimize(negative_elbo, [0.0, 0.0, 0.0], method="BFGS", options={"gtol": 1e-10})
    m_new, s2_new = mx.update_means(x, phi, 3.0)
    np.testing.assert_allclose(m_new[1], best.x[:2], atol=1e-5)
    assert s2_new[1] == pytest.approx(math.exp(best.x[2]), rel=1e-5)


def test_weight_update_maximises_elbo():
    x, sigma2, alpha0 = TINY_X, 4.0, 0.7
    phi, m, s2, _ = tiny_state(alpha0)

    def negative_elbo(log_alpha):
        return -mx.elbo(x, phi, m, s2, sigma2=sigma2, alpha=np.exp(log_alpha), alpha0=alpha0)

    best = optimize.minimize(negative_elbo, [0.0, 0.0], method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(mx.update_weights(phi, alpha0), np.exp(best.x), rtol=1e-5)


# --- EM is VB with a point mass on mu ----------------------------------------------------


def test_point_mass_assignment_update_is_the_exact_posterior():
    """With s2 = 0 the q(c) update is Bayes' rule p(c_i = k | x_i, mu = m), i.e. EM's E-step."""
    m, weights = np.array([-1.0, 0.3, 2.0]), np.array([0.2, 0.5, 0.3])
    joint = weights * stats.norm.pdf(TINY_X[:, None], m, 1.0)
    expected = joint / joint.sum(1, keepdims=True)
    np.testing.assert_allclose(mx.update_assignments(TINY_X, m, np.zeros(3), np.log(weights)), expected, rtol=1e-12)
    # and the VB update tends to it as the spread of q(mu) shrinks to a point
    shrinking = [
        np.abs(mx.update_assignments(TINY_X, m, eps * np.array([1.0, 2, 3]), np.log(weights)) - expected).max()
        for eps in (1e-1, 1e-2, 1e-3)
    ]
    assert shrinking[0] > shrinking[1] > shrinking[2] and shrinking[2] < 1e-3


def test_log_joint_map_matches_scipy():
    x = mixture_data(50, [-3, 3], 0)
    m, weights = np.array([-2.5, 3.5]), np.array([0.3, 0.7])
    expected = logsumexp(np.log(weights) + stats.norm.logpdf(x[:, None], m, 1), axis=1).sum()
    expected += stats.norm.logpdf(m, 0, math.sqrt(20.0)).sum() + stats.dirichlet.logpdf(weights, [2.0, 2.0])
    assert mx.log_joint_map(x, m, sigma2=20.0, weights=weights, alpha0=2.0) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("alpha0", [None, 1.0, 3.0])
def test_em_climbs_to_a_stationary_point_of_the_log_posterior(alpha0):
    """EM never decreases log p(x, m [, w]) and stops where its gradient in m vanishes (MAP)."""
    x = mixture_data(400, [-4, 0, 4], 1)
    fit = mx.em(x, 3, sigma2=25.0, alpha0=alpha0, max_iter=500, tol=1e-13)
    assert np.all(np.diff(fit.log_joint) >= -1e-9 * np.abs(fit.log_joint[1:]))
    objective = lambda means: mx.log_joint_map(x, means, sigma2=25.0, weights=fit.weights, alpha0=alpha0)  # noqa: E731
    gradient = optimize.approx_fprime(fit.m, objective, 1e-6)
    assert np.abs(gradient).max() < 1e-3
    assert fit.log_joint[-1] == pytest.approx(objective(fit.m), rel=1e-12)


def test_em_is_the_cavi_sweep_with_a_point_mass():
    """One EM iteration = the CAVI sweep with s2 = 0 in the q(c) update (the M-step keeps only the mean)."""
    x = mixture_data(100, [-3, 3], 2)
    init = np.array([-1.0, 1.0])
    phi = mx.update_assignments(x, init, np.zeros(2))
    m_expected, _ = mx.update_means(x, phi, 10.0)
    np.testing.assert_allclose(mx.em(x, 2, sigma2=10.0, init=init, max_iter=1).m, m_expected, rtol=1e-12)


# --- SVI ------------------------------------------------------------------------------


def test_minibatch_estimate_of_the_global_update_is_unbiased():
    x = mixture_data(2000, [-3, 0, 3], 4)
    m, s2, sigma2 = np.array([-2.0, 0.5, 2.5]), np.full(3, 0.01), 10.0
    phi = mx.update_assignments(x, m, s2)
    full_eta, full_precision, full_alpha = mx.intermediate_global(x, phi, sigma2=sigma2, n_total=len(x), alpha0=0.5)
    np.testing.assert_allclose(full_precision, 1 / sigma2 + phi.sum(0))
    rng = np.random.default_rng(0)
    draws = []
    for _ in range(2000):
        batch = rng.integers(0, len(x), 10)
        eta, precision, _ = mx.intermediate_global(x[batch], phi[batch], sigma2=sigma2, n_total=len(x))
        draws.append(np.r_[eta[:, 0], precision])
    draws = np.array(draws)
    error = np.abs(draws.mean(0) - np.r_[full_eta[:, 0], full_precision])
    assert np.all(error < 4 * draws.std(0) / math.sqrt(len(draws)))


def test_svi_reaches_the_cavi_optimum_on_well_separated_data():
    x = mixture_data(20_000, [-6, 0, 6], 1)
    init = np.array([-1.0, 0.5, 2.0])
    best = mx.cavi(x, 3, init=init, tol=1e-12, max_iter=500)
    fit = mx.svi(x, 3, init=init, batch_size=200, n_steps=1500, kappa=0.7, tau=1.0, seed=0)
    assert (best.elbo[-1] - fit.elbo[-1]) / len(x) < 1e-4  # nats per data point
    assert np.all(np.abs(fit.m - best.m) < 3 * np.sqrt(best.s2))  # within 3 posterior standard deviations
    np.testing.assert_allclose(fit.s2, best.s2, rtol=0.05)
    assert fit.steps[0] == 0 and fit.steps[-1] == 1500 and np.all(np.diff(fit.seconds) >= 0)


@pytest.mark.parametrize("alpha0", [0.1, 0.7, 1.0, 3.0])
def test_map_weights_maximise_the_log_posterior_of_the_weights_on_the_simplex(alpha0):
    """w = map_weights(N, alpha0) maximises sum_k (N_k + alpha0 - 1) log w_k over the surviving components."""
    counts = np.array([40.0, 0.3, 12.5, 0.0, 2.0])
    weights = mx.map_weights(counts, alpha0)
    alive = counts + alpha0 - 1 > 0
    assert np.all(weights[~alive] == 0) and weights.sum() == pytest.approx(1.0, abs=1e-15)
    coefficients = counts[alive] + alpha0 - 1

    def negative_objective(logits):
        return -(coefficients * (logits - logsumexp(logits))).sum()

    best = softmax(optimize.minimize(negative_objective, np.zeros(alive.sum()), method="BFGS", tol=1e-12).x)
    np.testing.assert_allclose(weights[alive], best, rtol=1e-5)
    if alpha0 >= 1:  # the textbook MAP formula
        np.testing.assert_allclose(weights, (counts + alpha0 - 1) / (counts.sum() + len(counts) * (alpha0 - 1)))


def test_em_with_a_sparse_prior_removes_components_and_stops_at_a_map_of_the_survivors():
    """alpha0 < 1: the clipped M-step removes the surplus; the rest is a stationary point of log p(x, m, w)."""
    x = mixture_data(600, [-5, 0, 5], 0)
    fit = mx.em(x, 8, alpha0=0.1, init=mx.init_means(x, 8, seed=0), max_iter=1000, tol=1e-12)
    alive = fit.weights > 0
    assert alive.sum() == 3 and np.all(fit.phi[:, ~alive] == 0)
    np.testing.assert_allclose(np.sort(fit.m[alive]), [-5, 0, 5], atol=0.3)
    np.testing.assert_allclose(fit.weights, mx.map_weights(fit.phi.sum(0), 0.1), rtol=1e-6)  # a fixed point
    w_alive = fit.weights[alive]

    def objective(means):
        return mx.log_joint_map(x, means, sigma2=100.0, weights=w_alive, alpha0=0.1)

    assert np.abs(optimize.approx_fprime(fit.m[alive], objective, 1e-6)).max() < 1e-3
    assert np.sum(np.diff(fit.log_joint) < -1e-9 * np.abs(fit.log_joint[1:])) <= 8 - 3  # drops only at removals


def test_fits_run_to_their_tolerance_prune_at_alpha0_one_too():
    """K = 8 for 3 clusters, every fit run to its tolerance: at alpha0 = 1 VB and MAP-EM both drain surplus components
    (VB slowly); at alpha0 = 0.1 both keep the same three, VB more than ten times faster than at alpha0 = 1.
    At alpha0 = 1 the two need not keep the same set: on this data VB keeps 5 and EM 6 (EM stops on a plateau)."""
    x = mixture_data(600, [-5, 0, 5], 0)
    init = mx.init_means(x, 8, seed=0)
    cap, kept, n_iter = 100_000, {}, {}
    for alpha0 in (1.0, 0.1):
        vb = mx.cavi(x, 8, alpha0=alpha0, init=init, max_iter=cap, tol=1e-10)
        em = mx.em(x, 8, alpha0=alpha0, init=init, max_iter=cap, tol=1e-10)
        assert vb.n_iter < cap and em.n_iter < cap  # converged, not stopped by the cap
        kept[alpha0] = (vb.alpha / vb.alpha.sum() > 0.01, em.weights > 0.01)
        n_iter[alpha0] = vb.n_iter
    assert all(k.sum() < 8 for k in kept[1.0])
    np.testing.assert_array_equal(*kept[0.1])
    assert kept[0.1][0].sum() == 3 and n_iter[1.0] > 10 * n_iter[0.1]


def test_step_size_schedule():
    np.testing.assert_allclose(mx.step_size([1, 2, 10], kappa=0.5 + 1e-12, tau=0.0), [1, 2**-0.5, 10**-0.5])
    assert mx.step_size(3, kappa=1.0, tau=2.0) == pytest.approx(0.2)


def test_init_means_picks_distinct_data_points():
    x = mixture_data(500, [-5, 0, 5], 0)
    centers = mx.init_means(x, 3, seed=0)
    assert len(np.unique(centers)) == 3 and np.all(np.isin(centers, x))


# --- bad input ------------------------------------------------------------------------


X = mixture_data(50, [-2, 2], 0)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: mx.cavi(X, 0), ValueError, "K must be >= 1, got 0"),
        (lambda: mx.cavi(X, 2.5), TypeError, "K must be an integer, got 2.5"),
        (lambda: mx.cavi(X, 2, sigma2=0.0), ValueError, "sigma2 must be > 0, got 0.0"),
        (lambda: mx.em(X, 2, sigma2=-1.0), ValueError, "sigma2 must be > 0, got -1.0"),
        (lambda: mx.cavi(X, 2, alpha0=-0.5), ValueError, "alpha0 must be > 0, got -0.5"),
        (lambda: mx.em(X, 2, alpha0=-0.5), ValueError, "alpha0 must be > 0, got -0.5"),
        (lambda: mx.map_weights([0.2, 0.3], 0.5), ValueError, "no component has more than 1 - alpha0 = 0.5"),
        (lambda: mx.cavi(np.array([]), 2), ValueError, r"x must contain at least one point, got shape \(0,\)"),
        (
            lambda: mx.cavi(np.array([1.0, np.nan]), 2),
            ValueError,
            "x must be finite, got nan at index 1",
        ),
        (
            lambda: mx.svi(np.ones((3, 2, 2)), 2),
            ValueError,
            r"x must have shape \[N\] or \[N, D\], got shape \(3, 2, 2\)",
        ),
        (lambda: mx.cavi(X, 2, init=[1.0, 2.0, 3.0]), ValueError, r"init must have shape .* got shape \(3,\)"),
        (lambda: mx.cavi(X, 2, tol=-1.0), ValueError, "tol must be >= 0, got -1.0"),
        (lambda: mx.svi(X, 2, batch_size=10, kappa=0.5), ValueError, r"kappa must be in \(0.5, 1\], got 0.5"),
        (lambda: mx.svi(X, 2, batch_size=10, kappa=1.2), ValueError, r"kappa must be in \(0.5, 1\], got 1.2"),
        (lambda: mx.svi(X, 2, batch_size=10, tau=-1.0), ValueError, "tau must be >= 0, got -1.0"),
        (lambda: mx.svi(X, 2, batch_size=0), ValueError, "batch_size must be >= 1, got 0"),
        (
            lambda: mx.svi(X, 2, batch_size=51),
            ValueError,
            "batch_size must be <= the number of data points N = 50, got 51",
        ),
        (
            lambda: mx.svi(X, 2, batch_size=10, n_steps=3, step_sizes=[0.5, 0.5]),
            ValueError,
            r"step_sizes must be 3 values in \(0, 1\]",
        ),
        (
            lambda: mx.svi(X, 2, batch_size=10, n_steps=2, step_sizes=[0.5, 1.5]),
            ValueError,
            r"step_sizes must be 2 values in \(0, 1\]",
        ),
        (lambda: mx.step_size(1, kappa=float("nan")), ValueError, "kappa must be finite, got nan"),
        (lambda: mx.elbo(X, np.ones((3, 2)), [0, 1], [1, 1], sigma2=1.0), ValueError, r"phi must have shape \[N, K\]"),
        (lambda: mx.update_means(X, np.ones((50, 2)), sigma2=-2.0), ValueError, "sigma2 must be > 0, got -2.0"),
    ],
)
def test_bad_input_raises_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- the CAVI stepper widget (notebook 05) -----------------------------------------------


def test_cavi_stepper_covers_every_step_of_its_slider():
    from vilab.widgets import CAVI_STEPPER_RANGES, cavi_stepper, cavi_stepper_history

    x = mixture_data(300, [-4, 0, 4], 0)
    fit = cavi_stepper_history(x, 3, init=np.array([-1.0, -0.5, 0.0]))
    low, high = CAVI_STEPPER_RANGES["step"]
    assert len(fit.history) == len(fit.elbo) == high - low + 1  # one state per slider position
    grid = np.linspace(-9.0, 9.0, 400)
    for step in range(low, high + 1):
        state = cavi_stepper(fit, step, grid)
        assert len(state["elbo"]) == step + 1 and np.all(np.diff(state["elbo"]) >= -1e-9 * np.abs(state["elbo"][1:]))
        assert all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in state.values())
        # each component's predictive density carries mass 1/K on a grid that covers the data
        np.testing.assert_allclose(np.trapezoid(state["densities"], grid, axis=1), 1 / 3, rtol=1e-3)
        assert state["labels"].shape == (300,) and np.all((state["confidence"] >= 1 / 3) & (state["confidence"] <= 1))
    first, last = cavi_stepper(fit, 1, grid), cavi_stepper(fit, high, grid)
    assert np.mean(first["labels"] != last["labels"]) > 0.1  # the poor start is visibly corrected
    assert np.sort(last["m"]) == pytest.approx([-4, 0, 4], abs=0.3)


def test_cavi_stepper_is_fast():
    import time

    from vilab.widgets import CAVI_STEPPER_RANGES, cavi_stepper, cavi_stepper_history

    x = mixture_data(300, [-4, 0, 4], 0)
    fit, grid = cavi_stepper_history(x, 3), np.linspace(-9.0, 9.0, 300)
    times = []
    for step in list(range(CAVI_STEPPER_RANGES["step"][1] + 1)) * 5:
        start = time.perf_counter()
        cavi_stepper(fit, step, grid)
        times.append(time.perf_counter() - start)
    assert np.percentile(times, 95) < 0.1
