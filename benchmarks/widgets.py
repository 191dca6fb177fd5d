"""Every widget's cost per update: the pure compute function, and the full panel update (compute + PNG).

- compute: each pure function (found from the ``*_RANGES`` dicts, see
  ``tests/widget_sweep.py``) on a grid over its slider ranges and every
  dropdown choice; p50/p95 ms per call; bar p95 <= 100 ms.
- panel update: each ``vilab.widgets.*_panel`` built once, then 20 slider
  moves (random values in the slider's range, fixed seed), each timed from
  the value change to the new PNG; p50/p95 ms, and how much of it is the PNG
  render (``figure_png``); bar p95 <= 150 ms (DESIGN: "near 100-150 ms").

    .venv/bin/python benchmarks/widgets.py
"""

import time

import common  # noqa: F401 - first: puts tests/ on sys.path for widget_sweep
import ipywidgets
import matplotlib
import numpy as np
import widget_sweep
from common import Row, failed, percentiles_ms, print_table

matplotlib.use("Agg")

COMPUTE_BAR_MS = 100.0
PANEL_BAR_MS = 150.0
MAX_POINTS = 300  # grid points per widget (a fixed random subset when the grid is larger)
MOVES = 20


def compute_rows():
    result = []
    for widget in widget_sweep.widgets():
        item = widget.name.split(" -> ")[1]
        if widget.missing:
            result.append(Row("widget compute", item, f"cannot call: no value for {widget.missing}", "", False))
            continue
        points = widget.grid()
        if len(points) > MAX_POINTS:
            chosen = np.random.default_rng(0).choice(len(points), MAX_POINTS, replace=False)
            points = [points[i] for i in sorted(chosen)]
        try:
            widget.call(points[0])  # warm-up (imports, caches)
            seconds = []
            for values in points:
                start = time.perf_counter()
                widget.call(values)
                seconds.append(time.perf_counter() - start)
        except Exception as error:  # noqa: BLE001
            result.append(failed("widget compute", item, error))
            continue
        p50, p95 = percentiles_ms(seconds)
        result.append(
            Row(
                "widget compute",
                item,
                f"p50 {p50:.1f} / p95 {p95:.1f} ms ({len(points)} points)",
                f"p95 <= {COMPUTE_BAR_MS:.0f} ms",
                p95 <= COMPUTE_BAR_MS,
            )
        )
    return result


def sliders(widget):
    """Every slider inside a panel (depth first)."""
    if isinstance(widget, (ipywidgets.IntSlider, ipywidgets.FloatSlider)):
        return [widget]
    return [s for child in getattr(widget, "children", ()) for s in sliders(child)]


def panel_rows():
    from vilab import widgets as vw

    render_seconds = []
    real_figure_png = vw.figure_png

    def timed_figure_png(fig):
        start = time.perf_counter()
        png = real_figure_png(fig)
        render_seconds.append(time.perf_counter() - start)
        return png

    vw.figure_png = timed_figure_png  # interactive_panel looks it up at call time
    result = []
    try:
        for name, build, kwargs in widget_sweep.panel_builders():
            if kwargs is None:
                result.append(Row("panel update", name, "no arguments known (widget_sweep.PANEL_CONTEXT)", "", False))
                continue
            try:
                panel = build(**kwargs)
                controls = sliders(panel)
                rng = np.random.default_rng(0)
                seconds, render_seconds[:] = [], []
                for move in range(MOVES):
                    slider = controls[move % len(controls)]
                    value = rng.uniform(slider.min, slider.max)
                    value = int(round(value)) if isinstance(slider, ipywidgets.IntSlider) else float(value)
                    if value == slider.value:  # no change, no update: take the other end instead
                        value = slider.max if value != slider.max else slider.min
                    start = time.perf_counter()
                    slider.value = value  # the observer runs compute + PNG synchronously
                    seconds.append(time.perf_counter() - start)
            except Exception as error:  # noqa: BLE001
                result.append(failed("panel update", name, error))
                continue
            p50, p95 = percentiles_ms(seconds)
            render50, _ = percentiles_ms(render_seconds)
            result.append(
                Row(
                    "panel update",
                    name,
                    f"p50 {p50:.0f} / p95 {p95:.0f} ms (PNG render p50 {render50:.0f} ms)",
                    f"p95 <= {PANEL_BAR_MS:.0f} ms",
                    p95 <= PANEL_BAR_MS,
                )
            )
    finally:
        vw.figure_png = real_figure_png
    return result


def rows():
    return compute_rows() + panel_rows()


if __name__ == "__main__":
    print_table(rows(), "widget updates")
