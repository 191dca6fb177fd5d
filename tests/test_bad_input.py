"""Every public function of vilab against every kind of bad input (issue 12), as one table.

Each row is (function, kind of input, call) and either the exception expected, whose
message must name the parameter (and the offending value where given), or, for an
input that is valid but extreme, a check of the answer. The kinds:

    wrong type, wrong shape, wrong dtype, nan, inf, empty, out of range,
    unknown option, requires grad, extreme (valid), seed

``test_every_public_function_has_rows`` enumerates every public callable of every
vilab module (functions, classes and their public methods) and fails if one has no
row, so no function escapes. Run this file as a script (``python tests/test_bad_input.py``)
to print how many rows give the right answer, an obscure error, or a silent wrong one.
"""

import dataclasses
import importlib
import inspect
import math
import pkgutil
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import references
import torch

import vilab
from vilab import (
    check,
    data,
    diagnostics,
    discrete,
    estimators,
    flows,
    gaussian,
    inference,
    mixture,
    models,
    plots,
    threads,
    vae,
    widgets,
)

NAN, INF = math.nan, math.inf
KINDS = {
    "wrong type",
    "wrong shape",
    "wrong dtype",
    "nan",
    "inf",
    "empty",
    "out of range",
    "unknown option",
    "requires grad",
    "extreme",
    "seed",
}
# Public callables that take no user input to check: records built by the package, and an exception class.
NO_INPUT = {
    "vilab.data.DataError": "an exception class",
    "vilab.diagnostics.PSISResult": "a result record built by psis",
    "vilab.inference.HMCResult": "a result record built by hmc",
    "vilab.inference.LaplaceResult": "a result record built by laplace",
    "vilab.inference.BBVIResult": "a result record built by bbvi",
    "vilab.inference.LowRankLaplaceResult": "a result record built by lowrank_laplace",
    "vilab.mixture.CaviResult": "a result record built by cavi",
    "vilab.mixture.EmResult": "a result record built by em",
    "vilab.mixture.SviResult": "a result record built by svi",
    "vilab.vae.LossTerms": "a result record built by vae_loss",
    "vilab.threads.Tuner.close": "no argument",
    "vilab.threads.Tuner.tick": "no argument",
    "vilab.threads.describe": "no argument",
}


@dataclass
class Row:
    target: str  # "vilab.module.function" or "vilab.module.Class.method"
    kind: str
    call: object  # no-argument callable
    error: type | None = None  # the exception expected; None: a valid input, judged by ``check``
    names: tuple = ()  # strings the error message must contain (the parameter, the value)
    check: object = None  # valid rows: predicate on the result
    env: dict = field(default_factory=dict)  # environment variables set during the call

    @property
    def id(self):
        return f"{self.target.removeprefix('vilab.')} | {self.kind} | {ROWS_SEEN.setdefault(id(self), len(ROWS_SEEN))}"


ROWS_SEEN = {}
ROWS = []


def bad(target, kind, call, error, *names, env=None):
    ROWS.append(Row(f"vilab.{target}", kind, call, error, names, env=env or {}))


def good(target, kind, call, check, env=None):
    ROWS.append(Row(f"vilab.{target}", kind, call, None, (), check, env=env or {}))


def finite(value):
    """True when every number in a (nested) result is finite."""
    if dataclasses.is_dataclass(value):
        return all(finite(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, dict):
        return all(finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(finite(v) for v in value)
    if isinstance(value, torch.Tensor):
        return bool(torch.isfinite(value.detach()).all())
    if isinstance(value, (np.ndarray, np.generic, float, int)) and not isinstance(value, bool):
        array = np.asarray(value)
        return array.dtype.kind not in "fc" or bool(np.isfinite(array).all())
    return True


def grad(values, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype, requires_grad=True)


# --- shared small inputs (built lazily, so that a failure is one row's failure) ---------------


def tiny_vae(latent_dim=2):
    torch.manual_seed(0)
    return vae.VAE(latent_dim=latent_dim, hidden_dim=8)


def images(n=8):
    return torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))


def binary(n=4, dtype=torch.float32):
    return (torch.rand(n, 784, generator=torch.Generator().manual_seed(1)) < 0.3).to(dtype)


def two_clusters(n=100, seed=0, separation=2.0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(-separation, 1.0, n // 2), rng.normal(separation, 1.0, n // 2)])


X1 = two_clusters()


def gauss_log_prob(theta):
    return -0.5 * (theta**2).sum(-1)


def axes():
    return plots.new_figure()[1]


QUAD = estimators.objective("quadratic", 1.0)


# === vilab.check: never raise, never misgrade ===================================================

C = check.CORRECT


def not_correct(status):
    return isinstance(status, str) and status != C


good("check.check_value", "wrong type", lambda: check.check_value("0.5", 0.5), not_correct)
good("check.check_value", "wrong type", lambda: check.check_value(True, 1.0), not_correct)
good("check.check_value", "wrong type", lambda: check.check_value([1.0, False], [1.0, 0.0]), not_correct)
good("check.check_value", "wrong dtype", lambda: check.check_value(np.array([1 + 0j]), np.array([1.0])), not_correct)
good("check.check_value", "wrong dtype", lambda: check.check_value(torch.tensor([1 + 0j]), [1.0]), not_correct)
good("check.check_value", "wrong dtype", lambda: check.check_value(1 + 0j, 1.0), not_correct)
good("check.check_value", "extreme", lambda: check.check_value(10**400, 1.0), not_correct)
good("check.check_value", "extreme", lambda: check.check_value(10**400, 10**400), not_correct)
good("check.check_value", "extreme", lambda: check.check_value(2**60, 2.0**60) == C, bool)
good("check.check_value", "requires grad", lambda: check.check_value([grad(1.0), grad(2.0)], [1, 2]) == C, bool)
good("check.check_value", "requires grad", lambda: check.check_value(grad([1.0, 2.0]), [1, 2]) == C, bool)
good(
    "check.check_value",
    "wrong dtype",
    lambda: check.check_value(torch.tensor(0.3, dtype=torch.bfloat16), 0.3) == C,
    bool,
)
good(
    "check.check_value",
    "wrong dtype",
    lambda: check.check_value(torch.tensor(0.3, dtype=torch.float16), 0.3) == C,
    bool,
)
good("check.check_value", "wrong dtype", lambda: check.check_value(np.float32(1 / 3), 1 / 3) == C, bool)
good(
    "check.check_value",
    "wrong dtype",
    lambda: check.check_value(torch.tensor(0.35, dtype=torch.bfloat16), 0.3),
    not_correct,
)
good("check.check_value", "nan", lambda: check.check_value(NAN, 1.0), not_correct)
good("check.check_value", "nan", lambda: check.check_value(NAN, NAN), not_correct)
good("check.check_value", "inf", lambda: check.check_value(INF, INF), not_correct)
good("check.check_value", "wrong shape", lambda: check.check_value([1.0, 2.0], [1.0, 2.0, 3.0]), not_correct)
good("check.check_value", "wrong shape", lambda: check.check_value([[1.0], [2.0, 3.0]], [1.0, 2.0]), not_correct)
good("check.check_value", "empty", lambda: check.check_value([], 1.0), not_correct)
good("check.check_value", "wrong type", lambda: check.check_value({"a": 1}, 1.0), not_correct)
good("check.check_value", "wrong type", lambda: check.check_value(object(), 1.0), not_correct)
good("check.check_value", "out of range", lambda: check.check_value(1.0, 1.0, rtol="x"), not_correct)
good("check.check_value", "out of range", lambda: check.check_value(1.0, 1.0, atol=-1.0), not_correct)


def _wrong_inplace(t):
    t.mul_(3)  # a wrong answer (x 3 instead of x 2) that also changes the input
    return t


def _right_inplace(t):
    return t.mul_(2)


def _exits(x):
    raise SystemExit(1)


class _Custom(BaseException):
    pass


def _custom(x):
    raise _Custom("from student code")


def _double(t):
    return 2 * t


good(
    "check.check_function",
    "wrong type",
    lambda: check.check_function(_wrong_inplace, _double, [(torch.ones(3),)]),
    not_correct,
)
good(
    "check.check_function",
    "extreme",
    lambda: check.check_function(_right_inplace, _double, [(torch.ones(3),)]) == C,
    bool,
)
good(
    "check.check_function",
    "extreme",
    lambda: check.check_function(lambda x: None, _double, [(1.0,)]) == "not yet: " + check.RETURNED_NONE,
    bool,
)
good("check.check_function", "extreme", lambda: check.check_function(_exits, _double, [(1.0,)]), not_correct)
good("check.check_function", "extreme", lambda: check.check_function(_custom, _double, [(1.0,)]), not_correct)
good("check.check_function", "wrong type", lambda: check.check_function(3, _double, [(1.0,)]), not_correct)
good("check.check_function", "wrong type", lambda: check.check_function(lambda x: "2", _double, [(1.0,)]), not_correct)
good(
    "check.check_function",
    "wrong type",
    lambda: check.check_function(lambda x: True, lambda x: 1.0, [(1.0,)]),
    not_correct,
)
good("check.check_function", "wrong shape", lambda: check.check_function(_double, _double, 5), not_correct)
good("check.check_function", "nan", lambda: check.check_function(lambda x: NAN, _double, [(1.0,)]), not_correct)
good("check.check_function", "requires grad", lambda: check.check_function(_double, _double, [(grad(1.0),)]) == C, bool)
good(
    "check.check_function",
    "out of range",
    lambda: check.check_function(_double, _double, [(1.0,)], rtol=-1),
    not_correct,
)
good("check.check_function", "extreme", lambda: check.check_function(_double, _double, [(1.0,), 2.0]) == C, bool)


# === vilab.data ==================================================================================

bad("data.search_dirs", "unknown option", lambda: data.search_dirs("cifar10"), ValueError, "dataset", "cifar10")
bad("data.search_dirs", "wrong type", lambda: data.search_dirs(3), ValueError, "dataset")
good("data.cache_dir", "extreme", lambda: data.cache_dir(), lambda p: isinstance(p, Path))
bad("data.load_fashion_mnist", "unknown option", lambda: data.load_fashion_mnist("valid"), ValueError, "split", "valid")
bad("data.load_fashion_mnist", "wrong type", lambda: data.load_fashion_mnist(None), ValueError, "split")
bad(
    "data.load_fashion_mnist",
    "unknown option",
    lambda: data.load_fashion_mnist("train"),
    ValueError,
    "VILAB_OFFLINE",
    "maybe",
    env={"VILAB_OFFLINE": "maybe"},
)
bad("data.load_mnist", "wrong type", lambda: data.load_mnist(0), ValueError, "split")
bad("data.find_file", "unknown option", lambda: data.find_file("fashion-mnist", "nope"), ValueError, "stem", "nope")
bad(
    "data.find_file",
    "unknown option",
    lambda: data.find_file("kmnist", "train-images-idx3-ubyte"),
    ValueError,
    "dataset",
)
bad("data.verify", "wrong type", lambda: data.verify("fashion-mnist", "train-images-idx3-ubyte", 3), TypeError, "path")
bad(
    "data.verify",
    "empty",
    lambda: data.verify("fashion-mnist", "train-images-idx3-ubyte", "/nonexistent/x.gz"),
    data.DataError,
    "/nonexistent/x.gz",
)
bad("data.verify", "unknown option", lambda: data.verify("nope", "x", "/tmp"), ValueError, "dataset")
good(
    "data.fetch",
    "wrong type",
    lambda: data.fetch("fashion-mnist"),
    lambda p: isinstance(p, list),
    env={"VILAB_OFFLINE": "1"},
)
bad("data.fetch", "unknown option", lambda: data.fetch(["fashion-mnist", "cifar"]), ValueError, "datasets", "cifar")
bad("data.fetch", "wrong type", lambda: data.fetch(3), TypeError, "datasets")
good("data.main", "unknown option", lambda: data.main(["fetch", "cifar10"]), lambda code: code == 2)


# === vilab.estimators ============================================================================

E = estimators
bad(
    "estimators.standard_normal_draws", "out of range", lambda: E.standard_normal_draws(0), ValueError, "n_samples", "0"
)
bad(
    "estimators.standard_normal_draws",
    "wrong type",
    lambda: E.standard_normal_draws(2.5),
    TypeError,
    "n_samples",
    "2.5",
)
bad("estimators.standard_normal_draws", "seed", lambda: E.standard_normal_draws(3, seed=2.5), TypeError, "seed", "2.5")
bad("estimators.standard_normal_draws", "seed", lambda: E.standard_normal_draws(3, seed="3"), TypeError, "seed", "'3'")
bad(
    "estimators.standard_normal_draws", "seed", lambda: E.standard_normal_draws(3, seed=True), TypeError, "seed", "True"
)
bad("estimators.standard_normal_draws", "seed", lambda: E.standard_normal_draws(3, seed=-1), ValueError, "seed", "-1")
good(
    "estimators.standard_normal_draws", "seed", lambda: E.standard_normal_draws(5, seed=None), lambda e: e.shape == (5,)
)
good(
    "estimators.standard_normal_draws",
    "extreme",
    lambda: E.standard_normal_draws(3, seed=np.int64(7)).tolist() == E.standard_normal_draws(3, seed=7).tolist(),
    bool,
)

for est in ("score_function", "pathwise"):
    fn = getattr(E, est)
    bad(f"estimators.{est}", "wrong type", lambda fn=fn: fn(3.0, 0.0, 1.0, 10), TypeError, "f", "callable")
    bad(f"estimators.{est}", "nan", lambda fn=fn: fn(torch.log, 0.0, 1.0, 50, seed=0), ValueError, "f", "nan", "x =")
    bad(
        f"estimators.{est}", "inf", lambda fn=fn: fn(lambda x: 1 / (x - x), 0.0, 1.0, 5, seed=0), ValueError, "f", "inf"
    )
    bad(f"estimators.{est}", "wrong type", lambda fn=fn: fn(math.cos, 0.0, 1.0, 10), TypeError, "f", "torch operations")
    bad(f"estimators.{est}", "wrong type", lambda fn=fn: fn(math.cos, 0.0, 1.0, 1), TypeError, "f", "torch operations")
    bad(f"estimators.{est}", "wrong dtype", lambda fn=fn: fn(lambda x: x * 1j, 0.0, 1.0, 5), TypeError, "f", "complex")
    bad(
        f"estimators.{est}",
        "wrong shape",
        lambda fn=fn: fn(lambda x: x.sum(), 0.0, 1.0, 5),
        ValueError,
        "f",
        "elementwise",
    )
    bad(f"estimators.{est}", "nan", lambda fn=fn: fn(QUAD, NAN, 1.0, 5), ValueError, "mu", "nan")
    bad(f"estimators.{est}", "inf", lambda fn=fn: fn(QUAD, 0.0, INF, 5), ValueError, "sigma", "inf")
    bad(f"estimators.{est}", "out of range", lambda fn=fn: fn(QUAD, 0.0, -0.5, 5), ValueError, "sigma", "-0.5")
    bad(f"estimators.{est}", "out of range", lambda fn=fn: fn(QUAD, 0.0, 1e-200, 5), ValueError, "sigma", "1e-200")
    bad(f"estimators.{est}", "wrong type", lambda fn=fn: fn(QUAD, "1", 1.0, 5), TypeError, "mu", "'1'")
    bad(f"estimators.{est}", "out of range", lambda fn=fn: fn(QUAD, 0.0, 1.0, 0), ValueError, "n_samples", "0")
    bad(f"estimators.{est}", "seed", lambda fn=fn: fn(QUAD, 0.0, 1.0, 5, seed=1.5), TypeError, "seed", "1.5")
    good(f"estimators.{est}", "seed", lambda fn=fn: fn(QUAD, 0.0, 1.0, 5, seed=None), lambda g: g.shape == (5, 2))
    good(f"estimators.{est}", "requires grad", lambda fn=fn: fn(QUAD, grad(0.5), grad(1.0), 5, seed=0), finite)
    good(f"estimators.{est}", "extreme", lambda fn=fn: fn(QUAD, 1e6, 1e3, 5, seed=0), finite)
bad("estimators.pathwise", "wrong type", lambda: E.pathwise(np.cos, 0.0, 1.0, 10), TypeError, "f", "torch operations")
good(  # numpy ufuncs on a tensor without grad return a tensor: the score function needs only values, so this is right
    "estimators.score_function",
    "wrong type",
    lambda: np.array_equal(
        E.score_function(np.cos, 0.3, 1.0, 10, seed=2), E.score_function(torch.cos, 0.3, 1.0, 10, seed=2)
    ),
    bool,
)
good(  # sigma -> 0: each pathwise d/dmu estimate of E[(x - 1)^2] is 2 (x - 1) = 4 +- 2e-8
    "estimators.pathwise",
    "extreme",
    lambda: np.allclose(E.pathwise(QUAD, 3.0, 1e-8, 1000, seed=1)[:, 0], 4.0, rtol=1e-7, atol=0),
    bool,
)
bad(
    "estimators.pathwise",
    "nan",
    lambda: E.pathwise(lambda x: torch.where(x == x, x.detach(), x * INF), 0.0, 1.0, 5),
    ValueError,
    "derivative of f",
    "nan",
)
bad(
    "estimators.pathwise",
    "wrong type",
    lambda: E.pathwise(lambda x: (x > 0).double(), 0.0, 1.0, 5),
    TypeError,
    "f must be differentiable",
)
bad(
    "estimators.score_function",
    "unknown option",
    lambda: E.score_function(QUAD, 0, 1, 5, baseline="best"),
    ValueError,
    "baseline",
)
bad(
    "estimators.score_function",
    "inf",
    lambda: E.score_function(QUAD, 0, 1, 5, baseline=INF),
    ValueError,
    "baseline",
    "inf",
)
bad(
    "estimators.score_function",
    "wrong type",
    lambda: E.score_function(QUAD, 0, 1, 5, baseline=True),
    TypeError,
    "baseline",
)

bad("estimators.objective", "unknown option", lambda: E.objective("sine", 1.0), ValueError, "function", "sine")
bad("estimators.objective", "wrong type", lambda: E.objective(3, 1.0), TypeError, "function", "3")
bad("estimators.objective", "nan", lambda: E.objective("cosine", NAN), ValueError, "k", "nan")
bad("estimators.objective", "out of range", lambda: E.objective("exponential", -1.0), ValueError, "k", "-1.0")

ONE = np.ones(1)
bad(
    "estimators.exact_moment",
    "unknown option",
    lambda: E.exact_moment("sine", 0, 1, 1, "f", ONE),
    ValueError,
    "function",
)
bad(
    "estimators.exact_moment",
    "unknown option",
    lambda: E.exact_moment("cosine", 0, 1, 1, "g", ONE),
    ValueError,
    "which",
)
bad("estimators.exact_moment", "wrong type", lambda: E.exact_moment("cosine", 0, 1, 1, "f", "abc"), TypeError, "poly")
bad("estimators.exact_moment", "empty", lambda: E.exact_moment("cosine", 0, 1, 1, "f", []), ValueError, "poly")
bad("estimators.exact_moment", "nan", lambda: E.exact_moment("cosine", 0, 1, 1, "f", [NAN]), ValueError, "poly", "nan")
bad(
    "estimators.exact_moment",
    "out of range",
    lambda: E.exact_moment("cosine", 0, 0.0, 1, "f", ONE),
    ValueError,
    "sigma",
)
good(
    "estimators.exact_moment",
    "extreme",
    lambda: math.isclose(E.exact_moment("cosine", 0.3, 1e-9, 2.0, "f", ONE), math.cos(0.6), rel_tol=1e-12),
    bool,
)
bad("estimators.exact_value", "unknown option", lambda: E.exact_value("Cosine", 0, 1, 1), ValueError, "function")
bad("estimators.exact_value", "inf", lambda: E.exact_value("cosine", INF, 1, 1), ValueError, "mu", "inf")
bad(
    "estimators.exact_value",
    "out of range",
    lambda: E.exact_value("quadratic", 1e200, 1, 1),
    ValueError,
    "mu",
    "overflow",
)
good(
    "estimators.exact_value",
    "extreme",
    lambda: math.isclose(E.exact_value("quadratic", 1e6, 1e-6, 0.0), 1e12, rel_tol=1e-15),
    bool,
)
bad("estimators.exact_gradient", "nan", lambda: E.exact_gradient("cosine", NAN, 1, 1), ValueError, "mu", "nan")
bad(
    "estimators.exact_gradient", "out of range", lambda: E.exact_gradient("cosine", 0, -1, 1), ValueError, "sigma", "-1"
)
bad("estimators.exact_gradient", "unknown option", lambda: E.exact_gradient("tanh", 0, 1, 1), ValueError, "function")


def _gradient_matches_reference(name, mu, sigma, k):
    ours, ref = E.exact_gradient(name, mu, sigma, k), references.gradient(name, mu, sigma, k)
    return np.allclose(ours, ref, rtol=1e-12, atol=1e-300)


for _name, _k in (("quadratic", 1.0), ("exponential", 1.0), ("cosine", 2.0)):
    good(
        "estimators.exact_gradient",
        "extreme",
        lambda n=_name, k=_k: all(_gradient_matches_reference(n, 0.7, s, k) for s in (1e-2, 1e-5, 1e-8)),
        bool,
    )
bad(
    "estimators.optimal_baseline",
    "out of range",
    lambda: E.optimal_baseline("cosine", 0, 1, 1, dim=0),
    ValueError,
    "dim",
)
bad(
    "estimators.optimal_baseline",
    "wrong type",
    lambda: E.optimal_baseline("cosine", 0, 1, 1, dim=2.5),
    TypeError,
    "dim",
)
bad("estimators.optimal_baseline", "nan", lambda: E.optimal_baseline("cosine", 0, 1, NAN), ValueError, "k", "nan")
good("estimators.optimal_baseline", "extreme", lambda: E.optimal_baseline("cosine", 0, 1e-8, 2.0, dim=1000), finite)
bad(
    "estimators.leave_one_out_variance",
    "out of range",
    lambda: E.leave_one_out_variance("cosine", 0, 1, 1, 0),
    ValueError,
    "group_size",
)
bad(
    "estimators.leave_one_out_variance",
    "wrong type",
    lambda: E.leave_one_out_variance("cosine", 0, 1, 1, 2.5),
    TypeError,
    "group_size",
)
bad(
    "estimators.leave_one_out_variance",
    "out of range",
    lambda: E.leave_one_out_variance("cosine", 0, -1, 1, 2),
    ValueError,
    "sigma",
)
bad(
    "estimators.leave_one_out_variance",
    "unknown option",
    lambda: E.leave_one_out_variance("sine", 0, 1, 1, 2),
    ValueError,
    "function",
)
bad(
    "estimators.leave_one_out_variance",
    "nan",
    lambda: E.leave_one_out_variance("cosine", NAN, 1, 1, 2),
    ValueError,
    "mu",
)
good(
    "estimators.leave_one_out_variance",
    "extreme",
    lambda: all(
        np.all(np.isfinite(E.leave_one_out_variance("cosine", 0.7, s, 2.0, L)[0]))
        for s in (1e-6, 1e3)
        for L in (1, 2, 50)
    ),
    bool,
)
bad(
    "estimators.exact_variance",
    "unknown option",
    lambda: E.exact_variance("cosine", "reinforce", 0, 1, 1),
    ValueError,
    "estimator",
    "reinforce",
)
bad(
    "estimators.exact_variance",
    "unknown option",
    lambda: E.exact_variance("cosine", "score_function", 0, 1, 1, baseline="x"),
    ValueError,
    "baseline",
)
bad(
    "estimators.exact_variance",
    "out of range",
    lambda: E.exact_variance("cosine", "pathwise", 0, 0, 1),
    ValueError,
    "sigma",
)
bad(
    "estimators.exact_variance",
    "out of range",
    lambda: E.exact_variance("cosine", "pathwise", 0, 1, 1, dim=0),
    ValueError,
    "dim",
)
for _name, _k in (("quadratic", 1.0), ("exponential", 1.0), ("cosine", 2.0)):
    good(
        "estimators.exact_variance",
        "extreme",
        lambda n=_name, k=_k: np.allclose(
            E.exact_variance(n, "pathwise", 0.7, 1e-6, k),
            references.pathwise_variance(n, 0.7, 1e-6, k),
            rtol=1e-10,
            atol=0,
        ),
        bool,
    )
bad(
    "estimators.explore_estimators",
    "out of range",
    lambda: E.explore_estimators("cosine", 1, 1, 2, 10, n_replicates=1),
    ValueError,
    "n_replicates",
    "1",
)
good("estimators.explore_estimators", "seed", lambda: E.explore_estimators("cosine", 1, 1, 2, 3, seed=None), finite)
bad(
    "estimators.explore_estimators",
    "seed",
    lambda: E.explore_estimators("cosine", 1, 1, 2, 3, seed=2.5),
    TypeError,
    "seed",
)
bad(
    "estimators.explore_estimators",
    "out of range",
    lambda: E.explore_estimators("cosine", 1, 1, 2, 3, n_bins=0),
    ValueError,
    "n_bins",
)
bad(
    "estimators.explore_estimators",
    "unknown option",
    lambda: E.explore_estimators("cosine", 1, 1, 2, 3, "zero"),
    ValueError,
    "baseline",
)
bad("estimators.explore_estimators", "wrong type", lambda: E.explore_estimators(3, 1, 1, 2, 3), TypeError, "function")
bad(
    "estimators.explore_estimators",
    "nan",
    lambda: E.explore_estimators("cosine", NAN, 1, 2, 3),
    ValueError,
    "mu",
    "nan",
)
good(
    "estimators.explore_estimators",
    "extreme",
    lambda: E.explore_estimators("exponential", 2.0, 0.1, 10.0, 1, "optimal", n_replicates=2),
    finite,
)


CONJ = models.ConjugateGaussian([0.5, 1.5, 1.0])


def conj_log_joint(z):  # log p(x, z) of CONJ up to its constant, as a torch function
    return -0.5 * z**2 - 0.5 * ((torch.tensor([0.5, 1.5, 1.0], dtype=torch.float64) - z[..., None]) ** 2).sum(-1)


for _stl in (False, True):
    bad(
        "estimators.elbo_pathwise",
        "wrong type",
        lambda s=_stl: E.elbo_pathwise(3.0, 0.0, 1.0, 5, stick_the_landing=s),
        TypeError,
        "log_joint",
    )
    bad(
        "estimators.elbo_pathwise",
        "wrong type",
        lambda s=_stl: E.elbo_pathwise(math.cos, 0.0, 1.0, 5, stick_the_landing=s),
        TypeError,
        "log_joint",
        "torch operations",
    )
    bad(
        "estimators.elbo_pathwise",
        "nan",
        lambda s=_stl: E.elbo_pathwise(torch.log, -3.0, 1.0, 50, stick_the_landing=s, seed=0),
        ValueError,
        "log_joint",
        "nan",
    )
    bad(
        "estimators.elbo_pathwise",
        "wrong shape",
        lambda s=_stl: E.elbo_pathwise(lambda z: z.sum(), 0.0, 1.0, 5, stick_the_landing=s),
        ValueError,
        "log_joint",
        "elementwise",
    )
    good(
        "estimators.elbo_pathwise",
        "requires grad",
        lambda s=_stl: E.elbo_pathwise(conj_log_joint, grad(0.5), grad(1.0), 5, stick_the_landing=s, seed=0),
        finite,
    )
bad("estimators.elbo_pathwise", "nan", lambda: E.elbo_pathwise(conj_log_joint, NAN, 1.0, 5), ValueError, "mu", "nan")
bad("estimators.elbo_pathwise", "inf", lambda: E.elbo_pathwise(conj_log_joint, 0.0, INF, 5), ValueError, "sigma", "inf")
bad(
    "estimators.elbo_pathwise",
    "out of range",
    lambda: E.elbo_pathwise(conj_log_joint, 0.0, -1.0, 5),
    ValueError,
    "sigma",
    "-1.0",
)
bad(
    "estimators.elbo_pathwise",
    "out of range",
    lambda: E.elbo_pathwise(conj_log_joint, 0, 1, 0),
    ValueError,
    "n_samples",
)
bad("estimators.elbo_pathwise", "seed", lambda: E.elbo_pathwise(conj_log_joint, 0, 1, 5, seed=1.5), TypeError, "seed")
bad(
    "estimators.elbo_pathwise",
    "wrong type",
    lambda: E.elbo_pathwise(conj_log_joint, 0, 1, 5, stick_the_landing="yes"),
    TypeError,
    "stick_the_landing",
    "'yes'",
)
good(  # at q = posterior every path-derivative row is 0 up to rounding
    "estimators.elbo_pathwise",
    "extreme",
    lambda: (
        np.abs(E.elbo_pathwise(conj_log_joint, *CONJ.posterior(), 100, stick_the_landing=True, seed=0)).max() < 1e-12
    ),
    bool,
)
for _target in ("conjugate_elbo_gradient", "conjugate_elbo_pathwise_variance"):
    _function = getattr(E, _target)
    bad(f"estimators.{_target}", "wrong type", lambda fn=_function: fn("model", 0.0, 1.0), TypeError, "model", "str")
    bad(f"estimators.{_target}", "nan", lambda fn=_function: fn(CONJ, NAN, 1.0), ValueError, "mu", "nan")
    bad(f"estimators.{_target}", "inf", lambda fn=_function: fn(CONJ, 0.0, INF), ValueError, "sigma", "inf")
    bad(f"estimators.{_target}", "out of range", lambda fn=_function: fn(CONJ, 0.0, 0.0), ValueError, "sigma", "0.0")
    bad(f"estimators.{_target}", "wrong type", lambda fn=_function: fn(CONJ, "0", 1.0), TypeError, "mu", "'0'")
    good(f"estimators.{_target}", "extreme", lambda fn=_function: fn(CONJ, 1e6, 1e-6), finite)
bad(
    "estimators.conjugate_elbo_pathwise_variance",
    "wrong type",
    lambda: E.conjugate_elbo_pathwise_variance(CONJ, 0.0, 1.0, stick_the_landing=1),
    TypeError,
    "stick_the_landing",
)


SFV = E.score_function_variance
bad(
    "estimators.score_function_variance",
    "unknown option",
    lambda: SFV("cosine", 1, 1, 2, "loo", 4),
    ValueError,
    "method",
    "loo",
)
bad("estimators.score_function_variance", "wrong type", lambda: SFV("cosine", 1, 1, 2, None, 4), TypeError, "method")
bad(
    "estimators.score_function_variance",
    "unknown option",
    lambda: SFV("sine", 1, 1, 2, "rloo", 4),
    ValueError,
    "function",
)
bad("estimators.score_function_variance", "nan", lambda: SFV("cosine", NAN, 1, 2, "rloo", 4), ValueError, "mu", "nan")
bad(
    "estimators.score_function_variance",
    "out of range",
    lambda: SFV("cosine", 1, -1, 2, "rloo", 4),
    ValueError,
    "sigma",
)
bad(
    "estimators.score_function_variance",
    "out of range",
    lambda: SFV("cosine", 1, 1, 2, "rloo", 1),
    ValueError,
    "n_draws",
    "1",
)
bad(
    "estimators.score_function_variance",
    "out of range",
    lambda: SFV("cosine", 1, 1, 2, "plug-in", 1),
    ValueError,
    "n_draws",
)
bad(
    "estimators.score_function_variance",
    "out of range",
    lambda: SFV("cosine", 1, 1, 2, "antithetic", 3),
    ValueError,
    "n_draws",
    "3",
)
bad(
    "estimators.score_function_variance",
    "out of range",
    lambda: SFV("cosine", 1, 1, 2, "none", 0),
    ValueError,
    "n_draws",
    "0",
)
bad(
    "estimators.score_function_variance",
    "wrong type",
    lambda: SFV("cosine", 1, 1, 2, "none", 2.5),
    TypeError,
    "n_draws",
)
bad(
    "estimators.score_function_variance",
    "out of range",
    lambda: SFV("cosine", 1, 1, 2, "running", 4, decay=1.0),
    ValueError,
    "decay",
    "1.0",
)
bad(
    "estimators.score_function_variance",
    "nan",
    lambda: SFV("cosine", 1, 1, 2, "running", 4, decay=NAN),
    ValueError,
    "decay",
    "nan",
)
bad(
    "estimators.score_function_variance",
    "out of range",
    lambda: SFV("quadratic", 1e200, 1, 2, "taylor", 4),
    ValueError,
    "mu",
    "overflow",
)
for _method in E.TOOLBOX:
    good(
        "estimators.score_function_variance",
        "extreme",
        lambda m=_method: SFV("exponential", 2.0, 1e-3, 10.0, m, 2),
        finite,
    )


MV = E.measure_valued
bad("estimators.measure_valued", "wrong type", lambda: MV(3.0, 0.0, 1.0, 10), TypeError, "f", "callable")
bad("estimators.measure_valued", "wrong type", lambda: MV(math.cos, 0.0, 1.0, 10), TypeError, "f", "torch operations")
bad("estimators.measure_valued", "nan", lambda: MV(torch.log, -5.0, 1.0, 50, seed=0), ValueError, "f", "nan")
bad(
    "estimators.measure_valued",
    "wrong shape",
    lambda: MV(lambda x: x.sum(), 0.0, 1.0, 5),
    ValueError,
    "f",
    "elementwise",
)
bad("estimators.measure_valued", "nan", lambda: MV(QUAD, NAN, 1.0, 5), ValueError, "mu", "nan")
bad("estimators.measure_valued", "inf", lambda: MV(QUAD, 0.0, INF, 5), ValueError, "sigma", "inf")
bad("estimators.measure_valued", "out of range", lambda: MV(QUAD, 0.0, -0.5, 5), ValueError, "sigma", "-0.5")
bad("estimators.measure_valued", "out of range", lambda: MV(QUAD, 0.0, 1.0, 0), ValueError, "n_samples", "0")
bad("estimators.measure_valued", "seed", lambda: MV(QUAD, 0.0, 1.0, 5, seed=1.5), TypeError, "seed", "1.5")
good("estimators.measure_valued", "seed", lambda: MV(QUAD, 0.0, 1.0, 5, seed=None), lambda g: g.shape == (5, 2))
good("estimators.measure_valued", "requires grad", lambda: MV(QUAD, grad(0.5), grad(1.0), 5, seed=0), finite)
good("estimators.measure_valued", "extreme", lambda: MV(QUAD, 1e6, 1e3, 5, seed=0), finite)
MVV = E.measure_valued_variance
bad("estimators.measure_valued_variance", "unknown option", lambda: MVV("sine", 0, 1, 1), ValueError, "function")
bad("estimators.measure_valued_variance", "nan", lambda: MVV("cosine", NAN, 1, 1), ValueError, "mu", "nan")
bad("estimators.measure_valued_variance", "out of range", lambda: MVV("cosine", 0, 0, 1), ValueError, "sigma")
bad("estimators.measure_valued_variance", "out of range", lambda: MVV("exponential", 0, 1, -1), ValueError, "k")
bad(
    "estimators.measure_valued_variance",
    "out of range",
    lambda: MVV("quadratic", 1e200, 1, 1),
    ValueError,
    "mu",
    "overflow",
)
good("estimators.measure_valued_variance", "extreme", lambda: MVV("cosine", 1.0, 0.1, 10.0), finite)


# === vilab.gaussian: torch in, torch out, differentiable =========================================

G = gaussian
bad("gaussian.log_normal_diag", "wrong type", lambda: G.log_normal_diag("x", 0.0, 0.0), TypeError, "x")
bad("gaussian.log_normal_diag", "inf", lambda: G.log_normal_diag(torch.tensor([INF]), 0.0, 0.0), ValueError, "x", "inf")
bad(
    "gaussian.log_normal_diag",
    "nan",
    lambda: G.log_normal_diag(torch.zeros(1), torch.tensor([NAN]), 0.0),
    ValueError,
    "mu",
    "nan",
)
bad(
    "gaussian.log_normal_diag", "inf", lambda: G.log_normal_diag(torch.zeros(1), 0.0, -INF), ValueError, "logvar", "inf"
)
bad(
    "gaussian.log_normal_diag",
    "wrong dtype",
    lambda: G.log_normal_diag(torch.zeros(1, dtype=torch.int64), 0.0, 0.0),
    TypeError,
    "x",
)
bad(
    "gaussian.log_normal_diag",
    "wrong shape",
    lambda: G.log_normal_diag(torch.zeros(3), torch.zeros(2), 0.0),
    ValueError,
    "x (3,)",
)
good("gaussian.log_normal_diag", "empty", lambda: float(G.log_normal_diag(torch.zeros(0), 0.0, 0.0)) == 0.0, bool)
good("gaussian.log_normal_diag", "requires grad", lambda: G.log_normal_diag(grad([0.5]), 0.0, 0.0).requires_grad, bool)
good(
    "gaussian.log_normal_diag",
    "extreme",
    lambda: math.isclose(
        float(G.log_normal_diag(torch.tensor([1e6]), 1e6, -50.0)), -0.5 * (math.log(2 * math.pi) - 50), rel_tol=1e-6
    ),
    bool,
)
bad("gaussian.entropy_diag_normal", "wrong type", lambda: G.entropy_diag_normal(True), TypeError, "logvar")
bad("gaussian.entropy_diag_normal", "wrong type", lambda: G.entropy_diag_normal("a"), TypeError, "logvar")
bad(
    "gaussian.entropy_diag_normal",
    "inf",
    lambda: G.entropy_diag_normal(torch.tensor([INF])),
    ValueError,
    "logvar",
    "inf",
)
good("gaussian.entropy_diag_normal", "requires grad", lambda: G.entropy_diag_normal(grad([0.1])).requires_grad, bool)
bad(
    "gaussian.kl_diag_normal",
    "wrong shape",
    lambda: G.kl_diag_normal(torch.tensor(0.0), torch.tensor(0.0)),
    ValueError,
    "dimension",
)
bad(
    "gaussian.kl_diag_normal",
    "inf",
    lambda: G.kl_diag_normal(torch.zeros(2), torch.tensor([0.0, INF])),
    ValueError,
    "logvar_q",
    "inf",
)
bad(
    "gaussian.kl_diag_normal",
    "nan",
    lambda: G.kl_diag_normal(torch.zeros(1), torch.zeros(1), NAN),
    ValueError,
    "mu_p",
    "nan",
)
bad(
    "gaussian.kl_diag_normal",
    "wrong type",
    lambda: G.kl_diag_normal(torch.zeros(1), torch.zeros(1), 0.0, [0.0]),
    TypeError,
    "logvar_p",
)
bad(
    "gaussian.kl_diag_normal",
    "wrong dtype",
    lambda: G.kl_diag_normal(torch.zeros(1, dtype=torch.bool), torch.zeros(1)),
    TypeError,
    "mu_q",
)
good("gaussian.kl_diag_normal", "requires grad", lambda: G.kl_diag_normal(grad([0.3]), grad([0.1])).requires_grad, bool)
good("gaussian.kl_diag_normal", "extreme", lambda: float(G.kl_diag_normal(torch.zeros(3), torch.zeros(3))) == 0.0, bool)


# === vilab.inference =============================================================================

I = inference  # noqa: E741


def _numpy_log_prob(theta):
    return torch.as_tensor(-0.5 * (np.asarray(theta) ** 2).sum(-1))


HMC = {"n_warmup": 4, "n_leapfrog": 2}
bad("inference.hmc", "wrong type", lambda: I.hmc(3.0, torch.zeros(2), 5, **HMC), TypeError, "log_prob")
bad(
    "inference.hmc",
    "wrong type",
    lambda: I.hmc(_numpy_log_prob, torch.zeros(2), 5, **HMC),
    TypeError,
    "log_prob",
    "torch operations",
)
bad("inference.hmc", "wrong shape", lambda: I.hmc(lambda t: t, torch.zeros(2), 5, **HMC), ValueError, "log_prob")
bad(
    "inference.hmc", "nan", lambda: I.hmc(gauss_log_prob, torch.tensor([0.0, NAN]), 5, **HMC), ValueError, "init", "nan"
)
bad("inference.hmc", "inf", lambda: I.hmc(gauss_log_prob, [0.0, INF], 5, **HMC), ValueError, "init", "inf")
bad("inference.hmc", "wrong shape", lambda: I.hmc(gauss_log_prob, torch.zeros(2, 2, 2), 5, **HMC), ValueError, "init")
bad("inference.hmc", "empty", lambda: I.hmc(gauss_log_prob, torch.zeros(0), 5, **HMC), ValueError, "init")
bad("inference.hmc", "wrong type", lambda: I.hmc(gauss_log_prob, "zeros", 5, **HMC), TypeError, "init")
bad("inference.hmc", "wrong dtype", lambda: I.hmc(gauss_log_prob, [True, False], 5, **HMC), TypeError, "init")
bad(
    "inference.hmc",
    "out of range",
    lambda: I.hmc(gauss_log_prob, torch.zeros(2), 0, **HMC),
    ValueError,
    "n_samples",
    "0",
)
bad(
    "inference.hmc",
    "out of range",
    lambda: I.hmc(gauss_log_prob, torch.zeros(2), 5, step_size=-1, **HMC),
    ValueError,
    "step_size",
)
bad(
    "inference.hmc",
    "out of range",
    lambda: I.hmc(gauss_log_prob, torch.zeros(2), 5, target_accept=1.5, **HMC),
    ValueError,
    "target_accept",
)
bad(
    "inference.hmc",
    "inf",
    lambda: I.hmc(lambda t: -INF * t.sum(-1) ** 0, torch.zeros(2), 5, **HMC),
    ValueError,
    "log_prob",
)
bad(
    "inference.hmc", "seed", lambda: I.hmc(gauss_log_prob, torch.zeros(2), 5, seed=2.5, **HMC), TypeError, "seed", "2.5"
)
good("inference.hmc", "seed", lambda: I.hmc(gauss_log_prob, torch.zeros(2), 5, seed=None, **HMC).samples, finite)
good(
    "inference.hmc", "requires grad", lambda: I.hmc(gauss_log_prob, grad([0.1, 0.2]), 5, seed=0, **HMC).samples, finite
)

bad("inference.laplace", "extreme", lambda: I.laplace(gauss_log_prob, torch.tensor([1e150])), ValueError, "init")
bad(
    "inference.laplace",
    "extreme",
    lambda: I.laplace(lambda t: -torch.exp(t).sum(-1) + t.sum(-1), torch.tensor([700.0])),
    ValueError,
    "mode",
)
good(
    "inference.laplace",
    "extreme",
    lambda: I.laplace(gauss_log_prob, torch.tensor([1e8, -3e7])).mean.abs().max() < 1e-6,
    bool,
)
good("inference.laplace", "extreme", lambda: I.laplace(gauss_log_prob, torch.zeros(2), max_iter=1).n_iter <= 1, bool)
bad(
    "inference.laplace",
    "unknown option",
    lambda: I.laplace(gauss_log_prob, torch.zeros(2), covariance="lowrank"),
    ValueError,
    "covariance",
)
bad(
    "inference.laplace",
    "out of range",
    lambda: I.laplace(gauss_log_prob, torch.zeros(2), tol=0.0),
    ValueError,
    "tol",
    "0.0",
)
bad("inference.laplace", "nan", lambda: I.laplace(gauss_log_prob, [NAN, 0.0]), ValueError, "init", "nan")
bad(
    "inference.laplace",
    "inf",
    lambda: I.laplace(lambda t: -INF * t.sum(-1) ** 0, torch.zeros(2)),
    ValueError,
    "log_prob",
)
bad("inference.laplace", "wrong type", lambda: I.laplace(_numpy_log_prob, torch.zeros(2)), TypeError, "log_prob")
bad("inference.laplace", "wrong shape", lambda: I.laplace(gauss_log_prob, torch.zeros(3, 2)), ValueError, "init")


def _logistic_log_prob():
    gen = torch.Generator().manual_seed(0)
    phi = torch.cat(
        [torch.ones(500, 1, dtype=torch.float64), torch.randn(500, 5, generator=gen, dtype=torch.float64)], 1
    )
    y = (torch.rand(500, generator=gen, dtype=torch.float64) < 0.5).double()
    return lambda t: t @ (phi.T @ y) - torch.nn.functional.softplus(t @ phi.T).sum(-1) - 0.5 * (t**2).sum(-1)


def _laplace_from_its_own_map():  # L-BFGS ends at a gradient ~1e-7 > tol = 1e-10 (rounding): that is the mode
    log_prob = _logistic_log_prob()
    mode = I.laplace(log_prob, torch.zeros(6)).mean
    return I.laplace(log_prob, mode, covariance="diag").var


good("inference.laplace", "extreme", _laplace_from_its_own_map, finite)
good("inference.laplace", "requires grad", lambda: I.laplace(gauss_log_prob, grad([0.5, 0.1])).var, finite)

BB = {"n_steps": 20, "n_mc": 2}
good("inference.bbvi", "out of range", lambda: I.bbvi(gauss_log_prob, torch.zeros(2), average=0, seed=0, **BB), finite)
good("inference.bbvi", "seed", lambda: I.bbvi(gauss_log_prob, torch.zeros(2), seed=None, **BB).mean, finite)
bad("inference.bbvi", "seed", lambda: I.bbvi(gauss_log_prob, torch.zeros(2), seed="3", **BB), TypeError, "seed")
bad(
    "inference.bbvi",
    "unknown option",
    lambda: I.bbvi(gauss_log_prob, torch.zeros(2), family="gaussian", **BB),
    ValueError,
    "family",
)
bad(
    "inference.bbvi",
    "out of range",
    lambda: I.bbvi(gauss_log_prob, torch.zeros(2), average=1.0, **BB),
    ValueError,
    "average",
    "1.0",
)
bad(
    "inference.bbvi",
    "out of range",
    lambda: I.bbvi(gauss_log_prob, torch.zeros(2), lr=-1, **BB),
    ValueError,
    "lr",
    "-1",
)
bad("inference.bbvi", "inf", lambda: I.bbvi(gauss_log_prob, [1.0, INF], **BB), ValueError, "init", "inf")
bad("inference.bbvi", "wrong type", lambda: I.bbvi(_numpy_log_prob, torch.zeros(2), **BB), TypeError, "log_prob")
bad(
    "inference.bbvi",
    "extreme",
    lambda: I.bbvi(lambda t: -(t**4).sum(-1), torch.zeros(2), lr=1e6, **BB),
    ValueError,
    "lr",
)
good("inference.bbvi", "requires grad", lambda: I.bbvi(gauss_log_prob, grad([0.5, 0.1]), seed=0, **BB).mean, finite)


_phi = torch.tensor([[1.0, 0.5], [1.0, -1.0], [1.0, 2.0]], dtype=torch.float64)
_y = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
bad("inference.logistic_log_prob", "wrong type", lambda: I.logistic_log_prob("phi", _y), TypeError, "phi")
bad("inference.logistic_log_prob", "wrong shape", lambda: I.logistic_log_prob(_phi[0], _y), ValueError, "phi")
bad("inference.logistic_log_prob", "wrong shape", lambda: I.logistic_log_prob(_phi, _y[:2]), ValueError, "y", "2")
bad("inference.logistic_log_prob", "out of range", lambda: I.logistic_log_prob(_phi, _y + 0.5), ValueError, "y")
bad("inference.logistic_log_prob", "nan", lambda: I.logistic_log_prob(_phi * NAN, _y), ValueError, "phi", "nan")
bad("inference.logistic_log_prob", "inf", lambda: I.logistic_log_prob(_phi, _y, prior_std=INF), ValueError, "prior_std")
bad(
    "inference.logistic_log_prob",
    "out of range",
    lambda: I.logistic_log_prob(_phi, _y, prior_std=0),
    ValueError,
    "prior_std",
)
bad("inference.logistic_log_prob", "empty", lambda: I.logistic_log_prob(_phi[:0], _y[:0]), ValueError, "y")
good(
    "inference.logistic_log_prob",
    "requires grad",
    lambda: I.logistic_log_prob(_phi.requires_grad_(False), grad([1.0, 0.0, 1.0]))(torch.zeros(2, 2)),
    finite,
)
good("inference.logistic_log_prob", "extreme", lambda: I.logistic_log_prob(_phi, _y)(torch.full((1, 2), 1e3)), finite)

bad("inference.shirt_data", "wrong type", lambda: I.shirt_data(2.5), TypeError, "k")
bad("inference.shirt_data", "out of range", lambda: I.shirt_data(0), ValueError, "k", "0")
bad("inference.shirt_data", "out of range", lambda: I.shirt_data(785), ValueError, "k", "785")
bad("inference.shirt_data", "out of range", lambda: I.shirt_data(3, n_train=20_000), ValueError, "n_train")
bad("inference.shirt_data", "seed", lambda: I.shirt_data(3, seed="a"), TypeError, "seed")
good("inference.shirt_data", "extreme", lambda: I.shirt_data(784, n_train=800)[0].shape == (800, 785), bool)


def _lr_log_prob(theta):  # -H = I + 1 1ᵀ: the data part has rank 1, eigenvalue 3
    return -0.5 * (theta**2).sum(-1) - 0.5 * theta.sum(-1) ** 2


bad("inference.lowrank_laplace", "wrong type", lambda: I.lowrank_laplace(3.0, torch.zeros(3), 1), TypeError, "log_prob")
bad(
    "inference.lowrank_laplace",
    "wrong shape",
    lambda: I.lowrank_laplace(_lr_log_prob, torch.zeros(1), 1),
    ValueError,
    "mean",
)
bad(
    "inference.lowrank_laplace",
    "wrong shape",
    lambda: I.lowrank_laplace(_lr_log_prob, torch.zeros(2, 3), 1),
    ValueError,
    "mean",
)
bad(
    "inference.lowrank_laplace",
    "nan",
    lambda: I.lowrank_laplace(_lr_log_prob, [0.0, NAN, 0.0], 1),
    ValueError,
    "mean",
    "nan",
)
bad(
    "inference.lowrank_laplace", "empty", lambda: I.lowrank_laplace(_lr_log_prob, torch.zeros(0), 1), ValueError, "mean"
)
bad(
    "inference.lowrank_laplace",
    "out of range",
    lambda: I.lowrank_laplace(_lr_log_prob, torch.zeros(3), 3),
    ValueError,
    "rank",
    "3",
)
bad(
    "inference.lowrank_laplace",
    "out of range",
    lambda: I.lowrank_laplace(_lr_log_prob, torch.zeros(3), 0),
    ValueError,
    "rank",
    "0",
)
bad(
    "inference.lowrank_laplace",
    "wrong type",
    lambda: I.lowrank_laplace(_lr_log_prob, torch.zeros(3), 1.5),
    TypeError,
    "rank",
)
bad(
    "inference.lowrank_laplace",
    "out of range",
    lambda: I.lowrank_laplace(_lr_log_prob, torch.zeros(3), 1, prior_precision=-1),
    ValueError,
    "prior_precision",
)
bad(
    "inference.lowrank_laplace",
    "extreme",
    lambda: I.lowrank_laplace(_lr_log_prob, torch.zeros(3), 2, prior_precision=5.0),
    ValueError,
    "prior_precision",
)
good(
    "inference.lowrank_laplace",
    "requires grad",
    lambda: I.lowrank_laplace(_lr_log_prob, grad([0.0, 0.0, 0.0]), 1).var,
    finite,
)
good(  # rank 1 of a rank-1 data part: exact, var = diag((I + 1 1ᵀ)^-1) = 1 - 1/4
    "inference.lowrank_laplace",
    "extreme",
    lambda: bool(
        torch.allclose(
            I.lowrank_laplace(_lr_log_prob, torch.zeros(3), 1).var, torch.full((3,), 0.75, dtype=torch.float64)
        )
    ),
    bool,
)


# === vilab.mixture ===============================================================================

M = mixture
PHI = np.full((len(X1), 2), 0.5)
M2 = np.array([-2.0, 2.0])
S2 = np.array([0.1, 0.1])
bad("mixture.expected_log_weights", "out of range", lambda: M.expected_log_weights(0), ValueError, "K", "0")
bad("mixture.expected_log_weights", "wrong type", lambda: M.expected_log_weights(2.5), TypeError, "K", "2.5")
bad("mixture.expected_log_weights", "wrong shape", lambda: M.expected_log_weights(3, [1.0, 1.0]), ValueError, "alpha")
bad("mixture.expected_log_weights", "out of range", lambda: M.expected_log_weights(2, [1.0, -1.0]), ValueError, "alpha")
bad("mixture.expected_log_weights", "nan", lambda: M.expected_log_weights(2, [1.0, NAN]), ValueError, "alpha", "nan")
good("mixture.expected_log_weights", "extreme", lambda: M.expected_log_weights(2, [1e-300, 1e300]), finite)
for name in ("assignment_logits", "update_assignments"):
    fn = getattr(M, name)
    bad(f"mixture.{name}", "nan", lambda fn=fn: fn(np.r_[X1, NAN], M2, S2, np.zeros(2)), ValueError, "x", "nan")
    bad(f"mixture.{name}", "wrong shape", lambda fn=fn: fn(X1, np.zeros(3), S2, np.zeros(2)), ValueError, "m")
    bad(f"mixture.{name}", "out of range", lambda fn=fn: fn(X1, M2, [-1.0, 1.0], np.zeros(2)), ValueError, "s2")
    bad(f"mixture.{name}", "wrong shape", lambda fn=fn: fn(X1, M2, S2, np.zeros(3)), ValueError, "log_weights")
    bad(f"mixture.{name}", "inf", lambda fn=fn: fn(X1, M2, S2, [0.0, -INF]), ValueError, "log_weights", "inf")
    bad(f"mixture.{name}", "wrong type", lambda fn=fn: fn("x", M2, S2, np.zeros(2)), TypeError, "x")
    good(
        f"mixture.{name}",
        "requires grad",
        lambda fn=fn: fn(grad(X1.tolist()), grad(M2.tolist()), S2, np.zeros(2)),
        finite,
    )
    good(f"mixture.{name}", "extreme", lambda fn=fn: fn(X1 * 1e3, M2 * 1e3, S2, np.zeros(2)), finite)
good("mixture.update_assignments", "extreme", lambda: np.allclose(M.update_assignments(X1, M2, S2).sum(1), 1.0), bool)
bad("mixture.update_means", "wrong shape", lambda: M.update_means(X1, np.full((3, 2), 0.5), 100.0), ValueError, "phi")
bad("mixture.update_means", "out of range", lambda: M.update_means(X1, PHI * 3, 100.0), ValueError, "phi")
bad("mixture.update_means", "out of range", lambda: M.update_means(X1, PHI, 0.0), ValueError, "sigma2", "0.0")
bad("mixture.update_means", "inf", lambda: M.update_means(np.r_[X1[:-1], INF], PHI, 1.0), ValueError, "x", "inf")
good("mixture.update_means", "requires grad", lambda: M.update_means(grad(X1.tolist()), PHI, 100.0), finite)
good(  # partial responsibilities (four half-assigned points: N_k = 2), as notebook 05's exercise uses them
    "mixture.update_means",
    "extreme",
    lambda: math.isclose(M.update_means(np.ones(4), np.full((4, 1), 0.5), 3.0)[1][0], 1 / (1 / 3 + 2)),
    bool,
)
good(
    "mixture.intermediate_global",
    "extreme",
    lambda: math.isclose(
        M.intermediate_global(np.zeros(100), np.full((100, 1), 0.3), sigma2=100.0, n_total=10**6)[1][0], 0.01 + 3e5
    ),
    bool,
)
bad("mixture.update_weights", "wrong type", lambda: M.update_weights("phi", 1.0), TypeError, "phi")
bad("mixture.update_weights", "out of range", lambda: M.update_weights(PHI, -1.0), ValueError, "alpha0")
bad("mixture.update_weights", "nan", lambda: M.update_weights(PHI + NAN, 1.0), ValueError, "phi", "nan")
bad("mixture.elbo", "wrong shape", lambda: M.elbo(X1, np.ones((3, 2)), M2, S2, sigma2=1.0), ValueError, "phi")
bad("mixture.elbo", "nan", lambda: M.elbo(X1, PHI, M2, S2, sigma2=NAN), ValueError, "sigma2", "nan")
bad("mixture.elbo", "out of range", lambda: M.elbo(X1, PHI, M2, S2, sigma2=1.0, alpha=[1.0, 1.0]), ValueError, "alpha0")
bad("mixture.elbo", "out of range", lambda: M.elbo(X1, PHI, M2, [0.0, 1.0], sigma2=1.0), ValueError, "s2")
good("mixture.elbo", "requires grad", lambda: M.elbo(grad(X1.tolist()), PHI, M2, S2, sigma2=1.0), finite)
bad("mixture.elbo_global", "wrong shape", lambda: M.elbo_global(X1, np.zeros((2, 2)), S2, sigma2=1.0), ValueError, "m")
bad("mixture.elbo_global", "out of range", lambda: M.elbo_global(X1, M2, S2, sigma2=-1.0), ValueError, "sigma2")
bad(
    "mixture.elbo_global",
    "wrong shape",
    lambda: M.elbo_global(X1, M2, S2, sigma2=1.0, alpha=[1.0], alpha0=1.0),
    ValueError,
    "alpha",
)
good("mixture.elbo_global", "requires grad", lambda: M.elbo_global(grad(X1.tolist()), M2, S2, sigma2=1.0), finite)
bad("mixture.init_means", "out of range", lambda: M.init_means(X1, 0), ValueError, "K", "0")
bad("mixture.init_means", "seed", lambda: M.init_means(X1, 2, seed=2.5), TypeError, "seed", "2.5")
good("mixture.init_means", "seed", lambda: M.init_means(X1, 2, seed=None), finite)
bad("mixture.init_means", "empty", lambda: M.init_means([], 2), ValueError, "x")
good("mixture.init_means", "extreme", lambda: M.init_means(X1[:3], 5), finite)
good("mixture.cavi", "out of range", lambda: M.cavi(two_clusters(200, 3), 2, max_iter=30, tol=0).n_iter == 30, bool)
bad("mixture.cavi", "nan", lambda: M.cavi(np.r_[X1, NAN], 2), ValueError, "x", "nan")
bad("mixture.cavi", "out of range", lambda: M.cavi(X1, 0), ValueError, "K")
bad("mixture.cavi", "wrong shape", lambda: M.cavi(X1, 2, init=[1.0, 2.0, 3.0]), ValueError, "init")
bad("mixture.cavi", "inf", lambda: M.cavi(X1, 2, init=[1.0, INF]), ValueError, "init", "inf")
bad("mixture.cavi", "seed", lambda: M.cavi(X1, 2, seed="3"), TypeError, "seed")
bad("mixture.cavi", "out of range", lambda: M.cavi(X1, 2, tol=-1.0), ValueError, "tol")
good("mixture.cavi", "requires grad", lambda: M.cavi(grad(X1.tolist()), 2, max_iter=5).m, finite)
good("mixture.cavi", "seed", lambda: M.cavi(X1, 2, max_iter=5, seed=None).m, finite)
bad(
    "mixture.log_joint_map",
    "out of range",
    lambda: M.log_joint_map(X1, M2, sigma2=1.0, weights=[0.2, 0.2]),
    ValueError,
    "weights",
)
bad("mixture.log_joint_map", "out of range", lambda: M.log_joint_map(X1, M2, sigma2=0.0), ValueError, "sigma2")
bad("mixture.log_joint_map", "wrong shape", lambda: M.log_joint_map(X1, np.zeros((2, 3)), sigma2=1.0), ValueError, "m")
bad("mixture.log_joint_map", "nan", lambda: M.log_joint_map(X1, [NAN, 1.0], sigma2=1.0), ValueError, "m", "nan")
good("mixture.log_joint_map", "requires grad", lambda: M.log_joint_map(grad(X1.tolist()), M2, sigma2=1.0), finite)
good("mixture.em", "out of range", lambda: M.em(two_clusters(200, 3), 2, max_iter=40, tol=0).n_iter == 40, bool)
bad("mixture.em", "out of range", lambda: M.em(X1, 2, alpha0=0.0), ValueError, "alpha0", "0.0")
good("mixture.em", "extreme", lambda: M.em(two_clusters(200, 3), 6, alpha0=1e-3, max_iter=200).weights, finite)
bad("mixture.map_weights", "out of range", lambda: M.map_weights([1.0, -0.5], 1.0), ValueError, "counts", "-0.5")
bad("mixture.map_weights", "out of range", lambda: M.map_weights([3.0, 1.0], 0.0), ValueError, "alpha0", "0.0")
bad("mixture.map_weights", "nan", lambda: M.map_weights([3.0, NAN], 1.0), ValueError, "counts", "nan")
bad("mixture.map_weights", "wrong shape", lambda: M.map_weights([[3.0, 1.0]], 1.0), ValueError, "counts")
bad("mixture.map_weights", "wrong type", lambda: M.map_weights("3", 1.0), TypeError, "counts")
bad("mixture.map_weights", "out of range", lambda: M.map_weights([0.1, 0.2], 0.5), ValueError, "alpha0", "0.5")
good("mixture.map_weights", "extreme", lambda: M.map_weights([1e300, 0.0], 1e-300).tolist() == [1.0, 0.0], bool)
good("mixture.map_weights", "requires grad", lambda: M.map_weights(grad([3.0, 1.0]), 2.0), finite)
bad("mixture.em", "seed", lambda: M.em(X1, 2, seed=1.5), TypeError, "seed")
bad("mixture.em", "wrong type", lambda: M.em(X1, "2"), TypeError, "K")
good("mixture.em", "requires grad", lambda: M.em(grad(X1.tolist()), 2, max_iter=5).m, finite)
bad("mixture.step_size", "out of range", lambda: M.step_size(1, kappa=0.5), ValueError, "kappa", "0.5")
bad("mixture.step_size", "out of range", lambda: M.step_size(-3), ValueError, "t")
bad("mixture.step_size", "out of range", lambda: M.step_size(1, tau=-1.0), ValueError, "tau")
bad("mixture.step_size", "nan", lambda: M.step_size(NAN), ValueError, "t", "nan")
bad("mixture.step_size", "out of range", lambda: M.step_size(0, tau=0.0), ValueError, "t")
good("mixture.step_size", "extreme", lambda: M.step_size(np.arange(1, 10**6)), finite)
bad(
    "mixture.intermediate_global",
    "wrong shape",
    lambda: M.intermediate_global(X1, np.ones((3, 2)), sigma2=1.0, n_total=10),
    ValueError,
    "phi_batch",
)
bad(
    "mixture.intermediate_global",
    "out of range",
    lambda: M.intermediate_global(X1, PHI, sigma2=1.0, n_total=0),
    ValueError,
    "n_total",
)
bad(
    "mixture.intermediate_global",
    "nan",
    lambda: M.intermediate_global(X1 + NAN, PHI, sigma2=1.0, n_total=10),
    ValueError,
    "x_batch",
)
good(
    "mixture.intermediate_global",
    "requires grad",
    lambda: M.intermediate_global(grad(X1.tolist()), PHI, sigma2=1.0, n_total=10**6),
    finite,
)
bad("mixture.svi", "out of range", lambda: M.svi(X1, 2, batch_size=101), ValueError, "batch_size", "101")
bad(
    "mixture.svi",
    "out of range",
    lambda: M.svi(X1, 2, batch_size=10, n_steps=2, step_sizes=[0.5, 1.5]),
    ValueError,
    "step_sizes",
)
bad(
    "mixture.svi",
    "wrong type",
    lambda: M.svi(X1, 2, batch_size=10, n_steps=2, step_sizes=["a", "b"]),
    TypeError,
    "step_sizes",
)
bad(
    "mixture.svi",
    "out of range",
    lambda: M.svi(X1, 2, batch_size=10, n_steps=5, eval_steps=[7]),
    ValueError,
    "eval_steps",
    "7",
)
bad("mixture.svi", "out of range", lambda: M.svi(X1, 2, batch_size=10, kappa=1.2), ValueError, "kappa")
good("mixture.svi", "seed", lambda: M.svi(X1, 2, batch_size=10, n_steps=5, seed=None).elbo, finite)
good("mixture.svi", "requires grad", lambda: M.svi(grad(X1.tolist()), 2, batch_size=10, n_steps=5).elbo, finite)


# === vilab.models ================================================================================

CG, SM = models.ConjugateGaussian, models.SymmetricMixture
bad("models.normal_logpdf", "out of range", lambda: models.normal_logpdf(0.0, 0.0, 0.0), ValueError, "std", "0.0")
bad(
    "models.normal_logpdf",
    "out of range",
    lambda: models.normal_logpdf(0.0, 0.0, [1.0, -1.0]),
    ValueError,
    "std",
    "-1.0",
)
bad("models.normal_logpdf", "nan", lambda: models.normal_logpdf(NAN, 0.0, 1.0), ValueError, "z", "nan")
bad("models.normal_logpdf", "inf", lambda: models.normal_logpdf(0.0, INF, 1.0), ValueError, "mean", "inf")
bad("models.normal_logpdf", "wrong type", lambda: models.normal_logpdf("a", 0.0, 1.0), TypeError, "z")
bad(
    "models.normal_logpdf",
    "wrong shape",
    lambda: models.normal_logpdf(np.zeros(3), np.zeros(2), 1.0),
    ValueError,
    "shapes",
)
good("models.normal_logpdf", "requires grad", lambda: models.normal_logpdf(grad([0.0, 1.0]), 0.0, 1.0), finite)
good(
    "models.normal_logpdf",
    "extreme",
    lambda: (
        isinstance(models.normal_logpdf(1e6, 1e6, 1e-100), float)
        and math.isclose(models.normal_logpdf(1e6, 1e6, 1e-100), -0.5 * math.log(2 * math.pi) + 100 * math.log(10))
    ),
    bool,
)

bad("models.ConjugateGaussian", "nan", lambda: CG([1.0, NAN]), ValueError, "x", "nan")
bad("models.ConjugateGaussian", "wrong type", lambda: CG("abc"), TypeError, "x")
bad("models.ConjugateGaussian", "empty", lambda: CG([]), ValueError, "x")
bad("models.ConjugateGaussian", "wrong shape", lambda: CG([[1.0, 2.0]]), ValueError, "x")
bad("models.ConjugateGaussian", "out of range", lambda: CG([1.0], prior_std=0.0), ValueError, "prior_std", "0.0")
bad("models.ConjugateGaussian", "out of range", lambda: CG([1.0], noise_std=1e-200), ValueError, "noise_std", "1e-200")
bad("models.ConjugateGaussian", "wrong dtype", lambda: CG([True, False]), TypeError, "x")
good("models.ConjugateGaussian", "requires grad", lambda: CG(grad([1.0, 2.0])).log_evidence(), finite)
good(
    "models.ConjugateGaussian.log_evidence",
    "extreme",
    lambda: CG([1e6, 1e6 + 1], noise_std=1e-3).log_evidence(),
    finite,
)
good("models.ConjugateGaussian.posterior", "extreme", lambda: CG([1e6], prior_std=1e-100).posterior(), finite)
bad("models.ConjugateGaussian.log_likelihood", "nan", lambda: CG([1.0]).log_likelihood(NAN), ValueError, "z", "nan")
good(
    "models.ConjugateGaussian.log_likelihood",
    "requires grad",
    lambda: CG([1.0]).log_likelihood(grad([0.5, 1.0])),
    finite,
)
bad("models.ConjugateGaussian.log_prior", "inf", lambda: CG([1.0]).log_prior(INF), ValueError, "z", "inf")
good("models.ConjugateGaussian.log_prior", "requires grad", lambda: CG([1.0]).log_prior(grad(0.5)), finite)
bad("models.ConjugateGaussian.log_joint", "wrong type", lambda: CG([1.0]).log_joint("a"), TypeError, "z")
good("models.ConjugateGaussian.log_joint", "requires grad", lambda: CG([1.0]).log_joint(grad([0.5])), finite)
good("models.ConjugateGaussian.log_joint", "empty", lambda: CG([1.0]).log_joint([]).shape == (0,), bool)
bad("models.ConjugateGaussian.elbo", "out of range", lambda: CG([1.0]).elbo(0.0, 0.0), ValueError, "q_std", "0.0")
good("models.ConjugateGaussian.elbo", "requires grad", lambda: CG([1.0]).elbo(grad(0.1), grad(1.0)), finite)
bad(
    "models.ConjugateGaussian.kl_to_posterior",
    "nan",
    lambda: CG([1.0]).kl_to_posterior(NAN, 1.0),
    ValueError,
    "q_mean",
    "nan",
)
good(
    "models.ConjugateGaussian.kl_to_posterior",
    "extreme",
    lambda: CG([1.0]).kl_to_posterior(*CG([1.0]).posterior()) < 1e-12,
    bool,
)
bad(
    "models.ConjugateGaussian.elbo_mc",
    "seed",
    lambda: CG([1.0]).elbo_mc(0.0, 1.0, 10, seed=1.5),
    TypeError,
    "seed",
    "1.5",
)
bad("models.ConjugateGaussian.elbo_mc", "out of range", lambda: CG([1.0]).elbo_mc(0.0, 1.0, 0), ValueError, "n_samples")
good("models.ConjugateGaussian.elbo_mc", "seed", lambda: CG([1.0]).elbo_mc(0.0, 1.0, 10, seed=None), finite)

bad("models.SymmetricMixture", "out of range", lambda: SM([1.0], noise_std=0), ValueError, "noise_std")
bad("models.SymmetricMixture", "nan", lambda: SM([1.0, NAN]), ValueError, "x", "nan")
bad("models.SymmetricMixture", "empty", lambda: SM([]), ValueError, "x")
good("models.SymmetricMixture", "requires grad", lambda: SM(grad([1.8, -2.1])).log_evidence(), finite)
for _x, _s0, _sg in [
    ([1.0, 1.2, 0.9], 2.0, 1e-3),
    ([170.0, 180.0], 2.0, 0.5),
    ([170.0, 170.0], 100.0, 1e-6),
    ([0.01, -0.02], 0.1, 1.0),
]:
    good(
        "models.SymmetricMixture.log_evidence",
        "extreme",
        lambda x=_x, s0=_s0, sg=_sg: math.isclose(
            SM(x, s0, sg).log_evidence(),
            references.symmetric_mixture_log_evidence(x, s0, sg),
            rel_tol=1e-10,
            abs_tol=1e-9,
        ),
        bool,
    )
bad("models.SymmetricMixture.log_joint", "nan", lambda: SM([1.0]).log_joint([0.0, NAN]), ValueError, "z", "nan")
good(
    "models.SymmetricMixture.log_joint", "extreme", lambda: SM([170.0, 180.0], noise_std=1e-3).log_joint(175.0), finite
)
bad("models.SymmetricMixture.posterior_pdf", "wrong type", lambda: SM([1.0]).posterior_pdf("a"), TypeError, "z")
good(
    "models.SymmetricMixture.posterior_pdf",
    "extreme",
    lambda: abs(np.trapezoid(SM([3.0], 1.0, 0.01).posterior_pdf(np.linspace(-4, 4, 200001)), dx=8 / 200000) - 1) < 1e-6,
    bool,
)
bad("models.SymmetricMixture.elbo", "out of range", lambda: SM([1.0]).elbo(0.0, -1.0), ValueError, "q_std", "-1.0")
bad(
    "models.SymmetricMixture.kl_to_posterior",
    "inf",
    lambda: SM([1.0]).kl_to_posterior(INF, 1.0),
    ValueError,
    "q_mean",
    "inf",
)
good(
    "models.SymmetricMixture.kl_to_posterior",
    "extreme",
    lambda: SM([1.8, 2.2], 2.0, 1e-3).kl_to_posterior(2.0, 1e-3) >= 0,
    bool,
)
good("models.SymmetricMixture.best_gaussian", "extreme", lambda: SM([170.0, 180.0], 2.0, 0.5).best_gaussian(), finite)
SM21 = [1.0] * (models.SymmetricMixture.MAX_SIGN_POINTS + 1)  # 2^21 sign patterns: refused
for _name in ("log_evidence_by_signs", "sign_mixture"):
    _target = f"models.SymmetricMixture.{_name}"
    bad(_target, "out of range", lambda n=_name: getattr(SM(SM21), n)(), ValueError, "x", "21")
    good(_target, "requires grad", lambda n=_name: getattr(SM(grad([1.8, -2.1])), n)(), finite)
for _x, _s0, _sg in [([170.0, 180.0], 2.0, 0.5), ([170.0, 170.0], 100.0, 1e-3), ([0.01, -0.02], 0.1, 1.0)]:
    good(
        "models.SymmetricMixture.log_evidence_by_signs",
        "extreme",
        lambda x=_x, s0=_s0, sg=_sg: math.isclose(
            SM(x, s0, sg).log_evidence_by_signs(), SM(x, s0, sg).log_evidence(), rel_tol=1e-10, abs_tol=1e-9
        ),
        bool,
    )
good(
    "models.SymmetricMixture.sign_mixture",
    "extreme",
    lambda: abs(float(np.logaddexp.reduce(SM([170.0, 180.0], 2.0, 1e-3).sign_mixture()[0]))) < 1e-12,
    bool,
)


# === vilab.plots =================================================================================

P = plots
U8 = images(3)
bad("plots.new_figure", "out of range", lambda: P.new_figure(0), ValueError, "ncols", "0")
bad("plots.new_figure", "wrong type", lambda: P.new_figure(2.5), TypeError, "ncols", "2.5")
bad("plots.new_figure", "out of range", lambda: P.new_figure(figsize=(0, 3)), ValueError, "figsize")
bad("plots.new_figure", "nan", lambda: P.new_figure(figsize=(NAN, 3)), ValueError, "figsize", "nan")
bad("plots.tile_images", "wrong shape", lambda: P.tile_images(np.zeros((28, 28)), 2), ValueError, "images")
bad("plots.tile_images", "out of range", lambda: P.tile_images(np.zeros((2, 28, 28)), 0), ValueError, "ncols", "0")
bad("plots.tile_images", "nan", lambda: P.tile_images(np.full((2, 3, 3), NAN), 2), ValueError, "images", "nan")
bad("plots.tile_images", "empty", lambda: P.tile_images(np.zeros((0, 28, 28)), 2), ValueError, "images")
good(
    "plots.tile_images",
    "requires grad",
    lambda: P.tile_images(grad(np.zeros((2, 3, 3)).tolist()), 2).shape == (3, 7),
    bool,
)


def _shown_image(ax_and_images):
    ax, imgs = ax_and_images
    P.show_images(ax, imgs, 3)
    return ax.images[-1].get_array()


good("plots.show_images", "wrong dtype", lambda: float(_shown_image((axes(), U8)).max()) == 1.0, bool)
bad("plots.show_images", "out of range", lambda: P.show_images(axes(), U8.float(), 3), ValueError, "images", "255")
bad("plots.show_images", "wrong type", lambda: P.show_images("ax", np.zeros((2, 28, 28)), 2), TypeError, "ax")
bad(
    "plots.show_images", "nan", lambda: P.show_images(axes(), np.full((2, 28, 28), NAN), 2), ValueError, "images", "nan"
)
good("plots.show_images", "requires grad", lambda: _shown_image((axes(), grad(np.zeros((2, 28, 28)).tolist()))), finite)
bad(
    "plots.show_manifold",
    "wrong shape",
    lambda: P.show_manifold(axes(), np.zeros((3, 2, 28, 28)), [0, 1, 2]),
    ValueError,
    "grid",
)
bad(
    "plots.show_manifold",
    "wrong shape",
    lambda: P.show_manifold(axes(), np.zeros((2, 2, 28, 28)), [1, 0]),
    ValueError,
    "values",
)
bad(
    "plots.show_manifold",
    "nan",
    lambda: P.show_manifold(axes(), np.zeros((2, 2, 28, 28)), [0, NAN]),
    ValueError,
    "values",
    "nan",
)
bad(
    "plots.scatter_latent",
    "wrong shape",
    lambda: P.scatter_latent(axes(), np.zeros((5, 20)), np.zeros(5)),
    ValueError,
    "z",
    "20",
)
bad(
    "plots.scatter_latent",
    "out of range",
    lambda: P.scatter_latent(axes(), np.zeros((2, 2)), [0, 12]),
    ValueError,
    "labels",
)
bad("plots.scatter_latent", "nan", lambda: P.scatter_latent(axes(), [[0.0, NAN]], [0]), ValueError, "z", "nan")
bad("plots.scatter_latent", "wrong type", lambda: P.scatter_latent(None, np.zeros((2, 2)), [0, 1]), TypeError, "ax")
good(
    "plots.scatter_latent",
    "requires grad",
    lambda: P.scatter_latent(axes(), grad([[0.0, 1.0]]), torch.tensor([3])),
    lambda r: r is not None,
)
bad("plots.LiveLossPlot", "out of range", lambda: P.LiveLossPlot(0), ValueError, "epochs")
bad("plots.LiveLossPlot", "wrong type", lambda: P.LiveLossPlot(2.5), TypeError, "epochs")
bad("plots.LiveLossPlot", "out of range", lambda: P.LiveLossPlot(3, figsize=(-1, 2)), ValueError, "figsize")


# === vilab.vae ===================================================================================

bad("vae.VAE", "out of range", lambda: vae.VAE(latent_dim=0), ValueError, "latent_dim", "0")
bad("vae.VAE", "wrong type", lambda: vae.VAE(hidden_dim=2.5), TypeError, "hidden_dim", "2.5")
bad("vae.Autoencoder", "out of range", lambda: vae.Autoencoder(latent_dim=-1), ValueError, "latent_dim")
good("vae.VAE.encode", "wrong dtype", lambda: tiny_vae().encode(binary(2, torch.float64)), finite)
good("vae.VAE.encode", "requires grad", lambda: tiny_vae().encode(binary(2).requires_grad_(True)), finite)
bad("vae.VAE.encode", "wrong dtype", lambda: tiny_vae().encode(images(2).reshape(2, 784)), TypeError, "x", "uint8")
bad("vae.VAE.encode", "nan", lambda: tiny_vae().encode(torch.full((1, 784), NAN)), ValueError, "x", "nan")
bad("vae.VAE.encode", "wrong shape", lambda: tiny_vae().encode(torch.zeros(2, 783)), ValueError, "x", "783")
good("vae.VAE.decode", "wrong dtype", lambda: tiny_vae().decode(torch.zeros(3, 2, dtype=torch.float64)), finite)
bad("vae.VAE.decode", "nan", lambda: tiny_vae().decode(torch.tensor([[NAN, 0.0]])), ValueError, "z", "nan")
bad("vae.VAE.decode", "wrong shape", lambda: tiny_vae().decode(torch.zeros(3, 5)), ValueError, "z")
bad("vae.VAE.decode", "wrong type", lambda: tiny_vae().decode([[0.0, 0.0]]), TypeError, "z")
good("vae.VAE.forward", "wrong dtype", lambda: tiny_vae()(binary(2, torch.float64)), finite)
bad("vae.VAE.forward", "wrong dtype", lambda: tiny_vae()(torch.ones(1, 784, dtype=torch.int64)), TypeError, "x")
bad("vae.model_device", "wrong type", lambda: vae.model_device("model"), TypeError, "model")
good("threads.cpu_budget", "extreme", lambda: vae.cpu_budget() >= 1, bool)  # kept importable from vilab.vae
good("vae.best_device", "extreme", lambda: isinstance(vae.best_device(), torch.device), bool)
bad("vae.binarize", "wrong dtype", lambda: vae.binarize(images(2).float()), TypeError, "images", "uint8")
bad("vae.binarize", "seed", lambda: vae.binarize(images(2), seed=2.5), TypeError, "seed", "2.5")
good("vae.binarize", "seed", lambda: vae.binarize(images(2), seed=None).shape == (2, 784), bool)
bad("vae.binarize", "empty", lambda: vae.binarize(torch.zeros(0, 28, 28, dtype=torch.uint8)), ValueError, "images")
bad("vae.binarize", "wrong type", lambda: vae.binarize(np.zeros((2, 28, 28), dtype=np.uint8)), TypeError, "images")
good("vae.vae_loss", "wrong dtype", lambda: vae.vae_loss(tiny_vae(), binary(4, torch.float64), seed=0), finite)
good("vae.vae_loss", "wrong dtype", lambda: vae.vae_loss(tiny_vae(), binary(4, torch.float16), seed=0), finite)
good("vae.vae_loss", "seed", lambda: vae.vae_loss(tiny_vae(), binary(4), seed=None), finite)
good("vae.vae_loss", "requires grad", lambda: vae.vae_loss(tiny_vae(), binary(4).requires_grad_(True), seed=0), finite)
bad(
    "vae.vae_loss",
    "wrong dtype",
    lambda: vae.vae_loss(tiny_vae(), images(4).reshape(4, 784)),
    TypeError,
    "x",
    "binarize",
)
bad("vae.vae_loss", "out of range", lambda: vae.vae_loss(tiny_vae(), binary(4), beta=-1.0), ValueError, "beta", "-1.0")
bad("vae.vae_loss", "seed", lambda: vae.vae_loss(tiny_vae(), binary(4), seed="3"), TypeError, "seed")
bad("vae.vae_loss", "nan", lambda: vae.vae_loss(tiny_vae(), binary(4) * NAN), ValueError, "x", "nan")
bad("vae.vae_loss", "wrong type", lambda: vae.vae_loss("model", binary(4)), TypeError, "model")
TR = {"epochs": 1, "progress": False, "batch_size": 4}
bad("vae.train", "extreme", lambda: vae.train(tiny_vae(), images(8), lr=1e30, **TR), ValueError, "lr", "diverged")
good("vae.train", "seed", lambda: vae.train(tiny_vae(), images(8), seed=None, **TR)["loss"], finite)
bad("vae.train", "seed", lambda: vae.train(tiny_vae(), images(8), seed=2.5, **TR), TypeError, "seed", "2.5")
bad(
    "vae.train",
    "unknown option",
    lambda: vae.train(tiny_vae(), images(8), device="gpu9", **TR),
    ValueError,
    "device",
    "gpu9",
)
bad("vae.train", "wrong dtype", lambda: vae.train(tiny_vae(), images(8).float(), **TR), TypeError, "images")
bad("vae.train", "wrong type", lambda: vae.train(tiny_vae(), images(8), callback=3, **TR), TypeError, "callback")
bad(
    "vae.train",
    "out of range",
    lambda: vae.train(tiny_vae(), images(8), epochs=0, progress=False),
    ValueError,
    "epochs",
)
bad("vae.train", "wrong type", lambda: vae.train(torch.nn.Linear(2, 2), images(8), **TR), TypeError, "model")
good("vae.iwae_bound", "wrong dtype", lambda: vae.iwae_bound(tiny_vae(), binary(3, torch.float64), 4), finite)
good("vae.iwae_bound", "seed", lambda: vae.iwae_bound(tiny_vae(), binary(3), 4, seed=None), finite)
bad("vae.iwae_bound", "wrong dtype", lambda: vae.iwae_bound(tiny_vae(), images(3), 4), TypeError, "x", "uint8")
bad("vae.iwae_bound", "seed", lambda: vae.iwae_bound(tiny_vae(), binary(3), 4, seed=0.5), TypeError, "seed")
bad("vae.iwae_bound", "out of range", lambda: vae.iwae_bound(tiny_vae(), binary(3), 0), ValueError, "k", "0")
bad("vae.iwae_bound", "nan", lambda: vae.iwae_bound(tiny_vae(), binary(3) + NAN, 2), ValueError, "x", "nan")
bad("vae.iwae_bound", "empty", lambda: vae.iwae_bound(tiny_vae(), torch.zeros(0, 784), 2), ValueError, "x")


class _OtherVAE(torch.nn.Module):
    """A VAE written elsewhere (the benchmark's reference): iwae_bound and vae_loss accept any encode/decode pair."""

    def __init__(self):
        super().__init__()
        self.enc, self.dec = torch.nn.Linear(784, 4), torch.nn.Linear(2, 784)

    def encode(self, x):
        return self.enc(x).chunk(2, dim=-1)

    def decode(self, z):
        return self.dec(z)


good("vae.iwae_bound", "wrong type", lambda: vae.iwae_bound(_OtherVAE(), binary(3), 2), finite)
good("vae.vae_loss", "wrong type", lambda: vae.vae_loss(_OtherVAE(), binary(3)), finite)
good("vae.iwae_bound", "requires grad", lambda: vae.iwae_bound(tiny_vae(), binary(3).requires_grad_(True), 2), finite)
good("vae.encode_means", "wrong dtype", lambda: vae.encode_means(tiny_vae(), binary(3, torch.float64) * 0.5), finite)
bad("vae.encode_means", "wrong dtype", lambda: vae.encode_means(tiny_vae(), images(3).reshape(3, 784)), TypeError, "x")
bad("vae.encode_means", "out of range", lambda: vae.encode_means(tiny_vae(), binary(3) * 2), ValueError, "x", "2.0")
bad(
    "vae.encode_means",
    "out of range",
    lambda: vae.encode_means(tiny_vae(), binary(3), batch_size=0),
    ValueError,
    "batch_size",
)
bad("vae.encode_means", "nan", lambda: vae.encode_means(tiny_vae(), binary(3) * NAN), ValueError, "x", "nan")
good("vae.encode_means", "requires grad", lambda: vae.encode_means(tiny_vae(), binary(3).requires_grad_(True)), finite)
bad("vae.active_units", "wrong shape", lambda: vae.active_units(tiny_vae(), binary(1)), ValueError, "x", "2 images")
bad(
    "vae.active_units",
    "out of range",
    lambda: vae.active_units(tiny_vae(), binary(3), threshold=0),
    ValueError,
    "threshold",
)
good("vae.active_units", "wrong dtype", lambda: vae.active_units(tiny_vae(), binary(3, torch.float64)), finite)
bad(
    "vae.decode_probabilities",
    "nan",
    lambda: vae.decode_probabilities(tiny_vae(), [[NAN, 0.0]]),
    ValueError,
    "z",
    "nan",
)
bad(
    "vae.decode_probabilities",
    "inf",
    lambda: vae.decode_probabilities(tiny_vae(), torch.tensor([[INF, 0.0]])),
    ValueError,
    "z",
    "inf",
)
bad(
    "vae.decode_probabilities",
    "wrong shape",
    lambda: vae.decode_probabilities(tiny_vae(), [[0.0, 0.0, 0.0]]),
    ValueError,
    "z",
)
bad("vae.decode_probabilities", "wrong type", lambda: vae.decode_probabilities(tiny_vae(), "z"), TypeError, "z")
bad(
    "vae.decode_probabilities", "empty", lambda: vae.decode_probabilities(tiny_vae(), np.zeros((0, 2))), ValueError, "z"
)
good(
    "vae.decode_probabilities",
    "requires grad",
    lambda: vae.decode_probabilities(tiny_vae(), grad([[0.1, 0.2]])),
    finite,
)
good("vae.decode_probabilities", "extreme", lambda: vae.decode_probabilities(tiny_vae(), [[1e30, -1e30]]), finite)
bad("vae.decode_latent_point", "nan", lambda: vae.decode_latent_point(tiny_vae(), NAN, 0.0), ValueError, "z1", "nan")
bad("vae.decode_latent_point", "wrong type", lambda: vae.decode_latent_point(tiny_vae(), "a", 0.0), TypeError, "z1")
bad(
    "vae.decode_latent_point",
    "wrong shape",
    lambda: vae.decode_latent_point(tiny_vae(5), 0.0, 0.0),
    ValueError,
    "latent_dim",
)
good("vae.decode_latent_point", "requires grad", lambda: vae.decode_latent_point(tiny_vae(), grad(0.5), 0.0), finite)
bad("vae.manifold_grid", "out of range", lambda: vae.manifold_grid(tiny_vae(), n=0), ValueError, "n", "0")
bad("vae.manifold_grid", "inf", lambda: vae.manifold_grid(tiny_vae(), span=INF), ValueError, "span", "inf")
bad("vae.manifold_grid", "out of range", lambda: vae.manifold_grid(tiny_vae(), span=0.0), ValueError, "span")
bad("vae.manifold_grid", "wrong type", lambda: vae.manifold_grid(None), TypeError, "model")


# === vilab.widgets ===============================================================================

W = widgets
bad("widgets.figure_png", "wrong type", lambda: W.figure_png("fig"), TypeError, "fig")
good("widgets.figure_png", "extreme", lambda: W.figure_png(P.new_figure()[0])[:4] == b"\x89PNG", bool)
bad(
    "widgets.interactive_panel",
    "wrong type",
    lambda: W.interactive_panel(P.new_figure()[0], [1], lambda: None),
    TypeError,
    "controls",
)
bad(
    "widgets.interactive_panel",
    "wrong type",
    lambda: W.interactive_panel(P.new_figure()[0], {}, 3),
    TypeError,
    "update",
)
bad("widgets.interactive_panel", "wrong type", lambda: W.interactive_panel(None, {}, lambda: None), TypeError, "fig")
good("widgets.elbo_explorer_data", "extreme", lambda: W.elbo_explorer_data(), finite)
bad("widgets.elbo_explorer", "out of range", lambda: W.elbo_explorer(0.0, 0.0, 3), ValueError, "q_std", "0.0")
bad("widgets.elbo_explorer", "out of range", lambda: W.elbo_explorer(0.0, 1.0, 11), ValueError, "n_obs", "11")
bad("widgets.elbo_explorer", "nan", lambda: W.elbo_explorer(NAN, 1.0, 3), ValueError, "q_mean", "nan")
good("widgets.elbo_explorer", "requires grad", lambda: W.elbo_explorer(grad(0.5), grad(1.0), 3), finite)
good("widgets.elbo_explorer_panel", "extreme", lambda: W.elbo_explorer_panel().children, lambda c: len(c) > 0)
good("widgets.estimator_explorer_panel", "extreme", lambda: W.estimator_explorer_panel().children, lambda c: len(c) > 0)
bad(
    "widgets.latent_explorer_panel",
    "wrong shape",
    lambda: W.latent_explorer_panel(tiny_vae(5)),
    ValueError,
    "latent_dim",
)
bad(
    "widgets.latent_explorer_panel",
    "wrong shape",
    lambda: W.latent_explorer_panel(tiny_vae(), np.zeros((3, 2))),
    ValueError,
    "labels",
)
bad(
    "widgets.latent_explorer_panel",
    "wrong shape",
    lambda: W.latent_explorer_panel(tiny_vae(), np.zeros((3, 3)), np.zeros(3)),
    ValueError,
    "codes",
)
bad("widgets.latent_explorer_panel", "wrong type", lambda: W.latent_explorer_panel("model"), TypeError, "model")
good(
    "widgets.cavi_stepper_history",
    "extreme",
    lambda: len(W.cavi_stepper_history(two_clusters(100, 0, 3.0), 2).history) == 21,
    bool,
)
bad("widgets.cavi_stepper_history", "out of range", lambda: W.cavi_stepper_history(X1, 0), ValueError, "K")
bad("widgets.cavi_stepper_history", "nan", lambda: W.cavi_stepper_history(np.r_[X1, NAN]), ValueError, "x", "nan")
good("widgets.cavi_stepper_history", "requires grad", lambda: W.cavi_stepper_history(grad(X1.tolist()), 2).m, finite)
GRID = np.linspace(-5, 5, 50)
bad(
    "widgets.cavi_stepper",
    "out of range",
    lambda: W.cavi_stepper(W.cavi_stepper_history(X1, 2), 21, GRID),
    ValueError,
    "step",
    "21",
)
bad(
    "widgets.cavi_stepper",
    "wrong type",
    lambda: W.cavi_stepper(W.cavi_stepper_history(X1, 2), 2.5, GRID),
    TypeError,
    "step",
    "2.5",
)
bad("widgets.cavi_stepper", "wrong type", lambda: W.cavi_stepper("fit", 1, GRID), TypeError, "fit")
bad(
    "widgets.cavi_stepper",
    "nan",
    lambda: W.cavi_stepper(W.cavi_stepper_history(X1, 2), 1, [0.0, NAN]),
    ValueError,
    "grid",
    "nan",
)
bad("widgets.cavi_stepper", "empty", lambda: W.cavi_stepper(W.cavi_stepper_history(X1, 2), 1, []), ValueError, "grid")
bad("widgets.cavi_stepper_panel", "wrong shape", lambda: W.cavi_stepper_panel(np.zeros((10, 2))), ValueError, "x")
bad("widgets.cavi_stepper_panel", "nan", lambda: W.cavi_stepper_panel(np.r_[X1, NAN]), ValueError, "x", "nan")
good(
    "widgets.cavi_stepper_panel",
    "requires grad",
    lambda: W.cavi_stepper_panel(grad(X1.tolist()), 2).children,
    lambda c: len(c) > 0,
)


# --- running the rows ------------------------------------------------------------------------------


def outcome(row, monkeypatch=None):
    """("ok" | "obscure" | "silent", detail) for one row.

    obscure: an exception of another type than expected, or one whose message does not name
    the parameter (or the value); or a valid input that raised. silent: no exception where
    one was expected, or a valid input whose answer is wrong (NaN, misgraded, inaccurate).
    """
    import contextlib
    import io
    import os

    saved = {key: os.environ.get(key) for key in row.env}
    os.environ.update(row.env)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            result = row.call()
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - classify every failure
        message = str(error)
        if row.error is None:
            return "obscure", f"valid input raised {type(error).__name__}: {message}"
        if not isinstance(error, row.error):
            return "obscure", f"expected {row.error.__name__}, got {type(error).__name__}: {message}"
        missing = [name for name in row.names if name.lower() not in message.lower()]
        if missing:
            return "obscure", f"{type(error).__name__} does not name {missing}: {message}"
        return "ok", message
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        import matplotlib.pyplot as plt

        plt.close("all")
    if row.error is not None:
        return "silent", f"expected {row.error.__name__}, returned {_short(result)}"
    try:
        ok = row.check(result)
    except Exception as error:  # noqa: BLE001
        return "silent", f"the answer could not be checked ({type(error).__name__}: {error}): {_short(result)}"
    return ("ok", "") if ok else ("silent", f"wrong or non-finite answer: {_short(result)}")


def _short(value):
    text = repr(value)
    return text if len(text) < 200 else text[:197] + "..."


# === vilab.diagnostics ===========================================================================

D = diagnostics
_stuck = np.ones((4, 50))
_antithetic = np.tile(np.array([1.0, -1.0]), (4, 50))
for diagnostic in ("rhat", "ess"):
    fn = getattr(D, diagnostic)
    bad(f"diagnostics.{diagnostic}", "extreme", lambda fn=fn: fn(_stuck), ValueError, "samples", "stuck")
    bad(
        f"diagnostics.{diagnostic}",
        "wrong shape",
        lambda fn=fn: fn(np.zeros((2, 3)) + np.arange(3)),
        ValueError,
        "samples",
        "4 draws",
    )
    bad(f"diagnostics.{diagnostic}", "wrong shape", lambda fn=fn: fn(np.arange(10.0)), ValueError, "samples")
    bad(f"diagnostics.{diagnostic}", "nan", lambda fn=fn: fn(np.full((2, 10), NAN)), ValueError, "samples", "nan")
    bad(
        f"diagnostics.{diagnostic}",
        "inf",
        lambda fn=fn: fn(np.array([[0, 1, 2, INF]] * 2)),
        ValueError,
        "samples",
        "inf",
    )
    bad(f"diagnostics.{diagnostic}", "wrong type", lambda fn=fn: fn("chains"), TypeError, "samples")
    bad(f"diagnostics.{diagnostic}", "empty", lambda fn=fn: fn(np.zeros((0, 10))), ValueError, "samples")
    good(
        f"diagnostics.{diagnostic}",
        "requires grad",
        lambda fn=fn: fn(grad(np.random.default_rng(0).normal(size=(2, 20)).tolist())),
        finite,
    )
good(  # a perfectly alternating chain: Stan's cap S log10 S, not an infinite ESS
    "diagnostics.ess",
    "extreme",
    lambda: bool(np.allclose(D.ess(_antithetic), _antithetic.size * math.log10(_antithetic.size))),
    bool,
)
good(
    "diagnostics.ess",
    "extreme",
    lambda: bool(np.all(np.abs(D.ess(np.random.default_rng(1).normal(size=(4, 500, 3))) / 2000 - 1) < 0.15)),
    bool,
)
good(
    "diagnostics.rhat",
    "extreme",
    lambda: float(D.rhat(np.vstack([np.ones(40), np.random.default_rng(0).normal(size=40)]))[0]) > 1.1,
    bool,
)

_heavy = np.random.default_rng(0).pareto(1.5, size=400)  # Pareto ratios, tail shape k = 1/1.5
bad("diagnostics.psis", "wrong type", lambda: D.psis("ratios"), TypeError, "log_ratios")
bad("diagnostics.psis", "wrong type", lambda: D.psis(None), TypeError, "log_ratios")
bad("diagnostics.psis", "wrong dtype", lambda: D.psis(np.ones(30, dtype=bool)), TypeError, "log_ratios")
bad("diagnostics.psis", "wrong shape", lambda: D.psis(np.zeros((30, 2))), ValueError, "log_ratios", "1-D")
bad("diagnostics.psis", "empty", lambda: D.psis(np.zeros(0)), ValueError, "log_ratios")
bad("diagnostics.psis", "out of range", lambda: D.psis(np.zeros(24)), ValueError, "log_ratios", "24")
bad("diagnostics.psis", "nan", lambda: D.psis(np.r_[np.zeros(29), NAN]), ValueError, "log_ratios", "nan")
bad("diagnostics.psis", "inf", lambda: D.psis(np.r_[np.zeros(29), INF]), ValueError, "log_ratios", "inf")
good("diagnostics.psis", "requires grad", lambda: D.psis(grad(np.log1p(_heavy).tolist())).khat, finite)
good(  # equal ratios (q = p): nothing to smooth, uniform weights
    "diagnostics.psis",
    "extreme",
    lambda: bool(
        D.psis(np.zeros(100)).khat == -math.inf and np.allclose(D.psis(np.zeros(100)).log_weights, -math.log(100))
    ),
    bool,
)
good(  # a huge constant offset changes nothing (the ratios are shifted by their maximum first)
    "diagnostics.psis",
    "extreme",
    lambda: bool(np.isclose(D.psis(np.log1p(_heavy) + 1e6).khat, D.psis(np.log1p(_heavy)).khat)),
    bool,
)
good("diagnostics.psis", "extreme", lambda: D.psis(1e3 * np.log1p(_heavy)), finite)  # weights spanning e^5000

# --- vilab.flows ---------------------------------------------------------------------------------------------------
F = flows
Z2 = torch.zeros(3, 2, dtype=torch.float64)


def small_flow(n_layers=2):
    return F.CouplingFlow(2, n_layers, hidden=4, seed=0)


bad("flows.log_target", "unknown option", lambda: F.log_target("donut", Z2), ValueError, "name", "donut")
bad("flows.log_target", "wrong type", lambda: F.log_target("banana", [[0.0, 0.0]]), TypeError, "z")
bad("flows.log_target", "wrong shape", lambda: F.log_target("banana", torch.zeros(3, 3)), ValueError, "z", "(3, 3)")
bad("flows.log_target", "wrong shape", lambda: F.log_target("banana", torch.zeros(0, 2)), ValueError, "z")
bad("flows.log_target", "nan", lambda: F.log_target("funnel", torch.tensor([[0.0, NAN]])), ValueError, "z", "nan")
bad(
    "flows.log_target",
    "wrong dtype",
    lambda: F.log_target("funnel", torch.ones(2, 2, dtype=torch.bool)),
    TypeError,
    "z",
)
good("flows.log_target", "extreme", lambda: F.log_target("funnel", torch.tensor([[-30.0, 0.0], [30.0, 1e6]])), finite)
good("flows.log_target", "requires grad", lambda: F.log_target("two_modes", grad([[0.1, 0.2]])).requires_grad, bool)
bad("flows.sample_target", "out of range", lambda: F.sample_target("banana", 0), ValueError, "n", "0")
bad("flows.sample_target", "seed", lambda: F.sample_target("banana", 5, seed=2.5), TypeError, "seed", "2.5")
bad("flows.sample_target", "unknown option", lambda: F.sample_target(3, 5), TypeError, "name")
good("flows.sample_target", "extreme", lambda: F.sample_target("two_modes", 1, seed=0), lambda x: x.shape == (1, 2))
bad("flows.target_grid", "out of range", lambda: F.target_grid("banana", 1), ValueError, "n", "1")
bad("flows.target_grid", "wrong type", lambda: F.target_grid("banana", 10.5), TypeError, "n", "10.5")
good("flows.target_grid", "extreme", lambda: F.target_grid("funnel", 2)[1], lambda area: area > 0)
bad(
    "flows.target_grid",
    "out of range",
    lambda: F.target_grid("funnel", 4, extent=[[1, 0], [0, 1]]),
    ValueError,
    "extent",
)
bad("flows.target_grid", "wrong shape", lambda: F.target_grid("funnel", 4, extent=[0, 1]), ValueError, "extent")
bad("flows.kl_on_grid", "out of range", lambda: F.kl_on_grid([0.0], [0.0], 0.0), ValueError, "cell_area", "0.0")
bad("flows.kl_on_grid", "nan", lambda: F.kl_on_grid([NAN], [0.0], 1.0), ValueError, "log_q", "nan")
bad("flows.kl_on_grid", "inf", lambda: F.kl_on_grid([0.0], [INF], 1.0), ValueError, "log_p", "inf")
bad("flows.kl_on_grid", "wrong shape", lambda: F.kl_on_grid([0.0, 0.0], [0.0], 1.0), ValueError, "log_q", "(2,)")
bad("flows.kl_on_grid", "empty", lambda: F.kl_on_grid([], [], 1.0), ValueError, "log_q", "empty")
bad("flows.kl_on_grid", "wrong type", lambda: F.kl_on_grid("a", [0.0], 1.0), TypeError, "log_q")
good("flows.kl_on_grid", "extreme", lambda: F.kl_on_grid([0.0, -INF], [-INF, 0.0], 1.0), lambda v: v == math.inf)
good("flows.kl_on_grid", "requires grad", lambda: F.kl_on_grid(grad([-1.0]), grad([-1.0]), 1.0), lambda v: v == 0.0)
bad("flows.AffineCoupling", "out of range", lambda: F.AffineCoupling(1), ValueError, "dim", "1")
bad("flows.AffineCoupling", "wrong type", lambda: F.AffineCoupling(2, 4, flip=1), TypeError, "flip", "1")
bad("flows.AffineCoupling", "out of range", lambda: F.AffineCoupling(2, 0), ValueError, "hidden", "0")
bad("flows.AffineCoupling.forward", "wrong shape", lambda: F.AffineCoupling(2)(torch.zeros(3, 5)), ValueError, "z")
bad(
    "flows.AffineCoupling.inverse",
    "inf",
    lambda: F.AffineCoupling(2).inverse(torch.tensor([[INF, 0.0]])),
    ValueError,
    "x",
)
good(
    "flows.AffineCoupling.inverse",
    "extreme",
    lambda: F.AffineCoupling(3).inverse(torch.ones(2, 3))[0].shape == (2, 3),
    bool,
)
bad(
    "flows.AffineCoupling.shift_and_log_scale",
    "wrong shape",
    lambda: F.AffineCoupling(2).shift_and_log_scale(torch.zeros(3, 2)),
    ValueError,
    "x_kept",
)
good(
    "flows.AffineCoupling.shift_and_log_scale",
    "extreme",
    lambda: F.AffineCoupling(2).shift_and_log_scale(Z2[:, :1]),
    finite,
)
bad("flows.CouplingFlow", "out of range", lambda: F.CouplingFlow(2, -1), ValueError, "n_layers", "-1")
bad("flows.CouplingFlow", "wrong shape", lambda: F.CouplingFlow(2, loc=[0.0]), ValueError, "loc", "(1,)")
bad("flows.CouplingFlow", "out of range", lambda: F.CouplingFlow(2, scale=[1.0, 0.0]), ValueError, "scale", "0.0")
bad("flows.CouplingFlow", "seed", lambda: F.CouplingFlow(2, seed="3"), TypeError, "seed", "3")
good("flows.CouplingFlow", "extreme", lambda: F.CouplingFlow(2, 0).log_prob(Z2), finite)
bad("flows.CouplingFlow.forward", "wrong shape", lambda: small_flow()(torch.zeros(2)), ValueError, "z")
good("flows.CouplingFlow.forward", "extreme", lambda: small_flow()(torch.full((2, 2), 1e6)), finite)
bad(
    "flows.CouplingFlow.inverse",
    "nan",
    lambda: small_flow().inverse(torch.tensor([[NAN, 0.0]])),
    ValueError,
    "x",
    "nan",
)
bad("flows.CouplingFlow.log_prob", "wrong type", lambda: small_flow().log_prob("x"), TypeError, "x")
good("flows.CouplingFlow.log_prob", "requires grad", lambda: small_flow().log_prob(grad([[0.1, 0.2]])), finite)
bad("flows.CouplingFlow.sample", "out of range", lambda: small_flow().sample(0), ValueError, "n", "0")
bad("flows.CouplingFlow.sample", "seed", lambda: small_flow().sample(2, seed=-1), ValueError, "seed", "-1")
bad("flows.fit_reverse_kl", "wrong type", lambda: F.fit_reverse_kl("flow", gauss_log_prob), TypeError, "flow")
bad("flows.fit_reverse_kl", "wrong type", lambda: F.fit_reverse_kl(small_flow(), 3), TypeError, "log_prob")
bad(
    "flows.fit_reverse_kl",
    "out of range",
    lambda: F.fit_reverse_kl(small_flow(), gauss_log_prob, lr=0),
    ValueError,
    "lr",
)
bad(
    "flows.fit_reverse_kl",
    "wrong shape",
    lambda: F.fit_reverse_kl(small_flow(), lambda x: x, n_steps=2),
    ValueError,
    "log_prob",
)
good(
    "flows.fit_reverse_kl", "extreme", lambda: F.fit_reverse_kl(small_flow(), gauss_log_prob, n_steps=2, seed=0), finite
)
bad(
    "flows.fit_forward_kl",
    "wrong shape",
    lambda: F.fit_forward_kl(small_flow(), torch.zeros(4, 3)),
    ValueError,
    "samples",
)
bad(
    "flows.fit_forward_kl",
    "out of range",
    lambda: F.fit_forward_kl(small_flow(), Z2, batch_size=0),
    ValueError,
    "batch_size",
)
good(
    "flows.fit_forward_kl",
    "extreme",
    lambda: F.fit_forward_kl(small_flow(), Z2, n_steps=2, batch_size=99, seed=0),
    finite,
)
# === vilab.discrete ==============================================================================


def gp(**changes):
    """A small GradientProblem (4 latents, 6 pixels), with any argument replaced."""
    rng = np.random.default_rng(0)
    args = {"x": [1.0, 0.0, 1.0, 1.0, 0.0, 0.0], "weight": rng.normal(size=(6, 4)), "bias": np.zeros(6)}
    args["logits"] = [0.5, -1.0, 0.0, 2.0]
    return discrete.GradientProblem(**(args | changes))


def bvae():
    return discrete.BinaryVAE(3, 6, seed=0)


XB = torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0, 0.0]] * 4)
Dd = discrete
good("discrete.configurations", "extreme", lambda: Dd.configurations(1).tolist() == [[0.0], [1.0]], bool)
bad("discrete.configurations", "out of range", lambda: Dd.configurations(21), ValueError, "n_latents", "21")
bad("discrete.configurations", "wrong type", lambda: Dd.configurations(2.0), TypeError, "n_latents")
good("discrete.downsample", "extreme", lambda: Dd.downsample(images(2), 28).shape == (2, 784), bool)
bad("discrete.downsample", "out of range", lambda: Dd.downsample(images(2), 5), ValueError, "size", "5")
bad("discrete.downsample", "wrong dtype", lambda: Dd.downsample(images(2).float()), TypeError, "images")
bad("discrete.downsample", "wrong shape", lambda: Dd.downsample(images(2)[:, :14]), ValueError, "images")
bad("discrete.downsample", "empty", lambda: Dd.downsample(images(2)[:0]), ValueError, "images")
bad("discrete.GradientProblem", "wrong shape", lambda: gp(bias=np.zeros(5)), ValueError, "bias")
bad("discrete.GradientProblem", "nan", lambda: gp(logits=[0.0, NAN, 0.0, 0.0]), ValueError, "logits", "nan")
bad("discrete.GradientProblem", "out of range", lambda: gp(x=[0.5, 0, 1, 1, 0, 0]), ValueError, "x", "0.5")
bad("discrete.GradientProblem", "wrong type", lambda: gp(weight="W"), TypeError, "weight")
bad("discrete.GradientProblem", "out of range", lambda: gp(weight=np.zeros((6, 21)), logits=np.zeros(21)),
    ValueError, "logits")  # fmt: skip
good("discrete.GradientProblem", "requires grad", lambda: gp(logits=grad([0.5, -1.0, 0.0, 2.0])).exact_value(), finite)
good("discrete.GradientProblem", "extreme", lambda: gp(logits=[40.0, -40.0, 0.0, 0.0]).exact_gradient(), finite)
bad("discrete.GradientProblem.values", "wrong shape", lambda: gp().values(np.zeros(3)), ValueError, "z")
bad("discrete.GradientProblem.values", "inf", lambda: gp().values([0.0, INF, 0.0, 0.0]), ValueError, "z", "inf")
bad("discrete.GradientProblem.derivatives", "wrong type", lambda: gp().derivatives("z"), TypeError, "z")
good("discrete.GradientProblem.derivatives", "extreme", lambda: gp().derivatives(np.ones((2, 3, 4))), finite)
good("discrete.GradientProblem.exact_value", "extreme", lambda: gp(logits=[60.0] * 4).exact_value(), finite)
good("discrete.GradientProblem.exact_gradient", "extreme", lambda: gp(logits=[-60.0] * 4).exact_gradient(), finite)
good("discrete.GradientProblem.optimal_baseline", "extreme", lambda: gp(logits=[30.0] * 4).optimal_baseline(), finite)
good("discrete.GradientProblem.optimal_baseline", "extreme", lambda: gp(logits=[800.0] * 4).optimal_baseline(), finite)
good("discrete.GradientProblem.exact_variance", "extreme", lambda: gp(logits=[-800.0] * 4).exact_variance("optimal"),
     finite)  # fmt: skip
bad("discrete.GradientProblem.exact_variance", "unknown option", lambda: gp().exact_variance("loo"), ValueError,
    "baseline", "loo")  # fmt: skip
bad("discrete.GradientProblem.exact_variance", "out of range", lambda: gp().exact_variance("rloo", 1), ValueError,
    "n_samples")  # fmt: skip
bad("discrete.GradientProblem.exact_variance", "wrong type", lambda: gp().exact_variance("none", 2.5), TypeError,
    "n_samples")  # fmt: skip
bad("discrete.GradientProblem.score_function", "out of range", lambda: gp().score_function(0, 10), ValueError,
    "n_samples")  # fmt: skip
bad("discrete.GradientProblem.score_function", "seed", lambda: gp().score_function(2, 10, seed=1.5), TypeError,
    "seed")  # fmt: skip
bad("discrete.GradientProblem.score_function", "unknown option", lambda: gp().score_function(2, 10, baseline=None),
    TypeError, "baseline")  # fmt: skip
good("discrete.GradientProblem.score_function", "extreme", lambda: gp().score_function(1, 1, seed=0), finite)
bad("discrete.GradientProblem.relaxed", "out of range", lambda: gp().relaxed(0.0, 1, 10), ValueError, "temperature")
bad("discrete.GradientProblem.relaxed", "nan", lambda: gp().relaxed(NAN, 1, 10), ValueError, "temperature", "nan")
bad("discrete.GradientProblem.relaxed", "wrong type", lambda: gp().relaxed(1.0, 1, 10, straight_through=1),
    TypeError, "straight_through")  # fmt: skip
good("discrete.GradientProblem.relaxed", "extreme", lambda: gp().relaxed(1e-3, 2, 50, seed=0), finite)
good("discrete.GradientProblem.relaxed", "extreme", lambda: gp().relaxed(1e3, 2, 50, seed=0), finite)
bad("discrete.BinaryVAE", "out of range", lambda: Dd.BinaryVAE(0, 6), ValueError, "n_latents", "0")
bad("discrete.BinaryVAE", "wrong type", lambda: Dd.BinaryVAE(3, 6.0), TypeError, "n_pixels")
bad("discrete.BinaryVAE", "out of range", lambda: Dd.BinaryVAE(3, 2, pixel_means=[0.5, 1.0]), ValueError,
    "pixel_means")  # fmt: skip
bad("discrete.BinaryVAE", "seed", lambda: Dd.BinaryVAE(3, 6, seed=-1), ValueError, "seed", "-1")
bad("discrete.BinaryVAE.encode", "wrong shape", lambda: bvae().encode(XB[:, :5]), ValueError, "x")
bad("discrete.BinaryVAE.encode", "out of range", lambda: bvae().encode(XB * 0.5), ValueError, "x")
bad("discrete.BinaryVAE.encode", "wrong type", lambda: bvae().encode(XB.tolist()), TypeError, "x")
bad("discrete.BinaryVAE.log_likelihood", "wrong shape", lambda: bvae().log_likelihood(XB, torch.zeros(4, 2)),
    ValueError, "z")  # fmt: skip
bad("discrete.BinaryVAE.log_likelihood", "nan", lambda: bvae().log_likelihood(XB, torch.full((4, 3), NAN)),
    ValueError, "z")  # fmt: skip
good("discrete.BinaryVAE.log_likelihood", "extreme", lambda: bvae().log_likelihood(XB, torch.rand(5, 4, 3)), finite)
bad("discrete.BinaryVAE.kl", "wrong type", lambda: bvae().kl([0.0, 1.0, 2.0]), TypeError, "logits")
good("discrete.BinaryVAE.kl", "extreme", lambda: bvae().kl(torch.tensor([[80.0, -80.0, 0.0]])), finite)
good("discrete.BinaryVAE.elbo", "extreme", lambda: bvae().elbo(XB), finite)
bad("discrete.BinaryVAE.elbo", "nan", lambda: bvae().elbo(torch.full((2, 6), NAN)), ValueError, "x")
good("discrete.BinaryVAE.log_evidence", "extreme", lambda: bvae().log_evidence(XB), finite)
bad("discrete.BinaryVAE.log_evidence", "wrong type", lambda: bvae().log_evidence(np.ones((2, 6))), TypeError, "x")
bad("discrete.train", "unknown option", lambda: Dd.train(bvae(), XB, method="vimco", steps=1), ValueError, "method")
bad("discrete.train", "out of range", lambda: Dd.train(bvae(), XB, method="exact", steps=0), ValueError, "steps")
bad("discrete.train", "out of range", lambda: Dd.train(bvae(), XB, method="exact", steps=1, batch_size=0),
    ValueError, "batch_size", "0")  # fmt: skip
bad("discrete.train", "out of range", lambda: Dd.train(bvae(), XB, method="reinforce", steps=1, n_samples=1),
    ValueError, "n_samples")  # fmt: skip
bad("discrete.train", "out of range", lambda: Dd.train(bvae(), XB, method="gumbel", steps=1, temperature=-1.0),
    ValueError, "temperature")  # fmt: skip
bad("discrete.train", "wrong type", lambda: Dd.train("model", XB, method="exact", steps=1), TypeError, "model")
good("discrete.train", "extreme", lambda: Dd.train(bvae(), XB, method="gumbel", steps=2, temperature=1e-3), finite)
good("discrete.relaxation_sweep", "extreme", lambda: Dd.relaxation_sweep(gp(), [0.01, 100.0], 1, 100), finite)
bad("discrete.relaxation_sweep", "out of range", lambda: Dd.relaxation_sweep(gp(), [0.0], 1, 100), ValueError,
    "temperatures")  # fmt: skip
bad("discrete.relaxation_sweep", "wrong type", lambda: Dd.relaxation_sweep("p", [1.0], 1, 100), TypeError, "problem")
bad("discrete.relaxation_sweep", "out of range", lambda: Dd.relaxation_sweep(gp(), [1.0], 1, 1), ValueError,
    "n_replicates")  # fmt: skip
good("discrete.relaxation_explorer", "extreme", lambda: Dd.relaxation_explorer(gp(), 0.05, "rloo", 16), finite)
bad("discrete.relaxation_explorer", "unknown option", lambda: Dd.relaxation_explorer(gp(), 1.0, "b", 2), ValueError,
    "baseline")  # fmt: skip
bad("discrete.relaxation_explorer", "out of range", lambda: Dd.relaxation_explorer(gp(), 1.0, "rloo", 1),
    ValueError, "n_samples")  # fmt: skip
bad("discrete.relaxation_explorer", "wrong type", lambda: Dd.relaxation_explorer(None, 1.0, "none", 2), TypeError,
    "problem")  # fmt: skip
bad("widgets.relaxation_explorer_panel", "wrong type", lambda: W.relaxation_explorer_panel("p"), TypeError, "problem")
good("widgets.relaxation_explorer_panel", "extreme", lambda: W.relaxation_explorer_panel(gp()).children,
     lambda c: len(c) > 0)  # fmt: skip


# --- vilab.threads ---------------------------------------------------------------------------------------------------
bad("threads.Tuner", "wrong type", lambda: threads.Tuner(probe_steps=2.5), TypeError, "probe_steps")
bad("threads.Tuner", "out of range", lambda: threads.Tuner(first_interval=0), ValueError, "first_interval")
bad(
    "threads.Tuner", "out of range", lambda: threads.Tuner(first_interval=8, max_interval=4), ValueError, "max_interval"
)
bad("threads.cpu_budget", "wrong type", lambda: threads.cpu_budget(3), TypeError, "proc_self")
good(
    "threads.cpu_budget", "extreme", lambda: threads.cpu_budget("/nonexistent"), lambda n: isinstance(n, int) and n >= 1
)
bad("threads.cgroup_cpu_limit", "wrong type", lambda: threads.cgroup_cpu_limit(None), TypeError, "proc_self")
good("threads.cgroup_cpu_limit", "extreme", lambda: threads.cgroup_cpu_limit("/nonexistent"), lambda v: v is None)
bad("threads.apply", "unknown option", threads.apply, ValueError, "VILAB_THREADS", env={"VILAB_THREADS": "two"})
bad("threads.apply", "out of range", threads.apply, ValueError, "VILAB_THREADS", env={"VILAB_THREADS": "0"})


@pytest.fixture(autouse=True)
def _fresh_data_cache():
    data._load_cached.cache_clear()
    yield
    data._load_cached.cache_clear()


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_row(row):
    status, detail = outcome(row)
    assert status == "ok", f"{row.target} ({row.kind}): {status}: {detail}"


def public_callables():
    """Every public function and class defined in a vilab module, and every public method of those classes."""
    found = set()
    for info in pkgutil.iter_modules(vilab.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"vilab.{info.name}")
        for name, obj in vars(module).items():
            if name.startswith("_") or not callable(obj) or getattr(obj, "__module__", None) != module.__name__:
                continue
            found.add(f"{module.__name__}.{name}")
            if inspect.isclass(obj) and f"{module.__name__}.{name}" not in NO_INPUT:
                for method, value in vars(obj).items():
                    if not method.startswith("_") and isinstance(value, types.FunctionType):
                        found.add(f"{module.__name__}.{name}.{method}")
    return found


def test_every_public_function_has_rows():
    covered = {row.target for row in ROWS}
    missing = sorted(public_callables() - covered - set(NO_INPUT))
    assert not missing, f"public functions without a row in the bad-input table: {missing}"
    assert covered <= public_callables(), (
        f"rows for functions that do not exist: {sorted(covered - public_callables())}"
    )
    assert {row.kind for row in ROWS} <= KINDS


if __name__ == "__main__":  # python tests/test_bad_input.py: the counts for the issue
    from collections import Counter

    counts, lines = Counter(), []
    for row in ROWS:
        status, detail = outcome(row)
        counts[status] += 1
        if status != "ok":
            lines.append(f"{status:8s} {row.target} ({row.kind}): {detail[:160]}")
    print("\n".join(lines))
    functions = len({row.target for row in ROWS})
    print(f"{len(ROWS)} rows over {functions} public functions: {dict(counts)}")
