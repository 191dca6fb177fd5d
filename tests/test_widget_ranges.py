"""Every widget's pure function, at every corner of its slider ranges: no exception, only finite numbers.

The widgets are discovered (every ``*_RANGES`` dict in the vilab package, see
``widget_sweep``), so a new widget is swept without editing this file.
"""

import pytest
import widget_sweep

WIDGETS = widget_sweep.widgets()


def test_the_known_widgets_are_discovered():
    names = {w.name.split(" -> ")[1] for w in WIDGETS}
    assert {"elbo_explorer", "explore_estimators"} <= names, sorted(names)


def test_every_pure_function_reads_the_ranges_parameters():
    for widget in WIDGETS:
        for name, (low, high) in widget.ranges.items():
            assert low < high, f"{widget.name}: range of {name} is empty: ({low}, {high})"


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda w: w.name)
def test_pure_function_is_finite_at_every_corner_of_its_sliders(widget):
    assert not widget.missing, (
        f"{widget.name}: cannot call it: no value for {widget.missing}. Name the pure function's slider "
        "parameters as in the *_RANGES dict and add other parameters to widget_sweep.CONTEXT"
    )
    for values in widget.corners():
        try:
            out = widget.call(values)
        except Exception as error:  # noqa: BLE001 - report which corner raised
            pytest.fail(f"{widget.name}{values}: raised {type(error).__name__}: {error}")
        bad = widget_sweep.non_finite(out)
        assert not bad, f"{widget.name}{values}: non-finite numbers in {bad}"
