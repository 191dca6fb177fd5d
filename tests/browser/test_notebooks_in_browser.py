"""The course as a student meets it: every notebook run in JupyterLab in a real (headless) Chromium.

For each notebook: open it, Run All, wait for the kernel to be idle; no cell may
show an error, every widget must render, and in every interactive panel moving
a slider must change the plot. A full-page screenshot per notebook, and one
of each panel after its sliders moved, go to ``artifacts/screenshots/``.
Run with ``make test-browser`` (``pytest --browser``); the plain
``pytest tests`` run leaves this folder out.
"""

import contextlib

import lab_driver as lab
import pytest


@pytest.fixture(scope="module")
def lab_url():
    with lab.jupyterlab_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with lab.chromium() as context:
        yield context


@pytest.fixture
def page(browser, lab_url):
    page = browser.new_page()
    try:
        yield page
    finally:
        page.close()
        lab.shutdown_kernels(lab_url)


def _listing(problems):
    return "\n".join(f"  cell {index}: {what}" for index, what in problems)


def _outputs(notebook):
    import nbformat

    cells = nbformat.read(notebook, as_version=4).cells
    return [i for i, cell in enumerate(cells) if cell.cell_type == "code" and (cell.outputs or cell.execution_count)]


def _uses_panels(notebook):
    import nbformat

    cells = nbformat.read(notebook, as_version=4).cells
    return any("_panel(" in cell.source for cell in cells if cell.cell_type == "code")


@pytest.mark.parametrize("notebook", lab.notebooks(), ids=lambda p: p.name)
def test_notebook_runs_and_its_widgets_respond(notebook, page, lab_url):
    name = notebook.name
    was_clean = not _outputs(notebook)
    try:
        lab.open_notebook(page, lab_url, name)
        current = lab.run_all(page, name)

        errors = lab.cell_errors(current)
        assert not errors, f"{name}: cells show errors after Run All:\n{_listing(errors)}"
        assert not lab.not_run(current), f"{name}: cells {lab.not_run(current)} did not run after Run All"

        problems = lab.wait_for_widgets(page, name)
        assert not problems, f"{name}: widgets did not render:\n{_listing(problems)}"

        panels = lab.panels(page)
        if _uses_panels(notebook):
            assert panels, f"{name}: the notebook builds interactive panels but none is shown (no {lab.PANEL})"
        for panel, cell in panels:
            assert lab.plot_source(panel), f"{name}: cell {cell}: the panel shows no plot image"
            handles = lab.slider_handles(panel)
            assert handles, f"{name}: cell {cell}: the panel has no slider"
            moves = {lab.slider_label(handle): lab.move_slider(page, panel, handle) for handle in handles}
            assert any(ms is not None for ms in moves.values()), (
                f"{name}: cell {cell}: moving the sliders {list(moves)} did not change the plot within 30 s "
                "(is the panel's update raising? see the log console)"
            )
            lab.SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            panel.screenshot(path=str(lab.SCREENSHOT_DIR / f"{notebook.stem}_cell{cell}_panel.png"))

        errors = lab.cell_errors(lab.state(page))
        assert not errors, f"{name}: errors appeared after moving the sliders:\n{_listing(errors)}"
    finally:
        with contextlib.suppress(Exception):
            lab.screenshot(page, name)
        if was_clean:  # JupyterLab must never save the run (autosave is off)
            assert not _outputs(notebook), f"{name}: the notebook file was saved with outputs during the test"
