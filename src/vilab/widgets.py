"""Interactive panels: a pure compute function plus a thin ipywidgets shell.

Every panel follows one pattern (see ``interactive_panel``): the figure is
created once with a fixed size, the controls' values go to an ``update``
function that changes the figure's artists in place (no new figure, no
flicker) and returns an optional HTML readout, and the figure is shown as a
PNG in an ``ipywidgets.Image``. The numbers come from pure functions that
tests and benchmarks call directly.

Each notebook's panels live in their own section below.
"""

import io

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from vilab import _validate

PANEL_CLASS = "vilab-panel"  # CSS class the browser test looks for
PLOT_CLASS = "vilab-plot"


def figure_png(fig):
    """Render ``fig`` to PNG bytes with Agg, without displaying it.

    The layout engine runs on the first render only and is then frozen, so
    later renders keep the axes where they were (no jumping) and cost less;
    fast zlib compression keeps the encoding to a few milliseconds.

    Renders are incremental: the frame of each axes (background, ticks,
    tick labels, axis labels, titles) is drawn once and kept as a snapshot;
    each render restores it and draws, in z-order, only the data (lines,
    patches, collections, images, texts) and what sits on top of it (spines,
    legend). Tick labels are most of the cost of drawing a matplotlib figure,
    so a render that keeps the frame is several times faster. The snapshot is
    redrawn when any part of it has changed since (matplotlib marks it stale:
    new limits, ticks or axis labels; or a title changed; or an axes moved).
    """
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    _figure(fig)
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    if not isinstance(fig.get_layout_engine(), (PlaceHolderLayoutEngine, type(None))):
        canvas.draw()  # once: let the layout engine place the axes, then freeze it
        fig.set_layout_engine("none")  # leaves a placeholder engine that does nothing
    axes = [ax for ax in fig.axes if ax.get_visible()]
    on_top = {}  # per axes: what each render draws over the snapshot
    for ax in axes:
        spines = ax.spines.values() if ax.axison and ax.get_frame_on() else ()
        artists = (*ax.collections, *ax.patches, *ax.lines, *ax.images, *ax.texts, *spines, ax.get_legend())
        on_top[ax] = sorted((a for a in artists if a is not None and a.get_visible()), key=lambda a: a.get_zorder())
    frame = [a for ax in axes if ax.axison for a in (ax.xaxis, ax.yaxis, ax.patch) if a.get_visible()] + fig.legends
    titles = [ax.get_title(loc) for ax in axes for loc in ("left", "center", "right")]
    titles += [text.get_text() for text in fig.texts]
    key = (canvas.get_width_height(), [(id(ax), ax.get_position().bounds) for ax in axes], titles)
    snapshot = getattr(fig, "_vilab_frame", None)
    if snapshot is None or snapshot[0] != key or any(a.stale for a in frame):
        hidden = [a for artists in on_top.values() for a in artists]
        try:
            for artist in hidden:
                artist.set_visible(False)
            canvas.draw()  # the frame only
        finally:
            for artist in hidden:
                artist.set_visible(True)
        fig._vilab_frame = snapshot = (key, canvas.copy_from_bbox(fig.bbox))
    canvas.restore_region(snapshot[1])
    for ax, artists in on_top.items():
        for artist in artists:
            ax.draw_artist(artist)
    width, height = canvas.get_width_height()
    rgba = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    rgba.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _figure(fig):
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure (e.g. from vilab.plots.new_figure), got {type(fig).__name__}")
    return fig


def interactive_panel(fig, controls, update, *, title=""):
    """Build a panel: controls on top, the figure as an image, a readout below.

    ``controls`` maps names to value widgets (sliders, dropdowns...);
    ``update(**values)`` redraws ``fig``'s artists in place and returns an
    HTML string for the readout (or ``None``). The figure is closed in pyplot
    so the inline backend does not display it a second time. The returned
    box has a ``refresh()`` method that re-runs the update with the current
    values.
    """
    _figure(fig)
    if not isinstance(controls, dict) or not all(isinstance(c, widgets.ValueWidget) for c in controls.values()):
        raise TypeError(f"controls must be a dict of name -> ipywidgets value widget (a slider...), got {controls!r}")
    _validate.callable_("update", update, "a function update(**values) -> HTML text or None")
    if not isinstance(title, str):
        raise TypeError(f"title must be a string, got {type(title).__name__}")
    width, height = (fig.get_size_inches() * fig.dpi).astype(int)
    image = widgets.Image(format="png", layout=widgets.Layout(width=f"{width}px", height=f"{height}px"))
    image.add_class(PLOT_CLASS)
    readout = widgets.HTML(layout=widgets.Layout(min_height="1.6em"))

    def refresh(_change=None):
        text = update(**{name: control.value for name, control in controls.items()})
        image.value = figure_png(fig)
        if text is not None:
            readout.value = text

    for control in controls.values():
        control.observe(refresh, names="value")
    refresh()
    plt.close(fig)
    children = [widgets.HTML(f"<b>{title}</b>")] if title else []
    children += [widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap")), image, readout]
    box = widgets.VBox(children)
    box.add_class(PANEL_CLASS)
    box.refresh = refresh
    return box


# --- notebook 01: the ELBO explorer -----------------------------------------
# (imports are local to this section's functions so that sections stay independent)

ELBO_EXPLORER_RANGES = {"q_mean": (-3.0, 3.0), "q_std": (0.1, 2.0), "n_obs": (1, 10)}
ELBO_EXPLORER_DEFAULTS = {"q_mean": -1.0, "q_std": 1.0, "n_obs": 5}
ELBO_EXPLORER_SEED = 2026  # the explorer's data: x_i ~ N(1.5, 1), i = 1..10, drawn once with this seed
ELBO_EXPLORER_BAR_LIMIT = 40.0  # the bar chart shows [-40, 0] nats (longer bars are clipped, values printed)


def elbo_explorer_data():
    """The explorer's fixed observations (the slider ``n_obs`` uses the first ``n_obs`` of them)."""
    import numpy as np

    return np.random.default_rng(ELBO_EXPLORER_SEED).normal(1.5, 1.0, size=ELBO_EXPLORER_RANGES["n_obs"][1])


def elbo_explorer(q_mean, q_std, n_obs):
    """Pure compute for the ELBO explorer: model z ~ N(0, 1), x_i | z ~ N(z, 1), q = N(q_mean, q_std^2).

    Returns a dict with the fixed grid ``z`` (401 points on [-4, 4]), the
    densities ``prior``, ``likelihood`` (p(x|z) rescaled to integrate to 1
    over z, i.e. N(z; xbar, 1/n)), ``posterior`` and ``q`` on that grid, and
    the floats ``log_evidence``, ``elbo``, ``kl`` (exact, nats; elbo + kl =
    log_evidence) and ``posterior_mean``, ``posterior_std``.
    """
    import numpy as np

    from vilab import _validate
    from vilab.models import ConjugateGaussian, normal_logpdf

    q_mean, q_std = _validate.finite("q_mean", q_mean), _validate.positive("q_std", q_std)
    n_obs = _validate.positive_int("n_obs", n_obs)
    n_max = ELBO_EXPLORER_RANGES["n_obs"][1]
    if n_obs > n_max:
        raise ValueError(f"n_obs must be <= {n_max} (the explorer's data set has {n_max} points), got {n_obs}")
    model = ConjugateGaussian(elbo_explorer_data()[:n_obs], prior_mean=0.0, prior_std=1.0, noise_std=1.0)
    post_mean, post_std = model.posterior()
    z = np.linspace(-4.0, 4.0, 401)
    return {
        "z": z,
        "prior": np.exp(normal_logpdf(z, 0.0, 1.0)),
        "likelihood": np.exp(normal_logpdf(z, model.xbar, 1.0 / np.sqrt(n_obs))),
        "posterior": np.exp(normal_logpdf(z, post_mean, post_std)),
        "q": np.exp(normal_logpdf(z, q_mean, q_std)),
        "log_evidence": model.log_evidence(),
        "elbo": model.elbo(q_mean, q_std),
        "kl": model.kl_to_posterior(q_mean, q_std),
        "posterior_mean": post_mean,
        "posterior_std": post_std,
    }


def elbo_explorer_panel():
    """Sliders for q's mean and std and the number of observations; densities left, log p(x) = ELBO + KL right."""
    from vilab.plots import COLORS, new_figure

    fig, (ax_density, ax_bar) = new_figure(2, figsize=(8.0, 3.2), width_ratios=[1.4, 1.0])
    out = elbo_explorer(**ELBO_EXPLORER_DEFAULTS)
    lines = {}
    for key, label, style in [
        ("prior", "prior p(z)", ":"),
        ("likelihood", "likelihood p(x|z) (rescaled)", "--"),
        ("posterior", "posterior p(z|x)", "-"),
        ("q", "q(z)", "-"),
    ]:
        (lines[key],) = ax_density.plot(out["z"], out[key], style, color=COLORS[key], lw=2, label=label)
    ax_density.set(xlim=(-4, 4), ylim=(0, 1.6), xlabel="latent z", ylabel="density")
    ax_density.legend(loc="upper left", fontsize=8, frameon=False)

    limit = ELBO_EXPLORER_BAR_LIMIT
    rows = {"elbo": 2, "kl": 1, "evidence": 0}
    bars = {key: ax_bar.barh(row, 0.0, height=0.6, color=COLORS[key])[0] for key, row in rows.items()}
    evidence_line = ax_bar.axvline(0.0, color=COLORS["evidence"], ls="--", lw=1)
    label_box = {"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1}
    values = {
        key: ax_bar.text(-limit + 0.5, row, "", va="center", fontsize=8, bbox=label_box) for key, row in rows.items()
    }
    ax_bar.set(xlim=(-limit, 0), ylim=(-0.6, 2.6), xlabel="nats")
    ax_bar.set_yticks(list(rows.values()), ["ELBO", "+ KL", "= log p(x)"])
    ax_bar.set_title("ELBO + KL always ends on the dashed line", fontsize=9)

    def update(q_mean, q_std, n_obs):
        out = elbo_explorer(q_mean, q_std, n_obs)
        for key, line in lines.items():
            line.set_ydata(out[key])
        elbo, kl, evidence = out["elbo"], out["kl"], out["log_evidence"]
        for key, start, width in [("elbo", 0.0, elbo), ("kl", elbo, kl), ("evidence", 0.0, evidence)]:
            bars[key].set_x(start)
            bars[key].set_width(width)
            clipped = min(start, start + width) < -limit  # the bar runs off the left edge
            values[key].set_text(f"{'◀ ' if clipped else ''}{width:+.2f}")
        evidence_line.set_xdata([evidence, evidence])
        return (
            f"log p(x) = {evidence:.3f} nats = ELBO {elbo:.3f} + KL {kl:.3f} &nbsp;|&nbsp; "
            f"posterior N({out['posterior_mean']:.2f}, {out['posterior_std']:.2f}²), q N({q_mean:.2f}, {q_std:.2f}²)"
        )

    ranges, defaults = ELBO_EXPLORER_RANGES, ELBO_EXPLORER_DEFAULTS
    controls = {
        "q_mean": widgets.FloatSlider(defaults["q_mean"], min=ranges["q_mean"][0], max=ranges["q_mean"][1], step=0.05),
        "q_std": widgets.FloatSlider(defaults["q_std"], min=ranges["q_std"][0], max=ranges["q_std"][1], step=0.05),
        "n_obs": widgets.IntSlider(defaults["n_obs"], min=ranges["n_obs"][0], max=ranges["n_obs"][1]),
    }
    for name, control in controls.items():
        control.description = name
    return interactive_panel(fig, controls, update, title="The ELBO explorer: move q, watch ELBO and KL trade off")


# --- notebook 02: the estimator explorer ------------------------------------


def estimator_explorer_panel():
    """Histograms of the three estimators' L-sample gradient estimates (d/dmu left, d/dsigma right).

    The numbers come from ``vilab.estimators.explore_estimators``; the bins are fixed
    by the exact values of each setting, the exact gradient is the vertical line.
    The "optimal" baseline is estimated inside each L-sample estimate from its other
    L - 1 draws (none at L = 1, which the readout says); where its variance has no
    closed form (L >= 3) the table shows the exact lower bound, marked ">=".
    """
    import numpy as np

    from vilab.estimators import (
        ESTIMATOR_EXPLORER_CHOICES,
        ESTIMATOR_EXPLORER_DEFAULTS,
        ESTIMATOR_EXPLORER_RANGES,
        FUNCTION_FORMULAS,
        explore_estimators,
    )
    from vilab.plots import COLORS, new_figure

    baseline_labels = {"mean": "b = E[f] (exact)", "optimal": "b* from the other L−1 draws"}
    fig, axes = new_figure(2, figsize=(8.0, 3.2))
    names = {"score_function": "score function", "pathwise": "pathwise", "measure_valued": "measure-valued"}
    steps, lines = {}, []
    for j, (ax, label) in enumerate(zip(axes, ["d/dμ", "d/dσ"], strict=True)):
        for e, name in names.items():
            steps[e, j] = ax.stairs(np.zeros(1), [0.0, 1.0], fill=True, alpha=0.45, color=COLORS[e], label=name)
        lines.append(ax.axvline(0.0, color=COLORS["exact"], lw=1.5, label="exact gradient"))
        ax.set(xlabel=f"estimate of {label} E[f(x)]", ylabel="density", yticks=[])
    # coloured titles instead of a legend: a legend costs ~30 ms per render
    axes[0].set_title("score function", color=COLORS["score_function"], loc="left", fontsize=9)
    axes[0].set_title("pathwise", color=COLORS["pathwise"], loc="right", fontsize=9)
    axes[1].set_title("measure-valued", color=COLORS["measure_valued"], loc="right", fontsize=9)
    axes[1].set_title("black line: exact gradient", color=COLORS["exact"], loc="left", fontsize=9)

    def update(function, mu, sigma, k, n_samples, baseline):
        out = explore_estimators(function, mu, sigma, k, n_samples, baseline)
        for j, ax in enumerate(axes):
            edges = out["bin_edges"][j]
            for e in names:
                steps[e, j].set_data(out["density"][e][j], edges)
            lines[j].set_xdata([out["exact_gradient"][j]] * 2)
            top = max(out["density"][e][j].max() for e in names)
            ax.set(xlim=(edges[0], edges[-1]), ylim=(0, 1.15 * top if top > 0 else 1.0))
        rows = []
        for e, name in names.items():
            exact, empirical, outside = out["exact_variance"][e], out["empirical_variance"][e], out["outside"][e]
            bound = "≥ " if out["exact_is_lower_bound"][e] else ""
            rows.append(
                f"<tr><td style='color:{COLORS[e]}'><b>{name}</b></td>"
                + "".join(f"<td>{bound}{exact[j]:.3g}</td><td>{empirical[j]:.3g}</td>" for j in range(2))
                + f"<td>{100 * outside.max():.1f}%</td></tr>"
            )
        gradient = out["exact_gradient"]
        if out["note"]:  # the sampled baseline fell back to none (L = 1)
            note = out["note"]
        elif baseline == "optimal":
            kind = (
                "≥: an exact lower bound, no closed form for L ≥ 3"
                if out["exact_is_lower_bound"]["score_function"]
                else "exact"
            )
            note = f"b* from the other L − 1 draws of each estimate (unbiased); variance {kind}"
        else:
            note = {"none": "none (b = 0)", "mean": "the exact b = E[f(x)]"}[baseline]
        note += " (score function only)"
        return (
            f"f(x) = {FUNCTION_FORMULAS[function]}, x ~ N({mu:.2f}, {sigma:.2f}²), k = {k:.2f}, "
            f"L = {n_samples}: exact gradient ({gradient[0]:.4g}, {gradient[1]:.4g})"
            "<table><tr><th></th><th>Var d/dμ exact</th><th>measured</th><th>Var d/dσ exact</th><th>measured</th>"
            "<th>outside the axes</th></tr>" + "".join(rows) + "</table>" + f"<b>Baseline</b>: {note}."
        )

    ranges, choices, defaults = ESTIMATOR_EXPLORER_RANGES, ESTIMATOR_EXPLORER_CHOICES, ESTIMATOR_EXPLORER_DEFAULTS
    controls = {
        "function": widgets.Dropdown(options=choices["function"], value=defaults["function"]),
        **{
            name: widgets.FloatSlider(defaults[name], min=ranges[name][0], max=ranges[name][1], step=0.05)
            for name in ("mu", "sigma", "k")
        },
        "n_samples": widgets.IntSlider(defaults["n_samples"], min=ranges["n_samples"][0], max=ranges["n_samples"][1]),
        "baseline": widgets.Dropdown(
            options=[(baseline_labels.get(b, b), b) for b in choices["baseline"]], value=defaults["baseline"]
        ),
    }
    for name, control in controls.items():
        control.description = {"n_samples": "L"}.get(name, name)
    title = "The estimator explorer: 1000 L-sample estimates per estimator"
    return interactive_panel(fig, controls, update, title=title)


# --- notebook 03: the latent-space explorer ---------------------------------


def latent_explorer_panel(model, codes=None, labels=None):
    """Sliders over a 2-D latent point z; shows the decoded image p(x|z) at once.

    The numbers come from ``vilab.vae.decode_latent_point`` (sliders span
    ``vilab.vae.LATENT_EXPLORER_RANGES``). If ``codes`` [n, 2] (encoded test
    images) and their ``labels`` are given, the left panel shows them with a
    cross at the current z; the right panel is one ``imshow`` whose data is
    replaced in place.
    """
    import numpy as np

    from vilab.plots import new_figure
    from vilab.vae import LATENT_EXPLORER_RANGES, decode_latent_point

    decode_latent_point(model, 0.0, 0.0)  # checks the model (a VAE with latent_dim=2) before anything is drawn
    if (codes is None) != (labels is None):
        raise ValueError("codes and labels go together: pass both (encoded images and their classes) or neither")
    if codes is not None:
        codes = _validate.real_array("codes", codes, ndim=2)
        labels = _validate.real_array("labels", labels, ndim=1)
        if codes.shape[1] != 2 or labels.shape != (len(codes),):
            raise ValueError(f"codes must be [n, 2] and labels [n], got shapes {codes.shape} and {labels.shape}")
        codes = np.asarray(codes)

    (z1_lo, z1_hi), (z2_lo, z2_hi) = LATENT_EXPLORER_RANGES["z1"], LATENT_EXPLORER_RANGES["z2"]
    fig, (ax_map, ax_image) = new_figure(2, figsize=(7.0, 3.2))
    if codes is not None:
        ax_map.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=2, linewidths=0)
    (marker,) = ax_map.plot([0.0], [0.0], "k+", markersize=16, markeredgewidth=2)
    ax_map.set(xlim=(z1_lo, z1_hi), ylim=(z2_lo, z2_hi), xlabel="$z_1$", ylabel="$z_2$", title="latent space")
    image = ax_image.imshow(decode_latent_point(model, 0.0, 0.0), cmap="gray_r", vmin=0.0, vmax=1.0)
    ax_image.set_axis_off()
    ax_image.set_title("decoded pixel probabilities")

    def update(z1, z2):
        image.set_data(decode_latent_point(model, z1, z2))
        marker.set_data([z1], [z2])
        return f"z = ({z1:+.2f}, {z2:+.2f})"

    controls = {
        "z1": widgets.FloatSlider(value=0.0, min=z1_lo, max=z1_hi, step=0.05, description="z₁", continuous_update=True),
        "z2": widgets.FloatSlider(value=0.0, min=z2_lo, max=z2_hi, step=0.05, description="z₂", continuous_update=True),
    }
    return interactive_panel(fig, controls, update, title="Latent-space explorer: move z, see the decoded image")


# --- notebook 05: the CAVI stepper --------------------------------------------

CAVI_STEPPER_SWEEPS = 10
# slider range: coordinate steps, 0 = start, then q(c), q(mu), q(c), q(mu), ... (two steps per sweep)
CAVI_STEPPER_RANGES = {"step": (0, 2 * CAVI_STEPPER_SWEEPS)}


def cavi_stepper_history(x, K=3, *, sigma2=100.0, init=None, seed=0):
    """Run CAVI once, keeping the factors after every coordinate step (what the slider steps through)."""
    from vilab import mixture

    return mixture.cavi(
        x, K, sigma2=sigma2, init=init, seed=seed, max_iter=CAVI_STEPPER_SWEEPS, tol=0.0, keep_history=True
    )


def cavi_stepper(fit, step, grid):
    """The state of a precomputed CAVI run (``cavi_stepper_history``) after ``step`` coordinate steps.

    Returns a dict of numbers: ``labels`` [N] = argmax_k phi_ik (hard assignments),
    ``confidence`` [N] = max_k phi_ik, ``densities`` [K, G] = (1/K) N(grid; m_k, 1 + s2_k)
    (each component's posterior predictive density, weighted by 1/K; the grid is
    fixed), ``elbo`` = the ELBO trace (nats) up to and including this step,
    ``m`` [K], ``s2`` [K].
    """
    import numpy as np

    from vilab.mixture import CaviResult

    if not isinstance(fit, CaviResult) or not fit.history:
        raise TypeError(f"fit must be the result of cavi_stepper_history (with its history), got {type(fit).__name__}")
    step = _validate.integer("step", step, 0, len(fit.history) - 1)
    phi, m, s2, _ = fit.history[step]
    if np.ndim(m) != 1:
        raise ValueError(
            f"fit must come from 1-D data (the stepper draws densities on a line), got means of shape {np.shape(m)}"
        )
    grid = _validate.real_array("grid", grid, ndim=1)
    variance = 1.0 + s2[:, None]
    densities = np.exp(-0.5 * (grid - m[:, None]) ** 2 / variance) / np.sqrt(2 * np.pi * variance) / len(m)
    return {
        "labels": phi.argmax(1),
        "confidence": phi.max(1),
        "densities": densities,
        "elbo": fit.elbo[: step + 1],
        "m": m,
        "s2": s2,
    }


def cavi_stepper_panel(x, K=3, *, sigma2=100.0, init=None, seed=0):
    """Slider over CAVI's coordinate steps: data coloured by assignment, component densities, ELBO so far.

    CAVI runs once here; moving the slider only redraws.
    """
    import numpy as np

    from vilab.plots import COLORS, new_figure

    x = _validate.real_array("x", x, ndim=1)  # the stepper draws 1-D data
    fit = cavi_stepper_history(x, K, sigma2=sigma2, init=init, seed=seed)
    grid = np.linspace(x.min() - 1.0, x.max() + 1.0, 300)
    palette = plt.get_cmap("tab10")(np.arange(K) % 10)
    jitter = np.random.default_rng(0).uniform(-0.03, -0.005, len(x))

    fig, (ax_fit, ax_elbo) = new_figure(2)
    counts, edges = np.histogram(x, bins=40, density=True)
    ax_fit.stairs(counts, edges, fill=True, color="0.85", label="data")
    lines = [ax_fit.plot(grid, np.zeros_like(grid), color=palette[k], lw=2)[0] for k in range(K)]
    points = ax_fit.scatter(x, jitter, s=6, color=palette[0])
    top = 1.15 * max(counts.max(), 1 / (K * np.sqrt(2 * np.pi)))  # fixed: the tallest bar or component peak
    ax_fit.set(xlabel="x", ylabel="density", title="assignments and components", ylim=(-0.04, top))
    trace_line = ax_elbo.plot([], [], "o-", color=COLORS["elbo"], ms=3)[0]
    pad = 0.05 * (fit.elbo.max() - fit.elbo.min() + 1.0)
    ax_elbo.set(xlim=(-0.5, len(fit.elbo) - 0.5), ylim=(fit.elbo.min() - pad, fit.elbo.max() + pad))
    ax_elbo.set(xlabel="coordinate step (odd: q(c), even: q(μ))", ylabel="ELBO (nats)", title="ELBO never decreases")

    def update(step):
        state = cavi_stepper(fit, step, grid)
        for line, density in zip(lines, state["densities"], strict=True):
            line.set_ydata(density)
        colours = palette[state["labels"]].copy()
        colours[:, 3] = state["confidence"]
        points.set_color(colours)
        trace_line.set_data(np.arange(len(state["elbo"])), state["elbo"])
        what = "start (q(c) uniform)" if step == 0 else ("updated q(c)" if step % 2 == 1 else "updated q(μ)")
        means = ", ".join(f"{v:.2f}" for v in np.sort(state["m"]))
        return f"step {step}: {what} &nbsp; ELBO = {state['elbo'][-1]:.2f} nats &nbsp; means m = [{means}]"

    low, high = CAVI_STEPPER_RANGES["step"]
    slider = widgets.IntSlider(value=low, min=low, max=high, step=1, description="step", continuous_update=True)
    return interactive_panel(fig, {"step": slider}, update, title="CAVI, one coordinate step at a time")


# --- notebook 02b: the relaxation explorer --------------------------------------------


def relaxation_explorer_panel(problem):
    """Temperature, baseline and sample-count controls for one discrete-latent gradient (``GradientProblem``).

    Left: squared bias and variance (summed over the latents, log scales) of Gumbel-softmax and
    straight-through against the temperature (``vilab.discrete.relaxation_sweep``, once, at L = 1; the
    variance of an L-sample average is that over L), with the exact variance of the score function with the
    chosen baseline as a dashed line and the current temperature marked. Right: histograms of the three
    estimators of the largest gradient coordinate (``vilab.discrete.relaxation_explorer``), exact value in black.
    """
    import numpy as np

    from vilab.discrete import (
        BASELINES,
        RELAXATION_EXPLORER_DEFAULTS,
        RELAXATION_EXPLORER_RANGES,
        relaxation_explorer,
        relaxation_sweep,
    )
    from vilab.plots import COLORS, new_figure

    names = {"score_function": "score function", "gumbel": "Gumbel-softmax", "straight_through": "straight-through"}
    (t_lo, t_hi), (l_lo, l_hi) = RELAXATION_EXPLORER_RANGES["tau"], RELAXATION_EXPLORER_RANGES["n_samples"]
    sweep = relaxation_sweep(problem, np.geomspace(t_lo, t_hi, 13), 1, 1000)  # once, at build
    fig, (ax_curve, ax_hist) = new_figure(2, figsize=(8.0, 3.4))
    curves = {}
    for method in ("gumbel", "straight_through"):
        bias2 = np.maximum(sweep[method]["bias2"], 1e-6)
        ax_curve.plot(sweep["temperatures"], bias2, "--", color=COLORS[method], lw=1.5)
        (curves[method],) = ax_curve.plot(sweep["temperatures"], sweep[method]["variance"], color=COLORS[method], lw=2)
    score_line = ax_curve.axhline(1.0, color=COLORS["score_function"], ls=":", lw=2)
    marker = ax_curve.axvline(RELAXATION_EXPLORER_DEFAULTS["tau"], color=COLORS["exact"], lw=1)
    top = max(sweep[m]["variance"].max() for m in ("gumbel", "straight_through"))
    top = max(top, max(float(problem.exact_variance(b, l_lo).sum()) for b in BASELINES))
    ax_curve.set(xscale="log", yscale="log", xlabel="temperature τ", ylabel="nats² (sum over latents)")
    ax_curve.set(xlim=(t_lo, t_hi), ylim=(1e-3, 10 * top))
    ax_curve.set_title("solid: variance, dashed: bias², dotted: score fn", fontsize=9)
    steps = {
        m: ax_hist.stairs(np.zeros(1), [0.0, 1.0], fill=True, alpha=0.4, color=COLORS[m], label=n)
        for m, n in names.items()
    }
    exact_line = ax_hist.axvline(0.0, color=COLORS["exact"], lw=1.5)
    ax_hist.set(ylabel="density", yticks=[])
    ax_hist.legend(loc="upper right", fontsize=7, frameon=False)

    def update(tau, baseline, n_samples):
        out = relaxation_explorer(problem, tau, baseline, n_samples)
        for method, line in curves.items():
            line.set_ydata(sweep[method]["variance"] / n_samples)
        score_line.set_ydata([out["exact_variance"]] * 2)
        marker.set_xdata([tau] * 2)
        edges = out["bin_edges"]
        for method, step in steps.items():
            step.set_data(out["density"][method], edges)
        exact_line.set_xdata([out["exact"]] * 2)
        tallest = max(d.max() for d in out["density"].values())
        ax_hist.set(xlim=(edges[0], edges[-1]), ylim=(0, 1.15 * tallest if tallest > 0 else 1.0))
        ax_hist.set_xlabel(f"estimate of ∂/∂η_{out['coordinate']} E_q[log p(x|z)] (nats)")
        cells = "".join(
            f"<td style='color:{COLORS[m]}'>{n}: bias² {out['bias2'][m]:.3g}, variance {out['variance'][m]:.3g}</td>"
            for m, n in names.items()
        )
        exact = out["exact_variance"]
        return f"<table><tr>{cells}</tr></table>score-function variance, exact by enumeration: {exact:.3g}"

    defaults = RELAXATION_EXPLORER_DEFAULTS
    controls = {
        "tau": widgets.FloatLogSlider(
            defaults["tau"], base=10, min=np.log10(t_lo), max=np.log10(t_hi), step=0.05, description="τ"
        ),
        "baseline": widgets.Dropdown(options=list(BASELINES), value=defaults["baseline"], description="baseline"),
        "n_samples": widgets.IntSlider(defaults["n_samples"], min=l_lo, max=l_hi, description="L"),
    }
    return interactive_panel(fig, controls, update, title="Relaxations vs the score function: bias, variance, τ")
