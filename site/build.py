"""Build the course website from the notebooks: execute each once, make its outputs static, run Sphinx.

    .venv/bin/python site/build.py            (what `make site` runs)
    .venv/bin/python site/build.py --force    (re-execute even the notebooks whose executed copy is current)

1. Execute every ``notebooks/*.ipynb`` (found by glob) top to bottom in a fresh kernel, offline: the kernel has
   ``tests/offline`` on its PYTHONPATH (every non-loopback connection raises), exactly as ``make test`` runs nbval.
   The executed copy is kept in ``artifacts/site/executed/`` with the hashes of the notebook and of ``src/vilab``;
   a later build re-executes only what changed (a clean clone executes everything once).
2. Prepare the Sphinx sources in ``artifacts/site/src`` (``prepare_notebook``): every ipywidgets output becomes
   static (a panel shows its first figure, its readout and a line saying it is interactive when launched; the
   widget state is dropped, so no page loads the widget manager from a CDN); cells tagged ``solution`` are
   collapsed; images that would load from the network (badges) become their alt text; every figure gets alt text
   from what it shows (titles, axis labels, legend) and the prose above it. The landing page's course table is
   generated from the notebooks' titles and first paragraphs.
3. ``sphinx-build`` (myst-nb, sphinx-book-theme, MathJax bundled from npm) into ``artifacts/site/html``: a static
   site for any host, with no request to anything but itself.
"""

import argparse
import base64
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import settings

ROOT = settings.ROOT
SITE = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "artifacts" / "site"
EXECUTED = ARTIFACTS / "executed"
SOURCE = ARTIFACTS / "src"
HTML = ARTIFACTS / "html"
ASSETS = ARTIFACTS / "assets"  # html_static_path of conf.py: the bundled MathJax
MATHJAX = SITE / "node_modules" / "mathjax" / "es5"
CELL_TIMEOUT = 2000  # seconds, as nbval's default; a notebook's budget is 60-120 s on a quiet 2-core CPU
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SOLUTION_TAG = "solution"
PANEL_NOTE = (
    "Interactive panel, shown here as its first figure. Launch this notebook (Binder or Colab, buttons at the top "
    "of the page, or on your laptop) to {controls}."
)


def notebooks():
    """Every notebook of the course, in order (by glob: new notebooks join the site by themselves)."""
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def package_hash():
    """Hash of the package's sources: an executed copy is stale when the code it ran has changed."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "src" / "vilab").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# --- 1. execute -------------------------------------------------------------------


def kernel_env(ipython_dir):
    """The build kernel's environment: offline guard, no download, and the figure-describing start-up file."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "tests" / "offline"), env.get("PYTHONPATH")]))
    env["VILAB_OFFLINE"] = "1"
    env["IPYTHONDIR"] = str(ipython_dir)
    env.pop("MPLBACKEND", None)
    return env


def execute(path, fingerprint):
    """Run ``path`` in a fresh kernel (cwd = its folder); return the executed notebook and the seconds it took."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="vilab-site-ipython-") as ipython_dir:
        startup = Path(ipython_dir) / "profile_default" / "startup"
        startup.mkdir(parents=True)
        shutil.copy(SITE / "kernel_startup.py", startup / "00-describe-figures.py")
        client = NotebookClient(
            nb,
            timeout=CELL_TIMEOUT,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            store_widget_state=True,
        )
        start = time.perf_counter()
        client.execute(env=kernel_env(ipython_dir))
        seconds = time.perf_counter() - start
    nb.metadata["vilab_site"] = {"fingerprint": fingerprint, "seconds": round(seconds, 1)}
    return nb, seconds


def executed_notebook(path, force=False):
    """The executed copy of ``path``, cached while the notebook, the package and the kernel set-up are unchanged."""
    fingerprint = ":".join(sha256(p.read_bytes()) for p in (path, SITE / "kernel_startup.py")) + ":" + package_hash()
    cached = EXECUTED / path.name
    if cached.exists() and not force:
        nb = nbformat.read(cached, as_version=4)
        if nb.metadata.get("vilab_site", {}).get("fingerprint") == fingerprint:
            print(f"  {path.name}: executed copy is current ({nb.metadata['vilab_site']['seconds']} s when run)")
            return nb, None
    print(f"  {path.name}: executing in a fresh kernel ...", flush=True)
    nb, seconds = execute(path, fingerprint)
    EXECUTED.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, cached)
    print(f"  {path.name}: {seconds:.1f} s")
    return nb, seconds


# --- 2. prepare: text helpers ----------------------------------------------------

GREEK = {
    name: chr(code)
    for name, code in [
        ("alpha", 945), ("beta", 946), ("gamma", 947), ("delta", 948), ("epsilon", 949), ("varepsilon", 949),
        ("theta", 952), ("lambda", 955), ("mu", 956), ("pi", 960), ("rho", 961), ("sigma", 963), ("tau", 964),
        ("phi", 966), ("varphi", 966), ("kappa", 954), ("eta", 951), ("nabla", 8711), ("Sigma", 931),
        ("Lambda", 923), ("infty", 8734), ("mid", 124), ("approx", 8776), ("le", 8804), ("ge", 8805),
    ]
}  # fmt: skip


FUNCTIONS = {"log", "exp", "cos", "sin", "tan", "tanh", "sqrt", "max", "min", "det", "sum", "int"}


def math_to_text(tex):
    """A readable plain-text form of a TeX snippet for alt text: Greek letters as letters, function names kept,
    other commands dropped."""

    def word(match):
        name = match.group(1)
        return GREEK.get(name) or (name if name in FUNCTIONS or len(name) == 1 else "")

    text = re.sub(r"\\([A-Za-z]+)", word, tex)
    text = re.sub(r"\\.", " ", text)  # spacing commands such as \, and \|
    return " ".join(text.replace("{", "").replace("}", "").split())


def markdown_to_text(source):
    """Plain text of a Markdown cell (no images, links as their text, math made readable, no markup)."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", source)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\$\$(.+?)\$\$", lambda m: math_to_text(m.group(1)), text, flags=re.DOTALL)
    text = re.sub(r"\$(.+?)\$", lambda m: math_to_text(m.group(1)), text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"^#+\s*", "", text, flags=re.MULTILINE)
    text = text.replace("**", "").replace("`", "").replace("*", "")
    return " ".join(text.split())


def first_sentences(text, limit=220):
    """The leading sentences of ``text`` that fit in ``limit`` characters (at least one, cut at a word)."""
    sentences = re.split(r"(?<=[.!?:])\s+", text)
    kept = ""
    for sentence in sentences:
        if kept and len(kept) + 1 + len(sentence) > limit:
            break
        kept = f"{kept} {sentence}".strip()
    if len(kept) > limit:
        kept = kept[:limit].rsplit(" ", 1)[0] + "…"
    return kept


def notebook_summary(nb):
    """(title, first paragraph) of a notebook: its '# ' heading and the first prose paragraph of its first cell."""
    source = nb.cells[0].source
    title = source.splitlines()[0].lstrip("#").strip()
    for block in re.split(r"\n\s*\n", source)[1:]:
        block = block.strip()
        if block and not block.startswith(("#", "[![", "**Learning goals", "!", "<")):
            return title, " ".join(block.split())
    return title, ""


def strip_external_images(source):
    """Markdown images and <img> tags that load from the network become their alt text (links stay links)."""
    source = re.sub(r"!\[([^\]]*)\]\(\s*https?://[^)]*\)", r"\1", source)
    return re.sub(
        r"<img\b[^>]*\bsrc=[\"']https?://[^>]*>",
        lambda m: (re.search(r"\balt=[\"']([^\"']*)", m.group(0)) or [None, ""])[1],
        source,
    )


# --- 2. prepare: widgets -----------------------------------------------------------

CONTROL_MODELS = {"FloatSliderModel", "IntSliderModel", "FloatLogSliderModel", "FloatRangeSliderModel"}


def _model_id(reference):
    return reference[len("IPY_MODEL_") :] if isinstance(reference, str) and reference.startswith("IPY_MODEL_") else None


def widget_tree(state, model_id):
    """The models of widget ``model_id`` and all its descendants, depth first, in display order."""
    model = state.get(model_id)
    if model is None:
        return []
    found = [(model_id, model)]
    for child in model["state"].get("children", []):
        if _model_id(child):
            found += widget_tree(state, _model_id(child))
    return found


def describe_control(model):
    state, name = model["state"], model["model_name"]
    label = state.get("description") or "a control"
    if name in CONTROL_MODELS:
        return f"{label} ({state.get('min')} to {state.get('max')})"
    if name == "DropdownModel" and state.get("_options_labels"):
        return f"{label} ({', '.join(map(str, state['_options_labels']))})"
    return label


def _html_text(value):
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", value)).split())


def static_widget_outputs(state, model_id):
    """Static outputs standing for a widget: a panel's first figure with its readout and a note, else its text.

    Returns ``(outputs, png_bytes_or_None, title)``.
    """
    tree = widget_tree(state, model_id)
    images = [
        (i, m) for i, (_, m) in enumerate(tree) if m["model_name"] == "ImageModel" and m.get("buffers")
    ]  # the panel's figure: a PNG in an ipywidgets.Image (vilab.widgets.interactive_panel)
    texts = [
        (i, m["state"].get("value", ""))
        for i, (_, m) in enumerate(tree)
        if m["model_name"] in ("HTMLModel", "LabelModel")
    ]
    if not images:
        words = [_html_text(value) for _, value in texts]
        for _, model in tree:
            if model["model_name"].endswith("ProgressModel"):
                low, high, value = (model["state"].get(k, 0) for k in ("min", "max", "value"))
                words.append(f"{100 * (value - low) / ((high - low) or 1):.0f}%")
        line = " ".join(w for w in words if w) or "(an interactive widget: run the notebook to see it)"
        return [nbformat.v4.new_output("display_data", data={"text/plain": line})], None, ""
    first_image, image = images[0]
    png = base64.b64decode(next(b["data"] for b in image["buffers"] if b["path"] == ["value"]))
    header = [value for i, value in texts if i < first_image and value]
    readout = [without_text_colours(value) for i, value in texts if i > first_image and value]
    controls = [describe_control(m) for _, m in tree if m["model_name"] in CONTROL_MODELS | {"DropdownModel"}]
    moves = "move " + ", ".join(controls) if controls else "use its controls"
    outputs = []
    if header:
        outputs.append(html_output(f'<p class="vilab-static-title">{" ".join(header)}</p>'))
    outputs.append(nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(png).decode()}))
    note = f'<p class="vilab-static-note">{html.escape(PANEL_NOTE.format(controls=moves))}</p>'
    outputs.append(html_output("".join(f'<div class="vilab-static-readout">{r}</div>' for r in readout) + note))
    return outputs, png, _html_text(" ".join(header))


def without_text_colours(markup):
    """Drop inline ``color:`` declarations: a panel's readout may colour text like its plot's lines (e.g. the
    pathwise green, 3.4:1 on white), below the 4.5:1 contrast that text needs (axe-core: color-contrast)."""
    return re.sub(r"(?<![-\w])color:\s*[^;'\"]+;?", "", markup)


def html_output(markup):
    return nbformat.v4.new_output("display_data", data={"text/html": markup})


# --- 2. prepare: one notebook --------------------------------------------------------


def figure_alt(description, prose):
    text = math_to_text(description).rstrip(". ") + "." if description else "Figure."
    if prose:
        text += " Context: " + first_sentences(prose, 260)
    return text


def prepare_notebook(nb):
    """Make an executed notebook static for the site; return it and the alt text of each image (by SHA-256).

    - every widget-view output is replaced by ``static_widget_outputs``; the saved widget state is dropped;
    - cells tagged ``solution`` get myst-nb's ``hide-cell`` (collapsed, "Show the reference solution");
    - Markdown images from the network become their alt text;
    - each PNG output gets alt text: what the figure shows (its plain-text form, written by the build kernel's
      start-up file ``kernel_startup.py``) and the first sentences of the Markdown cell above it.
    """
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # a deep copy
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    alt_text, prose = {}, ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = strip_external_images(cell.source)
            prose = markdown_to_text(cell.source)
            continue
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if SOLUTION_TAG in tags:
            cell.metadata["tags"] = [*tags, "hide-cell"]
            cell.metadata["mystnb"] = {
                "code_prompt_show": "Show the reference solution",
                "code_prompt_hide": "Hide the reference solution",
            }
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                static, png, title = static_widget_outputs(state, data[WIDGET_VIEW]["model_id"])
                if png is not None:
                    what = f"First view of the interactive panel '{title}'" if title else "Interactive panel"
                    alt_text[sha256(png)] = figure_alt(what, prose)
                outputs += static
                continue
            if "image/png" in data:
                description = data.get("text/plain", "")
                description = description if description.startswith("Figure") else ""
                alt_text[sha256(base64.b64decode(data["image/png"]))] = figure_alt(description, prose)
            outputs.append(output)
        cell.outputs = outputs
    return nb, alt_text


# --- 2. prepare: the landing page ----------------------------------------------------

INDEX = """\
# vilab: variational inference, from the ELBO to the VAE

An interactive course in {count} Jupyter notebooks. Every formula is derived in the text and then computed and checked
in the next cell; sliders show why one estimator is noisier than another; a variational autoencoder is trained on real
images on a laptop CPU. Each page below is a notebook as it runs, executed once for this site (course version
{version}, release `{tag}`): the reference solutions are collapsed, and each interactive panel shows its first figure.

## The notebooks

```{{list-table}}
:header-rows: 1
:widths: 30 70
:class: vilab-course-table

* - Notebook
  - What it covers
{rows}
```

## How to start

- **In your browser, nothing to install (Binder):** [launch the course on Binder]({binder}). JupyterLab opens at
  `00_start_here.ipynb` (the first start takes a few minutes; changes are not saved, download what you keep).
- **Google Colab:** [open `00_start_here.ipynb` in Colab]({colab}); each notebook's first cell installs vilab there.
  The launch buttons at the top of every notebook page open that notebook on Binder or Colab.
- **On your laptop (Linux, macOS):** clone the [repository]({repo}) at the tag `{tag}` and run `make lab`: it creates a
  virtual environment, installs the pinned packages (the CPU build of PyTorch), finds or fetches the data and opens
  JupyterLab. `make test` runs every notebook as CI does. Windows and class JupyterHubs: see the README.

## For instructors

[Teaching from vilab](instructors.md): adapting a notebook, the tests, a student edition without the solutions,
releases for a term, forks.

**Licences.** Code: MIT. Text and figures of the notebooks: CC BY 4.0. To attribute:
"vilab course ({repo}), CC BY 4.0".

```{{toctree}}
:hidden:
:caption: Notebooks

{toc}
```

```{{toctree}}
:hidden:
:caption: Teaching

instructors
```
"""

INSTRUCTORS = """\
```{include} ../../../CONTRIBUTING.md
```
"""


def index_page(summaries):
    rows = []
    for stem, (title, paragraph) in summaries.items():
        rows.append(f"* - [{title}](notebooks/{stem}.ipynb)\n  - {paragraph}")
    return INDEX.format(
        count=len(summaries),
        version=settings.package_version(),
        tag=settings.RELEASE_TAG,
        rows="\n".join(rows),
        binder=settings.binder_url(),
        colab=settings.colab_url(),
        repo=settings.repository_url(),
        toc="\n".join(f"notebooks/{stem}" for stem in summaries),
    )


def copy_mathjax():
    """MathJax 3 from npm (site/package.json) into the site's _static/mathjax: math renders with no CDN."""
    if not (MATHJAX / "tex-chtml.js").exists():
        sys.exit(f"no MathJax at {MATHJAX}: run `npm ci --prefix site` (make site does)")
    target = ASSETS / "mathjax"
    shutil.rmtree(target, ignore_errors=True)
    bundles = {p.name for p in MATHJAX.glob("*.js")} - {"tex-chtml.js", "core.js", "loader.js", "startup.js"}
    shutil.copytree(MATHJAX, target, ignore=lambda folder, names: [n for n in names if n in bundles])


def prepare(executed):
    shutil.rmtree(SOURCE, ignore_errors=True)
    (SOURCE / "notebooks").mkdir(parents=True)
    alt_text, summaries = {}, {}
    for path, nb in executed.items():
        static, alts = prepare_notebook(nb)
        alt_text.update(alts)
        summaries[path.stem] = notebook_summary(nb)
        nbformat.write(static, SOURCE / "notebooks" / path.name)
    (SOURCE / "index.md").write_text(index_page(summaries))
    (SOURCE / "instructors.md").write_text(INSTRUCTORS)
    (SOURCE / "_alt_text.json").write_text(json.dumps(alt_text, indent=1, ensure_ascii=False))
    copy_mathjax()


def build_html():
    shutil.rmtree(HTML, ignore_errors=True)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-E", "-c", str(SITE), "-W", "--keep-going", "-q"]
    subprocess.run([*command, str(SOURCE), str(HTML)], check=True, cwd=ROOT)
    (HTML / ".nojekyll").touch()  # GitHub Pages: serve _static as is


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="re-execute every notebook")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only the notebooks whose name starts with NAME")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    chosen = [p for p in notebooks() if not args.only or p.name.startswith(tuple(args.only))]
    print(f"site: executing {len(chosen)} notebooks (offline, fresh kernel each)")
    executed, times = {}, {}
    for path in chosen:
        executed[path], times[path.name] = executed_notebook(path, force=args.force)
    prepare(executed)
    print("site: sphinx-build")
    build_html()
    pages = sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html"))
    total = time.perf_counter() - start
    report = {"seconds_total": round(total, 1), "execute_seconds": times, "pages": pages}
    (ARTIFACTS / "build.json").write_text(json.dumps(report, indent=1))
    print(f"site: {len(pages)} pages in {HTML.relative_to(ROOT)} ({total:.0f} s; details in artifacts/site/build.json)")


if __name__ == "__main__":
    main()
