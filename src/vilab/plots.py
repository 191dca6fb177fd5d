"""Plot helpers shared by the notebooks: one palette, fixed sizes, labelled axes.

The same quantity has the same colour in every notebook.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from vilab import _validate

COLORS = {
    # gradient estimators (notebook 02 and later)
    "score_function": "#d95f02",  # orange
    "pathwise": "#1b9e77",  # green
    "measure_valued": "#7570b3",  # purple (notebook 02's explorer, 02c)
    "exact": "#222222",  # near-black: exact values, reference lines
    # densities (notebook 01 and later)
    "prior": "#ff3366",  # pink-red
    "likelihood": "#8c510a",  # dark brown
    "posterior": "#222222",
    "q": "#1f78b4",  # blue: the variational approximation
    # terms of the evidence decomposition
    "elbo": "#1f78b4",
    "kl": "#ae8f09",  # dark yellow (3.1:1 on white)
    "evidence": "#222222",
    # inference methods (notebook 04 and later)
    "mcmc": "#222222",
    "laplace": "#a6761d",
    "vi": "#1f78b4",
    # fitting a mixture (notebook 05): CAVI is "vi"; EM is VB with a point mass, SVI its stochastic version
    "em": "#b2182b",  # dark red
    "svi": "#76a112",  # olive green (3.1:1 on white)
    # the VAE (notebook 03): loss = distortion + beta * rate; rate is a KL, so it shares "kl"'s colour
    "distortion": "#8c510a",  # = COLORS["likelihood"]: -log p(x|z), the reconstruction term
    "rate": "#ae8f09",  # = COLORS["kl"]
    "iwae": "#222222",  # the importance-weighted bound, our estimate of log p(x)
    "ae": "#a6761d",  # brown: the plain autoencoder
    "vae": "#1f78b4",
    # discrete latents (notebook 02b): REINFORCE is "score_function", enumeration is "exact"
    "gumbel": "#7570b3",  # purple: the Gumbel-softmax (binary Concrete) relaxation
    "straight_through": "#641070",  # dark plum
}

FIGSIZE = (8.0, 3.2)  # default width x height in inches for a two-panel row


def _figsize(figsize):
    size = _validate.real_array("figsize", figsize, ndim=1)
    if size.shape != (2,) or not np.all((size > 0) & (size <= 100)):
        raise ValueError(f"figsize must be (width, height) in inches, each in (0, 100], got {figsize!r}")
    return tuple(float(v) for v in size)


def _axes(ax):
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes (e.g. from new_figure), got {type(ax).__name__}")
    return ax


def new_figure(ncols=1, nrows=1, figsize=FIGSIZE, **kwargs):
    """Create a figure with a fixed size (so re-drawing never changes the layout)."""
    ncols, nrows = _validate.integer("ncols", ncols, 1, 100), _validate.integer("nrows", nrows, 1, 100)
    figsize = _figsize(figsize)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, constrained_layout=True, **kwargs)
    return fig, axes


# --- images and latent spaces (notebook 03) -----------------------------------


def tile_images(images, ncols, pad=1, fill=1.0):
    """Arrange images [n, h, w] into one mosaic array, ``ncols`` per row, ``pad`` pixels of ``fill`` between."""
    images = _validate.real_array("images", images, min_size=0)
    if images.ndim != 3 or 0 in images.shape:
        raise ValueError(f"images must have shape [n, height, width] with n, height, width >= 1, got {images.shape}")
    ncols = _validate.positive_int("ncols", ncols)
    pad, fill = _validate.integer("pad", pad, 0, 1000), _validate.finite("fill", fill)
    n, h, w = images.shape
    ncols = min(ncols, n)
    nrows = -(-n // ncols)
    mosaic = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), fill)
    for i, image in enumerate(images):
        r, c = divmod(i, ncols)
        mosaic[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = image
    return mosaic


def _unit_images(images):
    """Images as floats in [0, 1]: uint8 pixels (0..255, as the loaders return them) are divided by 255."""
    try:
        pixels = _validate.to_numpy(images).dtype == np.uint8
    except (TypeError, ValueError, RuntimeError):  # not an array: real_array says why
        pixels = False
    images = _validate.real_array("images", images, min_size=0)
    if pixels:
        return images / 255.0
    if images.size and (images.min() < 0 or images.max() > 1):
        raise ValueError(
            f"images must hold values in [0, 1] (or uint8 pixels 0..255), got values in "
            f"[{images.min():g}, {images.max():g}]: divide by their maximum, or pass uint8"
        )
    return images


def show_images(ax, images, ncols, title=""):
    """Show images [n, 28, 28] as a grid (black = 1) on ``ax``.

    Values in [0, 1] (probabilities, binary or grey images), or uint8 pixels 0..255
    (scaled by 1/255); anything else raises. Tensors are detached.
    """
    images = tile_images(_unit_images(images), ncols, fill=0.0)
    _axes(ax).imshow(images, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)


def show_manifold(ax, grid, values):
    """Show decoded images ``grid`` [n, n, 28, 28] laid out at the latent points ``values`` (both axes)."""
    grid = _unit_images(grid)
    if grid.ndim != 4 or grid.shape[0] != grid.shape[1] or grid.shape[2:] != (28, 28) or grid.shape[0] == 0:
        raise ValueError(f"grid must have shape [n, n, 28, 28] with n >= 1, got {grid.shape}")
    values = _validate.real_array("values", values, ndim=1)
    n = grid.shape[0]
    if values.shape != (n,) or (n > 1 and not np.all(np.diff(values) > 0)):
        raise ValueError(f"values must be {n} increasing latent coordinates, got {values!r}")
    _axes(ax)
    mosaic = tile_images(grid.reshape(n * n, 28, 28), n, pad=0)
    half = (values[1] - values[0]) / 2 if n > 1 else 0.5
    extent = (values[0] - half, values[-1] + half, values[0] - half, values[-1] + half)
    ax.imshow(mosaic, cmap="gray_r", vmin=0.0, vmax=1.0, extent=extent, interpolation="nearest")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")


def scatter_latent(ax, z, labels, class_names=None, size=2):
    """Scatter 2-D latent codes ``z`` [n, 2] coloured by integer ``labels`` 0..9 (tab10), with a class legend.

    Only 2-D codes: a model with more latent dimensions needs a projection first (PCA, t-SNE).
    """
    _axes(ax)
    z = _validate.real_array("z", z, ndim=2)
    if z.shape[1] != 2:
        raise ValueError(f"z must have shape [n, 2] (2-D latent codes), got {z.shape}: project the codes to 2-D first")
    labels = _validate.real_array("labels", labels, ndim=1)
    if labels.shape != (len(z),) or not np.all((labels == np.round(labels)) & (labels >= 0) & (labels <= 9)):
        raise ValueError(f"labels must be {len(z)} integers in 0..9 (one per code), got {_validate.shown(labels)}")
    if class_names is not None and (isinstance(class_names, str) or len(class_names) > 10):
        raise ValueError(f"class_names must be a list of at most 10 names, got {_validate.shown(class_names)}")
    size = _validate.positive("size", size)
    points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=size, linewidths=0)
    if class_names is not None:
        handles = [
            plt.Line2D([], [], marker="o", linestyle="", color=plt.cm.tab10(i), label=name)
            for i, name in enumerate(class_names)
        ]
        ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_xlabel("$z_1$ (posterior mean)")
    ax.set_ylabel("$z_2$ (posterior mean)")
    return points


class LiveLossPlot:
    """A training callback that redraws loss, rate and distortion once per epoch in a notebook.

    ``train(..., callback=LiveLossPlot(epochs))``: one figure with fixed axes,
    updated in place through an IPython display handle (outside IPython it
    only keeps the figure). Costs one PNG render per epoch.
    """

    def __init__(self, epochs, figsize=(8.0, 2.8)):
        epochs = _validate.positive_int("epochs", epochs)
        self.fig, (self.ax_loss, self.ax_terms) = new_figure(2, figsize=figsize)
        self.lines = {
            "loss": self.ax_loss.plot([], [], "o-", color=COLORS["elbo"], label="loss = -ELBO")[0],
            "distortion": self.ax_terms.plot([], [], "o-", color=COLORS["distortion"], label="distortion")[0],
            "rate": self.ax_terms.plot([], [], "o-", color=COLORS["rate"], label="rate (KL)")[0],
        }
        for ax in (self.ax_loss, self.ax_terms):
            ax.set_xlim(0.5, epochs + 0.5)
            ax.set_xlabel("epoch")
            ax.set_ylabel("nats per image")
            ax.legend(loc="center right", fontsize=8)
        self.ax_terms.set_yscale("log")
        self.ax_terms.set_ylim(1.0, 1000.0)  # fixed until the first epoch (an empty log axis cannot be drawn)
        plt.close(self.fig)
        self.handle = None
        try:
            from IPython import get_ipython
            from IPython.display import display

            if get_ipython() is not None:
                self.handle = display(self.fig, display_id=True)
        except ImportError:  # pragma: no cover - IPython comes with Jupyter
            pass

    def __call__(self, history):
        for key, line in self.lines.items():
            line.set_data(history["epoch"], history[key])
        self.ax_loss.set_ylim(min(history["loss"]) - 5, max(history["loss"]) + 5)
        terms = history["rate"] + history["distortion"]
        self.ax_terms.set_ylim(max(min(terms) / 1.5, 0.1), max(terms) * 1.5)
        if self.handle is not None:
            self.handle.update(self.fig)
