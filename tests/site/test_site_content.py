"""What the built site says, read from its HTML (``make test-site``, after ``make site``).

The landing page's course table lists every notebook; each notebook page has launch buttons at the release tag,
its reference solutions collapsed, and each interactive panel as a static figure with the line saying it is
interactive when launched; no page refers to anything outside the site but links.
"""

import html
import re

import build
import nbformat
import pytest
import settings
from site_helpers import ROOT, SITE_ARTIFACTS

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def page(site_html, name):
    return (site_html / name).read_text()


def test_the_landing_page_lists_every_notebook_with_its_title(site_html):
    index = page(site_html, "index.html")
    table = index.split('id="the-notebooks"', 1)[1].split('id="how-to-start"', 1)[0]
    for path in NOTEBOOKS:
        title, paragraph = build.notebook_summary(nbformat.read(path, as_version=4))
        assert f'href="notebooks/{path.stem}.html"' in table, f"{path.name} missing from the course table"
        words = re.sub(r"\$[^$]*\$", "", title).split()[:3]
        assert " ".join(words) in html.unescape(re.sub(r"<[^>]+>", "", table)), f"{path.name}: title not shown"
        assert paragraph, f"{path.name}: no first paragraph for the course table"
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", "", index)).split())  # what a reader sees (code is in spans)
    for how in ("Binder", "Colab", "make lab"):
        assert how in text, f"the landing page does not say how to start with {how}"
    assert settings.binder_url() in html.unescape(index) and settings.colab_url() in html.unescape(index)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_page(notebook, site_html):
    text = html.unescape(page(site_html, f"notebooks/{notebook.stem}.html"))
    path = f"notebooks/{notebook.name}"
    assert settings.binder_url(path) in text, "no Binder launch button at the release tag"
    assert settings.colab_url(path) in text, "no Colab launch button at the release tag"

    solutions = sum(build.SOLUTION_TAG in c.metadata.get("tags", []) for c in nbformat.read(notebook, 4).cells)
    toggles = re.findall(r"<details([^>]*)>\s*<summary>\s*<p[^>]*>Show the reference solution", text)
    assert len(toggles) == solutions, f"{len(toggles)} collapsed solutions on the page, {solutions} in the notebook"
    assert not any("open" in attributes for attributes in toggles), "a reference solution is expanded"

    executed = nbformat.read(SITE_ARTIFACTS / "executed" / notebook.name, as_version=4)
    state = executed.metadata.get("widgets", {}).get(build.WIDGET_STATE, {}).get("state", {})
    views = [out["data"][build.WIDGET_VIEW]["model_id"] for cell in executed.cells for out in cell.get("outputs", [])
             if build.WIDGET_VIEW in out.get("data", {})]  # fmt: skip
    panels = sum(any(m["model_name"] == "ImageModel" for _, m in build.widget_tree(state, view)) for view in views)
    assert text.count('class="vilab-static-note"') == panels, "each interactive panel needs its static figure and note"
    assert build.WIDGET_VIEW not in text and build.WIDGET_STATE not in text, "a live widget left on the page"


def test_nothing_is_loaded_from_outside_the_site(site_html):
    assert (site_html / "_static" / "mathjax" / "tex-chtml.js").exists(), "MathJax is not bundled"
    for path in site_html.rglob("*.html"):
        text = path.read_text()
        sources = re.findall(r'<(?:script|img|link|iframe)\b[^>]*\b(?:src|href)="([^"]+)"', text)
        outside = [s for s in sources if re.match(r"(https?:)?//", s)]
        assert not outside, f"{path.relative_to(site_html)} loads {outside}"
