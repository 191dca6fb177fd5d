"""The built website in a real headless Chromium, with the network cut (``make test-site``).

Every page is served from 127.0.0.1; the browser's resolver maps every other
host to nothing and any request elsewhere is aborted and recorded, so a page
that needed a CDN (MathJax, fonts, the widget manager) would fail here. Per
page: no console error, math typeset by the bundled MathJax (no raw ``$$`` or
``\\frac`` left in the text, no MathJax error), every image loaded and with
alt text, every internal link and anchor resolving, and an axe-core audit
with no serious or critical violation. A full-page screenshot per page goes
to ``artifacts/site/screenshots/``, the audit to ``artifacts/site/audit.json``.
"""

import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from site_helpers import ROOT, SITE_ARTIFACTS, site_pages

AXE = ROOT / "site" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = SITE_ARTIFACTS / "screenshots"
BLOCKING_IMPACTS = ("serious", "critical")
MAX_SCREENSHOT_HEIGHT = 30000
AUDIT = {}  # page -> {"violations": [...], "links": [...]}, written to artifacts/site/audit.json

RAW_TEX_JS = r"""
() => {
  const skip = el => el.closest('pre, code, script, style, textarea, mjx-container, .highlight');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement || skip(node.parentElement)) continue;
    const text = node.textContent;
    if (/\$\$|\\[A-Za-z]{2,}|\$[^$\s][^$\n]{0,80}\$/.test(text)) raw.push(text.trim().slice(0, 160));
  }
  const untypeset = Array.from(document.querySelectorAll('.math')).filter(m => !m.querySelector('mjx-container'));
  return {raw, untypeset: untypeset.map(m => m.textContent.slice(0, 120)),
          errors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 120)),
          typeset: document.querySelectorAll('mjx-container').length};
}
"""

IMAGES_JS = """
async () => {
  const images = Array.from(document.images);
  images.forEach(img => { img.loading = 'eager'; });
  const broken = await Promise.all(images.map(img => img.decode().then(() => null, () => img.src)));
  return {count: images.length, broken: broken.filter(Boolean),
          no_alt: images.filter(img => !img.alt || /\\.(png|svg|jpe?g)$/i.test(img.alt)).map(img => img.src)};
}
"""

LINKS_JS = "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"


def _mathjax_ready(page):
    return page.evaluate(
        "() => (window.MathJax && MathJax.startup && MathJax.startup.promise)"
        " ? MathJax.startup.promise.then(() => true) : false"
    )


def _ids(path, cache={}):  # noqa: B006 - a per-run cache of each file's element ids
    if path not in cache:
        cache[path] = set(re.findall(r'\bid="([^"]+)"', path.read_text(errors="replace")))
    return cache[path]


def broken_internal_links(urls, site_url, site_html, page_path):
    """Links to this site whose file does not exist, or whose #anchor is no element id of the target page."""
    broken = []
    for url in urls:
        if not url.startswith(site_url):
            continue
        parts = urlsplit(url)
        target = site_html / unquote(parts.path).lstrip("/")
        if parts.path.endswith("/") or target.is_dir():
            target = target / "index.html"
        if not target.exists():
            broken.append(f"{url} (no file {target.relative_to(site_html)} linked from {page_path})")
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _ids(target):
            broken.append(f"{url} (no element with id {parts.fragment!r})")
    return broken


@pytest.fixture(scope="module", autouse=True)
def audit_report():
    yield
    SITE_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    impacts = Counter(v["impact"] for page in AUDIT.values() for v in page["violations"])
    summary = {"pages": len(AUDIT), "violations_by_impact": dict(impacts), "per_page": AUDIT}
    (SITE_ARTIFACTS / "audit.json").write_text(json.dumps(summary, indent=1))


def test_there_are_pages_for_every_notebook():
    pages = site_pages()
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert "index.html" in pages, "no built site: run `make site` first"
    missing = [nb.name for nb in notebooks if f"notebooks/{nb.stem}.html" not in pages]
    assert not missing, f"notebooks without a page: {missing}"


@pytest.mark.parametrize("page_path", site_pages(), ids=str)
def test_page(page_path, browser, site_url, site_html):
    page = browser.new_page()
    console, page_errors, failed = [], [], []
    page.on("console", lambda message: message.type == "error" and console.append(message.text))
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("requestfailed", lambda request: failed.append(request.url))
    try:
        response = page.goto(f"{site_url}/{page_path}", wait_until="load")
        assert response is not None and response.ok, f"{page_path}: HTTP {response and response.status}"
        has_mathjax = _mathjax_ready(page)
        math = page.evaluate(RAW_TEX_JS)
        images = page.evaluate(IMAGES_JS)
        links = page.evaluate(LINKS_JS)
        page.add_script_tag(path=str(AXE))
        axe = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        page.wait_for_timeout(300)  # late console messages (fonts, MathJax menu)
        _screenshot(page, page_path)
    finally:
        page.close()

    violations = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in axe["violations"]
    ]
    AUDIT[page_path] = {"violations": violations, "images": images["count"], "math": math["typeset"]}
    assert not console and not page_errors, f"{page_path}: console errors {console}, page errors {page_errors}"
    assert not failed, f"{page_path}: requests that failed (network cut, or missing files): {failed}"
    if math["typeset"] or math["untypeset"]:
        assert has_mathjax, f"{page_path}: math on the page but MathJax did not load"
    assert not math["raw"], f"{page_path}: raw TeX visible (math not rendered): {math['raw'][:5]}"
    assert not math["untypeset"], f"{page_path}: math elements MathJax did not typeset: {math['untypeset'][:5]}"
    assert not math["errors"], f"{page_path}: MathJax errors: {math['errors'][:5]}"
    assert not images["broken"], f"{page_path}: images that did not load: {images['broken']}"
    assert not images["no_alt"], f"{page_path}: images without meaningful alt text: {images['no_alt']}"
    broken = broken_internal_links(links, site_url, site_html, page_path)
    assert not broken, f"{page_path}: broken internal links:\n" + "\n".join(broken)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"{page_path}: axe-core serious/critical violations: {json.dumps(blocking, indent=1)}"


def _screenshot(page, page_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = Path(page_path).with_suffix("").as_posix().replace("/", "__") + ".png"
    height = page.evaluate("() => document.documentElement.scrollHeight")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": int(min(height, MAX_SCREENSHOT_HEIGHT))})
    page.wait_for_timeout(200)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=height <= MAX_SCREENSHOT_HEIGHT)
    page.set_viewport_size(size)


def test_the_landing_page_reads_on_a_phone(browser, site_url):
    """A phone-width view (390 px): no horizontal scrolling, the course table visible; screenshot for a look."""
    page = browser.new_page()
    try:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{site_url}/index.html", wait_until="load")
        _mathjax_ready(page)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "index__phone.png"), full_page=True)
    finally:
        page.close()
    assert overflow <= 1, f"the landing page scrolls sideways on a phone by {overflow} px"


def test_the_network_is_cut_and_no_page_reached_for_it(browser, site_url):
    """Positive control: a request to a CDN fails in this browser, and none of the pages above made one."""
    import lab_driver

    page = browser.new_page()
    try:
        page.goto(f"{site_url}/index.html")
        reached = page.evaluate(
            "() => fetch('https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js').then(() => true, () => false)"
        )
    finally:
        page.close()
    assert reached is False, "the browser reached a CDN: the test's network cut does not work"
    outside = [url for url in lab_driver.BLOCKED if "cdn.jsdelivr.net/npm/mathjax@3" not in url]
    assert not outside, f"pages tried to load from outside the site: {sorted(set(outside))[:10]}"
