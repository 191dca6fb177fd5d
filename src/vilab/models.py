"""Toy models whose evidence and posterior are known exactly (or by accurate quadrature).

``ConjugateGaussian`` is the workhorse of notebook 01: with a Gaussian prior
and a Gaussian likelihood every quantity of variational inference has a
closed form, so the identity log p(x) = ELBO(q) + KL(q || p(z|x)) can be
checked to machine precision. ``SymmetricMixture`` is a 1-D model whose
posterior is *not* Gaussian (it is bimodal): its evidence comes from
adaptive quadrature, and no Gaussian q closes the gap.

All quantities are in nats; all methods return Python floats (or numpy
arrays when given arrays).
"""

import functools
import math
import numbers

import numpy as np
from scipy import integrate, optimize, special

from vilab import _validate

LOG_2PI = math.log(2 * math.pi)


def _data(x):
    """Return ``x`` as a 1-D float array of finite values, or raise naming it."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"x must be a 1-D array of real numbers, got {x!r}")
    try:
        array = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"x must be a 1-D array of real numbers, got {x!r}") from error
    if array.ndim != 1:
        raise ValueError(f"x must be a 1-D array of observations, got shape {array.shape}")
    if array.size == 0:
        raise ValueError("x must contain at least one observation, got an empty array")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"x must be finite, got NaN or infinity in {array!r}")
    return array


def _points(z):
    """Return ``(array, was_scalar)`` for a float or an array of latent values."""
    if isinstance(z, bool):
        raise TypeError(f"z must be a real number or an array of real numbers, got {z!r}")
    scalar = isinstance(z, numbers.Real)
    try:
        array = np.asarray(z, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"z must be a real number or an array of real numbers, got {z!r}") from error
    if np.isnan(array).any():
        raise ValueError(f"z must not contain NaN, got {z!r}")
    return array, scalar or array.ndim == 0


def _out(values, scalar):
    return float(values) if scalar else values


def _seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"seed must be None or an integer, got {seed!r}")
    return seed


def normal_logpdf(z, mean, std):
    """log N(z; mean, std^2) = -1/2 log(2 pi std^2) - (z - mean)^2 / (2 std^2), elementwise, nats."""
    return -0.5 * LOG_2PI - np.log(std) - 0.5 * ((z - mean) / std) ** 2


class ConjugateGaussian:
    """z ~ N(m0, s0^2),  x_i | z ~ N(z, sigma^2) i.i.d. for i = 1..n.

    With xbar the sample mean and S = sum_i (x_i - xbar)^2:

    - posterior p(z | x) = N(m_n, s_n^2) with 1/s_n^2 = 1/s0^2 + n/sigma^2 and
      m_n = s_n^2 (m0/s0^2 + n xbar/sigma^2);
    - evidence (x is jointly normal, mean m0, covariance sigma^2 I + s0^2 1 1^T):
      log p(x) = -n/2 log(2 pi sigma^2) - 1/2 log(1 + n s0^2/sigma^2)
                 - S/(2 sigma^2) - n (xbar - m0)^2 / (2 (sigma^2 + n s0^2)).

    ``prior_mean`` is m0, ``prior_std`` is s0, ``noise_std`` is sigma.
    """

    def __init__(self, x, prior_mean=0.0, prior_std=1.0, noise_std=1.0):
        self.x = _data(x)
        self.prior_mean = _validate.finite("prior_mean", prior_mean)
        self.prior_std = _validate.positive("prior_std", prior_std)
        self.noise_std = _validate.positive("noise_std", noise_std)
        self.n = self.x.size
        self.xbar = float(self.x.mean())
        self.scatter = float(((self.x - self.xbar) ** 2).sum())  # S = sum_i (x_i - xbar)^2

    def __repr__(self):
        return (
            f"ConjugateGaussian(n={self.n}, prior_mean={self.prior_mean}, "
            f"prior_std={self.prior_std}, noise_std={self.noise_std})"
        )

    def log_evidence(self):
        """log p(x) in closed form (see the class docstring), nats."""
        n, s0, sigma = self.n, self.prior_std, self.noise_std
        return float(
            -0.5 * n * (LOG_2PI + 2 * math.log(sigma))
            - 0.5 * math.log1p(n * s0**2 / sigma**2)
            - 0.5 * self.scatter / sigma**2
            - 0.5 * n * (self.xbar - self.prior_mean) ** 2 / (sigma**2 + n * s0**2)
        )

    def posterior(self):
        """(m_n, s_n): mean and standard deviation of the exact posterior p(z | x)."""
        precision = 1 / self.prior_std**2 + self.n / self.noise_std**2
        mean = (self.prior_mean / self.prior_std**2 + self.n * self.xbar / self.noise_std**2) / precision
        return float(mean), float(1 / math.sqrt(precision))

    def log_likelihood(self, z):
        """log p(x | z) = -n/2 log(2 pi sigma^2) - (S + n (xbar - z)^2) / (2 sigma^2); vectorised over z."""
        z, scalar = _points(z)
        n, sigma = self.n, self.noise_std
        values = -0.5 * n * (LOG_2PI + 2 * math.log(sigma)) - 0.5 * (self.scatter + n * (self.xbar - z) ** 2) / sigma**2
        return _out(values, scalar)

    def log_prior(self, z):
        """log p(z) = log N(z; m0, s0^2); vectorised over z."""
        z, scalar = _points(z)
        return _out(normal_logpdf(z, self.prior_mean, self.prior_std), scalar)

    def log_joint(self, z):
        """log p(x, z) = log p(z) + sum_i log N(x_i; z, sigma^2); a float for a float, an array for an array."""
        z, scalar = _points(z)
        return _out(self.log_prior(z) + self.log_likelihood(z), scalar)

    def elbo(self, q_mean, q_std):
        """Exact ELBO(q) = E_q[log p(x, z)] + H(q) for q = N(m, s^2), nats.

        E_q[log p(z)]     = -1/2 log(2 pi s0^2) - ((m - m0)^2 + s^2) / (2 s0^2)
        E_q[log p(x | z)] = -n/2 log(2 pi sigma^2) - (S + n ((xbar - m)^2 + s^2)) / (2 sigma^2)
        H(q)              = 1/2 log(2 pi e s^2)
        """
        m, s = _validate.finite("q_mean", q_mean), _validate.positive("q_std", q_std)
        n, m0, s0, sigma = self.n, self.prior_mean, self.prior_std, self.noise_std
        expected_log_prior = -0.5 * (LOG_2PI + 2 * math.log(s0)) - 0.5 * ((m - m0) ** 2 + s**2) / s0**2
        expected_log_lik = (
            -0.5 * n * (LOG_2PI + 2 * math.log(sigma))
            - 0.5 * (self.scatter + n * ((self.xbar - m) ** 2 + s**2)) / sigma**2
        )
        entropy = 0.5 * (LOG_2PI + 1) + math.log(s)
        return float(expected_log_prior + expected_log_lik + entropy)

    def kl_to_posterior(self, q_mean, q_std):
        """Exact KL(q || p(z|x)) = log(s_n/s) + (s^2 + (m - m_n)^2) / (2 s_n^2) - 1/2, nats (>= 0)."""
        m, s = _validate.finite("q_mean", q_mean), _validate.positive("q_std", q_std)
        post_mean, post_std = self.posterior()
        return float(math.log(post_std / s) + (s**2 + (m - post_mean) ** 2) / (2 * post_std**2) - 0.5)

    def elbo_mc(self, q_mean, q_std, n_samples, seed=None):
        """Monte-Carlo ELBO: (1/N) sum_k [log p(x, z_k) - log q(z_k)], z_k ~ q = N(m, s^2) i.i.d.

        Unbiased for ``elbo(q_mean, q_std)``; its standard error shrinks like 1/sqrt(N).
        ``seed`` fixes the draws (numpy ``default_rng``).
        """
        m, s = _validate.finite("q_mean", q_mean), _validate.positive("q_std", q_std)
        n_samples = _validate.positive_int("n_samples", n_samples)
        z = np.random.default_rng(_seed(seed)).normal(m, s, size=n_samples)
        return float(np.mean(self.log_joint(z) - normal_logpdf(z, m, s)))


@functools.lru_cache(maxsize=4)
def _hermite_rule(n_nodes):
    """Probabilists' Gauss-Hermite nodes and weights (computing them costs ~50 ms, so cache)."""
    return np.polynomial.hermite_e.hermegauss(n_nodes)


class SymmetricMixture:
    """A 1-D non-conjugate model with a bimodal posterior.

    z ~ N(0, s0^2),  x_i | z ~ 1/2 N(z, sigma^2) + 1/2 N(-z, sigma^2) i.i.d.

    Each observation is equally well explained by +z and -z, so p(z | x) is
    symmetric with two modes near +-|xbar| and no Gaussian q can match it.
    The evidence p(x) = int p(z) p(x | z) dz has no closed form; it is computed
    by adaptive quadrature (``scipy.integrate.quad``) on the joint rescaled by
    its maximum, to about 1e-10 relative accuracy. The ELBO of a Gaussian q is
    E_q[log p(x, z)] + H(q) with the expectation by Gauss-Hermite quadrature.
    """

    N_HERMITE = 201  # nodes of the Gauss-Hermite rule for E_q[log p(x, z)]

    def __init__(self, x, prior_std=2.0, noise_std=0.5):
        self.x = _data(x)
        self.prior_std = _validate.positive("prior_std", prior_std)
        self.noise_std = _validate.positive("noise_std", noise_std)
        self.n = self.x.size
        self._log_evidence = None

    def __repr__(self):
        return f"SymmetricMixture(n={self.n}, prior_std={self.prior_std}, noise_std={self.noise_std})"

    def log_joint(self, z):
        """log p(x, z) = log N(z; 0, s0^2) + sum_i log(1/2 N(x_i; z, sigma^2) + 1/2 N(x_i; -z, sigma^2))."""
        z, scalar = _points(z)
        zz = z[..., None]
        pair = np.stack(
            [normal_logpdf(self.x, zz, self.noise_std), normal_logpdf(self.x, -zz, self.noise_std)], axis=-1
        )
        log_lik = (special.logsumexp(pair, axis=-1) - math.log(2)).sum(-1)
        return _out(normal_logpdf(z, 0.0, self.prior_std) + log_lik, scalar)

    def _mode(self):
        """Location of the largest value of log p(x, z) (z >= 0; the joint is symmetric)."""
        grid = np.linspace(0.0, 10 * self.prior_std, 4001)
        start = grid[np.argmax(self.log_joint(grid))]
        step = grid[1] - grid[0]
        res = optimize.minimize_scalar(
            lambda z: -self.log_joint(z), bounds=(max(start - step, 0.0), start + step), method="bounded"
        )
        return float(res.x)

    def log_evidence(self):
        """log p(x) = log int p(x, z) dz by adaptive quadrature (cached), nats."""
        if self._log_evidence is None:
            mode = self._mode()
            peak = self.log_joint(mode)
            width = 12 * self.prior_std + 2 * mode
            # 2 x the integral over z >= 0 (the joint is even in z), split at the mode
            parts = [
                integrate.quad(lambda z: math.exp(self.log_joint(z) - peak), a, b, epsabs=0, epsrel=1e-12, limit=200)[0]
                for a, b in [(0.0, mode), (mode, width)]
            ]
            self._log_evidence = float(peak + math.log(2 * sum(parts)))
        return self._log_evidence

    def posterior_pdf(self, z):
        """p(z | x) = p(x, z) / p(x), elementwise (a density in z, integrates to 1)."""
        z, scalar = _points(z)
        return _out(np.exp(self.log_joint(z) - self.log_evidence()), scalar)

    def elbo(self, q_mean, q_std):
        """ELBO(q) = E_q[log p(x, z)] + 1/2 log(2 pi e s^2) for q = N(m, s^2), nats.

        E_q[f(z)] = sum_k w_k f(m + s t_k) / sqrt(2 pi) with (t_k, w_k) the
        probabilists' Gauss-Hermite nodes and weights (``N_HERMITE`` of them).
        """
        m, s = _validate.finite("q_mean", q_mean), _validate.positive("q_std", q_std)
        nodes, weights = _hermite_rule(self.N_HERMITE)
        expected = float(np.sum(weights * self.log_joint(m + s * nodes)) / math.sqrt(2 * math.pi))
        return expected + 0.5 * (LOG_2PI + 1) + math.log(s)

    def kl_to_posterior(self, q_mean, q_std):
        """KL(q || p(z|x)) = log p(x) - ELBO(q), nats (>= 0)."""
        return self.log_evidence() - self.elbo(q_mean, q_std)

    def best_gaussian(self):
        """(m, s) of the Gaussian q maximising the ELBO (best of starts at the mode and at 0)."""
        mode = self._mode()
        best = None
        for start in [(mode, 0.5 * self.noise_std), (0.0, self.prior_std)]:
            res = optimize.minimize(
                lambda p: -self.elbo(p[0], math.exp(p[1])),
                x0=[start[0], math.log(start[1])],
                method="Nelder-Mead",
                options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 4000},
            )
            if best is None or res.fun < best.fun:
                best = res
        return float(best.x[0]), float(math.exp(best.x[1]))
