"""Sphinx configuration of the course website (used by site/build.py: ``sphinx-build -c site``).

The sources are generated in artifacts/site/src (the executed, static notebooks and the landing page);
nothing here executes a notebook (``nb_execution_mode = "off"``) and nothing loads from the network.
"""

import json
import sys
from pathlib import Path

from docutils import nodes

sys.path.insert(0, str(Path(__file__).resolve().parent))
import settings  # noqa: E402

ROOT = settings.ROOT

project = "vilab"
author = "The vilab authors"
copyright = "The vilab authors. Code: MIT; text and figures: CC BY 4.0"
release = version = settings.package_version()
language = "en"

extensions = ["myst_nb"]
nb_execution_mode = "off"  # site/build.py has executed every notebook once, offline, in a fresh kernel
nb_ipywidgets_js = {}  # no widget manager from a CDN: site/build.py has made every widget static
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
myst_dmath_double_inline = True  # $$...$$ inside a paragraph (as Jupyter renders it) is display math
nb_merge_streams = True
exclude_patterns = ["_alt_text.json"]
suppress_warnings = ["mystnb.unknown_mime_type"]

# MathJax 3 from npm (site/package.json), copied into _static/mathjax by site/build.py: math renders offline.
mathjax_path = "mathjax/tex-chtml.js"
html_static_path = [str(ROOT / "artifacts" / "site" / "assets"), "static"]
html_css_files = ["vilab.css"]
templates_path = ["templates"]

html_theme = "sphinx_book_theme"
html_title = f"vilab {version}"
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = False
html_use_index = False
html_context = {"default_mode": "light"}  # pydata-sphinx-theme: the figures are drawn on white
html_theme_options = {
    "repository_url": settings.repository_url(),
    "repository_branch": settings.RELEASE_TAG,
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": False,  # the sources are not copied: download notebooks from the repository
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "notebook_interface": "jupyterlab",
    },
    "home_page_in_toc": True,
    "show_toc_level": 2,
}


def set_alt_text(app, doctree, docname):
    """Alt text for the notebooks' output images, written by site/build.py (keyed by the PNG's SHA-256).

    myst-nb names each output image by the SHA-256 of its bytes, so the file name is the key.
    """
    path = Path(app.srcdir) / "_alt_text.json"
    alt_text = json.loads(path.read_text()) if path.exists() else {}
    for image in doctree.findall(nodes.image):
        key = Path(image["uri"]).stem
        if key in alt_text:
            image["alt"] = alt_text[key]


def name_toggles_by_their_text(app, pagename, templatename, context, doctree):
    """myst-nb labels each collapsed cell's toggle "Toggle hidden content", which hides its visible text ("Show the
    reference solution") from assistive technology (axe-core: label-content-name-mismatch, serious): drop the label,
    so the toggle's name is its text."""
    if "body" in context:
        context["body"] = context["body"].replace('<summary aria-label="Toggle hidden content">', "<summary>")


def setup(app):
    app.connect("html-page-context", name_toggles_by_their_text)
    app.connect("doctree-resolved", set_alt_text)
    app.set_html_assets_policy("always")  # MathJax on every page: the navigation has math in notebook titles
