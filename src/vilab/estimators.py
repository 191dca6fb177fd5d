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

from vilab import _validate

FUNCTIONS = ("quadratic", "exponential", "cosine")
FUNCTION_FORMULAS = {"quadratic": "(x - k)^2", "exponential": "exp(-k x^2)", "cosine": "cos(k x)"}
FUNCTION_LATEX = {"quadratic": r"$(x-k)^2$", "exponential": r"$e^{-kx^2}$", "cosine": r"$\cos(kx)$"}
ESTIMATORS = ("score_function", "pathwise")


# --- the estimators ------------------------------------------------------------


def standard_normal_draws(n_samples, seed=None):
    """eps ~ N(0, 1), float64: ``torch.randn(n_samples, generator=torch.Generator().manual_seed(seed))``.

    With ``seed=None`` torch's global generator is used (``torch.manual_seed`` makes it
    reproducible). Both estimators draw their eps exactly like this, so an implementation
    written elsewhere can reproduce their output sample for sample.
    """
    n_samples = _validate.positive_int("n_samples", n_samples)
    return torch.randn(n_samples, dtype=torch.float64, generator=_validate.torch_generator(seed))


def _check_inputs(f, mu, sigma):
    _validate.callable_("f", f, "callable (a 1-D torch tensor -> a 1-D torch tensor)")
    return _validate.finite("mu", mu), _validate.scale("sigma", sigma)


def _evaluate(f, x):
    """f(x), checked: a real torch tensor with one finite value per element of x."""
    value = _validate.call_torch_function("f", f, x)
    if value.shape != x.shape:
        raise ValueError(
            f"f must act elementwise: for an input of shape {tuple(x.shape)} it returned shape {tuple(value.shape)}"
        )
    _validate.report_non_finite("f", value, x)
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
    """b_i = sum_{j != i} f_j s_j^2 / sum_{j != i} s_j^2 for each column (0 when n = 1).

    The sums run over the draws axis (axis -2 of ``scores``, the last of ``fx``); leading
    axes, if any, are independent groups of draws.
    """
    weights = scores**2
    weighted = fx[..., None] * weights
    numerator = weighted.sum(-2, keepdim=True) - weighted
    denominator = (weights.sum(-2, keepdim=True) - weights).clamp_min(torch.finfo(weights.dtype).tiny)  # 0 if n = 1
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
        fx = _evaluate(f, x).to(torch.float64)  # a bool or integer f (an indicator) is fine here
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
    if not fx.requires_grad or not fx.is_floating_point():
        raise TypeError("f must be differentiable by torch autograd: build it from torch operations on its input")
    (derivative,) = torch.autograd.grad(fx.sum(), x)
    derivative = derivative.to(torch.float64)
    _validate.report_non_finite("the derivative of f", derivative, x, what="is")
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
    mu, sigma, k = _check_point(name, mu, sigma, k)
    which = _validate.one_of("which", which, {"f", "f2", "df2"})
    poly = _validate.real_array("poly", poly, ndim=1)
    return _finite_result("exact_moment", _moment(name, mu, sigma, k, which, poly), name=name, mu=mu, sigma=sigma, k=k)


def _finite_result(what, value, **inputs):
    """``value`` if every entry is finite, else a ValueError saying which inputs overflow float64."""
    if not np.all(np.isfinite(value)):
        shown = ", ".join(f"{key}={val!r}" for key, val in inputs.items())
        raise ValueError(f"{what} overflows float64 at {shown}: use smaller |mu|, sigma or k")
    return value


def _moment(name, mu, sigma, k, which, poly):
    """``exact_moment`` without the argument checks (the callers below have done them)."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow becomes inf/NaN: _finite_result reports it
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
    return _validate.finite("mu", mu), _validate.scale("sigma", sigma), k


def exact_value(name, mu, sigma, k):
    """E_{x~N(mu, sigma^2)}[f(x)] in closed form."""
    mu, sigma, k = _check_point(name, mu, sigma, k)
    return _finite_result(
        "exact_value", _moment(name, mu, sigma, k, "f", np.ones(1)), name=name, mu=mu, sigma=sigma, k=k
    )


def exact_gradient(name, mu, sigma, k):
    """[dF/dmu, dF/dsigma] for F(mu, sigma) = E_{x~N(mu, sigma^2)}[f(x)], differentiated in closed form.

    - quadratic:   F = (mu - k)^2 + sigma^2,                       grad = [2 (mu - k), 2 sigma];
    - exponential: F = exp(-k mu^2 / s) / sqrt(s), s = 1 + 2 k sigma^2,
                   grad = F [-2 k mu / s,  2 k sigma (2 k mu^2 - s) / s^2];
    - cosine:      F = cos(k mu) exp(-k^2 sigma^2 / 2),
                   grad = exp(-k^2 sigma^2 / 2) [-k sin(k mu), -k^2 sigma cos(k mu)].

    These equal [E[f(x) eps], E[f(x) (eps^2 - 1)]] / sigma (the score-function form), but
    carry no cancellation: the second form subtracts two O(1) numbers to get an O(sigma^2)
    one, while these keep full relative accuracy as sigma -> 0.
    """
    mu, sigma, k = _check_point(name, mu, sigma, k)
    if name == "quadratic":
        gradient = [2 * (mu - k), 2 * sigma]
    elif name == "exponential":
        s = 1 + 2 * k * sigma**2
        value = math.exp(-k * mu**2 / s) / math.sqrt(s)
        gradient = [value * -2 * k * mu / s, value * 2 * k * sigma * (2 * k * mu**2 - s) / s**2]
    else:
        damping = math.exp(-0.5 * (k * sigma) ** 2)
        gradient = [-k * math.sin(k * mu) * damping, -(k**2) * sigma * math.cos(k * mu) * damping]
    return _finite_result("exact_gradient", np.array(gradient), name=name, mu=mu, sigma=sigma, k=k)


def optimal_baseline(name, mu, sigma, k, *, dim=1):
    """The variance-minimising constant baseline per column: b*_j = E[F s_j^2] / E[s_j^2].

    For column 0 (s = eps/sigma) b* = E[f eps^2]; for column 1 (s = (eps^2-1)/sigma)
    b* = E[f (eps^2-1)^2] / 2. With ``dim`` > 1, F(x) = sum_i f(x_i) (see ``exact_variance``).
    """
    mu, sigma, k = _check_point(name, mu, sigma, k)
    dim = _validate.positive_int("dim", dim)
    rest = (dim - 1) * _moment(name, mu, sigma, k, "f", np.ones(1))  # E[sum_{i>1} f(x_i)]
    baselines = np.array(
        [_moment(name, mu, sigma, k, "f", EPS2) + rest, _moment(name, mu, sigma, k, "f", SCORE2) / 2 + rest]
    )
    return _finite_result("optimal_baseline", baselines, name=name, mu=mu, sigma=sigma, k=k, dim=dim)


def _pathwise_mu_variance(name, mu, sigma, k):
    """Var[f'(x)], x ~ N(mu, sigma^2), in closed forms that keep full accuracy as sigma -> 0 (Var ~ sigma^2 f''(mu)^2).

    E[f'^2] - E[f']^2 would subtract two O(1) numbers. With t = k^2 sigma^2 and s_c = 1 + 2 c sigma^2:
    - quadratic:   4 sigma^2;
    - cosine:      k^2 [-expm1(-2t)/2 + sin^2(k mu) exp(-t) expm1(-t)];
    - exponential: 4 k^2 [mu^2 A expm1(D) + sigma^2 exp(-2 k mu^2 / s_2) s_2^(-3/2)], from
      E[x^2 exp(-2k x^2)] - E[x exp(-k x^2)]^2, with A = exp(-2 k mu^2 / s_1) s_1^-3 and
      D = 4 k^2 mu^2 sigma^2 / (s_1 s_2) - 5/2 log1p(4 k sigma^2) + 3 log1p(2 k sigma^2).

    For the cosine's sigma column too, with a = sin^2(k mu): Var[f'(x) eps] = k^2 [-expm1(-2t)/2
    + 2t exp(-2t) + a exp(-2t) (1 - 4t) - t (1 - a) exp(-t)] (from E[cos(2kx) eps^2] = cos(2k mu) e^(-2t) (1 - 4t)).
    """
    if name == "quadratic":
        return 4 * sigma**2
    if name == "cosine":
        t = (k * sigma) ** 2
        return max(k**2 * (-0.5 * math.expm1(-2 * t) + math.sin(k * mu) ** 2 * math.exp(-t) * math.expm1(-t)), 0.0)
    s1, s2 = 1 + 2 * k * sigma**2, 1 + 4 * k * sigma**2
    a = math.exp(-2 * k * mu**2 / s1) / s1**3
    d = 4 * k**2 * mu**2 * sigma**2 / (s1 * s2) - 2.5 * math.log1p(4 * k * sigma**2) + 3 * math.log1p(2 * k * sigma**2)
    return max(4 * k**2 * (mu**2 * a * math.expm1(d) + sigma**2 * math.exp(-2 * k * mu**2 / s2) / s2**1.5), 0.0)


def exact_variance(name, estimator, mu, sigma, k, *, baseline=None, dim=1):
    """Exact variance of one single-sample estimate, per column: np.array([Var d/dmu, Var d/dsigma]).

    Pathwise:        Var = E[f'(x)^2] - g_mu^2 (in the closed forms of ``_pathwise_mu_variance``, accurate
                     as sigma -> 0) and E[f'(x)^2 eps^2] - g_sigma^2.
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

    Accuracy: the score-function variances are differences of raw moments. Where the
    result is much smaller than E[F^2 p_j] / sigma^2 (a baseline b near f(mu) with
    sigma << 1) they keep a relative accuracy of about 1e-16 / sigma^2 (1e-8 at sigma = 1e-4).
    """
    mu, sigma, k = _check_point(name, mu, sigma, k)
    _validate.one_of("estimator", estimator, ESTIMATORS)
    dim = _validate.positive_int("dim", dim)
    gradient = exact_gradient(name, mu, sigma, k)
    if estimator == "pathwise":
        if name == "cosine":  # E[f'^2 eps^2] - g_sigma^2 in a form without cancellation (see below)
            t, a = (k * sigma) ** 2, math.sin(k * mu) ** 2
            second = -0.5 * math.expm1(-2 * t) + 2 * t * math.exp(-2 * t) + a * math.exp(-2 * t) * (1 - 4 * t)
            sigma_variance = k**2 * (second - t * (1 - a) * math.exp(-t))
        else:
            sigma_variance = _moment(name, mu, sigma, k, "df2", EPS2) - gradient[1] ** 2
        variances = np.array([_pathwise_mu_variance(name, mu, sigma, k), max(sigma_variance, 0.0)])
        return _finite_result("exact_variance", variances, name=name, mu=mu, sigma=sigma, k=k)
    baseline = _check_baseline(baseline)
    mean = _moment(name, mu, sigma, k, "f", np.ones(1))
    var_f = _moment(name, mu, sigma, k, "f2", np.ones(1)) - mean**2
    rest_mean = (dim - 1) * mean
    rest_square = (dim - 1) * var_f + rest_mean**2
    variances = []
    for j, (p, p_mean) in enumerate([(EPS2, 1.0), (SCORE2, 2.0)]):
        one_f_p = _moment(name, mu, sigma, k, "f", p)  # E[f(x_1) p]
        f_p = one_f_p + rest_mean * p_mean  # E[F p]
        f2_p = _moment(name, mu, sigma, k, "f2", p) + 2 * rest_mean * one_f_p + rest_square * p_mean  # E[F^2 p]
        b = 0.0 if baseline is None else f_p / p_mean if baseline == "optimal" else baseline
        variances.append((f2_p - 2 * b * f_p + b**2 * p_mean) / sigma**2 - gradient[j] ** 2)
    variances = np.maximum(np.array(variances), 0.0)
    return _finite_result("exact_variance", variances, name=name, mu=mu, sigma=sigma, k=k, dim=dim)


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
    constant b = E[f], exact) or "optimal": b* estimated leave-one-out *within each
    replicate*, from the other L - 1 draws of the same L-sample estimate (see
    ``leave_one_out_variance``), so replicates share no information. With L = 1 there
    is no other draw, so no baseline is used (``baseline_used`` "none", and ``note`` says so).

    The measure-valued estimator (``measure_valued``, no baseline) is shown too, from its own draws (seed + 2).
    Returns a dict with, for e in ("score_function", "pathwise", "measure_valued"):
    ``estimates[e]`` (n_replicates, 2); ``exact_gradient`` (2,);
    ``exact_variance[e]`` and ``empirical_variance[e]`` (2,), variances of the
    L-sample average (exact = single-sample variance / L); ``exact_is_lower_bound[e]``
    (bool): True for the leave-one-out baseline at L >= 3, whose variance has no closed
    form: ``exact_variance`` is then the exact variance with the exact b*, a lower bound;
    ``baseline_used`` and ``note`` (str, empty unless the baseline fell back);
    ``bin_edges`` (2, n_bins+1), fixed by the exact values (exact gradient +- 4 exact
    standard deviations of the wider estimator); ``density[e]`` (2, n_bins) histogram
    densities of the estimates on those bins; ``outside[e]`` (2,) fraction of estimates
    outside the bins. ``n_replicates`` >= 2 (one replicate has no empirical variance);
    ``seed=None`` draws fresh randomness from torch's global generator.
    """
    n_replicates = _validate.integer("n_replicates", n_replicates, 2, _validate.MAX_SEED - 1)
    n_bins = _validate.positive_int("n_bins", n_bins)
    seed = _validate.integer("seed", _validate.fresh_seed(seed), 0, _validate.MAX_SEED - 2)  # pathwise uses seed + 1
    return _explore(function, mu, sigma, k, n_samples, baseline, n_replicates, n_bins, seed)


def _explore(function, mu, sigma, k, n_samples, baseline, n_replicates, n_bins, seed):
    _validate.one_of("baseline", baseline, ESTIMATOR_EXPLORER_CHOICES["baseline"])
    mu, sigma, k = _check_point(function, mu, sigma, k)
    n_samples = _validate.positive_int("n_samples", n_samples)
    n_replicates = _validate.positive_int("n_replicates", n_replicates)
    f = objective(function, k)
    total = n_samples * n_replicates
    baseline_used, note = baseline, ""
    if baseline == "optimal" and n_samples == 1:
        baseline_used = "none"
        note = "L = 1: no other draw in the estimate to estimate b* from, so no baseline is used"
    if baseline_used == "optimal":
        b = "optimal"
        score_var, score_exact = leave_one_out_variance(function, mu, sigma, k, n_samples)
        no_baseline_var = exact_variance(function, "score_function", mu, sigma, k) / n_samples
        bins_var = np.maximum(score_var, no_baseline_var)  # at L >= 3 score_var is only a lower bound
    else:
        b = exact_value(function, mu, sigma, k) if baseline_used == "mean" else None
        score_var = bins_var = exact_variance(function, "score_function", mu, sigma, k, baseline=b) / n_samples
        score_exact = True
    mv_normals = torch.randn(total, 7, dtype=torch.float64, generator=_validate.torch_generator(seed + 2))
    raw = {
        "score_function": _in_chunks(
            standard_normal_draws(total, seed), n_samples, lambda eps: _score_rows(f, mu, sigma, eps, n_samples, b)
        ),
        "pathwise": _in_chunks(
            standard_normal_draws(total, seed + 1), n_samples, lambda eps: _pathwise_rows(f, mu, sigma, eps)
        ),
        "measure_valued": _in_chunks(  # 4 evaluations of f per row
            mv_normals, n_samples, lambda normals: _measure_valued_rows(f, mu, sigma, normals), per_row=4
        ),
    }
    estimates = {e: v.reshape(n_replicates, n_samples, 2).mean(1) for e, v in raw.items()}
    gradient = exact_gradient(function, mu, sigma, k)
    exact_var = {
        "score_function": score_var,
        "pathwise": exact_variance(function, "pathwise", mu, sigma, k) / n_samples,
        "measure_valued": measure_valued_variance(function, mu, sigma, k) / n_samples,
    }
    half_width = 4 * np.sqrt(np.maximum.reduce([bins_var, exact_var["pathwise"], exact_var["measure_valued"]]))
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
        "exact_is_lower_bound": {"score_function": not score_exact, "pathwise": False, "measure_valued": False},
        "baseline_used": baseline_used,
        "note": note,
        "empirical_variance": {e: v.var(0, ddof=1) for e, v in estimates.items()},
        "bin_edges": edges,
        "density": density,
        "outside": outside,
    }


# The explorer's rows are computed in chunks of at most 2048 elements, ATen's grain for its vectorised math functions
# (cos, exp, sqrt...), so every torch op runs in the calling thread: on a shared or quota-limited CPU, waking a second
# thread for each op costs far more than it saves (measured: ~30 ms per op on a busy 2-core machine, against ~15 ms for
# all 10^5 draws in chunks). torch.set_num_threads(1) would do the same, but setting the count back afterwards left
# every later small op of the process slow (~40 ms each for a 128-element sqrt, measured).
_CHUNK = 2048


def _in_chunks(eps, group_size, rows, per_row=1):
    """np.concatenate of rows(chunk) over consecutive chunks of eps (along its first axis), each holding whole groups
    of group_size draws, and about _CHUNK elements for ops that evaluate f ``per_row`` times per draw."""
    per_chunk = group_size * max(1, _CHUNK // per_row // group_size)
    return np.concatenate([rows(chunk) for chunk in eps.split(per_chunk)])


def _score_rows(f, mu, sigma, eps, group_size, baseline):
    """The rows of ``score_function`` for these draws eps; baseline None, a number, or "optimal".

    "optimal" is estimated leave-one-out *within each group* of ``group_size`` consecutive draws:
    draw i of group r uses b_ri = sum_{j in r, j != i} f(x_j) s_j^2 / sum_{j in r, j != i} s_j^2,
    so no information crosses groups.
    """
    with torch.no_grad():
        fx = _evaluate(f, mu + sigma * eps).to(torch.float64)
    scores = torch.stack([eps / sigma, (eps**2 - 1) / sigma], dim=1)
    if baseline == "optimal":
        b = _leave_one_out_baseline(fx.reshape(-1, group_size), scores.reshape(-1, group_size, 2)).reshape(-1, 2)
    else:
        b = 0.0 if baseline is None else baseline
    return ((fx[:, None] - b) * scores).numpy()


def _pathwise_rows(f, mu, sigma, eps):
    """The rows of ``pathwise`` for these draws eps: [f'(x), f'(x) eps] with x = mu + sigma eps."""
    x = (mu + sigma * eps).requires_grad_(True)
    (derivative,) = torch.autograd.grad(_evaluate(f, x).sum(), x)
    derivative = derivative.to(torch.float64)
    return torch.stack([derivative, derivative * eps], dim=1).numpy()


def leave_one_out_variance(name, mu, sigma, k, group_size):
    """Variance of the L-draw score-function average with the leave-one-out optimal baseline (L = group_size).

    The estimate is g_L = (1/L) sum_i (f_i - b_i) s_i with b_i = sum_{j != i} f_j s_j^2 / sum_{j != i} s_j^2
    (per column; s the score, f_i = f(x_i), draws i.i.d.). Returns ``(variance, exact)``: np.array([d/dmu,
    d/dsigma]) and whether it is exact.

    Write g_L = g*_L - R, with g*_L the average at the exact b* (``optimal_baseline``) and
    R = (1/L) sum_i (b_i - b*) s_i. b_i does not depend on draw i, and E[(f - b*) s^2] = 0
    defines b*, so every term of Cov(g*_L, R) vanishes and Var g_L = V(b*)/L + E[R^2] >= V(b*)/L.

    - L = 1: there is no other draw, b = 0: Var = V(0) (``exact_variance`` with no baseline); exact.
    - L = 2: b_1 = f_2 and b_2 = f_1, so g_2 = (f_1 - f_2)(s_1 - s_2)/2 and, expanding over two
      independent draws (the 4 g^2 of E[g_2^2] cancels against the mean),
      Var = (E[f^2 s^2] + E[f^2] E[s^2] - 2 E[f] E[f s^2]) / 2; exact.
    - L >= 3: b_i is a ratio of sums with no closed-form moments; the lower bound V(b*)/L is
      returned (``exact`` False). The gap E[R^2] = E[(b_1 - b*)^2] E[s^2] / L
      + (L - 1)/L E[(b_1 - b*)(b_2 - b*) s_1 s_2] is O(1/L^2) as L grows: b_i - b* is the error
      of a ratio estimate from L - 1 draws, so E[(b_1 - b*)^2] = O(1/L); in the cross term, to first
      order, only draw 2's share of b_1 times draw 1's share of b_2 survives (E[s] = 0), each O(1/L).
      At small L the gap can be large.
    """
    mu, sigma, k = _check_point(name, mu, sigma, k)
    group_size = _validate.positive_int("group_size", group_size)
    if group_size == 1:
        return exact_variance(name, "score_function", mu, sigma, k), True
    if group_size >= 3:
        return exact_variance(name, "score_function", mu, sigma, k, baseline="optimal") / group_size, False
    mean_f = exact_moment(name, mu, sigma, k, "f", np.ones(1))
    mean_f2 = exact_moment(name, mu, sigma, k, "f2", np.ones(1))
    variances = []
    for p, p_mean in [(EPS2, 1.0), (SCORE2, 2.0)]:  # s^2 = p(eps) / sigma^2 and E[p] = p_mean
        f2_s2 = exact_moment(name, mu, sigma, k, "f2", p) / sigma**2
        f_s2 = exact_moment(name, mu, sigma, k, "f", p) / sigma**2
        variances.append((f2_s2 + mean_f2 * p_mean / sigma**2 - 2 * mean_f * f_s2) / 2)
    return np.maximum(np.array(variances), 0.0), True


# --- sticking the landing: the ELBO's pathwise gradient with and without its score term (notebook 02c) ---------


def _log_joint_derivative(log_joint, z):
    """d/dz log p(x, z) at every element of z, by autograd (``log_joint`` acts elementwise on a 1-D tensor)."""
    z = z.detach().requires_grad_(True)
    value = _validate.call_torch_function("log_joint", _validate.callable_("log_joint", log_joint), z)
    if value.shape != z.shape:
        raise ValueError(
            f"log_joint must act elementwise: for an input of shape {tuple(z.shape)} it returned {tuple(value.shape)}"
        )
    _validate.report_non_finite("log_joint", value, z)
    if not value.requires_grad or not value.is_floating_point():
        raise TypeError("log_joint must be differentiable by torch autograd: build it from torch operations")
    (derivative,) = torch.autograd.grad(value.sum(), z)
    derivative = derivative.to(torch.float64)
    _validate.report_non_finite("the derivative of log_joint", derivative, z, what="is")
    return derivative


def elbo_pathwise(log_joint, mu, sigma, n_samples, *, stick_the_landing=False, seed=None):
    """Single-sample reparameterised estimates of grad_(mu, sigma) ELBO(q), q = N(mu, sigma^2), z = mu + sigma eps.

    ELBO(q) = E_q[log p(x, z) - log q(z)]. With d(z) = d/dz log p(x, z) (autograd) the total derivative of
    log p(x, z(phi)) - log q_phi(z(phi)) is, per row (eps from ``standard_normal_draws``):

    - ``stick_the_landing=False`` (the usual estimator): [d(z), d(z) eps + 1/sigma]. log q_phi(mu + sigma eps)
      = -log sigma - eps^2/2 + const, so its total derivative is [0, -1/sigma].
    - ``stick_the_landing=True`` (the path derivative of Roeder, Wu & Duvenaud 2017): drop the score term
      -grad_phi log q_phi(z) at fixed z, whose mean is 0, and keep the path term:
      h = d(z) - d/dz log q(z) = d(z) + eps / sigma, row [h, h eps]. Unbiased for every q; when q is the
      posterior, log p(x, z) - log q(z) = log p(x) for every z, so h = 0 for every draw: zero variance.

    ``log_joint`` maps a 1-D float64 torch tensor of z values to log p(x, z) elementwise (nats).
    Returns a numpy array of shape (n_samples, 2): column 0 d/dmu, column 1 d/dsigma.
    """
    mu, sigma = _validate.finite("mu", mu), _validate.scale("sigma", sigma)
    if not isinstance(stick_the_landing, bool):
        raise TypeError(f"stick_the_landing must be True or False, got {stick_the_landing!r}")
    eps = standard_normal_draws(n_samples, seed)
    derivative = _log_joint_derivative(log_joint, mu + sigma * eps)
    if stick_the_landing:
        h = derivative + eps / sigma
        return torch.stack([h, h * eps], dim=1).numpy()
    return torch.stack([derivative, derivative * eps + 1 / sigma], dim=1).numpy()


def _conjugate_posterior(model):
    from vilab.models import ConjugateGaussian  # imported here: models is a sibling module

    if not isinstance(model, ConjugateGaussian):
        raise TypeError(f"model must be a vilab.models.ConjugateGaussian, got {type(model).__name__}")
    return model.posterior()


def conjugate_elbo_gradient(model, mu, sigma):
    """Exact grad_(mu, sigma) ELBO(N(mu, sigma^2)) for a ``vilab.models.ConjugateGaussian``.

    log p(x, z) = log p(x) + log N(z; m_n, s_n^2), so with a = 1/s_n^2,
    ELBO = const - a ((mu - m_n)^2 + sigma^2) / 2 + log sigma and grad = [-a (mu - m_n), 1/sigma - a sigma].
    """
    m_n, s_n = _conjugate_posterior(model)
    mu, sigma = _validate.finite("mu", mu), _validate.scale("sigma", sigma)
    a = 1 / s_n**2
    return np.array([-a * (mu - m_n), 1 / sigma - a * sigma])


def conjugate_elbo_pathwise_variance(model, mu, sigma, *, stick_the_landing=False):
    """Exact single-sample variances [Var d/dmu, Var d/dsigma] of ``elbo_pathwise`` on a ConjugateGaussian.

    d(z) = -a (z - m_n) with a = 1/s_n^2, z = mu + sigma eps, and Var[eps] = 1, Var[eps^2] = 2,
    Cov(eps, eps^2) = 0. With u = a (mu - m_n):
    - usual:   d/dmu = -u - a sigma eps,   Var = a^2 sigma^2;
               d/dsigma = -u eps - a sigma eps^2 + 1/sigma,   Var = u^2 + 2 a^2 sigma^2;
    - sticking the landing, c = 1/sigma - a sigma:
               d/dmu = -u + c eps,   Var = c^2;   d/dsigma = -u eps + c eps^2,   Var = u^2 + 2 c^2.
    At q = posterior (u = 0, c = 0) the second is exactly 0; it is the smaller exactly when
    |c| < a sigma, i.e. sigma > s_n / sqrt(2).
    """
    m_n, s_n = _conjugate_posterior(model)
    mu, sigma = _validate.finite("mu", mu), _validate.scale("sigma", sigma)
    if not isinstance(stick_the_landing, bool):
        raise TypeError(f"stick_the_landing must be True or False, got {stick_the_landing!r}")
    a = 1 / s_n**2
    u = a * (mu - m_n)
    slope = 1 / sigma - a * sigma if stick_the_landing else a * sigma  # the coefficient of eps in d/dmu
    return np.array([slope**2, u**2 + 2 * slope**2])


# --- the variance-reduction toolbox for the score function: exact variances (notebook 02c) -------------------------

TOOLBOX = ("none", "mean", "optimal", "running", "rloo", "plug-in", "antithetic", "taylor")


def _poly_moment(poly):
    """E[p(eps)] for eps ~ N(0, 1), p given by ascending coefficients."""
    return float(np.dot(poly, _normal_moments(0.0, 1.0, len(poly) - 1).real))


def _value_and_slope(name, x, k):
    """f(x) and f'(x) for the test function ``name`` (numpy floats: an overflow gives inf, reported by the caller)."""
    x = np.float64(x)
    if name == "quadratic":
        return (x - k) ** 2, 2 * (x - k)
    if name == "exponential":
        value = np.exp(-k * x**2)
        return value, -2 * k * x * value
    return np.cos(k * x), -k * np.sin(k * x)


def _antithetic_product_moment(name, mu, sigma, k, poly):
    """E[f(mu + sigma eps) f(mu - sigma eps) p(eps)], from f(x) f(x') in closed form (x' the antithetic point)."""
    if name == "quadratic":  # ((mu - k)^2 - sigma^2 eps^2)^2
        return _poly_moment(P.polymul(P.polypow([(mu - k) ** 2, 0.0, -(sigma**2)], 2), poly))
    if (
        name == "exponential"
    ):  # exp(-2 k mu^2 - 2 k sigma^2 eps^2) = f(x) with x = sqrt(2) mu + sqrt(2) sigma eps, mu-odd part 0
        s = 1 + 4 * k * sigma**2
        moments = _normal_moments(0.0, 1.0 / s, len(poly) - 1).real
        return math.exp(-2 * k * mu**2) / math.sqrt(s) * float(np.dot(poly, moments))
    # cosine: cos(k x) cos(k x') = (cos(2 k mu) + cos(2 k sigma eps)) / 2
    return 0.5 * math.cos(2 * k * mu) * _poly_moment(poly) + 0.5 * _moment("cosine", 0.0, sigma, 2 * k, "f", poly)


def score_function_variance(name, mu, sigma, k, method, n_draws, *, decay=0.9):
    """Exact variance [d/dmu, d/dsigma] of an L-draw score-function estimate (L = n_draws) with a variance reducer.

    Per column j, s_j = p_j-score (s_0 = eps/sigma, s_1 = (eps^2 - 1)/sigma), g_j the exact gradient,
    V(b) = E[(f - b)^2 s^2] - g^2 the single-sample variance with a constant b, m = E[f], v = Var f. ``method``:

    - "none", "mean" (b = m), "optimal" (the exact b*_j): V(b) / L (``exact_variance``).
    - "running": b = an exponential moving average of past L-sample means of f with weight ``decay`` on the old
      value, in its stationary regime at fixed (mu, sigma): b is independent of the current draws, E[b] = m,
      Var[b] = (1 - decay)/(1 + decay) v/L, and different draws' terms are uncorrelated (E[s] = 0), so
      Var = (V(m) + Var[b] E[s^2]) / L.
    - "rloo" (Kool, van Hoof & Welling 2019): b_i = mean of the other L - 1 values f_j. b_i is independent of draw i,
      with E[b] = m and E[b^2] = v/(L-1) + m^2; for i != j only the f_i s_i f_j s_j term survives in the covariance,
      Cov = g^2/(L-1)^2, so Var = (E[f^2 s^2] - 2 m E[f s^2] + E[b^2] E[s^2] - g^2)/L + g^2/(L (L-1)). L >= 2.
    - "plug-in": b = the mean of all L values f, the draw itself included. The estimate is (L-1)/L times the RLOO
      one: biased by exactly -g/L, with variance ((L-1)/L)^2 Var_rloo. L >= 2.
    - "antithetic": L/2 pairs (eps, -eps), each the average of its two single-sample estimates (no baseline).
      With x' = mu - sigma eps: pair variance (E[f^2 s^2] -+ E[f(x) f(x') p_j]/sigma^2)/2 - g^2 (minus for d/dmu,
      whose score is odd in eps; plus for d/dsigma), divided by L/2. L even.
    - "taylor": the control variate h(x) = f(mu) + f'(mu)(x - mu) (first-order Taylor expansion, coefficients held
      fixed), whose gradient E-part [f'(mu), 0] is added back: (f - h) s_j + grad E[h]. Var = E[(f - h)^2 s^2]
      - (g - [f'(mu), 0])^2, divided by L.
    """
    mu, sigma, k = _check_point(name, mu, sigma, k)
    method = _validate.one_of("method", method, TOOLBOX)
    n_draws = _validate.positive_int("n_draws", n_draws)
    decay = _validate.in_range("decay", decay, 0.0, 1.0, closed=(True, False))
    if method in ("rloo", "plug-in") and n_draws < 2:
        raise ValueError(f"n_draws must be >= 2 for the {method!r} baseline (it needs another draw), got {n_draws}")
    if method == "antithetic" and n_draws % 2:
        raise ValueError(f"n_draws must be even for antithetic pairs, got {n_draws}")
    if method in ("none", "mean", "optimal"):
        b = {"none": None, "mean": exact_value(name, mu, sigma, k), "optimal": "optimal"}[method]
        return exact_variance(name, "score_function", mu, sigma, k, baseline=b) / n_draws
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow becomes inf/NaN: _finite_result reports it
        out = _toolbox_columns(name, mu, sigma, k, method, n_draws, decay)
    variances = np.maximum(np.array(out), 0.0)
    return _finite_result("score_function_variance", variances, name=name, mu=mu, sigma=sigma, k=k)


def _toolbox_columns(name, mu, sigma, k, method, L, decay):
    """The two columns of ``score_function_variance`` for the methods without a closed form elsewhere."""
    gradient = exact_gradient(name, mu, sigma, k)
    m = _moment(name, mu, sigma, k, "f", np.ones(1))
    v = _moment(name, mu, sigma, k, "f2", np.ones(1)) - m**2
    out = []
    for j, (p, p_mean) in enumerate([(EPS2, 1.0), (SCORE2, 2.0)]):  # s_j^2 = p / sigma^2, E[p] = p_mean
        f2_s2 = _moment(name, mu, sigma, k, "f2", p) / sigma**2
        f_s2 = _moment(name, mu, sigma, k, "f", p) / sigma**2
        s2, g2 = p_mean / sigma**2, gradient[j] ** 2
        if method == "running":
            var_b = (1 - decay) / (1 + decay) * v / L
            out.append((f2_s2 - 2 * m * f_s2 + m**2 * s2 - g2 + var_b * s2) / L)
        elif method in ("rloo", "plug-in"):
            rloo = (f2_s2 - 2 * m * f_s2 + (v / (L - 1) + m**2) * s2 - g2) / L + g2 / (L * (L - 1))
            out.append(rloo if method == "rloo" else ((L - 1) / L) ** 2 * rloo)
        elif method == "antithetic":
            sign = -1.0 if j == 0 else 1.0
            pair = (f2_s2 + sign * _antithetic_product_moment(name, mu, sigma, k, p) / sigma**2) / 2 - g2
            out.append(pair / (L / 2))
        else:  # taylor
            c0, c1 = _value_and_slope(name, mu, k)
            h = np.array([c0, sigma * c1])  # h = c0 + sigma f'(mu) eps
            f_h_p = _moment(name, mu, sigma, k, "f", P.polymul(h, p))
            h2_p = _poly_moment(P.polymul(P.polypow(h, 2), p))
            shift = c1 if j == 0 else 0.0
            out.append(((f2_s2 * sigma**2 - 2 * f_h_p + h2_p) / sigma**2 - (gradient[j] - shift) ** 2) / L)
    return out


# --- the measure-valued (weak) derivative of the Gaussian (Mohamed et al. 2020, Sec. 6) -------------------------


def measure_valued(f, mu, sigma, n_samples, *, seed=None):
    """Single-sample measure-valued (weak-derivative) estimates of grad_(mu, sigma) E_{x~N(mu, sigma^2)}[f(x)].

    The derivative of the density is written as a constant times a difference of two densities,
    grad_phi N(x; mu, sigma^2) = c_phi (p_phi^+(x) - p_phi^-(x)) (Mohamed, Rosca, Figurnov & Mnih 2020, Sec. 6):

    - d/dmu: c = 1/(sigma sqrt(2 pi)), p^+/p^- the law of mu +/- sigma R with R ~ Rayleigh(1) (density r e^(-r^2/2),
      r > 0). The two sides share R (coupling): row [c (f(mu + sigma R) - f(mu - sigma R)), ...].
    - d/dsigma: c = 1/sigma, p^+ the double-sided Maxwell law of mu + sigma D (D = +-M, M ~ Maxwell; the density
      of D is d^2 e^(-d^2/2)/sqrt(2 pi)), p^- = N(mu, sigma^2) itself, drawn independently:
      row [..., (f(mu + sigma D) - f(mu + sigma eps)) / sigma].

    Only evaluations of f are needed (no derivative, no score). R = |(e1, e2)| and M = |(e3, e4, e5)| for
    standard normals e_i, the sign of D that of a sixth (a fair coin), eps a seventh; all from one generator
    seeded with ``seed`` (7 normals per row).
    Returns a numpy array of shape (n_samples, 2): column 0 d/dmu, column 1 d/dsigma.
    """
    mu, sigma = _check_inputs(f, mu, sigma)
    n_samples = _validate.positive_int("n_samples", n_samples)
    normals = torch.randn(n_samples, 7, dtype=torch.float64, generator=_validate.torch_generator(seed))
    return _measure_valued_rows(f, mu, sigma, normals)


def _measure_valued_rows(f, mu, sigma, normals):
    """The rows of ``measure_valued`` from 7 standard normals per row: R = |(n0, n1)|, M = |(n2, n3, n4)|,
    the sign of D = the sign of n5 (a fair coin), eps = n6."""
    rayleigh, maxwell = normals[:, :2].norm(dim=1), normals[:, 2:5].norm(dim=1)
    double_maxwell = torch.where(normals[:, 5] < 0, -maxwell, maxwell)
    n = len(normals)
    points = torch.cat(
        [mu + sigma * rayleigh, mu - sigma * rayleigh, mu + sigma * double_maxwell, mu + sigma * normals[:, 6]]
    )
    with torch.no_grad():
        values = _evaluate(f, points).to(torch.float64).reshape(4, n)
    d_mu = (values[0] - values[1]) / (sigma * math.sqrt(2 * math.pi))
    d_sigma = (values[2] - values[3]) / sigma
    return torch.stack([d_mu, d_sigma], dim=1).numpy()


def _rayleigh_difference_moment(name, mu, sigma, k):
    """E_R[(f(mu + sigma R) - f(mu - sigma R))^2], R ~ Rayleigh(1), in closed form.

    - quadratic: the difference is 4 (mu - k) sigma R and E[R^2] = 2: 32 (mu - k)^2 sigma^2;
    - cosine: the difference is -2 sin(k mu) sin(k sigma R), and E_R[cos(t R)] = 1 - sqrt(2) t D(t / sqrt 2)
      (D Dawson's integral), so with t = 2 k sigma: 2 sin^2(k mu) sqrt(2) t D(t / sqrt 2);
    - exponential: the square is 2 exp(-2 k mu^2 - 2 k sigma^2 R^2) (cosh(4 k mu sigma R) - 1), and with
      alpha = 2 k sigma^2 + 1/2, beta = 4 k mu sigma, x = beta / (2 sqrt(alpha)),
      int_0^inf r e^(-alpha r^2) (cosh(beta r) - 1) dr = beta / (4 alpha) sqrt(pi / alpha) e^(x^2) erf(x):
      (beta / (2 alpha)) sqrt(pi / alpha) erf(x) exp(x^2 - 2 k mu^2), where x^2 - 2 k mu^2 <= 0 (no overflow).
    """
    from scipy import special

    mu, sigma, k = np.float64(mu), np.float64(sigma), np.float64(k)  # an overflow gives inf, reported by the caller
    if name == "quadratic":
        return 32 * (mu - k) ** 2 * sigma**2
    if name == "cosine":
        t = 2 * k * sigma
        return 2 * np.sin(k * mu) ** 2 * np.sqrt(2) * t * special.dawsn(t / np.sqrt(2))
    alpha, beta = 2 * k * sigma**2 + 0.5, 4 * k * mu * sigma
    x = beta / (2 * np.sqrt(alpha))
    return beta / (2 * alpha) * np.sqrt(np.pi / alpha) * special.erf(x) * np.exp(x * x - 2 * k * mu**2)


def measure_valued_variance(name, mu, sigma, k):
    """Exact single-sample variances [d/dmu, d/dsigma] of ``measure_valued`` for the test function ``name``.

    d/dmu (coupled sides): Var = E_R[(f(mu + sigma R) - f(mu - sigma R))^2] / (2 pi sigma^2) - g_mu^2, with the
    Rayleigh expectation in closed form (``_rayleigh_difference_moment``; the tests check it against quadrature).
    d/dsigma (independent sides): Var = (Var_D f + Var_eps f) / sigma^2, with the double-sided Maxwell moments
    E_D[g] = E_eps[eps^2 g] (``exact_moment``).
    """
    mu, sigma, k = _check_point(name, mu, sigma, k)
    gradient = exact_gradient(name, mu, sigma, k)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow becomes inf/NaN: _finite_result reports it
        var_d = _moment(name, mu, sigma, k, "f2", EPS2) - _moment(name, mu, sigma, k, "f", EPS2) ** 2
        var_n = _moment(name, mu, sigma, k, "f2", np.ones(1)) - _moment(name, mu, sigma, k, "f", np.ones(1)) ** 2
        mu_variance = _rayleigh_difference_moment(name, mu, sigma, k) / (2 * math.pi * sigma**2) - gradient[0] ** 2
        variances = np.maximum(np.array([mu_variance, (var_d + var_n) / sigma**2]), 0.0)
    return _finite_result("measure_valued_variance", variances, name=name, mu=mu, sigma=sigma, k=k)
