"""Plot helpers shared by the notebooks: one palette, fixed sizes, labelled axes.

The same quantity has the same colour in every notebook.
"""

import matplotlib.pyplot as plt

COLORS = {
    # gradient estimators (notebook 02 and later)
    "score_function": "#d95f02",  # orange
    "pathwise": "#1b9e77",  # green
    "exact": "#222222",  # near-black: exact values, reference lines
    # densities (notebook 01 and later)
    "prior": "#7570b3",  # purple
    "likelihood": "#e7298a",  # pink
    "posterior": "#222222",
    "q": "#1f78b4",  # blue: the variational approximation
    # terms of the evidence decomposition
    "elbo": "#1f78b4",
    "kl": "#e6ab02",  # yellow
    "evidence": "#222222",
    # inference methods (notebook 04 and later)
    "mcmc": "#222222",
    "laplace": "#a6761d",
    "vi": "#1f78b4",
}

FIGSIZE = (8.0, 3.2)  # default width x height in inches for a two-panel row


def new_figure(ncols=1, nrows=1, figsize=FIGSIZE, **kwargs):
    """Create a figure with a fixed size (so re-drawing never changes the layout)."""
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, constrained_layout=True, **kwargs)
    return fig, axes
