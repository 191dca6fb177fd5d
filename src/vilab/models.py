"""Toy models whose evidence and posterior are known exactly (or by accurate quadrature).

``ConjugateGaussian`` is the workhorse of notebook 01: with a Gaussian prior
and a Gaussian likelihood every quantity of variational inference has a
closed form, so the identity log p(x) = ELBO(q) + KL(q || p(z|x)) can be
checked to machine precision. ``SymmetricMixture`` is a 1-D model whose
posterior is *not* Gaussian (it is bimodal): its evidence comes from
quadrature around its two modes, and no Gaussian q closes the gap.

All quantities are in nats; all methods return Python floats (or numpy
arrays when given arrays).
"""

import functools
import math

import numpy as np
from scipy import integrate, optimize, special

from vilab import _validate

LOG_2PI = math.log(2 * math.pi)


def _data(x):
    """Return ``x`` as a 1-D float array of finite values, or raise naming it."""
    return _validate.real_array("x", x, ndim=1)


def _points(z):
    """Return ``(array, was_scalar)`` for a float or an array of latent values (tensors are detached)."""
    array = _validate.real_array("z", z, min_size=0)
    return array, array.ndim == 0


def _out(values, scalar):
    return float(values) if scalar else values


def _normal_logpdf(z, mean, std):
    return -0.5 * LOG_2PI - np.log(std) - 0.5 * ((z - mean) / std) ** 2


def normal_logpdf(z, mean, std):
    """log N(z; mean, std^2) = -1/2 log(2 pi std^2) - (z - mean)^2 / (2 std^2), elementwise, nats.

    Numbers or arrays (broadcast together); a float when all three are scalars.
    ``std`` must be > 0; NaN and inf are rejected.
    """
    z = _validate.real_array("z", z, min_size=0)
    mean = _validate.real_array("mean", mean, min_size=0)
    std = _validate.positive_array("std", std, min_size=0)
    try:
        shape = np.broadcast_shapes(z.shape, mean.shape, std.shape)
    except ValueError:
        raise ValueError(
            f"z, mean and std must broadcast together, got shapes {z.shape}, {mean.shape}, {std.shape}"
        ) from None
    return _out(_normal_logpdf(z, mean, std), shape == ())


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
        self.prior_std = _validate.scale("prior_std", prior_std)
        self.noise_std = _validate.scale("noise_std", noise_std)
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
        return _out(_normal_logpdf(z, self.prior_mean, self.prior_std), scalar)

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
        m, s = _validate.finite("q_mean", q_mean), _validate.scale("q_std", q_std)
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
        m, s = _validate.finite("q_mean", q_mean), _validate.scale("q_std", q_std)
        post_mean, post_std = self.posterior()
        return float(math.log(post_std / s) + (s**2 + (m - post_mean) ** 2) / (2 * post_std**2) - 0.5)

    def elbo_mc(self, q_mean, q_std, n_samples, seed=None):
        """Monte-Carlo ELBO: (1/N) sum_k [log p(x, z_k) - log q(z_k)], z_k ~ q = N(m, s^2) i.i.d.

        Unbiased for ``elbo(q_mean, q_std)``; its standard error shrinks like 1/sqrt(N).
        ``seed`` fixes the draws (numpy ``default_rng``); ``None`` draws fresh ones from
        numpy's global generator (``np.random.seed`` makes them reproducible).
        """
        m, s = _validate.finite("q_mean", q_mean), _validate.scale("q_std", q_std)
        n_samples = _validate.positive_int("n_samples", n_samples)
        z = _validate.numpy_rng(seed).normal(m, s, size=n_samples)
        return float(np.mean(self.log_joint(z) - _normal_logpdf(z, m, s)))


@functools.lru_cache(maxsize=4)
def _hermite_rule(n_nodes):
    """Probabilists' Gauss-Hermite nodes and weights (computing them costs ~50 ms, so cache)."""
    return np.polynomial.hermite_e.hermegauss(n_nodes)


class SymmetricMixture:
    """A 1-D non-conjugate model with a bimodal posterior.

    z ~ N(0, s0^2),  x_i | z ~ 1/2 N(z, sigma^2) + 1/2 N(-z, sigma^2) i.i.d.

    Each observation is equally well explained by +z and -z, so p(z | x) is
    symmetric with two modes near +-|xbar| and no Gaussian q can match it. Since
    1/2 N(x; z, sigma^2) + 1/2 N(x; -z, sigma^2) = N(x; 0, sigma^2) exp(-z^2 / (2 sigma^2)) cosh(x z / sigma^2),

        log p(x, z) = C + f(z),   f(z) = -a z^2 + sum_i log cosh(b_i z),
        a = 1/(2 s0^2) + n/(2 sigma^2),  b_i = x_i / sigma^2,  C = log N(0; 0, s0^2) + sum_i log N(x_i; 0, sigma^2).

    f is even, and on z > 0 its derivative f'(z) = -2 a z + sum_i b_i tanh(b_i z) is
    concave with f'(0) = 0, so f has exactly one maximum z* on z >= 0 (z* = 0 when
    f''(0) = -2a + sum_i b_i^2 <= 0): one mode per sign of z. The evidence
    p(x) = int p(x, z) dz has no closed form; it is the sum of the two modes' halves,
    log p(x) = C + f(z*) + log 2 + log int_0^inf exp(f(z) - f(z*)) dz, with the integral by
    adaptive quadrature (``scipy.integrate.quad``) in the offset z - z* (computed without
    cancellation), between the points where f has fallen ``DROP`` = 60 nats below its peak:
    about 1e-12 relative accuracy, whatever noise_std or the distance of the data.
    The ELBO of a Gaussian q is E_q[log p(x, z)] + H(q) with the expectation by
    Gauss-Hermite quadrature.
    """

    N_HERMITE = 201  # nodes of the Gauss-Hermite rule for E_q[log p(x, z)]
    DROP = 60.0  # nats below the peak where the quadrature stops (what is left out weighs < e^-60 relative)

    def __init__(self, x, prior_std=2.0, noise_std=0.5):
        self.x = _data(x)
        self.prior_std = _validate.scale("prior_std", prior_std)
        self.noise_std = _validate.scale("noise_std", noise_std)
        self.n = self.x.size
        self._a = 0.5 / self.prior_std**2 + 0.5 * self.n / self.noise_std**2
        self._abs_b = np.abs(self.x) / self.noise_std**2
        self._log_evidence = None

    def __repr__(self):
        return f"SymmetricMixture(n={self.n}, prior_std={self.prior_std}, noise_std={self.noise_std})"

    def log_joint(self, z):
        """log p(x, z) = log N(z; 0, s0^2) + sum_i log(1/2 N(x_i; z, sigma^2) + 1/2 N(x_i; -z, sigma^2))."""
        z, scalar = _points(z)
        zz = z[..., None]
        pair = np.stack(
            [_normal_logpdf(self.x, zz, self.noise_std), _normal_logpdf(self.x, -zz, self.noise_std)], axis=-1
        )
        log_lik = (special.logsumexp(pair, axis=-1) - math.log(2)).sum(-1)
        return _out(_normal_logpdf(z, 0.0, self.prior_std) + log_lik, scalar)

    def _mode(self):
        """z* >= 0, the maximiser of f: the root of f'(z)/z = -2a + sum_i b_i^2 tanh(b_i z)/(b_i z).

        That ratio decreases from f''(0) at z = 0 to <= 0 at z = sum_i |b_i| / (2a) (tanh <= 1),
        so a bracketing root finder needs no search grid.
        """
        a, abs_b = self._a, self._abs_b
        if -2 * a + np.sum(abs_b**2) <= 0:
            return 0.0

        def slope_ratio(z):
            u = abs_b * z
            small = u < 1e-4
            tanhc = np.where(small, 1 - u**2 / 3, np.tanh(u) / np.where(small, 1.0, u))  # tanh(u) / u
            return -2 * a + np.sum(abs_b**2 * tanhc)

        upper = np.sum(abs_b) / (2 * a)
        if slope_ratio(upper) >= 0:
            return float(upper)
        return float(optimize.brentq(slope_ratio, 0.0, upper, xtol=1e-15 * upper, rtol=4 * np.finfo(float).eps))

    def _rise(self, d, z0):
        """f(z0 + d) - f(z0) for offsets d >= -z0 (so z = z0 + d >= 0), without subtracting large numbers.

        On z >= 0, log cosh(b_i z) = |b_i| z + log1p(exp(-2 |b_i| z)) - log 2, and the terms linear
        in d combine into d (sum_i |b_i| - 2 a z0) = d (sum_i (|x_i| - z0) / sigma^2 - z0 / s0^2).
        """
        d = np.asarray(d, dtype=float)
        slope = np.sum(np.abs(self.x) - z0) / self.noise_std**2 - z0 / self.prior_std**2
        tails = np.log1p(np.exp(-2 * self._abs_b * (z0 + d[..., None]))) - np.log1p(np.exp(-2 * self._abs_b * z0))
        return d * slope - self._a * d**2 + tails.sum(-1)

    def _half_integral(self, mode):
        """int_0^inf exp(f(z) - f(z*)) dz, between the points ``DROP`` nats below the peak on either side."""
        a, total = self._a, np.sum(self._abs_b)

        def above_cut(d):
            return float(self._rise(d, mode)) + self.DROP

        # f(z) - f(z*) <= -a z^2 + sum_i |b_i| z (log cosh u <= |u| and f(z*) >= f(0) = 0): < -DROP beyond z_far
        z_far = (total + math.sqrt(total**2 + 4 * a * (self.DROP + 1))) / (2 * a)
        right = optimize.brentq(above_cut, 0.0, z_far - mode, xtol=1e-300, rtol=1e-10)
        left = -mode if above_cut(-mode) >= 0 else optimize.brentq(above_cut, -mode, 0.0, xtol=1e-300, rtol=1e-10)
        parts = [
            integrate.quad(lambda d: math.exp(self._rise(d, mode)), lo, hi, epsabs=0, epsrel=1e-12, limit=200)[0]
            for lo, hi in [(left, 0.0), (0.0, right)]
        ]
        return sum(parts)

    def log_evidence(self):
        """log p(x) = C + f(z*) + log 2 + log int_0^inf exp(f(z) - f(z*)) dz (class docstring), nats; cached.

        C + f(z*) is summed in a form that cancels nothing large:
        -1/2 log(2 pi s0^2) - n/2 log(2 pi sigma^2) - z*^2 / (2 s0^2) - sum_i (|x_i| - z*)^2 / (2 sigma^2)
        + sum_i [log1p(exp(-2 |b_i| z*)) - log 2].
        """
        if self._log_evidence is None:
            mode = self._mode()
            s0, sigma = self.prior_std, self.noise_std
            peak = (
                -0.5 * (LOG_2PI + 2 * math.log(s0))
                - 0.5 * self.n * (LOG_2PI + 2 * math.log(sigma))
                - 0.5 * mode**2 / s0**2
                - 0.5 * np.sum((np.abs(self.x) - mode) ** 2) / sigma**2
                + np.sum(np.log1p(np.exp(-2 * self._abs_b * mode)) - math.log(2))
            )
            value = float(peak + math.log(2 * self._half_integral(mode)))
            if not math.isfinite(value):
                raise ValueError(f"log p(x) overflows float64 for {self!r} with data up to {np.abs(self.x).max():g}")
            self._log_evidence = value
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
        m, s = _validate.finite("q_mean", q_mean), _validate.scale("q_std", q_std)
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
