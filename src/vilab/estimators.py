"""Score-function and pathwise (reparameterization) gradient estimators, with exact reference values.

Both estimate the gradient of F(mu, sigma) = E_{x ~ N(mu, sigma^2)}[f(x)] with
respect to (mu, sigma). Write x = mu + sigma * eps with eps ~ N(0, 1).

- Score function (log-derivative trick), grad F = E[(f(x) - b) grad log q(x)]:
      d/dmu:    (f(x) - b) * eps / sigma
      d/dsigma: (f(x) - b) * (eps^2 - 1) / sigma
  (grad log q has mean zero, so any baseline b that does not depend on x
  leaves the mean unchanged).
- Pathwise (reparameterization), grad F = E[f'(mu + sigma eps) * d x / d(mu, sigma)]:
      d/dmu:    f'(x)
      d/dsigma: f'(x) * eps

Each function returns ``n_samples`` single-sample estimates as a numpy array of
shape (n_samples, 2): column 0 the mu-derivative, column 1 the sigma-derivative.
Average the rows to get the L-sample estimate.

The three test functions of Mohamed, Rosca, Figurnov & Mnih ("Monte Carlo
Gradient Estimation in Machine Learning", JMLR 2020, Sec. 3) come with their
exact gradients and the exact single-sample variance of each estimator, all in
closed form from Gaussian moments (see ``exact_moment``).
"""

import math
import numbers

import numpy as np
import torch
from numpy.polynomial import polynomial as P

from vilab import _validate, threads

FUNCTIONS = ("quadratic", "exponential", "cosine")
FUNCTION_FORMULAS = {"quadratic": "(x - k)^2", "exponential": "exp(-k x^2)", "cosine": "cos(k x)"}
FUNCTION_LATEX = {"quadratic": r"$(x-k)^2$", "exponential": r"$e^{-kx^2}$", "cosine": r"$\cos(kx)$"}
ESTIMATORS = ("score_function", "pathwise")


# --- the estimators ------------------------------------------------------------


def standard_normal_draws(n_samples, seed=None):
    """eps ~ N(0, 1), float64: ``torch.randn(n_samples, generator=torch.Generator().manual_seed(seed))``.

    With ``seed=None`` torch's global generator is used. Both estimators draw
    their eps exactly like this, so an implementation written elsewhere can
    reproduce their output sample for sample.
    """
    n_samples = _validate.positive_int("n_samples", n_samples)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"seed must be None or an integer, got {seed!r}")
    generator = None if seed is None else torch.Generator().manual_seed(int(seed))
    return torch.randn(n_samples, dtype=torch.float64, generator=generator)


def _check_inputs(f, mu, sigma):
    if not callable(f):
        raise TypeError(f"f must be callable (a 1-D torch tensor -> a 1-D torch tensor), got {f!r}")
    return _validate.finite("mu", mu), _validate.positive("sigma", sigma)


def _evaluate(f, x):
    """f(x), checked: a torch tensor with one value per element of x."""
    value = f(x)
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"f must return a torch tensor (one value per element of its 1-D input), got {type(value).__name__}"
        )
    if value.shape != x.shape:
        raise ValueError(
            f"f must act elementwise: for an input of shape {tuple(x.shape)} it returned shape {tuple(value.shape)}"
        )
    return value


def _check_baseline(baseline):
    if baseline is None or (isinstance(baseline, str) and baseline == "optimal"):
        return baseline
    if isinstance(baseline, str):
        raise ValueError(f"baseline must be None, a number or 'optimal', got {baseline!r}")
    if isinstance(baseline, bool) or not isinstance(baseline, numbers.Real):
        raise TypeError(f"baseline must be None, a number or 'optimal', got {baseline!r}")
    return _validate.finite("baseline", baseline)


def _leave_one_out_baseline(fx, scores):
    """b_i = sum_{j != i} f_j s_j^2 / sum_{j != i} s_j^2 for each column (0 when n = 1)."""
    weights = scores**2
    weighted = fx[:, None] * weights
    numerator = weighted.sum(0) - weighted
    denominator = (weights.sum(0) - weights).clamp_min(torch.finfo(weights.dtype).tiny)  # 0/tiny = 0 when n = 1
    return numerator / denominator


def score_function(f, mu, sigma, n_samples, *, baseline=None, seed=None):
    """Single-sample score-function estimates of grad_(mu, sigma) E_{x~N(mu, sigma^2)}[f(x)].

    Row i, with eps_i ~ N(0, 1) and x_i = mu + sigma eps_i (eps from ``standard_normal_draws``):

        [(f(x_i) - b_i0) * eps_i / sigma,  (f(x_i) - b_i1) * (eps_i^2 - 1) / sigma]

    ``f`` maps a 1-D float64 torch tensor to a 1-D tensor elementwise (no
    derivative of f is needed). ``baseline``:

    - ``None``: b = 0;
    - a number b: the same constant for both columns;
    - ``"optimal"``: per column j, the variance-minimising constant
      b*_j = E[f(x) s_j^2] / E[s_j^2] (s_j the score in column j), estimated
      *leave-one-out*: b_ij = sum_{l != i} f(x_l) s_lj^2 / sum_{l != i} s_lj^2.
      b_ij does not depend on sample i, so every row is still an exactly
      unbiased estimate; its variance exceeds the variance at the exact b*
      by O(1/n_samples). With ``n_samples=1`` there is no other sample and b = 0.
      (Rows are then no longer independent; their correlation is O(1/n^2).)

    Returns a numpy array of shape (n_samples, 2): column 0 d/dmu, column 1 d/dsigma.
    """
    mu, sigma = _check_inputs(f, mu, sigma)
    baseline = _check_baseline(baseline)
    eps = standard_normal_draws(n_samples, seed)
    x = mu + sigma * eps
    with torch.no_grad():
        fx = _evaluate(f, x).to(torch.float64)
    scores = torch.stack([eps / sigma, (eps**2 - 1) / sigma], dim=1)
    if baseline is None:
        b = 0.0
    elif baseline == "optimal":
        b = _leave_one_out_baseline(fx, scores)
    else:
        b = baseline
    return ((fx[:, None] - b) * scores).numpy()


def pathwise(f, mu, sigma, n_samples, *, seed=None):
    """Single-sample pathwise (reparameterization) estimates of grad_(mu, sigma) E_{x~N(mu, sigma^2)}[f(x)].

    Row i, with eps_i ~ N(0, 1) and x_i = mu + sigma eps_i (eps from ``standard_normal_draws``):

        [f'(x_i),  f'(x_i) * eps_i]

    f' comes from torch autograd, so ``f`` must be built from torch operations
    and act elementwise on its 1-D float64 input (then the gradient of sum_i f(x_i)
    with respect to x is the vector of f'(x_i)).

    Returns a numpy array of shape (n_samples, 2): column 0 d/dmu, column 1 d/dsigma.
    """
    mu, sigma = _check_inputs(f, mu, sigma)
    eps = standard_normal_draws(n_samples, seed)
    x = (mu + sigma * eps).requires_grad_(True)
    fx = _evaluate(f, x)
    if not fx.requires_grad:
        raise TypeError("f must be differentiable by torch autograd: build it from torch operations on its input")
    (derivative,) = torch.autograd.grad(fx.sum(), x)
    derivative = derivative.to(torch.float64)
    return torch.stack([derivative, derivative * eps], dim=1).numpy()


# --- the test functions and their exact values -----------------------------------


def _check_function(name, k):
    _validate.one_of("function", name, FUNCTIONS)
    k = _validate.finite("k", k)
    if name == "exponential" and k < 0:
        raise ValueError(f"k must be >= 0 for the exponential test function (else E[f^2] can diverge), got {k!r}")
    return k


def objective(name, k):
    """The test function ``name`` with parameter k as a torch callable: (x-k)^2, exp(-k x^2) or cos(k x)."""
    k = _check_function(name, k)
    if name == "quadratic":
        return lambda x: (x - k) ** 2
    if name == "exponential":
        return lambda x: torch.exp(-k * x**2)
    return lambda x: torch.cos(k * x)


def _terms(name, mu, sigma, k, which):
    """f, f^2 or f'^2 at x = mu + sigma eps as a sum of terms c * exp(log_w + a eps^2 + b eps) * q(eps).

    Each term is (c, log_w, a, b, q) with q the ascending coefficients of a
    polynomial in eps; the cosine uses complex exponentials (take the real part).
    """
    x = np.array([mu, sigma])  # x = mu + sigma eps as a polynomial in eps
    if name == "quadratic":
        d = np.array([mu - k, sigma])  # x - k
        poly = {"f": P.polypow(d, 2), "f2": P.polypow(d, 4), "df2": 4 * P.polypow(d, 2)}[which]
        return [(1.0, 0.0, 0.0, 0.0, poly)]
    if name == "exponential":  # exp(-c x^2) = exp(-c mu^2 - c sigma^2 eps^2 - 2 c mu sigma eps)
        c = k if which == "f" else 2 * k
        coef, poly = (4 * k**2, P.polypow(x, 2)) if which == "df2" else (1.0, np.ones(1))
        return [(coef, -c * mu**2, -c * sigma**2, -2 * c * mu * sigma, poly)]
    one = np.ones(1)  # cosine: cos(w x) = Re exp(i w mu + i w sigma eps)
    if which == "f":
        return [(1.0, 1j * k * mu, 0.0, 1j * k * sigma, one)]
    cos_2kx = (2j * k * mu, 0.0, 2j * k * sigma, one)
    if which == "f2":  # cos^2(kx) = 1/2 + cos(2kx)/2
        return [(0.5, 0.0, 0.0, 0.0, one), (0.5, *cos_2kx)]
    return [(0.5 * k**2, 0.0, 0.0, 0.0, one), (-0.5 * k**2, *cos_2kx)]  # f'^2 = k^2 sin^2(kx) = k^2 (1 - cos 2kx)/2


def _normal_moments(mean, var, degree):
    """E[e^n] for e ~ N(mean, var), n = 0..degree (recursion M_n = mean M_{n-1} + (n-1) var M_{n-2})."""
    moments = np.zeros(degree + 1, dtype=complex)
    moments[0] = 1.0
    if degree >= 1:
        moments[1] = mean
    for n in range(2, degree + 1):
        moments[n] = mean * moments[n - 1] + (n - 1) * var * moments[n - 2]
    return moments


def exact_moment(name, mu, sigma, k, which, poly):
    """E_{eps~N(0,1)}[g(mu + sigma eps) * p(eps)] in closed form, g = f ('f'), f^2 ('f2') or f'^2 ('df2').

    ``poly`` holds the ascending coefficients of the polynomial p. Every g here is
    a sum of terms exp(a eps^2 + b eps) q(eps) (b complex for the cosine), and
        E[exp(a eps^2 + b eps) r(eps)] = exp(b^2 / (2 s)) / sqrt(s) * E_{e ~ N(b/s, 1/s)}[r(e)],  s = 1 - 2a,
    (complete the square), with the moments of N(b/s, 1/s) from their recursion.
    """
    total = 0j
    for coef, log_w, a, b, q in _terms(name, mu, sigma, k, which):
        s = 1.0 - 2.0 * a
        r = P.polymul(q, poly)
        moments = _normal_moments(b / s, 1.0 / s, len(r) - 1)
        total += coef * np.exp(log_w + b * b / (2 * s)) / math.sqrt(s) * np.dot(r, moments)
    return float(total.real)


EPS = np.array([0.0, 1.0])  # the polynomial eps
EPS2 = np.array([0.0, 0.0, 1.0])  # eps^2
SCORE = np.array([-1.0, 0.0, 1.0])  # eps^2 - 1
SCORE2 = np.array([1.0, 0.0, -2.0, 0.0, 1.0])  # (eps^2 - 1)^2


def _check_point(name, mu, sigma, k):
    k = _check_function(name, k)
    return _validate.finite("mu", mu), _validate.positive("sigma", sigma), k


def exact_value(name, mu, sigma, k):
    """E_{x~N(mu, sigma^2)}[f(x)] in closed form."""
    mu, sigma, k = _check_point(name, mu, sigma, k)
    return exact_moment(name, mu, sigma, k, "f", np.ones(1))


def exact_gradient(name, mu, sigma, k):
    """[dF/dmu, dF/dsigma] for F = E_{x~N(mu, sigma^2)}[f(x)]: [E[f eps] / sigma, E[f (eps^2 - 1)] / sigma]."""
    mu, sigma, k = _check_point(name, mu, sigma, k)
    return np.array(
        [
            exact_moment(name, mu, sigma, k, "f", EPS) / sigma,
            exact_moment(name, mu, sigma, k, "f", SCORE) / sigma,
        ]
    )


def optimal_baseline(name, mu, sigma, k, *, dim=1):
    """The variance-minimising constant baseline per column: b*_j = E[F s_j^2] / E[s_j^2].

    For column 0 (s = eps/sigma) b* = E[f eps^2]; for column 1 (s = (eps^2-1)/sigma)
    b* = E[f (eps^2-1)^2] / 2. With ``dim`` > 1, F(x) = sum_i f(x_i) (see ``exact_variance``).
    """
    mu, sigma, k = _check_point(name, mu, sigma, k)
    dim = _validate.positive_int("dim", dim)
    rest = (dim - 1) * exact_moment(name, mu, sigma, k, "f", np.ones(1))  # E[sum_{i>1} f(x_i)]
    return np.array(
        [
            exact_moment(name, mu, sigma, k, "f", EPS2) + rest,
            exact_moment(name, mu, sigma, k, "f", SCORE2) / 2 + rest,
        ]
    )


def exact_variance(name, estimator, mu, sigma, k, *, baseline=None, dim=1):
    """Exact variance of one single-sample estimate, per column: np.array([Var d/dmu, Var d/dsigma]).

    Pathwise:        Var = E[f'(x)^2] - g_mu^2  and  E[f'(x)^2 eps^2] - g_sigma^2.
    Score function with constant baseline b (None -> 0, ``"optimal"`` -> the exact b*_j
    of ``optimal_baseline``; the leave-one-out estimate in ``score_function`` reaches
    this variance as n_samples grows):
        Var_j = (E[F^2 p_j] - 2 b E[F p_j] + b^2 E[p_j]) / sigma^2 - g_j^2,
        p_0 = eps^2, p_1 = (eps^2 - 1)^2,  E[p_0] = 1, E[p_1] = 2.

    ``dim`` > 1: x ~ N(mu 1, sigma^2 I_dim) and the separable F(x) = sum_i f(x_i);
    the variance is that of the derivative with respect to mu_1 (or sigma_1).
    The pathwise one does not depend on dim; for the score function, with
    R = sum_{i>1} f(x_i) independent of x_1, E[R] = (dim-1) m, E[R^2] = (dim-1) v + (dim-1)^2 m^2
    (m, v the mean and variance of f(x_1)):
        E[F p] = E[f p] + E[R] E[p],  E[F^2 p] = E[f^2 p] + 2 E[R] E[f p] + E[R^2] E[p].
    The L-sample average has variance Var / L.
    """
    mu, sigma, k = _check_point(name, mu, sigma, k)
    _validate.one_of("estimator", estimator, ESTIMATORS)
    dim = _validate.positive_int("dim", dim)
    gradient = exact_gradient(name, mu, sigma, k)
    if estimator == "pathwise":
        second = [exact_moment(name, mu, sigma, k, "df2", p) for p in (np.ones(1), EPS2)]
        return np.maximum(np.array(second) - gradient**2, 0.0)
    baseline = _check_baseline(baseline)
    mean = exact_moment(name, mu, sigma, k, "f", np.ones(1))
    var_f = exact_moment(name, mu, sigma, k, "f2", np.ones(1)) - mean**2
    rest_mean = (dim - 1) * mean
    rest_square = (dim - 1) * var_f + rest_mean**2
    variances = []
    for j, (p, p_mean) in enumerate([(EPS2, 1.0), (SCORE2, 2.0)]):
        one_f_p = exact_moment(name, mu, sigma, k, "f", p)  # E[f(x_1) p]
        f_p = one_f_p + rest_mean * p_mean  # E[F p]
        f2_p = exact_moment(name, mu, sigma, k, "f2", p) + 2 * rest_mean * one_f_p + rest_square * p_mean  # E[F^2 p]
        b = 0.0 if baseline is None else f_p / p_mean if baseline == "optimal" else baseline
        variances.append((f2_p - 2 * b * f_p + b**2 * p_mean) / sigma**2 - gradient[j] ** 2)
    return np.maximum(np.array(variances), 0.0)


# --- the estimator explorer (notebook 02): pure compute -----------------------------

ESTIMATOR_EXPLORER_RANGES = {
    "mu": (-2.0, 2.0),
    "sigma": (0.1, 2.0),
    "k": (0.0, 10.0),
    "n_samples": (1, 100),  # L: samples averaged per gradient estimate
}
ESTIMATOR_EXPLORER_CHOICES = {
    "function": FUNCTIONS,
    "baseline": ("none", "mean", "optimal"),  # mean: the constant b = E[f(x)] (exact)
}
ESTIMATOR_EXPLORER_DEFAULTS = {
    "function": "cosine",
    "mu": 1.0,
    "sigma": 1.0,
    "k": 2.0,
    "n_samples": 1,
    "baseline": "none",
}


def explore_estimators(function, mu, sigma, k, n_samples, baseline="none", *, n_replicates=1000, n_bins=30, seed=0):
    """The numbers behind the estimator explorer: ``n_replicates`` L-sample estimates of each estimator.

    Each replicate averages ``n_samples`` (L) single-sample estimates of the
    gradient of E_{x~N(mu, sigma^2)}[f(x)], f the test function ``function``
    with parameter k. ``baseline`` (score function only): "none", "mean" (the
    constant b = E[f], exact) or "optimal" (leave-one-out b*, see ``score_function``).

    Returns a dict with, for e in ("score_function", "pathwise"):
    ``estimates[e]`` (n_replicates, 2); ``exact_gradient`` (2,);
    ``exact_variance[e]`` and ``empirical_variance[e]`` (2,), variances of the
    L-sample average (exact = single-sample variance / L); ``bin_edges`` (2, n_bins+1),
    fixed by the exact values (exact gradient +- 4 exact standard deviations of the
    wider estimator); ``density[e]`` (2, n_bins) histogram densities of the estimates
    on those bins; ``outside[e]`` (2,) fraction of estimates outside the bins.
    """
    with threads.small_work():  # ~10^5 elements: extra threads cost more than they save (see vilab.threads)
        return _explore(function, mu, sigma, k, n_samples, baseline, n_replicates, n_bins, seed)


def _explore(function, mu, sigma, k, n_samples, baseline, n_replicates, n_bins, seed):
    _validate.one_of("baseline", baseline, ESTIMATOR_EXPLORER_CHOICES["baseline"])
    mu, sigma, k = _check_point(function, mu, sigma, k)
    n_samples = _validate.positive_int("n_samples", n_samples)
    n_replicates = _validate.positive_int("n_replicates", n_replicates)
    f = objective(function, k)
    b = {"none": None, "mean": None, "optimal": "optimal"}[baseline]
    if baseline == "mean":
        b = exact_value(function, mu, sigma, k)
    total = n_samples * n_replicates
    raw = {
        "score_function": score_function(f, mu, sigma, total, baseline=b, seed=seed),
        "pathwise": pathwise(f, mu, sigma, total, seed=seed + 1),
    }
    estimates = {e: v.reshape(n_replicates, n_samples, 2).mean(1) for e, v in raw.items()}
    gradient = exact_gradient(function, mu, sigma, k)
    exact_var = {
        "score_function": exact_variance(function, "score_function", mu, sigma, k, baseline=b) / n_samples,
        "pathwise": exact_variance(function, "pathwise", mu, sigma, k) / n_samples,
    }
    half_width = 4 * np.sqrt(np.maximum(exact_var["score_function"], exact_var["pathwise"]))
    half_width = np.maximum(half_width, 1e-3 * (1 + np.abs(gradient)))
    edges = np.linspace(gradient - half_width, gradient + half_width, n_bins + 1).T  # (2, n_bins + 1)
    density, outside = {}, {}
    for e, values in estimates.items():
        density[e] = np.stack([np.histogram(values[:, j], bins=edges[j], density=False)[0] for j in range(2)])
        inside = density[e].sum(1)
        density[e] = density[e] / (n_replicates * np.diff(edges, axis=1))
        outside[e] = 1 - inside / n_replicates
    return {
        "estimates": estimates,
        "exact_gradient": gradient,
        "exact_variance": exact_var,
        "empirical_variance": {e: v.var(0, ddof=1) for e, v in estimates.items()},
        "bin_edges": edges,
        "density": density,
        "outside": outside,
    }
