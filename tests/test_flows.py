"""vilab.flows: exact targets on a grid, and coupling flows against autograd and the change of variables."""

import math

import numpy as np
import pytest
import torch

from vilab import flows

DTYPE = torch.float64


def perturbed_flow(n_layers=3, seed=0):
    """A flow away from the identity: every parameter (the zero-initialised last layers too) drawn at random."""
    flow = flows.CouplingFlow(2, n_layers, hidden=8, loc=[0.3, -0.2], scale=[0.7, 0.5], seed=seed)
    gen = torch.Generator().manual_seed(seed + 100)
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=DTYPE))
    return flow


# --- targets ---------------------------------------------------------------------


@pytest.mark.parametrize("name", flows.TARGETS)
def test_each_target_is_normalised_on_its_grid(name):
    points, area, _ = flows.target_grid(name, 300)
    mass = float(flows.log_target(name, points).exp().sum() * area)
    assert abs(mass - 1) < 1e-4, mass


def test_a_wider_grid_holds_the_same_mass():
    points, area, (axis1, axis2) = flows.target_grid("two_modes", 400, extent=((-9, 9), (-9.0, 9.0)))
    assert axis1[0] > -9 and axis2[-1] < 9 and math.isclose(area, (18 / 400) ** 2)
    assert abs(float(flows.log_target("two_modes", points).exp().sum() * area) - 1) < 1e-6


@pytest.mark.parametrize("name", flows.TARGETS)
def test_exact_draws_have_the_grid_moments(name):
    points, area, _ = flows.target_grid(name, 300)
    weights = flows.log_target(name, points).exp() * area
    grid_mean = weights @ points
    draws = flows.sample_target(name, 20_000, seed=0)
    standard_error = draws.std(0) / math.sqrt(len(draws))
    z = (draws.mean(0) - grid_mean) / standard_error
    assert z.abs().max() < 4, z  # |z| > 4 has probability 6e-5 per coordinate if both are right


def test_targets_agree_with_torch_distributions():
    z = torch.randn(50, 2, generator=torch.Generator().manual_seed(1), dtype=DTYPE)
    normal = torch.distributions.Normal
    ridge = 0.5 * z[:, 0] + 0.5 * (z[:, 0] ** 2 - 1)
    banana = normal(0.0, 1.0).log_prob(z[:, 0]) + normal(ridge, 0.4).log_prob(z[:, 1])
    funnel = normal(0.0, 1.0).log_prob(z[:, 0]) + normal(0.0, torch.exp(0.5 * z[:, 0])).log_prob(z[:, 1])
    mixture = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(torch.tensor([0.5, 0.5], dtype=DTYPE)),
        torch.distributions.Independent(normal(torch.tensor([[-1.5, -1.5], [1.5, 1.5]], dtype=DTYPE), 0.6), 1),
    ).log_prob(z)
    for name, reference in [("banana", banana), ("funnel", funnel), ("two_modes", mixture)]:
        torch.testing.assert_close(flows.log_target(name, z), reference, rtol=1e-12, atol=1e-12)


def test_kl_on_grid_matches_the_gaussian_closed_form():
    points, area, _ = flows.target_grid("two_modes", 300)
    q = torch.distributions.MultivariateNormal(torch.tensor([0.2, -0.1], dtype=DTYPE), torch.eye(2, dtype=DTYPE) * 0.4)
    p = torch.distributions.MultivariateNormal(
        torch.zeros(2, dtype=DTYPE), torch.tensor([[0.5, 0.2], [0.2, 0.3]], dtype=DTYPE)
    )  # both within 4.5 / sqrt(0.5) > 6 sd of the edges of the grid: truncation below 1e-8
    exact = float(torch.distributions.kl_divergence(q, p))
    on_grid = flows.kl_on_grid(q.log_prob(points), p.log_prob(points), area)
    assert abs(on_grid - exact) < 1e-6, (on_grid, exact)
    assert flows.kl_on_grid(p.log_prob(points), p.log_prob(points), area) == 0.0


def test_kl_on_grid_is_infinite_where_p_vanishes_under_q():
    log_q = np.log([0.5, 0.5])
    assert flows.kl_on_grid(log_q, [0.0, -np.inf], 1.0) == math.inf
    assert flows.kl_on_grid([-np.inf, 0.0], [-1.0, 0.0], 1.0) == 0.0  # q = 0 there: no contribution


# --- flows -----------------------------------------------------------------------


def test_a_new_flow_is_the_gaussian_of_loc_and_scale():
    flow = flows.CouplingFlow(2, 4, loc=[1.0, -2.0], scale=[0.5, 3.0], seed=0)
    x = torch.randn(10, 2, generator=torch.Generator().manual_seed(0), dtype=DTYPE)
    gaussian = torch.distributions.Normal(torch.tensor([1.0, -2.0], dtype=DTYPE), torch.tensor([0.5, 3.0], dtype=DTYPE))
    torch.testing.assert_close(flow.log_prob(x), gaussian.log_prob(x).sum(1), rtol=1e-12, atol=1e-12)


def test_coupling_layer_inverts_and_its_log_det_is_autograds():
    layer = perturbed_flow().layers[1]  # flip=True: moves the first coordinate
    z = torch.randn(6, 2, generator=torch.Generator().manual_seed(2), dtype=DTYPE)
    x, log_det = layer(z)
    assert torch.equal(x[:, 1], z[:, 1]) and not torch.allclose(x[:, 0], z[:, 0])
    back, inverse_log_det = layer.inverse(x)
    torch.testing.assert_close(back, z, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(inverse_log_det, -log_det, rtol=1e-12, atol=1e-12)
    for i in range(len(z)):
        jacobian = torch.autograd.functional.jacobian(lambda v: layer(v[None])[0][0], z[i])
        autograd = float(torch.linalg.slogdet(jacobian)[1])
        assert math.isclose(autograd, float(log_det[i].detach()), rel_tol=1e-10, abs_tol=1e-12)


def test_flow_log_det_is_autograds_and_sample_density_is_the_change_of_variables():
    flow = perturbed_flow()
    z = torch.randn(8, 2, generator=torch.Generator().manual_seed(3), dtype=DTYPE)
    x, log_det = flow(z)
    for i in range(len(z)):
        jacobian = torch.autograd.functional.jacobian(lambda v: flow(v[None])[0][0], z[i])
        assert math.isclose(float(torch.linalg.slogdet(jacobian)[1]), float(log_det[i].detach()), rel_tol=1e-10)
    back, _ = flow.inverse(x)
    torch.testing.assert_close(back, z, rtol=1e-10, atol=1e-10)
    draws, log_q = flow.sample(100, seed=4)
    torch.testing.assert_close(flow.log_prob(draws), log_q, rtol=1e-10, atol=1e-10)


def test_flow_density_integrates_to_one_and_matches_a_histogram_of_its_draws():
    flow = perturbed_flow()
    with torch.no_grad():
        points, area, _ = flows.target_grid("funnel", 360)  # cells of [-4.5, 4.5] x [-15, 15]
        density = flow.log_prob(points).exp()
        draws, _ = flow.sample(50_000, seed=5)
    mass = float(density.sum() * area)
    assert 0.99 < mass <= 1 + 1e-6, mass  # a little mass may lie outside the box
    edges = [np.linspace(low, high, 10) for low, high in flows.EXTENTS["funnel"]]  # 9 x 9 bins of 40 x 40 cells
    counts, _, _ = np.histogram2d(draws[:, 0].numpy(), draws[:, 1].numpy(), bins=edges)
    expected = len(draws) * (density * area).reshape(9, 40, 9, 40).sum((1, 3)).numpy()
    keep = expected > 50
    z = (counts[keep] - expected[keep]) / np.sqrt(expected[keep])  # Poisson counts: sd = sqrt(mean)
    assert keep.sum() > 10 and np.abs(z).max() < 5, np.abs(z).max()


def test_reverse_kl_fit_recovers_a_gaussian_target():
    mean, std = torch.tensor([1.0, -0.5], dtype=DTYPE), torch.tensor([0.7, 2.0], dtype=DTYPE)

    def log_p(x):
        return torch.distributions.Normal(mean, std).log_prob(x).sum(1)

    flow = flows.CouplingFlow(2, 0, seed=0)  # just the affine map: the family contains the target
    trace = flows.fit_reverse_kl(flow, log_p, n_steps=600, n_samples=64, lr=0.05, seed=0)
    torch.testing.assert_close(flow.loc.detach(), mean, atol=0.05, rtol=0)
    torch.testing.assert_close(flow.log_scale.detach().exp(), std, atol=0, rtol=0.05)
    assert abs(trace[-100:].mean()) < 0.02  # normalised target: the ELBO tends to log 1 = 0


def test_forward_kl_fit_is_maximum_likelihood():
    draws = torch.randn(2000, 2, generator=torch.Generator().manual_seed(6), dtype=DTYPE) * torch.tensor(
        [0.5, 2.0], dtype=DTYPE
    ) + torch.tensor([3.0, -1.0], dtype=DTYPE)
    flow = flows.CouplingFlow(2, 0, seed=0)
    flows.fit_forward_kl(flow, draws, n_steps=800, batch_size=2000, lr=0.05, seed=0)
    torch.testing.assert_close(flow.loc.detach(), draws.mean(0), atol=0.02, rtol=0)
    torch.testing.assert_close(flow.log_scale.detach().exp(), draws.std(0, correction=0), atol=0, rtol=0.02)


def test_a_flow_fits_the_banana_better_than_any_gaussian():
    points, area, _ = flows.target_grid("banana", 200)
    log_p = flows.log_target("banana", points)
    flow = flows.CouplingFlow(2, 4, hidden=16, seed=0)
    flows.fit_reverse_kl(flow, lambda x: flows.log_target("banana", x), n_steps=600, n_samples=128, lr=1e-2, seed=0)
    with torch.no_grad():
        kl_flow = flows.kl_on_grid(flow.log_prob(points), log_p, area)
    gaussian = flows.CouplingFlow(2, 0, seed=0)  # 0 layers: a mean-field Gaussian, fitted the same way
    flows.fit_reverse_kl(gaussian, lambda x: flows.log_target("banana", x), n_steps=600, n_samples=128, lr=2e-2, seed=0)
    with torch.no_grad():
        kl_gaussian = flows.kl_on_grid(gaussian.log_prob(points), log_p, area)
    assert kl_flow < kl_gaussian / 2, (kl_flow, kl_gaussian)
