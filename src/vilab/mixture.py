"""Bayesian mixture of Gaussians: CAVI, EM and stochastic VI (notebook 05).

The model (Blei, Kucukelbir & McAuliffe 2017, Sec. 3), for data x_i in R^D::

    mu_k ~ N(0, sigma2 I)            k = 1..K   (component means)
    c_i  ~ Cat(1/K, ..., 1/K)        i = 1..N   (assignments)
    x_i | c_i, mu ~ N(mu_{c_i}, I)              (unit observation noise)

Optionally (``alpha0`` not None) the weights are learned too:
pi ~ Dir(alpha0, ..., alpha0) and c_i ~ Cat(pi).

The mean-field family is q(mu, c[, pi]) = prod_k N(mu_k; m_k, s2_k I)
prod_i Cat(c_i; phi_i) [Dir(pi; alpha)]. Shapes: ``x`` is [N] (1-D data) or
[N, D]; ``phi`` is [N, K]; ``m`` is [K] or [K, D] like ``x``; ``s2`` and
``alpha`` are [K]. All ELBOs are totals over the data set, in nats.

The coordinate updates follow from q*_j ∝ exp E_{-j}[log p(x, mu, c, pi)]:

    phi_ik ∝ exp( E[log pi_k] + x_i·m_k - (|m_k|² + D s2_k) / 2 )
    s2_k   = 1 / (1/sigma2 + N_k),   m_k = s2_k S_k
    alpha_k = alpha0 + N_k

with N_k = sum_i phi_ik, S_k = sum_i phi_ik x_i, and E[log pi_k] = -log K
(fixed weights) or digamma(alpha_k) - digamma(sum_j alpha_j).
"""

import math
import time
from typing import NamedTuple

import numpy as np
from scipy.special import digamma, gammaln, xlogy

from vilab import _validate
from vilab._validate import finite, positive, positive_int

LOG_2PI = math.log(2.0 * math.pi)


# --- argument checks ----------------------------------------------------------


def _data(x, name="x"):
    """Return ``x`` as a float [N, D] array, raising on empty, non-finite or ill-shaped data."""
    array = _validate.real_array(name, x, min_size=0)
    if array.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape [N] or [N, D], got shape {array.shape}")
    if array.shape[0] == 0 or array.size == 0:
        raise ValueError(f"{name} must contain at least one point, got shape {array.shape}")
    return array.reshape(array.shape[0], -1)


def _shape_like(x, means):
    """Return [K, D] means as [K] when the data ``x`` were 1-D."""
    return means[:, 0] if np.ndim(x) == 1 else means


def _means(name, m, K, D):
    given = _validate.real_array(name, m, ndim=(1, 2))
    means = given[:, None] if given.ndim == 1 else given
    if means.shape != (K, D):
        raise ValueError(f"{name} must have shape [K] or [K, D] = [{K}, {D}], got shape {given.shape}")
    return means


def _per_component(name, value, K=None, *, positive=False, allow_zero=False):
    """A [K] array of finite values (> 0 with ``positive``; >= 0 with ``allow_zero``)."""
    array = _validate.real_array(name, value, ndim=1)
    if K is not None and len(array) != K:
        raise ValueError(f"{name} must have K = {K} entries (one per component), got shape {array.shape}")
    if positive and not (array > 0).all():
        raise ValueError(f"{name} must be > 0, got {array!r}")
    if allow_zero and not (array >= 0).all():
        raise ValueError(f"{name} must be >= 0, got {array!r}")
    return array


def _phi(name, phi, N, *, distributions=False):
    """Responsibilities [N, K] in [0, 1]; with ``distributions`` each row must also sum to 1 (a q(c_i)).

    The updates are linear in phi, so partial responsibilities (a point half assigned) are
    allowed there; the ELBO's entropy term needs every row to be a distribution.
    """
    phi = _validate.real_array(name, phi, ndim=2)
    if phi.shape[0] != N:
        raise ValueError(f"{name} must have shape [N, K] with N = {N}, got shape {phi.shape}")
    bad_rows = ((phi < 0) | (phi > 1)).any(1)
    if distributions:
        bad_rows |= ~np.isclose(phi.sum(1), 1.0, rtol=0, atol=1e-6)
    if bad_rows.any():
        i = int(np.argmax(bad_rows))
        need = "probabilities (each row in [0, 1], summing to 1)" if distributions else "values in [0, 1]"
        raise ValueError(f"{name} must hold {need}, got row {i}: {phi[i]!r}")
    return phi


def _alpha0(alpha0, minimum=None):
    if alpha0 is None:
        return None
    alpha0 = positive("alpha0", alpha0)
    if minimum is not None and alpha0 < minimum:
        raise ValueError(f"alpha0 must be >= {minimum} for a MAP estimate of the weights, got {alpha0!r}")
    return alpha0


def _nonnegative(name, value):
    return _validate.nonnegative(name, value)


# --- the pieces of one CAVI sweep ----------------------------------------------


def expected_log_weights(K, alpha=None):
    """E_q[log pi_k]: -log K for fixed uniform weights, else digamma(alpha_k) - digamma(sum alpha).

    ``alpha`` (None or K values > 0) are the parameters of q(pi) = Dir(alpha).
    """
    K = positive_int("K", K)
    if alpha is not None:
        alpha = _per_component("alpha", alpha, K, positive=True)
    return _expected_log_weights(K, alpha)


def _expected_log_weights(K, alpha):
    if alpha is None:
        return np.full(K, -math.log(K))
    alpha = np.asarray(alpha, dtype=float)
    return digamma(alpha) - digamma(alpha.sum())


def _check_factors(x, m, s2, log_weights=None):
    """Validate data, means [K(, D)], variances s2 [K] >= 0 and log weights [K]; return (x2, m2, s2, log_weights)."""
    x2 = _data(x)
    s2 = _per_component("s2", s2, allow_zero=True)
    K = len(s2)
    m2 = _means("m", m, K, x2.shape[1])
    log_weights = (
        _expected_log_weights(K, None) if log_weights is None else _per_component("log_weights", log_weights, K)
    )
    return x2, m2, s2, log_weights


def assignment_logits(x, m, s2, log_weights):
    """Unnormalised log phi_ik = E[log pi_k] + x_i·m_k - (|m_k|² + D s2_k) / 2, shape [N, K].

    Computed as a [K, N] array and returned transposed (column-major), so the
    reductions over k run over contiguous rows: much faster for small K.
    """
    return _logits(*_check_factors(x, m, s2, log_weights))


def _logits(x, m, s2, log_weights):
    x2 = x.reshape(x.shape[0], -1)
    m2 = np.asarray(m, dtype=float).reshape(len(log_weights), -1)
    D = x2.shape[1]
    bias = log_weights - 0.5 * ((m2**2).sum(1) + D * np.asarray(s2, dtype=float))
    logits = m2[:, :1] * x2[:, 0] if D == 1 else m2 @ x2.T
    logits += bias[:, None]
    return logits.T


def _unnormalised(x, m, s2, log_weights):
    """Return (e [K, N], total [N], top [N]) with phi_ik = e_ki / total_i and lse_i = log total_i + top_i."""
    logits = _logits(x, m, s2, log_weights).T  # [K, N], C-contiguous
    top = logits.max(axis=0)
    logits -= top
    np.exp(logits, out=logits)
    return logits, logits.sum(axis=0), top


def _assign(x, m, s2, log_weights):
    """Return (phi [N, K], log normalisers lse_i = log sum_k exp(logit_ik) [N])."""
    e, total, top = _unnormalised(x, m, s2, log_weights)
    e /= total
    return e.T, np.log(total) + top


def update_assignments(x, m, s2, log_weights=None):
    """CAVI update of q(c_i): phi_ik ∝ exp(E[log pi_k] + x_i·m_k - (|m_k|² + D s2_k)/2).

    ``log_weights`` is E[log pi_k] (default -log K). With ``s2 = 0`` this is
    EM's E-step: the exact posterior p(c_i | x_i, mu = m). Returns phi [N, K].
    """
    return _assign(*_check_factors(x, m, s2, log_weights))[0]


def update_means(x, phi, sigma2):
    """CAVI update of q(mu_k) = N(m_k, s2_k I): s2_k = 1/(1/sigma2 + N_k), m_k = s2_k sum_i phi_ik x_i.

    Returns (m, s2); ``m`` has shape [K] for 1-D data, else [K, D].
    """
    x2, sigma2 = _data(x), positive("sigma2", sigma2)
    return _update_means(x, x2, _phi("phi", phi, len(x2)), sigma2)


def _update_means(x, x2, phi, sigma2):
    precision = 1.0 / sigma2 + phi.sum(0)
    means = (phi.T @ x2) / precision[:, None]
    return _shape_like(x, means), 1.0 / precision


def update_weights(phi, alpha0):
    """CAVI update of q(pi) = Dir(alpha): alpha_k = alpha0 + N_k."""
    phi = _validate.real_array("phi", phi, ndim=2)
    return positive("alpha0", alpha0) + _phi("phi", phi, len(phi)).sum(0)


def elbo(x, phi, m, s2, *, sigma2, alpha=None, alpha0=None):
    """Closed-form ELBO (total over the data, nats) of the mean-field q.

    ELBO = sum_k E[log p(mu_k)] + E[log p(c|pi)] + sum_i E[log p(x_i | c_i, mu)]
           + H[q(mu)] + H[q(c)] (+ E[log p(pi)] + H[q(pi)] with learned weights), where

        E[log p(mu_k)]      = -D/2 log(2 pi sigma2) - (|m_k|² + D s2_k) / (2 sigma2)
        E[log p(x_i|c_i,mu)] = sum_k phi_ik (-D/2 log 2pi - (|x_i|² - 2 x_i·m_k + |m_k|² + D s2_k) / 2)
        H[q(mu_k)]          = D/2 (log(2 pi s2_k) + 1)
        H[q(c_i)]           = -sum_k phi_ik log phi_ik
        E[log p(c_i|pi)]    = sum_k phi_ik E[log pi_k]

    It depends on the data only through N_k, S_k, sum_i |x_i|² and H[q(c)].
    """
    x2, sigma2 = _data(x), positive("sigma2", sigma2)
    phi = _phi("phi", phi, len(x2), distributions=True)
    _, m, s2, _ = _check_factors(x2, m, _per_component("s2", s2, positive=True), np.zeros(phi.shape[1]))
    alpha, alpha0 = _weights_prior(alpha, alpha0, len(s2))
    stats = (phi.sum(0), phi.T @ x2, (x2**2).sum(), -xlogy(phi, phi).sum(), x2.shape)
    return _elbo_from_stats(stats, m, s2, sigma2, alpha, alpha0)


def _weights_prior(alpha, alpha0, K):
    """Validate q(pi)'s alpha [K] and the prior's alpha0 (both given, or alpha None)."""
    if alpha is None:
        return None, _alpha0(alpha0)
    if alpha0 is None:
        raise ValueError("alpha0 (the Dirichlet prior) is needed when alpha (learned weights) is given, got None")
    return _per_component("alpha", alpha, K, positive=True), _alpha0(alpha0)


def _elbo_from_stats(stats, m, s2, sigma2, alpha, alpha0):
    """The ELBO from (N_k, S_k, sum |x_i|², H[q(c)], (N, D)); cost O(K D)."""
    counts, sums, sum_sq, entropy, (N, D) = stats
    K = len(counts)
    m2 = np.asarray(m, dtype=float).reshape(K, -1)
    s2 = np.asarray(s2, dtype=float)
    second_moment = (m2**2).sum(1) + D * s2  # E|mu_k|²
    value = -0.5 * K * D * math.log(2 * math.pi * sigma2) - second_moment.sum() / (2 * sigma2)
    value += 0.5 * D * (np.log(2 * math.pi * s2) + 1).sum()
    value += -0.5 * N * D * LOG_2PI - 0.5 * sum_sq + (sums * m2).sum() - 0.5 * (counts * second_moment).sum()
    log_weights = expected_log_weights(K, alpha)
    value += entropy + (counts * log_weights).sum()
    if alpha is not None:
        alpha = np.asarray(alpha, dtype=float)
        value += gammaln(K * alpha0) - K * gammaln(alpha0) + (alpha0 - 1) * log_weights.sum()
        value -= gammaln(alpha.sum()) - gammaln(alpha).sum() + ((alpha - 1) * log_weights).sum()
    return float(value)


def _assign_with_stats(x2, m, s2, log_weights, want_phi=True):
    """phi (or None) and the statistics (N_k, S_k, sum |x|², H[q(c)], (N, D)) of the optimal q(c).

    N_k and S_k are matrix-vector products with 1/total, so phi itself is only
    formed when asked for. The entropy comes for free from the log normalisers:
    H[q(c)] = sum_i lse_i - sum_ik phi_ik logit_ik, where the last sum is a
    function of N_k and S_k only.
    """
    e, total, top = _unnormalised(x2, m, s2, log_weights)
    inv = 1.0 / total
    counts, sums = e @ inv, e @ (x2 * inv[:, None])
    m2 = np.asarray(m, dtype=float).reshape(len(counts), -1)
    D = x2.shape[1]
    bias = log_weights - 0.5 * ((m2**2).sum(1) + D * np.asarray(s2, dtype=float))
    entropy = np.log(total).sum() + top.sum() - (sums * m2).sum() - (counts * bias).sum()
    phi = None
    if want_phi:
        e *= inv
        phi = e.T
    return phi, (counts, sums, (x2**2).sum(), entropy, x2.shape)


def elbo_global(x, m, s2, *, sigma2, alpha=None, alpha0=None):
    """The ELBO with q(c) at its optimum for the given global factors (what SVI monitors)."""
    sigma2 = positive("sigma2", sigma2)
    x2, m, s2, _ = _check_factors(x, m, _per_component("s2", s2, positive=True))  # s2 = 0: the ELBO is -inf
    alpha, alpha0 = _weights_prior(alpha, alpha0, len(s2))
    return _elbo_global(x2, m, s2, sigma2, alpha, alpha0)


def _elbo_global(x2, m, s2, sigma2, alpha, alpha0):
    _, stats = _assign_with_stats(x2, m, s2, _expected_log_weights(len(s2), alpha), want_phi=False)
    return _elbo_from_stats(stats, m, s2, sigma2, alpha, alpha0)


def init_means(x, K, seed=0):
    """k-means++ seeding: K data points, each drawn with probability ∝ squared distance to the chosen ones.

    ``seed=None`` draws from numpy's global generator (``np.random.seed`` makes it reproducible).
    """
    x2 = _data(x)
    K = positive_int("K", K)
    rng = _validate.numpy_rng(seed)
    centers = [x2[rng.integers(len(x2))]]
    dist2 = ((x2 - centers[0]) ** 2).sum(1)
    for _ in range(K - 1):
        total = dist2.sum()
        index = rng.choice(len(x2), p=dist2 / total) if total > 0 else rng.integers(len(x2))
        centers.append(x2[index])
        dist2 = np.minimum(dist2, ((x2 - centers[-1]) ** 2).sum(1))
    return _shape_like(x, np.array(centers))


def _initial_means(x, x2, K, init, seed):
    if init is None:
        return init_means(x, K, seed).reshape(K, -1)
    return _means("init", init, K, x2.shape[1])


# --- CAVI --------------------------------------------------------------------


class CaviResult(NamedTuple):
    """Fitted factors, the ELBO after every coordinate step, and the compute time up to each."""

    phi: np.ndarray  # [N, K] assignment probabilities
    m: np.ndarray  # [K] or [K, D] means of q(mu_k)
    s2: np.ndarray  # [K] variances of q(mu_k) (per dimension)
    alpha: np.ndarray | None  # [K] Dirichlet parameters of q(pi), or None for fixed weights
    elbo: np.ndarray  # ELBO (nats) at the start and after every coordinate step
    seconds: np.ndarray  # compute seconds (ELBO evaluations excluded) up to each trace entry
    n_iter: int  # number of full sweeps
    history: list | None  # (phi, m, s2, alpha) after every step, if keep_history


def cavi(x, K, *, sigma2=100.0, alpha0=None, max_iter=200, tol=1e-8, init=None, seed=0, keep_history=False):
    """Coordinate-ascent VI for the Bayesian Gaussian mixture.

    Starts from q(c_i) uniform, m = ``init`` (default: k-means++ seeding with
    ``seed``), s2_k = 1 and, with learned weights, alpha_k = alpha0 + N/K. Each
    sweep applies, in turn, ``update_assignments`` (phi), ``update_means``
    (m, s2) and, if ``alpha0`` is given, ``update_weights`` (alpha); each is the
    exact maximiser of the ELBO in its block, so the ELBO never decreases. The
    ELBO is recorded at the start and after every step. Stops when a sweep
    raises the ELBO by less than ``tol`` nats per data point, or after
    ``max_iter`` sweeps (``tol=0`` runs them all, whatever rounding does to the
    ELBO at convergence). ``seed=None`` seeds k-means++ from numpy's global generator.
    """
    x2 = _data(x)
    N = len(x2)
    K, sigma2 = positive_int("K", K), positive("sigma2", sigma2)
    alpha0, max_iter, tol = _alpha0(alpha0), positive_int("max_iter", max_iter), _nonnegative("tol", tol)
    m = _initial_means(x, x2, K, init, seed)
    s2 = np.ones(K)
    phi = np.full((N, K), 1.0 / K) if keep_history else None  # q(c) starts uniform
    alpha = None if alpha0 is None else np.full(K, alpha0 + N / K)

    def record(stats):
        trace.append(_elbo_from_stats(stats, m, s2, sigma2, alpha, alpha0))
        seconds.append(spent)
        if keep_history:
            history.append((phi.copy(), _shape_like(x, m.copy()), s2.copy(), None if alpha is None else alpha.copy()))

    trace, seconds, history, spent = [], [], [] if keep_history else None, 0.0
    steps = 3 if alpha0 is not None else 2
    record((np.full(K, N / K), np.tile(x2.sum(0) / K, (K, 1)), (x2**2).sum(), N * math.log(K), x2.shape))
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is reported
        start = time.perf_counter()
        last_globals = (m, s2, alpha)  # phi is formed only when needed: it is a function of these
        phi, stats = _assign_with_stats(x2, m, s2, _expected_log_weights(K, alpha), want_phi=keep_history)
        spent += time.perf_counter() - start
        record(stats)  # the ELBO after the q(c) step (q(c) optimal for the current globals)
        start = time.perf_counter()
        precision = 1.0 / sigma2 + stats[0]
        m, s2 = stats[1] / precision[:, None], 1.0 / precision  # update_means, from N_k and S_k
        spent += time.perf_counter() - start
        record(stats)
        if alpha0 is not None:
            alpha = alpha0 + stats[0]  # update_weights, from N_k
            record(stats)
        if tol > 0 and n_iter > 1 and trace[-1] - trace[-1 - steps] < tol * N:
            break
    if phi is None:
        m_last, s2_last, alpha_last = last_globals
        phi = _assign(x2, m_last, s2_last, _expected_log_weights(K, alpha_last))[0]
    return CaviResult(phi, _shape_like(x, m), s2, alpha, np.array(trace), np.array(seconds), n_iter, history)


# --- EM: VB with a point mass on mu ---------------------------------------------


class EmResult(NamedTuple):
    """MAP-EM fit and the log posterior log p(x, mu = m [, pi = w]) after every iteration."""

    phi: np.ndarray  # [N, K] responsibilities p(c_i = k | x_i, m, w)
    m: np.ndarray  # [K] or [K, D] MAP means
    weights: np.ndarray  # [K] mixture weights (1/K when fixed)
    log_joint: np.ndarray  # log p(x, m [, w]) in nats, at the start and after every iteration
    n_iter: int


def log_joint_map(x, m, *, sigma2, weights=None, alpha0=None):
    """The MAP objective log p(x, mu = m [, pi = w]) with c summed out (nats):

    sum_i log sum_k w_k N(x_i; m_k, I) + sum_k log N(m_k; 0, sigma2 I) [+ log Dir(w; alpha0)].
    """
    x2, sigma2 = _data(x), positive("sigma2", sigma2)
    means = _validate.real_array("m", m, ndim=(1, 2))
    K = len(means)
    m = _means("m", means, K, x2.shape[1])
    if weights is None:
        weights = np.full(K, 1.0 / K)
    else:
        weights = _per_component("weights", weights, K, positive=True)
        if not math.isclose(weights.sum(), 1.0, abs_tol=1e-9):
            raise ValueError(f"weights must sum to 1, got {weights!r} (sum {weights.sum()!r})")
    alpha0 = _alpha0(alpha0)
    _, lse = _assign(x2, m, np.zeros(K), np.log(weights))
    return _log_joint_from_lse(lse, x2, m, weights, sigma2, alpha0)


def _log_joint_from_lse(lse, x2, m, weights, sigma2, alpha0):
    """log p(x, m, w) from the E-step's log normalisers lse_i = log sum_k w_k exp(x_i·m_k - |m_k|²/2)."""
    N, D = x2.shape
    K = len(weights)
    m2 = np.asarray(m, dtype=float).reshape(K, -1)
    value = lse.sum() - 0.5 * (x2**2).sum() - 0.5 * N * D * LOG_2PI
    value += -0.5 * K * D * math.log(2 * math.pi * sigma2) - (m2**2).sum() / (2 * sigma2)
    if alpha0 is not None:
        value += gammaln(K * alpha0) - K * gammaln(alpha0) + (alpha0 - 1) * np.log(weights).sum()
    return float(value)


def em(x, K, *, sigma2=100.0, alpha0=None, max_iter=200, tol=1e-8, init=None, seed=0):
    """MAP-EM: the CAVI sweep with q(mu_k) a point mass at m_k (s2_k -> 0).

    E-step: phi_ik ∝ w_k exp(x_i·m_k - |m_k|²/2)  (``update_assignments`` with s2 = 0)
    M-step: m_k = sum_i phi_ik x_i / (1/sigma2 + N_k)  (the mean of ``update_means``),
            and with learned weights (Dir(alpha0) prior, alpha0 >= 1)
            w_k = (N_k + alpha0 - 1) / (N + K (alpha0 - 1)).
    Each iteration does not decrease log p(x, m [, w]) (``log_joint_map``),
    recorded at the start and after every iteration. Stops when an iteration raises it by
    less than ``tol`` nats per data point (``tol=0``: after ``max_iter`` iterations).
    """
    x2 = _data(x)
    N = len(x2)
    K, sigma2 = positive_int("K", K), positive("sigma2", sigma2)
    alpha0, max_iter, tol = _alpha0(alpha0, minimum=1.0), positive_int("max_iter", max_iter), _nonnegative("tol", tol)
    m = _initial_means(x, x2, K, init, seed)
    weights = np.full(K, 1.0 / K)
    phi, lse = _assign(x2, m, np.zeros(K), np.log(weights))  # E-step
    trace = [_log_joint_from_lse(lse, x2, m, weights, sigma2, alpha0)]
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is reported
        m, _ = _update_means(x2, x2, phi, sigma2)  # M-step
        if alpha0 is not None:
            weights = (phi.sum(0) + alpha0 - 1) / (N + K * (alpha0 - 1))
        phi, lse = _assign(x2, m, np.zeros(K), np.log(weights))  # E-step
        trace.append(_log_joint_from_lse(lse, x2, m, weights, sigma2, alpha0))
        if tol > 0 and n_iter > 1 and trace[-1] - trace[-2] < tol * N:
            break
    return EmResult(phi, _shape_like(x, m), weights, np.array(trace), n_iter)


# --- stochastic VI ----------------------------------------------------------------


def step_size(t, kappa=0.7, tau=1.0):
    """Robbins–Monro step size rho_t = (t + tau)^(-kappa), t = 1, 2, ...

    With kappa in (0.5, 1]: sum rho_t = inf (can travel anywhere) and
    sum rho_t² < inf (the noise averages out).
    """
    kappa, tau = _kappa(kappa), _nonnegative("tau", tau)
    t = _validate.real_array("t", t, min_size=0)
    if (t < 0).any() or (t + tau <= 0).any():
        raise ValueError(f"t must be >= 0 (steps are counted from 1) with t + tau > 0, got t = {t!r}, tau = {tau!r}")
    return _step_sizes(t, kappa, tau)


def _step_sizes(t, kappa, tau):
    return (np.asarray(t, dtype=float) + tau) ** (-kappa)


def _kappa(kappa):
    kappa = finite("kappa", kappa)
    if not 0.5 < kappa <= 1.0:
        raise ValueError(f"kappa must be in (0.5, 1], got {kappa!r}")
    return kappa


def intermediate_global(x_batch, phi_batch, *, sigma2, n_total, alpha0=None):
    """Natural parameters of the full-data CAVI update, estimated from a minibatch.

    Each sampled point counts as though it were replicated N/|B| times:

        lambda_k = 1/sigma2 + (N/|B|) sum_{i in B} phi_ik      (precision of q(mu_k))
        eta_k    = (N/|B|) sum_{i in B} phi_ik x_i              (precision x mean)
        alpha_k  = alpha0 + (N/|B|) sum_{i in B} phi_ik

    For a uniformly sampled batch the expectation is exactly the full-data
    update (1/sigma2 + N_k, S_k, alpha0 + N_k). Returns (eta [K, D], lambda [K],
    alpha [K] or None).
    """
    xb, sigma2 = _data(x_batch, "x_batch"), positive("sigma2", sigma2)
    phi_batch = _phi("phi_batch", phi_batch, len(xb))
    n_total, alpha0 = positive_int("n_total", n_total), _alpha0(alpha0)
    return _intermediate_global(xb, phi_batch, sigma2, n_total, alpha0)


def _intermediate_global(xb, phi_batch, sigma2, n_total, alpha0):
    scale = n_total / len(xb)
    counts = scale * phi_batch.sum(0)
    alpha = None if alpha0 is None else alpha0 + counts
    return scale * (phi_batch.T @ xb), 1.0 / sigma2 + counts, alpha


class SviResult(NamedTuple):
    """SVI fit and its ELBO-vs-time trace (ELBO with optimal q(c), on the full data)."""

    m: np.ndarray  # [K] or [K, D]
    s2: np.ndarray  # [K]
    alpha: np.ndarray | None
    steps: np.ndarray  # step numbers at which the ELBO was evaluated (0 = start)
    elbo: np.ndarray  # full-data ELBO (nats) at those steps
    seconds: np.ndarray  # compute seconds up to those steps (ELBO evaluations excluded)


def svi(
    x,
    K,
    *,
    sigma2=100.0,
    alpha0=None,
    batch_size=1000,
    n_steps=2000,
    kappa=0.7,
    tau=1.0,
    step_sizes=None,
    init=None,
    seed=0,
    eval_steps=None,
):
    """Stochastic VI (Hoffman, Blei, Wang & Paisley 2013) for the Bayesian Gaussian mixture.

    Global factors are kept in natural parameters (eta_k = m_k/s2_k, lambda_k =
    1/s2_k, alpha_k). Step t = 1..n_steps: draw a batch B of ``batch_size``
    indices uniformly with replacement; set phi_B by the local CAVI update;
    form the intermediate global parameters (``intermediate_global``, counts
    scaled by N/|B|); then take the natural-gradient step

        eta <- (1 - rho_t) eta + rho_t eta_hat,   rho_t = (t + tau)^(-kappa)

    (likewise lambda, alpha). ``step_sizes`` (an array of n_steps values in
    (0, 1]) replaces the schedule, to try schedules that break the
    Robbins–Monro conditions. Starts at m = ``init`` (default k-means++ with
    ``seed``), lambda_k = 1/sigma2 + N/K. The full-data ``elbo_global`` is
    evaluated at ``eval_steps`` (default: ~25 log-spaced steps and the last);
    its cost is excluded from ``seconds``.
    """
    x2 = _data(x)
    N, D = x2.shape
    K, sigma2 = positive_int("K", K), positive("sigma2", sigma2)
    alpha0, n_steps = _alpha0(alpha0), positive_int("n_steps", n_steps)
    batch_size = positive_int("batch_size", batch_size)
    if batch_size > N:
        raise ValueError(f"batch_size must be <= the number of data points N = {N}, got {batch_size}")
    if step_sizes is None:
        rhos = _step_sizes(np.arange(1, n_steps + 1), _kappa(kappa), _nonnegative("tau", tau))
    else:
        rhos = _validate.real_array("step_sizes", step_sizes, min_size=0)
        if rhos.shape != (n_steps,) or not np.all((rhos > 0) & (rhos <= 1)):
            raise ValueError(f"step_sizes must be {n_steps} values in (0, 1], got {np.ravel(step_sizes)[:5]!r}...")
    if eval_steps is None:
        eval_steps = np.unique(np.r_[0, np.geomspace(1, n_steps, 25).astype(int), n_steps])
    eval_steps = _validate.real_array("eval_steps", eval_steps, ndim=1, min_size=0)
    if not np.all((eval_steps == np.round(eval_steps)) & (eval_steps >= 0) & (eval_steps <= n_steps)):
        raise ValueError(f"eval_steps must be integers in [0, n_steps = {n_steps}], got {eval_steps!r}")
    eval_steps = set(int(s) for s in eval_steps)
    seed = _validate.fresh_numpy_seed(seed)  # the batches and k-means++ share it
    rng = np.random.default_rng(seed)
    m = _initial_means(x, x2, K, init, seed)
    precision = np.full(K, 1.0 / sigma2 + N / K)
    eta = m * precision[:, None]
    alpha = None if alpha0 is None else np.full(K, alpha0 + N / K)
    steps, trace, seconds, spent = [], [], [], 0.0
    for t in range(0, n_steps + 1):
        if t > 0:
            start = time.perf_counter()
            batch = x2[rng.integers(0, N, batch_size)]
            phi = _assign(batch, m, 1.0 / precision, _expected_log_weights(K, alpha))[0]
            eta_hat, precision_hat, alpha_hat = _intermediate_global(batch, phi, sigma2, N, alpha0)
            rho = rhos[t - 1]
            eta = (1 - rho) * eta + rho * eta_hat
            precision = (1 - rho) * precision + rho * precision_hat
            if alpha0 is not None:
                alpha = (1 - rho) * alpha + rho * alpha_hat
            m = eta / precision[:, None]
            spent += time.perf_counter() - start
        if t in eval_steps:
            steps.append(t)
            trace.append(_elbo_global(x2, m, 1.0 / precision, sigma2, alpha, alpha0))
            seconds.append(spent)
    return SviResult(_shape_like(x, m), 1.0 / precision, alpha, np.array(steps), np.array(trace), np.array(seconds))
