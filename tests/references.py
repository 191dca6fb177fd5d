"""High-precision references (mpmath, 40-50 digits) for the numerical tests: independent of the package's formulas."""

import itertools

import mpmath


def symmetric_mixture_log_evidence(x, prior_std, noise_std):
    """log p(x) of ``vilab.models.SymmetricMixture`` by summing the 2^n Gaussian integrals of the sign patterns.

    p(x | z) = prod_i (N(x_i; z) + N(x_i; -z)) / 2 = 2^-n sum_s prod_i N(x_i; s_i z), and each
    term integrates against N(z; 0, s0^2) in closed form (a conjugate Gaussian with data s_i x_i).
    """
    with mpmath.workdps(50):
        xs, s0, sg = [mpmath.mpf(v) for v in x], mpmath.mpf(prior_std), mpmath.mpf(noise_std)
        n = len(xs)
        base = (
            -n / 2 * mpmath.log(2 * mpmath.pi * sg**2)
            - mpmath.log(1 + n * s0**2 / sg**2) / 2
            - sum(v * v for v in xs) / (2 * sg**2)
        )
        total = mpmath.mpf(0)
        for signs in itertools.product([1, -1], repeat=n):
            t = sum(s * v for s, v in zip(signs, xs, strict=True))
            total += mpmath.exp(base + t**2 * s0**2 / (2 * sg**2 * (sg**2 + n * s0**2)))
        return float(mpmath.log(total) - n * mpmath.log(2))


def _test_function(name, k):
    k = mpmath.mpf(k)
    return {
        "quadratic": lambda x: (x - k) ** 2,
        "exponential": lambda x: mpmath.exp(-k * x**2),
        "cosine": lambda x: mpmath.cos(k * x),
    }[name]


def _derivative(name, k):
    k = mpmath.mpf(k)
    return {
        "quadratic": lambda x: 2 * (x - k),
        "exponential": lambda x: -2 * k * x * mpmath.exp(-k * x**2),
        "cosine": lambda x: -k * mpmath.sin(k * x),
    }[name]


def _expect(g, mu, sigma):
    """E[g(mu + sigma eps, eps)], eps ~ N(0, 1), by tanh-sinh quadrature at the current precision."""
    mu, sigma = mpmath.mpf(mu), mpmath.mpf(sigma)
    integrand = lambda e: g(mu + sigma * e, e) * mpmath.exp(-e * e / 2)  # noqa: E731
    return mpmath.quad(integrand, [-mpmath.inf, -5, 0, 5, mpmath.inf]) / mpmath.sqrt(2 * mpmath.pi)


def gradient(name, mu, sigma, k):
    """[dF/dmu, dF/dsigma] in the score-function form E[f eps] / sigma, E[f (eps^2 - 1)] / sigma, at 40 digits.

    That form cancels catastrophically in float64 as sigma -> 0; at 40 digits it does not.
    """
    with mpmath.workdps(40):
        f, s = _test_function(name, k), mpmath.mpf(sigma)
        return [
            float(_expect(lambda x, e: f(x) * e, mu, sigma) / s),
            float(_expect(lambda x, e: f(x) * (e * e - 1), mu, sigma) / s),
        ]


def pathwise_variance(name, mu, sigma, k):
    """[Var f'(x), Var f'(x) eps] for x = mu + sigma eps, at 40 digits."""
    with mpmath.workdps(40):
        d = _derivative(name, k)
        g0 = _expect(lambda x, e: d(x), mu, sigma)
        g1 = _expect(lambda x, e: d(x) * e, mu, sigma)
        return [
            float(_expect(lambda x, e: d(x) ** 2, mu, sigma) - g0**2),
            float(_expect(lambda x, e: (d(x) * e) ** 2, mu, sigma) - g1**2),
        ]
