"""Find every widget's pure function and its slider ranges, so tests and benchmarks sweep all of them.

Convention (see DESIGN.md): a module of ``vilab`` that defines a widget has a
module-level dict ``<NAME>_RANGES = {parameter: (low, high)}`` (optionally
``<NAME>_CHOICES = {parameter: options}`` and ``<NAME>_DEFAULTS``) next to the
pure function, which takes the range parameters by name. The pure functions
are the public functions of that module whose parameters include every key
of the ranges. Parameters that are not sliders (a trained model, a precomputed fit,
a grid) come from ``CONTEXT`` below; a widget that needs something not listed
there makes the sweep test fail until it is added, so no widget escapes.
"""

import importlib
import inspect
import itertools
import pkgutil
from dataclasses import dataclass, field

import numpy as np
import torch

import vilab


def _vae_model():
    from vilab.vae import VAE

    torch.manual_seed(0)
    return VAE(latent_dim=2)  # untrained: finite outputs and the same cost per update as a trained one


def _mixture_data():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(mean, 1.0, 100) for mean in (-4.0, 0.0, 5.0)])


def _cavi_fit():
    from vilab.widgets import cavi_stepper_history

    return cavi_stepper_history(_mixture_data(), 3)


def _gradient_problem():
    from vilab.discrete import GradientProblem

    rng = np.random.default_rng(0)  # a decoder with 8 latents and 49 pixels, one image, moderate logits
    x = (rng.random(49) < 0.4).astype(float)
    return GradientProblem(x, rng.normal(0.0, 1.0, (49, 8)), rng.normal(0.0, 1.0, 49), rng.normal(0.0, 1.5, 8))


# (function name, parameter) -> a builder of a representative value for a non-slider parameter.
CONTEXT = {
    ("decode_latent_point", "model"): _vae_model,
    ("cavi_stepper", "fit"): _cavi_fit,
    ("cavi_stepper", "grid"): lambda: np.linspace(-8.0, 9.0, 300),
    ("relaxation_explorer", "problem"): _gradient_problem,
}


# panel builder name -> builders of its required arguments (for benchmarks that build every panel)
PANEL_CONTEXT = {
    "latent_explorer_panel": {"model": _vae_model},
    "cavi_stepper_panel": {"x": _mixture_data},
    "relaxation_explorer_panel": {"problem": _gradient_problem},
}


@dataclass
class Widget:
    """One widget's pure function with the parameter space its sliders and dropdowns offer."""

    name: str  # e.g. "vilab.widgets.ELBO_EXPLORER -> elbo_explorer"
    function: object
    ranges: dict
    choices: dict = field(default_factory=dict)
    missing: list = field(default_factory=list)  # required parameters without a value (a test failure)
    context: dict = field(default_factory=dict)

    def call(self, values):
        return self.function(**self.context, **values)

    def _points(self, range_values):
        names = list(self.ranges)
        choice_names = list(self.choices)
        for numbers in itertools.product(*(range_values[n] for n in names)):
            for options in itertools.product(*(self.choices[n] for n in choice_names)):
                yield dict(zip(names, numbers, strict=True)) | dict(zip(choice_names, options, strict=True))

    def corners(self):
        """Every corner of the slider box and its centre, for every combination of the choices."""
        values = {n: [lo, hi] for n, (lo, hi) in self.ranges.items()}
        yield from self._points(values)
        yield from self._points({n: [_middle(lo, hi)] for n, (lo, hi) in self.ranges.items()})

    def grid(self, per_axis=5):
        """A regular grid with ``per_axis`` values per slider, for every combination of the choices."""
        values = {n: _linspace(lo, hi, per_axis) for n, (lo, hi) in self.ranges.items()}
        return list(self._points(values))


def _middle(lo, hi):
    return (lo + hi) // 2 if isinstance(lo, int) and isinstance(hi, int) else (lo + hi) / 2


def _linspace(lo, hi, n):
    if isinstance(lo, int) and isinstance(hi, int):
        return sorted({int(round(v)) for v in np.linspace(lo, hi, n)})
    return [float(v) for v in np.linspace(lo, hi, n)]


def vilab_modules():
    return [importlib.import_module(f"vilab.{m.name}") for m in pkgutil.iter_modules(vilab.__path__)]


def widgets():
    """Every (``*_RANGES`` dict, pure function) pair in the vilab package."""
    found = []
    for module in vilab_modules():
        for attribute, ranges in sorted(vars(module).items()):
            if not attribute.endswith("_RANGES") or not isinstance(ranges, dict):
                continue
            stem = attribute[: -len("_RANGES")]
            choices = getattr(module, f"{stem}_CHOICES", {})
            defaults = getattr(module, f"{stem}_DEFAULTS", {})
            functions = [
                f
                for f in vars(module).values()
                if inspect.isfunction(f)
                and f.__module__ == module.__name__
                and not f.__name__.startswith("_")
                and set(ranges) <= set(inspect.signature(f).parameters)
            ]
            if not functions:
                found.append(Widget(f"{module.__name__}.{stem} -> ?", None, ranges, choices, ["<no pure function>"]))
            for function in functions:
                context, missing = {}, []
                for name, parameter in inspect.signature(function).parameters.items():
                    if name in ranges or name in choices or parameter.default is not inspect.Parameter.empty:
                        continue
                    if (function.__name__, name) in CONTEXT:
                        context[name] = CONTEXT[function.__name__, name]()
                    elif name in defaults:
                        context[name] = defaults[name]
                    else:
                        missing.append(name)
                label = f"{module.__name__}.{stem} -> {function.__name__}"
                found.append(Widget(label, function, ranges, dict(choices), missing, context))
    return found


def non_finite(value, path="output"):
    """Paths of every non-finite number in a (nested) output: dicts, sequences, arrays, tensors, numbers."""
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in non_finite(item, f"{path}[{key!r}]")]
    if isinstance(value, (list, tuple)):
        return [p for i, item in enumerate(value) for p in non_finite(item, f"{path}[{i}]")]
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.ndarray, np.generic, float, int)) and not isinstance(value, bool):
        array = np.asarray(value)
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            return [f"{path} ({int((~np.isfinite(array)).sum())} of {array.size} values)"]
    return []


def panel_builders():
    """(name, builder, keyword arguments or None when a required argument is unknown) for every ``*_panel``."""
    from vilab import widgets as module

    found = []
    for name, function in sorted(vars(module).items()):
        if name == "interactive_panel" or not (
            name.endswith("_panel") and inspect.isfunction(function) and function.__module__ == module.__name__
        ):
            continue
        known = PANEL_CONTEXT.get(name, {})
        required = [
            p
            for p, parameter in inspect.signature(function).parameters.items()
            if parameter.default is inspect.Parameter.empty
        ]
        kwargs = {p: known[p]() for p in required if p in known}
        found.append((name, function, kwargs if len(kwargs) == len(required) else None))
    return found
