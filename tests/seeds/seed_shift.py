"""Shift every seed by ``$VILAB_SEED_OFFSET``: the engine of ``make test-seeds``.

A claim that holds only for the committed seed is a coincidence, not a claim.
``make test-seeds SEED_OFFSET=N`` runs every notebook with this module
installed in each kernel, so that every seed the notebook or the package sets
is shifted by N:

- ``torch.manual_seed(s)`` (and ``torch.random.manual_seed``) seeds with s + N;
- ``torch.Generator(...).manual_seed(s)`` seeds with s + N (``torch.Generator``
  is replaced by a subclass; the package builds its generators this way);
- ``np.random.default_rng(s)``, ``np.random.seed(s)``, ``np.random.RandomState(s)``
  and ``random.seed(s)`` use s + N for an integer s (``None``, a ``SeedSequence``
  or an existing generator pass through unchanged).

So the package's ``seed=`` arguments, which all end in one of these calls, are
shifted too. ``install()`` is idempotent and does nothing when the variable is
unset or 0.
"""

import numbers
import os
import random

ENV = "VILAB_SEED_OFFSET"


def offset():
    """The shift, from ``$VILAB_SEED_OFFSET`` (0 when unset); a non-integer value is an error."""
    text = os.environ.get(ENV, "0").strip() or "0"
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{ENV} must be an integer, got {text!r}") from None


def _shift(seed, n):
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return int(seed) + n
    return seed


def install():
    """Patch torch, numpy and random so that every integer seed is shifted by ``offset()``."""
    n = offset()
    if n == 0:
        return 0
    import numpy as np
    import torch

    if getattr(torch, "_vilab_seed_offset", None) == n:
        return n
    real_manual_seed = torch.random.manual_seed

    def manual_seed(seed):
        return real_manual_seed(_shift(seed, n))

    torch.manual_seed = torch.random.manual_seed = manual_seed

    real_generator = torch.Generator

    class Generator(real_generator):
        """torch.Generator whose manual_seed(s) seeds with s + VILAB_SEED_OFFSET."""

        def manual_seed(self, seed):
            return super().manual_seed(_shift(seed, n))

    torch.Generator = Generator

    real_default_rng = np.random.default_rng

    def default_rng(seed=None):
        return real_default_rng(_shift(seed, n))

    np.random.default_rng = default_rng
    real_np_seed = np.random.seed
    np.random.seed = lambda seed=None: real_np_seed(_shift(seed, n))

    class RandomState(np.random.RandomState):
        def __init__(self, seed=None):
            super().__init__(_shift(seed, n))

    np.random.RandomState = RandomState
    real_random_seed = random.seed
    random.seed = lambda a=None, version=2: real_random_seed(_shift(a, n), version)
    torch._vilab_seed_offset = n
    return n
