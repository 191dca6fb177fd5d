"""What the student feels: from a slider key press to the new plot image, in JupyterLab in headless Chromium.

For every notebook with interactive panels: Run All, then for each panel 20
moves of its first slider (arrow keys, alternating direction), each timed in
the page from the keydown event to the ``load`` event of the new plot image
(kernel round trip + compute + PNG render + decoding). p50/p95; target
p95 <= 250 ms. Uses the browser test's machinery (tests/browser/lab_driver.py).

    .venv/bin/python benchmarks/browser.py [NOTEBOOK ...]
"""

import sys

import common  # noqa: F401 - first: puts tests/browser on sys.path for lab_driver
import lab_driver as lab
import nbformat
from common import Row, failed, percentiles_ms, print_table

BAR_MS = 250.0
MOVES = 20


def has_panels(path):
    cells = nbformat.read(path, as_version=4).cells
    return any("_panel(" in cell.source for cell in cells if cell.cell_type == "code")


def panel_latencies(page, panel):
    """``MOVES`` timed moves of the panel's first slider; None for a move whose plot never changed."""
    handle = lab.slider_handles(panel)[0]
    return [lab.move_slider(page, panel, handle) for _ in range(MOVES)]


def rows(names=None):
    paths = [p for p in lab.notebooks() if has_panels(p) and (not names or p.name in names)]
    result = []
    with lab.jupyterlab_server() as url, lab.chromium() as browser:
        for path in paths:
            print(f"browser latency: {path.name} ...", flush=True)
            page = browser.new_page()
            try:
                lab.open_notebook(page, url, path.name)
                errors = lab.cell_errors(lab.run_all(page, path.name))
                if errors:
                    index, what = errors[0]
                    result.append(Row("browser latency", path.name, f"Run All failed: cell {index}: {what}"[:100]))
                    result[-1].ok = False
                lab.wait_for_widgets(page, path.name)
                for panel, cell in lab.panels(page):
                    label = lab.slider_label(lab.slider_handles(panel)[0])
                    item = f"{path.name} cell {cell} ({label})"
                    milliseconds = panel_latencies(page, panel)
                    done = [ms / 1e3 for ms in milliseconds if ms is not None]
                    if len(done) < len(milliseconds):
                        result.append(
                            Row("browser latency", item, f"{len(milliseconds) - len(done)} moves never redrew")
                        )
                        result[-1].ok = False
                        continue
                    p50, p95 = percentiles_ms(done)
                    print(f"  {item}: p50 {p50:.0f} ms, p95 {p95:.0f} ms", flush=True)
                    result.append(
                        Row(
                            "browser latency",
                            item,
                            f"p50 {p50:.0f} / p95 {p95:.0f} ms ({MOVES} moves)",
                            f"p95 <= {BAR_MS:.0f} ms",
                            p95 <= BAR_MS,
                        )
                    )
            except Exception as error:  # noqa: BLE001 - one notebook must not hide the others' numbers
                result.append(failed("browser latency", path.name, error))
            finally:
                page.close()
                lab.shutdown_kernels(url)
    return result


if __name__ == "__main__":
    print_table(rows(sys.argv[1:]), "slider to new plot, in the browser")
