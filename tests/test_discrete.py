"""Discrete latents: enumeration against autograd and brute force, unbiasedness within SE, exact variances."""

import itertools

import matplotlib
import numpy as np
import pytest
import torch
from torch.nn import functional as F

from vilab import discrete as D

matplotlib.use("Agg")


def problem(seed=0, n_latents=5, n_pixels=12, scale=1.0):
    rng = np.random.default_rng(seed)
    x = (rng.random(n_pixels) < 0.4).astype(float)
    weight, bias = rng.normal(0, scale, (n_pixels, n_latents)), rng.normal(0, 1, n_pixels)
    return D.GradientProblem(x, weight, bias, rng.normal(0, 1.0, n_latents))


def brute_force(p):
    """E_q[g] and its gradient by autograd through an explicit sum over itertools.product (independent of vilab)."""
    eta = torch.tensor(p.logits, requires_grad=True)
    total = 0.0
    for bits in itertools.product([0.0, 1.0], repeat=p.n_latents):
        z = torch.tensor(bits, dtype=torch.float64)
        log_q = (z * F.logsigmoid(eta) + (1 - z) * F.logsigmoid(-eta)).sum()
        logits = torch.as_tensor(p.weight) @ z + torch.as_tensor(p.bias)
        g = (torch.as_tensor(p.x) * logits - F.softplus(logits)).sum()
        total = total + log_q.exp() * g
    total.backward()
    return total.item(), eta.grad.numpy()


def test_configurations_are_every_binary_vector_once():
    table = D.configurations(4)
    assert table.shape == (16, 4) and len({tuple(r) for r in table}) == 16 and set(table.ravel()) == {0.0, 1.0}
    assert (table[5] == [1, 0, 1, 0]).all()  # bit k of row c is (c >> k) & 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_value_and_gradient_match_brute_force_autograd(seed):
    p = problem(seed)
    value, gradient = brute_force(p)
    assert p.exact_value() == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(p.exact_gradient(), gradient, rtol=1e-10, atol=1e-12)


def test_derivatives_are_the_gradient_of_values():
    p, z = problem(), np.random.default_rng(3).random((7, 5))
    zt = torch.tensor(z, requires_grad=True)
    logits = zt @ torch.as_tensor(p.weight).T + torch.as_tensor(p.bias)
    (torch.as_tensor(p.x) * logits - F.softplus(logits)).sum().backward()
    np.testing.assert_allclose(p.derivatives(z), zt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(p.values(z), (torch.as_tensor(p.x) * logits - F.softplus(logits)).sum(-1).detach())


def mean_and_variance_checks(estimates, exact_mean, exact_variance, n_sd=4.5):
    """Mean within n_sd SE; variance within n_sd SE of the sample variance (from the sample 4th moment)."""
    n = len(estimates)
    se_mean = estimates.std(0, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(estimates.mean(0) - exact_mean) <= n_sd * se_mean + 1e-12)
    if exact_variance is not None:
        centred = estimates - estimates.mean(0)
        se_var = np.sqrt(((centred**2 - centred.var(0)) ** 2).mean(0) / n)
        assert np.all(np.abs(centred.var(0, ddof=1) - exact_variance) <= n_sd * se_var + 1e-12), (
            centred.var(0, ddof=1),
            exact_variance,
        )


@pytest.mark.parametrize("baseline,n_samples", [("none", 1), ("mean", 3), ("optimal", 2), ("rloo", 2), ("rloo", 5)])
def test_score_function_is_unbiased_with_the_exact_variance(baseline, n_samples):
    p = problem(1)
    estimates = p.score_function(n_samples, 200_000, baseline=baseline, seed=4)
    mean_and_variance_checks(estimates, p.exact_gradient(), p.exact_variance(baseline, n_samples))


def test_rloo_variance_approaches_the_mean_baseline_for_many_samples():
    p = problem(2)
    for n in (10, 100, 1000):  # RLOO's leave-one-out mean tends to E[g]: same variance to O(1/L^2)
        ratio = p.exact_variance("rloo", n) / p.exact_variance("mean", n)
        assert np.all(np.abs(ratio - 1) < 20 / n), (n, ratio)


def test_baselines_reduce_variance_and_optimal_is_smallest():
    p = problem(0, scale=2.0)
    none, mean, optimal = (p.exact_variance(b) for b in ("none", "mean", "optimal"))
    assert np.all(optimal <= mean + 1e-12) and np.all(optimal <= none + 1e-12)
    assert none.sum() > 2 * mean.sum()  # g ~ -10 nats: b = 0 is a poor baseline


@pytest.mark.parametrize("straight_through", [False, True])
def test_relaxed_estimates_match_a_direct_torch_implementation(straight_through):
    p, tau = problem(3), 0.7
    est = p.relaxed(tau, 2, 5, straight_through=straight_through, seed=11)
    u = np.clip(np.random.default_rng(11).random((5, 2, 5)), 1e-12, 1 - 1e-12)
    eta = torch.tensor(np.broadcast_to(p.logits, (5, 2, 5)).copy(), requires_grad=True)
    soft = torch.sigmoid((eta + torch.as_tensor(np.log(u) - np.log1p(-u))) / tau)
    z = soft + ((soft > 0.5).double() - soft).detach() if straight_through else soft
    logits = z @ torch.as_tensor(p.weight).T + torch.as_tensor(p.bias)
    (torch.as_tensor(p.x) * logits - F.softplus(logits)).sum().backward()
    np.testing.assert_allclose(est, eta.grad.numpy().mean(1), rtol=1e-10, atol=1e-12)


def test_relaxations_are_biased_and_the_bias_falls_with_temperature():
    p = problem(0, scale=2.0)
    sweep = D.relaxation_sweep(p, [0.1, 1.0, 5.0], 1, 100_000, seed=1)
    for method in D.RELAXED:
        bias2, se = sweep[method]["bias2"], sweep[method]["bias2_se"]
        assert bias2[2] - 4 * se[2] > 0  # biased at a high temperature
        assert bias2[2] - bias2[0] > 4 * np.hypot(se[0], se[2])  # and less so at a low one
    var, se = sweep["gumbel"]["variance"], sweep["gumbel"]["variance_se"]
    assert var[0] - var[2] > 4 * np.hypot(se[0], se[2])  # the variance grows as tau falls


def test_the_rloo_baseline_needs_two_samples():
    with pytest.raises(ValueError, match="n_samples"):
        problem().score_function(1, 10, baseline="rloo")
    with pytest.raises(ValueError, match="n_samples"):
        problem().exact_variance("rloo", 1)


def test_pathwise_gradient_through_a_hard_sample_is_zero():
    eta = torch.tensor([0.3, -0.2], requires_grad=True)
    z = torch.floor(torch.sigmoid(eta) + torch.rand(2, generator=torch.Generator().manual_seed(0)))
    (z * torch.tensor([2.0, 3.0])).sum().backward()
    assert torch.equal(eta.grad, torch.zeros(2))  # floor is flat almost everywhere


def tiny_data(n=64, n_pixels=16, seed=0):
    """Images from 3 binary causes: pixel d is on with probability 0.9 when its cause is on, 0.05 otherwise."""
    generator = torch.Generator().manual_seed(seed)
    causes = torch.rand(n, 3, generator=generator) < 0.5
    on = causes[:, torch.arange(n_pixels) % 3]
    return (torch.rand(n, n_pixels, generator=generator) < torch.where(on, 0.9, 0.05)).float()


def test_model_elbo_and_evidence_by_enumeration():
    model, x = D.BinaryVAE(3, 16, seed=1), tiny_data(5)
    with torch.no_grad():
        eta = model.encode(x)
        joint = []
        for bits in itertools.product([0.0, 1.0], repeat=3):
            z = torch.tensor(bits, dtype=torch.float64).expand(5, 3)
            log_q = (z * F.logsigmoid(eta) + (1 - z) * F.logsigmoid(-eta)).sum(-1)
            joint.append((model.log_likelihood(x, z) - 3 * np.log(2.0), log_q))
        log_joint, log_q = (torch.stack(t) for t in zip(*joint, strict=True))
        elbo = (log_q.exp() * (log_joint - log_q)).sum(0)
        torch.testing.assert_close(model.elbo(x), elbo)
        torch.testing.assert_close(model.log_evidence(x), torch.logsumexp(log_joint, 0))
        assert (model.log_evidence(x) >= model.elbo(x)).all()


@pytest.mark.parametrize("method", D.METHODS)
def test_every_method_improves_the_exact_elbo(method):
    x = tiny_data(256)
    model = D.BinaryVAE(3, 16, pixel_means=x.mean(0).clamp(0.05, 0.95), seed=0)
    with torch.no_grad():
        before = model.elbo(x).mean().item()
    history = D.train(model, x, method=method, steps=150, batch_size=32, lr=0.05, seed=0)
    with torch.no_grad():
        after = model.elbo(x).mean().item()
    assert after > before + 0.1 and np.isfinite(history["loss"]).all() and history["seconds"] > 0


def test_reinforce_surrogate_has_the_elbo_estimate_as_value_and_an_unbiased_gradient():
    model, x = D.BinaryVAE(3, 16, seed=2), tiny_data(4)
    exact = torch.autograd.grad(-model.elbo(x).mean(), model.encoder.weight)[0]
    generator = torch.Generator().manual_seed(0)
    draws = []
    for _ in range(200):
        loss = D._surrogate(model, x, "reinforce", 8, 0.5, generator)
        draws.append(torch.autograd.grad(loss, model.encoder.weight)[0])
    draws = torch.stack(draws)
    se = draws.std(0) / np.sqrt(len(draws))
    assert ((draws.mean(0) - exact).abs() <= 4.5 * se + 1e-9).all()


def test_downsample_binarises_block_means():
    images = torch.zeros(2, 28, 28, dtype=torch.uint8)
    images[0, :2, :2] = 255  # one full 2x2 block
    images[1, :2, :2] = 100  # below half
    out = D.downsample(images, 14)
    assert out.shape == (2, 196) and out[0, 0] == 1 and out[0].sum() == 1 and out[1].sum() == 0


def test_relaxation_explorer_is_finite_and_consistent():
    p = problem(0)
    out = D.relaxation_explorer(p, 0.5, "rloo", 4)
    assert out["exact"] == pytest.approx(p.exact_gradient()[out["coordinate"]])
    assert out["exact_variance"] == pytest.approx(p.exact_variance("rloo", 4).sum())
    for density in out["density"].values():
        assert np.isclose((density * np.diff(out["bin_edges"])).sum(), 1.0)


def test_relaxation_explorer_panel_builds_and_updates():
    from vilab.widgets import relaxation_explorer_panel

    panel = relaxation_explorer_panel(problem(0))
    sliders = [c for c in panel.children[1].children]
    for control in sliders:  # move each control to the end of its range
        if hasattr(control, "options"):
            control.value = control.options[-1]
        else:
            control.value = control.max
    assert "score-function variance" in panel.children[-1].value
