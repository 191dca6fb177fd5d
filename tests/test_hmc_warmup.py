"""What a short warm-up leaves in vilab.inference.hmc (the claim notebook 04, section 3, makes and cites).

Dual averaging (Hoffman & Gelman 2014) converges slowly. After a short warm-up the step size it keeps is
smaller than the one that reaches the target acceptance, so the realised acceptance is above the target;
with a long warm-up the step is larger and the acceptance closer to the target. Checked on a Gaussian with
standard deviations from 0.5 to 2, where nothing else can be wrong.
"""

import pytest
import torch

from vilab.inference import hmc

TARGET = 0.8
SCALES = torch.linspace(0.5, 2.0, 11, dtype=torch.float64)


def gaussian_log_prob(theta):
    return -0.5 * ((theta / SCALES) ** 2).sum(-1)


@pytest.mark.parametrize("seed", [0, 1])
def test_short_warmup_keeps_a_smaller_step_and_a_higher_acceptance(seed):
    start = 2 * torch.randn(4, len(SCALES), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    short = hmc(gaussian_log_prob, start, 100, n_warmup=100, n_leapfrog=6, target_accept=TARGET, seed=seed)
    long = hmc(gaussian_log_prob, start, 100, n_warmup=1000, n_leapfrog=6, target_accept=TARGET, seed=seed)
    assert short.step_size.mean() < long.step_size.mean()
    assert short.accept_rate.mean() > long.accept_rate.mean() > TARGET - 0.05
    assert abs(long.accept_rate.mean() - TARGET) < abs(short.accept_rate.mean() - TARGET)
    assert abs(long.accept_rate.mean() - TARGET) < 0.08
