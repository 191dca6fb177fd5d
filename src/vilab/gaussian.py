"""Closed forms for Gaussians: log density, entropy and KL divergence.

Conventions: variances are passed as ``logvar = log sigma^2`` (never log sigma),
and every function sums over the last dimension (the dimensions of one
diagonal Gaussian); units are nats.
"""

import math
import numbers

import numpy as np
import torch

from vilab import _validate

LOG_2PI = math.log(2 * math.pi)


def _as_tensor(name, value):
    """A floating-point tensor of finite values (gradients kept: these closed forms are differentiable)."""
    if isinstance(value, torch.Tensor):
        tensor = value
    elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
        tensor = torch.tensor(_validate.finite(name, value))  # torch's default dtype, as a literal would be
    else:
        raise TypeError(f"{name} must be a torch tensor or a float, got {type(value).__name__}")
    if not tensor.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {tensor.dtype}")
    bad = ~torch.isfinite(tensor.detach())
    if bad.any():
        index = tuple(int(i) for i in bad.nonzero()[0])
        raise ValueError(f"{name} must be finite, got {tensor.detach()[index].item()!r} at index {index}")
    return tensor


def _broadcast(**tensors):
    """Broadcast the named tensors together, or raise a ValueError naming their shapes."""
    try:
        return torch.broadcast_tensors(*tensors.values())
    except RuntimeError:
        shapes = ", ".join(f"{name} {tuple(t.shape)}" for name, t in tensors.items())
        raise ValueError(f"shapes do not broadcast together: {shapes}") from None


def log_normal_diag(x, mu, logvar):
    """log N(x; mu, diag exp(logvar)), summed over the last dimension, in nats.

    log N = -1/2 sum_j [ log 2 pi + logvar_j + (x_j - mu_j)^2 / exp(logvar_j) ]
    """
    x, mu, logvar = _as_tensor("x", x), _as_tensor("mu", mu), _as_tensor("logvar", logvar)
    x, mu, logvar = _broadcast(x=x, mu=mu, logvar=logvar)
    return -0.5 * (LOG_2PI + logvar + (x - mu) ** 2 * torch.exp(-logvar)).sum(-1)


def entropy_diag_normal(logvar):
    """Entropy of N(mu, diag exp(logvar)) in nats: 1/2 sum_j (log 2 pi e + logvar_j)."""
    logvar = _as_tensor("logvar", logvar)
    return 0.5 * (LOG_2PI + 1.0 + logvar).sum(-1)


def kl_diag_normal(mu_q, logvar_q, mu_p=0.0, logvar_p=0.0):
    """KL( N(mu_q, diag exp(logvar_q)) || N(mu_p, diag exp(logvar_p)) ) in nats.

    KL = 1/2 sum_j [ logvar_p - logvar_q + (exp(logvar_q) + (mu_q - mu_p)^2) / exp(logvar_p) - 1 ],
    summed over the last dimension (one value per leading index); with the
    defaults (a standard normal p) this is the VAE's
    -1/2 sum_j (1 + logvar_q - mu_q^2 - exp(logvar_q)). Differentiable.
    """
    mu_q, logvar_q = _as_tensor("mu_q", mu_q), _as_tensor("logvar_q", logvar_q)
    mu_p, logvar_p = _as_tensor("mu_p", mu_p), _as_tensor("logvar_p", logvar_p)
    mu_q, logvar_q, mu_p, logvar_p = _broadcast(mu_q=mu_q, logvar_q=logvar_q, mu_p=mu_p, logvar_p=logvar_p)
    if mu_q.dim() == 0:
        raise ValueError("kl_diag_normal sums over the last dimension: pass tensors of at least 1 dimension")
    ratio = torch.exp(logvar_q - logvar_p)
    return 0.5 * (logvar_p - logvar_q + ratio + (mu_q - mu_p) ** 2 * torch.exp(-logvar_p) - 1.0).sum(-1)
