"""Tests for vilab.vae: the loss against independent computations, the IWAE bound, training, errors.

All on tiny synthetic uint8 images and tiny networks, so the file runs in a few seconds.
"""

import math

import numpy as np
import pytest
import torch
from torch.distributions import Normal, kl_divergence

from vilab import vae
from vilab.gaussian import kl_diag_normal


def synthetic_images(n=256, seed=0):
    """uint8 [n, 28, 28]: bright horizontal or vertical bars on a dim background, a little noise."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 40, size=(n, 28, 28))
    for i in range(n):
        start = rng.integers(4, 20)
        if i % 2:
            images[i, start : start + 5, :] = rng.integers(200, 256)
        else:
            images[i, :, start : start + 5] = rng.integers(200, 256)
    return torch.tensor(images, dtype=torch.uint8)


def tiny_model(latent_dim=2, hidden_dim=16, seed=0):
    torch.manual_seed(seed)
    return vae.VAE(latent_dim=latent_dim, hidden_dim=hidden_dim)


@pytest.fixture(scope="module")
def binary_batch():
    return vae.binarize(synthetic_images(8, seed=1), seed=3)


# --- the KL term ----------------------------------------------------------------


def test_kl_matches_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 7, generator=gen), 2 * torch.randn(5, 7, generator=gen)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(-1)
    torch.testing.assert_close(kl_diag_normal(mu, logvar), expected, rtol=1e-5, atol=1e-5)


def test_loss_rate_is_the_closed_form_kl_of_the_encoder(binary_batch):
    model = tiny_model()
    terms = vae.vae_loss(model, binary_batch, seed=0)
    mu, logvar = model.encode(binary_batch)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(-1).mean()
    torch.testing.assert_close(terms.rate, expected, rtol=1e-5, atol=1e-6)


# --- the loss against an independent numpy computation -------------------------


def test_loss_equals_independent_numpy_computation_on_a_fixed_network(binary_batch):
    model = vae.VAE(latent_dim=3, hidden_dim=5)
    with torch.no_grad():  # fixed, non-random weights
        for i, p in enumerate(model.parameters()):
            p.copy_(0.05 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) + i).reshape(p.shape))
    beta = 0.7
    terms = vae.vae_loss(model, binary_batch, beta=beta, seed=5)

    w = [p.detach().double().numpy() for p in model.parameters()]
    x = binary_batch.double().numpy()
    relu = lambda a: np.maximum(a, 0.0)  # noqa: E731
    h = relu(x @ w[0].T + w[1])
    out = h @ w[2].T + w[3]
    mu, logvar = out[:, :3], out[:, 3:]
    eps = torch.randn((8, 3), generator=torch.Generator().manual_seed(5)).double().numpy()  # same noise as vae_loss
    z = mu + np.exp(logvar / 2) * eps
    p = 1 / (1 + np.exp(-(relu(z @ w[4].T + w[5]) @ w[6].T + w[7])))
    log_lik = (x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)  # summed over pixels
    kl = 0.5 * (mu**2 + np.exp(logvar) - 1 - logvar).sum(axis=1)  # summed over latent dims
    np.testing.assert_allclose(terms.distortion.item(), -log_lik.mean(), rtol=1e-5)
    np.testing.assert_allclose(terms.rate.item(), kl.mean(), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(terms.loss.item(), (-log_lik + beta * kl).mean(), rtol=1e-5)


# --- the IWAE bound ------------------------------------------------------------


def test_iwae_k1_is_the_single_sample_elbo_in_expectation(binary_batch):
    model = tiny_model()
    reps = 4000
    x = binary_batch[:2].repeat_interleave(reps, dim=0)  # 2 images, 4000 independent k=1 bounds each
    bounds = vae.iwae_bound(model, x, 1, seed=1).reshape(2, reps)
    # independent estimate of ELBO = E_q[log p(x|z)] - KL(q || p): Monte Carlo for the first term, closed-form KL
    with torch.no_grad():
        mu, logvar = model.encode(binary_batch[:2])
        z = Normal(mu, torch.exp(0.5 * logvar)).sample((reps,))  # [reps, 2, latent]
        log_lik = torch.distributions.Bernoulli(logits=model.decode(z)).log_prob(binary_batch[:2]).sum(-1)
        elbo = log_lik - kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(-1)
    se = torch.sqrt(bounds.var(dim=1) / reps + elbo.var(dim=0) / reps)
    assert torch.all((bounds.mean(dim=1) - elbo.mean(dim=0)).abs() < 4 * se), (bounds.mean(1), elbo.mean(0), se)


def test_iwae_mean_increases_with_k(binary_batch):
    model = tiny_model()
    with torch.no_grad():
        model.encoder_out.bias[2:] = 1.0  # q(z|x) too wide (sigma^2 ~ e): a clear gap for more samples to close
    x = binary_batch.repeat(50, 1)  # 400 independent bounds per k
    means, ses = [], []
    for k in (1, 10, 100):
        b = vae.iwae_bound(model, x, k, seed=k)
        means.append(b.mean().item())
        ses.append(b.std().item() / math.sqrt(len(b)))
    for i in range(2):
        assert means[i + 1] - means[i] > 3 * math.hypot(ses[i], ses[i + 1]), (means, ses)


def test_iwae_chunking_gives_the_same_bound(binary_batch):
    model = tiny_model()
    whole = vae.iwae_bound(model, binary_batch, 50, seed=0, max_rows=10_000)
    one_image_at_a_time = vae.iwae_bound(model, binary_batch, 50, seed=0, max_rows=50)
    assert whole.shape == (8,) and torch.isfinite(whole).all()
    # different chunking draws different noise: equal within Monte Carlo error, not bitwise
    assert (whole - one_image_at_a_time).abs().max() < 2.0


# --- training -------------------------------------------------------------------


def test_a_few_epochs_reduce_the_loss():
    images = synthetic_images(256)
    model = tiny_model(latent_dim=4, hidden_dim=32)
    x = vae.binarize(images, seed=9)
    before = vae.iwae_bound(model, x, 1, seed=0).mean().item()
    history = vae.train(model, images, epochs=5, batch_size=32, lr=3e-3, progress=False)
    after = vae.iwae_bound(model, x, 1, seed=0).mean().item()
    assert history["loss"][-1] < history["loss"][0] - 20, history["loss"]
    assert after > before + 20, (before, after)
    assert set(history) == {"epoch", "loss", "rate", "distortion", "seconds"}
    assert history["epoch"] == [1, 2, 3, 4, 5]
    np.testing.assert_allclose(history["loss"], np.add(history["distortion"], history["rate"]), rtol=1e-5)


def test_training_is_seeded_and_calls_back_once_per_epoch():
    images = synthetic_images(64)
    calls = []
    runs = []
    for _ in range(2):
        model = tiny_model()
        runs.append(vae.train(model, images, epochs=2, batch_size=16, progress=False, callback=calls.append))
    assert runs[0]["loss"] == runs[1]["loss"]
    assert len(calls) == 4


def test_autoencoder_has_no_rate():
    torch.manual_seed(0)
    model = vae.Autoencoder(latent_dim=2, hidden_dim=16)
    history = vae.train(model, synthetic_images(64), epochs=1, batch_size=32, progress=False)
    assert history["rate"] == [0.0]
    assert history["loss"] == history["distortion"]


def test_encode_and_decode_pass_gradients_for_a_hand_written_loop(binary_batch):
    """decode(mu + sigma * eps) must carry the reconstruction's gradient back to the encoder."""
    model = tiny_model(latent_dim=3)
    mu, logvar = model.encode(binary_batch)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=torch.Generator().manual_seed(0))
    reconstruction = torch.nn.functional.binary_cross_entropy_with_logits(model.decode(z), binary_batch)
    reconstruction.backward()  # no KL: any encoder gradient came through decode
    assert model.encoder_hidden.weight.grad is not None
    assert model.encoder_hidden.weight.grad.abs().max() > 0
    z64 = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)  # cast to the model's dtype, still attached
    model.decode(z64).sum().backward()
    assert z64.grad is not None and z64.grad.abs().max() > 0


def test_binarize_is_bernoulli_of_pixel_over_255():
    images = torch.full((200, 28, 28), 64, dtype=torch.uint8)
    x = vae.binarize(images, seed=0)
    assert x.shape == (200, 784) and set(x.unique().tolist()) == {0.0, 1.0}
    p = 64 / 255
    assert abs(x.mean().item() - p) < 4 * math.sqrt(p * (1 - p) / x.numel())


def test_active_units_counts_dimensions_whose_mean_varies():
    model = tiny_model(latent_dim=4)
    with torch.no_grad():
        model.encoder_out.weight[1].zero_()  # mu_2 no longer depends on x: an inactive unit
        model.encoder_out.weight[3].zero_()
        model.encoder_out.weight[[0, 2]] *= 50  # make the other two clearly vary
    count, variances = vae.active_units(model, vae.binarize(synthetic_images(100)))
    assert count == 2
    assert variances[1] == 0 and variances[3] == 0


# --- the latent explorer -----------------------------------------------------------


def test_latent_explorer_is_finite_over_the_slider_ranges():
    model = tiny_model(latent_dim=2)
    (lo1, hi1), (lo2, hi2) = vae.LATENT_EXPLORER_RANGES["z1"], vae.LATENT_EXPLORER_RANGES["z2"]
    for z1 in np.linspace(lo1, hi1, 7):
        for z2 in np.linspace(lo2, hi2, 7):
            image = vae.decode_latent_point(model, z1, z2)
            assert image.shape == (28, 28)
            assert np.all(np.isfinite(image)) and image.min() >= 0 and image.max() <= 1


def test_latent_explorer_panel_updates():
    from vilab.widgets import latent_explorer_panel

    model = tiny_model(latent_dim=2)
    panel = latent_explorer_panel(model, codes=np.zeros((10, 2)), labels=np.arange(10))
    sliders = [c for c in panel.children[1].children]
    sliders[0].value = 1.5
    assert "+1.50" in panel.children[-1].value


def test_manifold_grid_shape_and_orientation():
    model = tiny_model(latent_dim=2)
    grid, values = vae.manifold_grid(model, n=5, span=2.0)
    assert grid.shape == (5, 5, 28, 28)
    np.testing.assert_allclose(grid[0, 4], vae.decode_latent_point(model, values[4], values[4]), rtol=1e-6)


# --- bad input -------------------------------------------------------------------


def test_bad_input_raises_errors_naming_the_parameter_and_value(binary_batch):
    model = tiny_model()
    images = synthetic_images(16)
    with pytest.raises(TypeError, match="images must have dtype torch.uint8"):
        vae.train(model, images.float(), epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"images must have shape \[N, 28, 28\].*\[16, 14, 56\]"):
        vae.train(model, images.reshape(16, 14, 56), epochs=1, progress=False)
    with pytest.raises(ValueError, match="epochs must be >= 1, got 0"):
        vae.train(model, images, epochs=0, progress=False)
    with pytest.raises(TypeError, match="epochs must be an integer, got 2.5"):
        vae.train(model, images, epochs=2.5, progress=False)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        vae.train(model, images, epochs=1, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="lr must be > 0, got -0.001"):
        vae.train(model, images, epochs=1, lr=-1e-3, progress=False)
    with pytest.raises(ValueError, match="beta must be >= 0, got -1.0"):
        vae.train(model, images, epochs=1, beta=-1.0, progress=False)
    with pytest.raises(ValueError, match="only 0s and 1s.*0.5"):
        vae.vae_loss(model, torch.full((2, 784), 0.5))
    with pytest.raises(TypeError, match="dtype torch.uint8"):
        vae.iwae_bound(model, images, 1)
    with pytest.raises(ValueError, match=r"x must have shape \[B, 784\].*\[8, 783\]"):
        vae.iwae_bound(model, binary_batch[:, :783], 1)
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        vae.iwae_bound(model, binary_batch, 0)
    with pytest.raises(ValueError, match="latent_dim must be >= 1, got 0"):
        vae.VAE(latent_dim=0)
    with pytest.raises(ValueError, match="z1 must be finite, got nan"):
        vae.decode_latent_point(model, float("nan"), 0.0)
    with pytest.raises(ValueError, match="latent_dim=2, got latent_dim=5"):
        vae.decode_latent_point(tiny_model(latent_dim=5), 0.0, 0.0)


def test_live_loss_plot_draws_before_and_after_an_epoch():
    import io

    from vilab.plots import LiveLossPlot

    plot = LiveLossPlot(epochs=3)
    plot.fig.savefig(io.BytesIO(), format="png")  # the empty figure shown before training must draw
    plot({"epoch": [1], "loss": [250.0], "rate": [0.0], "distortion": [250.0]})  # rate 0: an autoencoder
    plot.fig.savefig(io.BytesIO(), format="png")


def test_training_uses_at_most_the_cpu_budget_and_restores_threads():
    import os

    assert 1 <= vae.cpu_budget() <= (os.cpu_count() or 1)
    before = torch.get_num_threads()
    seen = []
    vae.train(
        tiny_model(),
        synthetic_images(32),
        epochs=1,
        progress=False,
        callback=lambda h: seen.append(torch.get_num_threads()),
    )
    assert seen[0] <= vae.cpu_budget()
    assert torch.get_num_threads() == before
