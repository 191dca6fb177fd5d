"""vilab.plots.COLORS stays distinguishable for colour-blind readers (``make test-site``; needs colorspacious).

Which colours must be told apart: the ones drawn together in one figure to mean different things (``GROUPS``
below, each with the notebook that draws it). Keys that mean the same thing on purpose share a colour ("rate" is
the KL, so it is "kl"'s colour; "posterior", "exact", "mcmc", "iwae" and "evidence" are all the near-black of a
reference), and colours that never meet in a figure need not differ. Every key must belong to a group, so a new
colour is checked as soon as it is added.

How: each colour is passed through the Machado et al. (2009) simulation of deuteranopia, protanopia and tritanopia
at severity 100 (colorspacious' "sRGB1+CVD"), and the distance between every pair of a group is measured in
CAM02-UCS, where a distance of about 1 is a just-noticeable difference between large patches. Figure lines and
markers are thin, so the bar is far above that: ``MIN_DISTANCE`` = 15 under normal vision and under each simulated
deficiency.
"""

import itertools

import numpy as np
import pytest
from colorspacious import cspace_convert
from matplotlib.colors import to_rgb

from vilab.plots import COLORS

MIN_DISTANCE = 15.0
DEFICIENCIES = {None: "normal vision", "deuteranomaly": "deuteranopia", "protanomaly": "protanopia",
                "tritanomaly": "tritanopia"}  # fmt: skip
GROUPS = {
    "02 estimator comparisons (the estimator explorer)": ["score_function", "pathwise", "measure_valued", "exact"],
    "01 densities (the ELBO explorer)": ["prior", "likelihood", "posterior", "q"],
    "01 evidence decomposition (the explorer's bars)": ["elbo", "kl", "evidence"],
    "04 inference methods": ["mcmc", "laplace", "vi"],
    "05 mixture fits (CAVI is 'vi')": ["vi", "em", "svi", "exact"],
    "03 loss terms (the live loss plot)": ["elbo", "distortion", "rate"],
    "03b bounds": ["elbo", "iwae", "kl"],
    "03 AE vs VAE": ["ae", "vae", "iwae"],
    "02b relaxations (the relaxation explorer)": ["gumbel", "straight_through", "score_function", "exact"],
}


def simulated_ucs(colour, deficiency):
    """CAM02-UCS coordinates of ``colour`` as seen with ``deficiency`` (None: normal vision), severity 100."""
    rgb = np.array(to_rgb(colour))
    if deficiency is not None:
        space = {"name": "sRGB1+CVD", "cvd_type": deficiency, "severity": 100}
        rgb = np.clip(cspace_convert(rgb, space, "sRGB1"), 0.0, 1.0)
    return cspace_convert(rgb, "sRGB1", "CAM02-UCS")


def pair_distances(deficiency):
    """{(group, key_a, key_b): CAM02-UCS distance} for every pair of every group."""
    return {
        (group, a, b): float(
            np.linalg.norm(simulated_ucs(COLORS[a], deficiency) - simulated_ucs(COLORS[b], deficiency))
        )
        for group, keys in GROUPS.items()
        for a, b in itertools.combinations(keys, 2)
    }


def test_every_colour_belongs_to_a_group():
    grouped = {key for keys in GROUPS.values() for key in keys}
    assert set(COLORS) <= grouped, f"decide which colours {sorted(set(COLORS) - grouped)} must differ from"
    assert grouped <= set(COLORS), f"groups name unknown keys {sorted(grouped - set(COLORS))}"


def test_the_simulation_is_real():
    """A control the check must fail: red and green, told apart with normal vision, merge under deuteranopia."""
    red, green = "#d62728", "#2ca02c"
    normal = np.linalg.norm(simulated_ucs(red, None) - simulated_ucs(green, None))
    deutan = np.linalg.norm(simulated_ucs(red, "deuteranomaly") - simulated_ucs(green, "deuteranomaly"))
    print(f"red vs green: {normal:.1f} (normal vision), {deutan:.1f} (deuteranopia)")
    assert normal > 3 * MIN_DISTANCE and deutan < MIN_DISTANCE


@pytest.mark.parametrize("deficiency", DEFICIENCIES, ids=lambda d: DEFICIENCIES[d])
def test_colours_that_meet_in_a_figure_stay_apart(deficiency):
    distances = pair_distances(deficiency)
    (group, a, b), smallest = min(distances.items(), key=lambda item: item[1])
    print(f"{DEFICIENCIES[deficiency]}: smallest distance {smallest:.1f} ({a} {COLORS[a]} vs {b} {COLORS[b]}, {group})")
    too_close = {pair: round(d, 1) for pair, d in distances.items() if d < MIN_DISTANCE}
    assert not too_close, f"{DEFICIENCIES[deficiency]}: pairs closer than {MIN_DISTANCE}: {too_close}"


def contrast_with_white(colour):
    """WCAG 2.1 contrast ratio (L_white + 0.05) / (L + 0.05), L the relative luminance of the sRGB colour."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


def test_every_colour_stands_out_from_the_white_figure():
    """WCAG 2.1 success criterion 1.4.11 (non-text contrast): lines and markers need 3:1 against the background."""
    ratios = {key: round(contrast_with_white(colour), 2) for key, colour in COLORS.items()}
    print("contrast on white:", ratios)
    assert contrast_with_white("#e6ab02") < 3 < contrast_with_white("#767676")  # controls: the old yellow fails
    assert min(ratios.values()) >= 3.0, {key: r for key, r in ratios.items() if r < 3.0}
