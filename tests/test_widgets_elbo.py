"""The ELBO explorer (notebook 01): its pure compute function over the sliders' ranges, and its panel."""

import itertools

import numpy as np
import pytest

from vilab.models import ConjugateGaussian
from vilab.widgets import (
    ELBO_EXPLORER_DEFAULTS,
    ELBO_EXPLORER_RANGES,
    elbo_explorer,
    elbo_explorer_data,
    elbo_explorer_panel,
)


def _grid(name, k):
    lo, hi = ELBO_EXPLORER_RANGES[name]
    if isinstance(lo, int):
        return sorted({lo, hi, *np.linspace(lo, hi, k).round().astype(int).tolist()})
    return np.linspace(lo, hi, k).tolist()


def _check(out):
    for key in ["prior", "likelihood", "posterior", "q"]:
        density = out[key]
        assert density.shape == out["z"].shape
        assert np.all(np.isfinite(density)) and np.all(density >= 0), key
    for key in ["log_evidence", "elbo", "kl", "posterior_mean", "posterior_std"]:
        assert isinstance(out[key], float) and np.isfinite(out[key]), key
    assert out["kl"] >= 0
    assert out["elbo"] + out["kl"] == pytest.approx(out["log_evidence"], rel=1e-10)


def test_corners_of_the_slider_ranges():
    corners = itertools.product(*(ELBO_EXPLORER_RANGES[name] for name in ["q_mean", "q_std", "n_obs"]))
    for q_mean, q_std, n_obs in corners:
        _check(elbo_explorer(q_mean, q_std, n_obs))


def test_grid_over_the_slider_ranges():
    for q_mean, q_std, n_obs in itertools.product(_grid("q_mean", 13), _grid("q_std", 9), _grid("n_obs", 10)):
        _check(elbo_explorer(q_mean, q_std, n_obs))


def test_explorer_agrees_with_the_model_and_its_densities_integrate_to_one():
    out = elbo_explorer(0.5, 0.8, 4)
    model = ConjugateGaussian(elbo_explorer_data()[:4])
    assert out["log_evidence"] == model.log_evidence()
    assert out["elbo"] == model.elbo(0.5, 0.8)
    assert (out["posterior_mean"], out["posterior_std"]) == model.posterior()
    for key in ["prior", "posterior", "q"]:
        assert np.trapezoid(out[key], out["z"]) == pytest.approx(1.0, abs=1e-3), key


def test_data_are_fixed_and_the_evidence_does_not_depend_on_q():
    np.testing.assert_array_equal(elbo_explorer_data(), elbo_explorer_data())
    evidences = {elbo_explorer(m, s, 6)["log_evidence"] for m in (-2.0, 0.0, 2.5) for s in (0.2, 1.5)}
    assert len(evidences) == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"q_std": 0.0}, ValueError, "q_std must be > 0, got 0.0"),
        ({"q_std": -1.0}, ValueError, "q_std must be > 0"),
        ({"q_mean": float("nan")}, ValueError, "q_mean must be finite"),
        ({"n_obs": 0}, ValueError, "n_obs must be >= 1, got 0"),
        ({"n_obs": 11}, ValueError, "n_obs must be <= 10"),
        ({"n_obs": 2.0}, TypeError, "n_obs must be an integer"),
    ],
)
def test_bad_input_raises_a_clear_error(kwargs, error, message):
    with pytest.raises(error, match=message):
        elbo_explorer(**{**ELBO_EXPLORER_DEFAULTS, **kwargs})


def test_panel_builds_and_updates_when_sliders_move():
    panel = elbo_explorer_panel()
    image, readout = panel.children[2], panel.children[3]
    controls = {control.description: control for control in panel.children[1].children}
    assert set(controls) == set(ELBO_EXPLORER_RANGES)
    first_png, first_text = bytes(image.value), readout.value
    assert first_png.startswith(b"\x89PNG") and "log p(x)" in first_text
    for name, (lo, hi) in ELBO_EXPLORER_RANGES.items():
        for value in (lo, hi):
            controls[name].value = value
            assert "nan" not in readout.value.lower()
    assert bytes(image.value) != first_png
    assert readout.value != first_text
    controls["q_mean"].value, controls["q_std"].value = 0.0, 1.0
    expected = elbo_explorer(0.0, 1.0, controls["n_obs"].value)
    assert f"{expected['kl']:.3f}" in readout.value
