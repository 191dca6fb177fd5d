"""vilab.gaussian against torch.distributions (an independent implementation)."""

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from vilab.gaussian import entropy_diag_normal, kl_diag_normal, log_normal_diag


def _random(shape, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=generator, dtype=torch.float64)


@pytest.mark.parametrize("seed", range(5))
def test_kl_matches_torch_for_random_nonstandard_p(seed):
    mu_q, logvar_q, mu_p, logvar_p = (_random((7, 4), seed + 100 * k) for k in range(4))
    logvar_q, logvar_p = 2 * logvar_q, 2 * logvar_p  # variances over several decades
    ours = kl_diag_normal(mu_q, logvar_q, mu_p, logvar_p)
    q = Normal(mu_q, torch.exp(0.5 * logvar_q))
    p = Normal(mu_p, torch.exp(0.5 * logvar_p))
    reference = kl_divergence(q, p).sum(-1)
    assert ours.shape == (7,)
    torch.testing.assert_close(ours, reference, rtol=1e-12, atol=1e-12)


def test_kl_default_p_is_standard_normal_and_matches_vae_formula():
    mu, logvar = _random((5, 3), 1), _random((5, 3), 2)
    vae = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(-1)
    torch.testing.assert_close(kl_diag_normal(mu, logvar), vae, rtol=1e-12, atol=1e-12)
    reference = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(kl_diag_normal(mu, logvar), reference, rtol=1e-12, atol=1e-12)


def test_kl_is_zero_for_identical_and_positive_otherwise():
    mu, logvar = _random((4, 6), 3), _random((4, 6), 4)
    torch.testing.assert_close(kl_diag_normal(mu, logvar, mu, logvar), torch.zeros(4, dtype=torch.float64))
    assert (kl_diag_normal(mu, logvar, mu + 0.1, logvar) > 0).all()


def test_kl_broadcasts_p_over_a_batch():
    mu_q, logvar_q = _random((8, 3), 5), _random((8, 3), 6)
    mu_p, logvar_p = _random((3,), 7), _random((3,), 8)
    batched = kl_diag_normal(mu_q, logvar_q, mu_p, logvar_p)
    one_by_one = torch.stack([kl_diag_normal(mu_q[i], logvar_q[i], mu_p, logvar_p) for i in range(8)])
    assert batched.shape == (8,)
    torch.testing.assert_close(batched, one_by_one)


def test_kl_gradient_flows_and_matches_closed_form():
    mu = torch.tensor([[0.3, -1.2]], dtype=torch.float64, requires_grad=True)
    logvar = torch.tensor([[0.5, -0.7]], dtype=torch.float64, requires_grad=True)
    kl_diag_normal(mu, logvar).sum().backward()
    # d KL / d mu = mu, d KL / d logvar = (exp(logvar) - 1) / 2 for p = N(0, 1)
    torch.testing.assert_close(mu.grad, mu.detach())
    torch.testing.assert_close(logvar.grad, 0.5 * (logvar.detach().exp() - 1))


def test_log_density_matches_torch_normal():
    x, mu, logvar = _random((6, 5), 10), _random((6, 5), 11), _random((6, 5), 12)
    reference = Normal(mu, (0.5 * logvar).exp()).log_prob(x).sum(-1)
    torch.testing.assert_close(log_normal_diag(x, mu, logvar), reference, rtol=1e-12, atol=1e-12)


def test_log_density_broadcasts_x_against_parameters():
    x = _random((10, 1, 3), 13)
    mu, logvar = _random((4, 3), 14), _random((4, 3), 15)
    assert log_normal_diag(x, mu, logvar).shape == (10, 4)


def test_entropy_matches_torch_normal():
    logvar = _random((6, 5), 16)
    reference = Normal(torch.zeros(6, 5, dtype=torch.float64), (0.5 * logvar).exp()).entropy().sum(-1)
    torch.testing.assert_close(entropy_diag_normal(logvar), reference, rtol=1e-12, atol=1e-12)
    assert entropy_diag_normal(torch.zeros(1)).item() == pytest.approx(0.5 * math.log(2 * math.pi * math.e))


def test_floats_are_accepted():
    assert kl_diag_normal(torch.tensor([0.0]), 0.0).item() == 0.0
    assert log_normal_diag(torch.tensor([0.0]), 0.0, 0.0).item() == pytest.approx(-0.5 * math.log(2 * math.pi))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: kl_diag_normal(torch.tensor([math.nan]), torch.zeros(1)), ValueError, "mu_q must be finite, got nan"),
        (lambda: kl_diag_normal(torch.zeros(1), torch.zeros(1), torch.zeros(1), [0.0]), TypeError, "logvar_p"),
        (lambda: kl_diag_normal(torch.zeros(1, dtype=torch.int64), torch.zeros(1)), TypeError, "floating-point"),
        (lambda: kl_diag_normal(torch.tensor(0.0), torch.tensor(0.0)), ValueError, "at least 1 dimension"),
        (lambda: log_normal_diag("x", 0.0, 0.0), TypeError, "x must be a torch tensor"),
        (lambda: log_normal_diag(torch.zeros(1), 0.0, torch.tensor([math.nan])), ValueError, "logvar must be finite"),
        (lambda: entropy_diag_normal(True), TypeError, "logvar"),
        (
            lambda: kl_diag_normal(torch.zeros(3), torch.zeros(2)),
            ValueError,
            r"shapes do not broadcast together: mu_q \(3,\), logvar_q \(2,\)",
        ),
        (lambda: log_normal_diag(torch.zeros(2, 3), torch.zeros(4), 0.0), ValueError, r"x \(2, 3\), mu \(4,\)"),
    ],
)
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
