"""Normalising flows, and two-dimensional targets whose density is exact on a grid (notebook 06).

**Targets.** ``log_target(name, z)`` is the exact, normalised log density (nats) of one of

- ``"banana"``: z₁ ~ N(0, 1), z₂ | z₁ ~ N(½ z₁ + ½ (z₁² - 1), 0.4²), a curved ridge;
- ``"funnel"``: z₁ ~ N(0, 1), z₂ | z₁ ~ N(0, exp(z₁)) (Neal's funnel, in two dimensions);
- ``"two_modes"``: ½ N((-1.5, -1.5), 0.6² I) + ½ N((1.5, 1.5), 0.6² I).

``target_grid(name, n)`` lays an n × n grid over the region that holds all but a negligible
part of the target's mass, and ``kl_on_grid`` sums KL(q ‖ p) = ∫ q (log q - log p) on it: a
Riemann sum, exponentially accurate for smooth densities that vanish at the edge of the grid.

**Flows.** A normalising flow pushes z ~ N(0, I) through invertible maps f = f_K ∘ … ∘ f_1
and has the density given by the change of variables, x = f(z):

    log q(x) = log N(z; 0, I) - log |det ∂f/∂z|,   z = f⁻¹(x).

``AffineCoupling`` (Dinh, Sohl-Dickstein & Bengio 2017, RealNVP) keeps one part of the
coordinates, x_a = z_a, and moves the other: x_b = z_b ⊙ exp(s(z_a)) + t(z_a), with s, t
from a small network. Its Jacobian is triangular, so log |det| = Σ s(z_a), and it inverts in
closed form: z_b = (x_b - t(x_a)) ⊙ exp(-s(x_a)). ``CouplingFlow`` stacks such layers
(alternating which part moves), then an elementwise affine map x = loc + exp(log_scale) ⊙ y.
``fit_reverse_kl`` maximises the ELBO (minimises KL(q ‖ p)) with reparameterised samples;
``fit_forward_kl`` maximises the likelihood of samples from p (minimises KL(p ‖ q)).

Everything is float64, like ``vilab.inference``; a batched log density maps (n, d) to (n,).
"""

import math

import numpy as np
import torch

from vilab import _validate
from vilab._validate import one_of, positive, positive_int

DTYPE = torch.float64
TARGETS = ("banana", "funnel", "two_modes")
# the grid of each target: (low, high) per coordinate; its mass outside is below 2e-5 (tests check 1e-4)
EXTENTS = {
    "banana": ((-5.0, 5.0), (-4.0, 17.0)),
    "funnel": ((-4.5, 4.5), (-15.0, 15.0)),
    "two_modes": ((-4.5, 4.5), (-4.5, 4.5)),
}
MODE_CENTRE, MODE_STD = 1.5, 0.6  # two_modes: centres ±(1.5, 1.5), each component N(centre, 0.6² I)
BANANA_TILT, BANANA_CURVE, BANANA_STD = 0.5, 0.5, 0.4
LOG_2PI = math.log(2 * math.pi)


def _points(name, z, dim=None):
    """``z`` as a float64 tensor of shape (n, dim) with finite entries; autograd's graph is kept."""
    if isinstance(z, np.ndarray):
        z = torch.as_tensor(_validate.real_array(name, z), dtype=DTYPE)
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"{name} must be a torch tensor of shape (n, d), got {_validate.shown(z)}")
    if z.dtype == torch.bool or z.is_complex():
        raise TypeError(f"{name} must hold real numbers, got dtype {z.dtype}")
    if z.ndim != 2 or z.shape[0] < 1 or (dim is not None and z.shape[1] != dim):
        want = f"(n, {dim})" if dim is not None else "(n, d)"
        raise ValueError(f"{name} must have shape {want} with n >= 1, got {tuple(z.shape)}")
    _validate.real_array(name, z)  # NaN and inf rejected, naming the index
    return z.to(DTYPE)


def _normal_log_prob(x, mean, std):
    return -0.5 * ((x - mean) / std) ** 2 - torch.log(torch.as_tensor(std, dtype=DTYPE)) - 0.5 * LOG_2PI


def log_target(name, z):
    """Exact normalised log density of target ``name`` at the rows of ``z`` (shape (n, 2)), nats, shape (n,).

    banana: log N(z₁; 0, 1) + log N(z₂; ½ z₁ + ½ (z₁² - 1), 0.4²);
    funnel: log N(z₁; 0, 1) + log N(z₂; 0, exp(z₁));
    two_modes: log(½ N(z; -c, s² I) + ½ N(z; c, s² I)), c = (1.5, 1.5), s = 0.6.
    Differentiable in ``z``.
    """
    name = one_of("name", name, set(TARGETS))
    z = _points("z", z, 2)
    z1, z2 = z[:, 0], z[:, 1]
    if name == "banana":
        ridge = BANANA_TILT * z1 + BANANA_CURVE * (z1**2 - 1)
        return _normal_log_prob(z1, 0.0, 1.0) + _normal_log_prob(z2, ridge, BANANA_STD)
    if name == "funnel":
        return _normal_log_prob(z1, 0.0, 1.0) + _normal_log_prob(z2, 0.0, torch.exp(0.5 * z1))
    components = [_normal_log_prob(z, sign * MODE_CENTRE, MODE_STD).sum(1) + math.log(0.5) for sign in (-1.0, 1.0)]
    return torch.logsumexp(torch.stack(components), dim=0)


def sample_target(name, n, *, seed=None):
    """``n`` exact draws from target ``name`` (shape (n, 2)), by its definition (ancestral sampling)."""
    name = one_of("name", name, set(TARGETS))
    n = positive_int("n", n)
    gen = _validate.torch_generator(seed)
    eps = torch.randn(n, 2, generator=gen, dtype=DTYPE)
    z1 = eps[:, 0]
    if name == "banana":
        z2 = BANANA_TILT * z1 + BANANA_CURVE * (z1**2 - 1) + BANANA_STD * eps[:, 1]
        return torch.stack([z1, z2], 1)
    if name == "funnel":
        return torch.stack([z1, torch.exp(0.5 * z1) * eps[:, 1]], 1)
    sign = torch.where(torch.rand(n, generator=gen, dtype=DTYPE) < 0.5, -1.0, 1.0)
    return sign[:, None] * MODE_CENTRE + MODE_STD * eps


def target_grid(name, n=200, *, extent=None):
    """An n × n grid over target ``name``'s region: (points (n², 2), cell area, (axis 1, axis 2)).

    The points are the cell centres of the region ``extent`` = ((low₁, high₁), (low₂, high₂)),
    by default ``EXTENTS[name]``; row-major (axis 1 varies slowest):
    ``values.reshape(n, n)[i, j]`` is the value at (axis1[i], axis2[j]).
    """
    name = one_of("name", name, set(TARGETS))
    n = _validate.integer("n", n, 2, 4000)
    extent = EXTENTS[name] if extent is None else _extent(extent)
    axes = []
    for low, high in extent:
        width = (high - low) / n
        axes.append(torch.linspace(low + width / 2, high - width / 2, n, dtype=DTYPE))
    points = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 2)
    area = float((axes[0][1] - axes[0][0]) * (axes[1][1] - axes[1][0]))
    return points, area, tuple(axes)


def _extent(extent):
    box = _validate.real_array("extent", extent, ndim=2)
    if box.shape != (2, 2) or not (box[:, 0] < box[:, 1]).all():
        raise ValueError(
            f"extent must be ((low1, high1), (low2, high2)) with low < high, got {_validate.shown(extent)}"
        )
    return tuple((float(low), float(high)) for low, high in box)


def kl_on_grid(log_q, log_p, cell_area):
    """KL(q ‖ p) ≈ Σ_cells q (log q - log p) · cell_area, in nats, from log densities on a grid.

    ``log_q``, ``log_p``: the normalised log densities at the same grid points (any shape,
    equal shapes; -inf is allowed where a density is zero). Cells where q = 0 contribute 0;
    a cell where q > 0 and p = 0 makes the KL infinite. For KL(p ‖ q) swap the arguments.
    """
    cell_area = positive("cell_area", cell_area)
    arrays = []
    for label, values in (("log_q", log_q), ("log_p", log_p)):
        values = _validate.to_numpy(values)
        if values.dtype.kind not in "iuf":
            raise TypeError(f"{label} must be an array of real numbers, got {_validate.shown(values)}")
        if values.size == 0:
            raise ValueError(f"{label} must not be empty, got shape {values.shape}")
        values = values.astype(float)
        bad = np.isnan(values) | (values == np.inf)
        if bad.any():
            raise ValueError(f"{label} must be a log density (no NaN or +inf), got {values[bad][0]!r}")
        arrays.append(values)
    log_q, log_p = arrays
    if log_q.shape != log_p.shape:
        raise ValueError(f"log_q and log_p must have the same shape, got {log_q.shape} and {log_p.shape}")
    q = np.exp(log_q)
    inside = q > 0
    if np.any(inside & (log_p == -np.inf)):
        return math.inf
    return float(np.sum(q[inside] * (log_q[inside] - log_p[inside])) * cell_area)


# --- flows ----------------------------------------------------------------------


def _linear(n_in, n_out, gen, zero=False):
    """A ``torch.nn.Linear`` initialised as PyTorch does (uniform ±1/√n_in), from ``gen``; zeros if ``zero``."""
    layer = torch.nn.Linear(n_in, n_out, dtype=DTYPE)
    bound = 1 / math.sqrt(n_in)
    with torch.no_grad():
        for p in layer.parameters():
            p.zero_() if zero else p.uniform_(-bound, bound, generator=gen)
    return layer


class AffineCoupling(torch.nn.Module):
    """One affine coupling layer on R^dim: x_a = z_a, x_b = z_b ⊙ exp(s(z_a)) + t(z_a).

    The kept part a is the first ⌊dim/2⌋ coordinates (``flip=False``) or the others
    (``flip=True``), and b the rest. (s, t) = ``net(z_a)``, a tanh network with one hidden layer of
    ``hidden`` units, whose last layer starts at zero, so the layer starts as the identity.
    s is soft-clamped, s = 3 tanh(raw / 3), so one layer scales by at most e³.
    log |det ∂x/∂z| = Σ_b s(z_a).
    """

    def __init__(self, dim=2, hidden=32, flip=False, *, generator=None):
        super().__init__()
        dim = _validate.integer("dim", dim, 2, 10_000)
        hidden = positive_int("hidden", hidden)
        if not isinstance(flip, (bool, np.bool_)):
            raise TypeError(f"flip must be True or False, got {_validate.shown(flip)}")
        half = dim // 2
        self.flip = bool(flip)
        self.kept = slice(half, dim) if flip else slice(0, half)  # contiguous halves: slicing is cheap
        self.moved = slice(0, half) if flip else slice(half, dim)
        n_kept = dim - half if flip else half
        self.net = torch.nn.Sequential(
            _linear(n_kept, hidden, generator),
            torch.nn.Tanh(),
            _linear(hidden, 2 * (dim - n_kept), generator, zero=True),
        )
        self.dim, self.n_kept = dim, n_kept

    def shift_and_log_scale(self, x_kept):
        """(t, s) from the kept coordinates, each of shape (n, number of moved coordinates)."""
        return self._shift_and_log_scale(_points("x_kept", x_kept, self.n_kept))

    def _shift_and_log_scale(self, x_kept):
        raw_log_scale, shift = self.net(x_kept).chunk(2, dim=1)
        return shift, 3 * torch.tanh(raw_log_scale / 3)

    def _join(self, kept, moved):
        return torch.cat([moved, kept] if self.flip else [kept, moved], dim=1)

    def _forward(self, z):
        kept = z[:, self.kept]
        shift, log_scale = self._shift_and_log_scale(kept)
        return self._join(kept, z[:, self.moved] * torch.exp(log_scale) + shift), log_scale.sum(1)

    def _inverse(self, x):
        kept = x[:, self.kept]
        shift, log_scale = self._shift_and_log_scale(kept)
        return self._join(kept, (x[:, self.moved] - shift) * torch.exp(-log_scale)), -log_scale.sum(1)

    def forward(self, z):
        """(x, log |det ∂x/∂z|) for the rows of ``z`` (shape (n, dim)); log-det of shape (n,)."""
        return self._forward(_points("z", z, self.dim))

    def inverse(self, x):
        """(z, log |det ∂z/∂x|) with z = f⁻¹(x): z_b = (x_b - t(x_a)) ⊙ exp(-s(x_a)); log-det = -Σ s."""
        return self._inverse(_points("x", x, self.dim))


class CouplingFlow(torch.nn.Module):
    """q(x): z ~ N(0, I_dim), y = f_K ∘ … ∘ f_1(z) (``n_layers`` ``AffineCoupling``), x = loc + exp(log_scale) ⊙ y.

    ``loc`` and ``scale`` (vectors of length dim, or None for 0 and 1) set the final
    elementwise affine map, which is learned too; with the couplings at the identity the
    flow starts as N(loc, diag(scale²)). The networks are initialised from ``seed``
    (None: torch's global generator).
    """

    def __init__(self, dim=2, n_layers=4, hidden=32, *, loc=None, scale=None, seed=None):
        super().__init__()
        dim = _validate.integer("dim", dim, 2, 10_000)
        n_layers = _validate.integer("n_layers", n_layers, 0, 1000)
        gen = _validate.torch_generator(seed)
        self.dim = dim
        self.layers = torch.nn.ModuleList(
            AffineCoupling(dim, hidden, flip=bool(k % 2), generator=gen) for k in range(n_layers)
        )
        loc = torch.zeros(dim, dtype=DTYPE) if loc is None else self._vector("loc", loc)
        scale = torch.ones(dim, dtype=DTYPE) if scale is None else self._vector("scale", scale, positive=True)
        self.loc = torch.nn.Parameter(loc.clone())
        self.log_scale = torch.nn.Parameter(torch.log(scale))

    def _vector(self, name, value, positive=False):
        check = _validate.positive_array if positive else _validate.real_array
        value = torch.as_tensor(check(name, value, ndim=1), dtype=DTYPE)
        if value.shape != (self.dim,):
            raise ValueError(f"{name} must have shape ({self.dim},), got {tuple(value.shape)}")
        return value

    def _forward(self, z):
        x, log_det = z, torch.zeros(len(z), dtype=DTYPE)
        for layer in self.layers:
            x, step = layer._forward(x)
            log_det = log_det + step
        return self.loc + torch.exp(self.log_scale) * x, log_det + self.log_scale.sum()

    def _inverse(self, x):
        z = (x - self.loc) * torch.exp(-self.log_scale)
        log_det = -self.log_scale.sum().expand(len(x))
        for layer in reversed(self.layers):
            z, step = layer._inverse(z)
            log_det = log_det + step
        return z, log_det

    def _log_prob(self, x):
        z, log_det = self._inverse(x)
        return -0.5 * (z**2).sum(1) - 0.5 * self.dim * LOG_2PI + log_det

    def forward(self, z):
        """(x, log |det ∂x/∂z|) for base points ``z`` (shape (n, dim))."""
        return self._forward(_points("z", z, self.dim))

    def inverse(self, x):
        """(z, log |det ∂z/∂x|) with z = f⁻¹(x), for points ``x`` (shape (n, dim))."""
        return self._inverse(_points("x", x, self.dim))

    def log_prob(self, x):
        """log q(x) = log N(f⁻¹(x); 0, I) + log |det ∂f⁻¹/∂x|, nats, shape (n,)."""
        return self._log_prob(_points("x", x, self.dim))

    def sample(self, n, *, seed=None):
        """(x, log q(x)) for ``n`` draws x = f(z), z ~ N(0, I): reparameterised, differentiable in the parameters."""
        n = positive_int("n", n)
        z = torch.randn(n, self.dim, generator=_validate.torch_generator(seed), dtype=DTYPE)
        x, log_det = self._forward(z)
        return x, -0.5 * (z**2).sum(1) - 0.5 * self.dim * LOG_2PI - log_det


def _adam_fit(flow, loss_of_step, n_steps, lr):
    """Adam on ``loss_of_step(step)`` for ``n_steps``; lr constant for half the steps, then down to lr/10."""
    optimiser = torch.optim.Adam(flow.parameters(), lr=lr, foreach=True)  # one call per step, not per tensor
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min(1.0, 0.1 + 1.8 * (1 - s / n_steps)))
    trace = np.empty(n_steps)
    for step in range(n_steps):
        loss = loss_of_step(step)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        trace[step] = -float(loss.detach())
    if not np.isfinite(trace).all():
        raise ValueError("the objective became NaN or infinite: lower lr, or check log_prob")
    return trace


def _flow(flow):
    if not isinstance(flow, CouplingFlow):
        raise TypeError(f"flow must be a vilab.flows.CouplingFlow, got {_validate.shown(flow)}")
    return flow


def fit_reverse_kl(flow, log_prob, *, n_steps=1000, n_samples=256, lr=5e-3, seed=None):
    """Fit ``flow`` by maximising ELBO = E_q[log_prob(x) - log q(x)] (= minimising KL(q ‖ p) + const).

    Each step draws ``n_samples`` reparameterised x = f(z) from the flow and takes an Adam
    step on the Monte Carlo ELBO; the learning rate ``lr`` is constant for half the steps,
    then decays linearly to lr/10. ``log_prob`` is batched, (n, d) -> (n,), up to a constant
    (then the ELBO is below log of the normalising constant). Returns the per-step ELBO
    estimates (nats, a numpy array of length ``n_steps``); the flow is trained in place.
    """
    flow = _flow(flow)
    _validate.callable_("log_prob", log_prob, "callable (a batch (n, d) of points -> n log densities)")
    n_steps, n_samples, lr = positive_int("n_steps", n_steps), positive_int("n_samples", n_samples), positive("lr", lr)
    gen = _validate.torch_generator(_validate.fresh_seed(seed))

    def negative_elbo(step):
        z = torch.randn(n_samples, flow.dim, generator=gen, dtype=DTYPE)
        x, log_det = flow._forward(z)
        log_q = -0.5 * (z**2).sum(1) - 0.5 * flow.dim * LOG_2PI - log_det
        log_p = _validate.call_torch_function("log_prob", log_prob, x)
        if log_p.shape != (n_samples,):
            raise ValueError(f"log_prob must map shape (n, d) to (n,), got {tuple(log_p.shape)} for {tuple(x.shape)}")
        return (log_q - log_p).mean()

    return _adam_fit(flow, negative_elbo, n_steps, lr)


def fit_forward_kl(flow, samples, *, n_steps=1000, batch_size=256, lr=5e-3, seed=None):
    """Fit ``flow`` by maximum likelihood on ``samples`` from p: maximise E_p[log q(x)] (= minimise KL(p ‖ q) + const).

    Each step takes a minibatch of ``batch_size`` rows of ``samples`` (shape (N, d), drawn
    without replacement within the step) and an Adam step on the mean log q, with the
    schedule of ``fit_reverse_kl``. Returns the per-step mean log q (nats, numpy array).
    """
    flow = _flow(flow)
    samples = _points("samples", samples, flow.dim).detach()
    n_steps, lr = positive_int("n_steps", n_steps), positive("lr", lr)
    batch_size = min(positive_int("batch_size", batch_size), len(samples))
    gen = _validate.torch_generator(_validate.fresh_seed(seed))

    def negative_log_likelihood(step):
        batch = samples[torch.randperm(len(samples), generator=gen)[:batch_size]]
        return -flow._log_prob(batch).mean()

    return _adam_fit(flow, negative_log_likelihood, n_steps, lr)
