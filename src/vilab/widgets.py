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
from PIL import Image

PANEL_CLASS = "vilab-panel"  # CSS class the browser test looks for
PLOT_CLASS = "vilab-plot"


def figure_png(fig):
    """Render ``fig`` to PNG bytes with Agg, without displaying it.

    The layout engine runs on the first render only and is then frozen, so
    later renders keep the axes where they were (no jumping) and cost less;
    fast zlib compression keeps the encoding to a few milliseconds.
    """
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    if fig.get_layout_engine() is not None:
        canvas.draw()
        fig.set_layout_engine("none")
    canvas.draw()
    width, height = canvas.get_width_height()
    rgba = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    rgba.save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def interactive_panel(fig, controls, update, *, title=""):
    """Build a panel: controls on top, the figure as an image, a readout below.

    ``controls`` maps names to value widgets (sliders, dropdowns...);
    ``update(**values)`` redraws ``fig``'s artists in place and returns an
    HTML string for the readout (or ``None``). The figure is closed in pyplot
    so the inline backend does not display it a second time. The returned
    box has a ``refresh()`` method that re-runs the update with the current
    values.
    """
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
    values = {key: ax_bar.text(-limit + 0.5, row, "", va="center", fontsize=8) for key, row in rows.items()}
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
            values[key].set_text(f"{width:+.2f}")
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
    """Histograms of both estimators' L-sample gradient estimates (d/dmu left, d/dsigma right).

    The numbers come from ``vilab.estimators.explore_estimators``; the bins are fixed
    by the exact values of each setting, the exact gradient is the vertical line.
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

    fig, axes = new_figure(2, figsize=(8.0, 3.2))
    names = {"score_function": "score function", "pathwise": "pathwise"}
    steps, lines = {}, []
    for j, (ax, label) in enumerate(zip(axes, ["d/dμ", "d/dσ"])):
        for e, name in names.items():
            steps[e, j] = ax.stairs(np.zeros(1), [0.0, 1.0], fill=True, alpha=0.45, color=COLORS[e], label=name)
        lines.append(ax.axvline(0.0, color=COLORS["exact"], lw=1.5, label="exact gradient"))
        ax.set(xlabel=f"estimate of {label} E[f(x)]", ylabel="density", yticks=[])
    axes[0].legend(loc="upper left", fontsize=8, frameon=False)

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
            rows.append(
                f"<tr><td style='color:{COLORS[e]}'><b>{name}</b></td>"
                + "".join(f"<td>{exact[j]:.3g}</td><td>{empirical[j]:.3g}</td>" for j in range(2))
                + f"<td>{100 * outside.max():.1f}%</td></tr>"
            )
        gradient = out["exact_gradient"]
        return (
            f"f(x) = {FUNCTION_FORMULAS[function]}, x ~ N({mu:.2f}, {sigma:.2f}²), k = {k:.2f}, "
            f"L = {n_samples}: exact gradient ({gradient[0]:.4g}, {gradient[1]:.4g})"
            "<table><tr><th></th><th>Var d/dμ exact</th><th>measured</th><th>Var d/dσ exact</th><th>measured</th>"
            "<th>off-axis</th></tr>" + "".join(rows) + "</table>"
        )

    ranges, choices, defaults = ESTIMATOR_EXPLORER_RANGES, ESTIMATOR_EXPLORER_CHOICES, ESTIMATOR_EXPLORER_DEFAULTS
    controls = {
        "function": widgets.Dropdown(options=choices["function"], value=defaults["function"]),
        **{
            name: widgets.FloatSlider(defaults[name], min=ranges[name][0], max=ranges[name][1], step=0.05)
            for name in ("mu", "sigma", "k")
        },
        "n_samples": widgets.IntSlider(defaults["n_samples"], min=ranges["n_samples"][0], max=ranges["n_samples"][1]),
        "baseline": widgets.Dropdown(options=choices["baseline"], value=defaults["baseline"]),
    }
    for name, control in controls.items():
        control.description = {"n_samples": "L"}.get(name, name)
    return interactive_panel(fig, controls, update, title="The estimator explorer: 2000 gradient estimates per setting")


# --- notebook 03: the latent-space explorer ---------------------------------


# --- notebook 05: the CAVI stepper --------------------------------------------
