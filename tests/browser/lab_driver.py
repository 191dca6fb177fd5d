"""Drive the course as a student meets it: JupyterLab on 127.0.0.1 and a headless Chromium.

Shared by the browser test (``make test-browser``) and the latency benchmark
(``make bench``). Everything stays on this machine: the server listens on
127.0.0.1 only, the browser's resolver maps every other host to nothing and
any request to another host is aborted (and recorded in ``BLOCKED``).

Nothing is left running: ``jupyterlab_server`` and ``chromium`` are
context managers that stop the server (and its kernels) and the browser
whatever happens inside them.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = Path(os.environ.get("VILAB_NOTEBOOK_DIR", ROOT / "notebooks"))  # another folder: for checking the test
SCREENSHOT_DIR = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("VILAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
PANEL = ".vilab-panel"
PLOT_IMAGE = "img.vilab-plot, .vilab-plot img"
SLIDER_HANDLE = ".widget-slider .noUi-handle"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_FAILURES = ("Loading widget", "model not found", "Error displaying widget")
BLOCKED = []  # URLs of requests to anything but 127.0.0.1 (aborted)

# JupyterLab user settings: render every cell (no windowing), never save (the notebooks stay clean),
# no news, no update checks.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def notebooks():
    """Every notebook of the course, in order."""
    return sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _data_env():
    """Keep the data reachable from the isolated HOME: pass $VILAB_DATA on, or point it at the user cache."""
    if os.environ.get("VILAB_DATA"):
        return {"VILAB_DATA": os.environ["VILAB_DATA"]}
    from vilab.data import cache_dir

    return {"VILAB_DATA": str(cache_dir())} if cache_dir().is_dir() else {}


def _get(url, timeout=5.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


@contextlib.contextmanager
def jupyterlab_server(startup_timeout=120.0):
    """Start ``.venv/bin/jupyter lab`` on a free 127.0.0.1 port (no token) in an isolated home; yield its URL."""
    tmp = Path(tempfile.mkdtemp(prefix="vilab-lab-"))
    settings = tmp / "lab-settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    home = tmp / "home"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "XDG_", "IPYTHON", "MPL"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local" / "share" / "jupyter"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        IPYTHONDIR=str(home / ".ipython"),
        PYTHONNOUSERSITE="1",
        VILAB_OFFLINE="1",
        **_data_env(),
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(Path(sys.executable).parent / "jupyter"),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={NOTEBOOK_DIR}",
        "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        f"--FileCheckpoints.checkpoint_dir={tmp / 'checkpoints'}",
        "--ServerApp.terminals_enabled=False",
    ]
    if os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    log_path = tmp / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {server.returncode}:\n{_tail(log_path)}")
            try:
                _get(f"{url}/api/status")
                break
            except OSError as error:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"JupyterLab did not answer on {url} within {startup_timeout:.0f} s:\n{_tail(log_path)}"
                    ) from error
                time.sleep(0.5)
        yield url
    finally:
        _stop(server)
        shutil.rmtree(tmp, ignore_errors=True)


def _tail(path, lines=40):
    return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])


def _stop(server):
    """SIGTERM lets the server shut its kernels down; then kill what is left of its process group."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(server.pid, signal.SIGKILL)  # kernels the server started, if any survived


def shutdown_kernels(url):
    """Shut every running kernel down (one notebook's kernel must not eat the next one's memory)."""
    xsrf = {"Cookie": "_xsrf=vilab-test", "X-XSRFToken": "vilab-test"}  # the server's check: cookie == header
    for kernel in _get(f"{url}/api/kernels"):
        request = urllib.request.Request(f"{url}/api/kernels/{kernel['id']}", method="DELETE", headers=xsrf)
        urllib.request.urlopen(request, timeout=60).close()


@contextlib.contextmanager
def chromium(width=1400, height=900):
    """A headless Debian Chromium (a browser context) with a fresh profile that can reach 127.0.0.1 only.

    Open one page per notebook (``context.new_page()``) and close it afterwards.
    """
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"no Chromium at {CHROMIUM}: install it (apt install chromium) or set VILAB_CHROMIUM")
    profile = tempfile.mkdtemp(prefix="vilab-chromium-")
    try:
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": width, "height": height},
                env={**os.environ, "HOME": profile},  # Chromium's crash-report folder and the like stay in the profile
            )
            try:
                context.route(re.compile(r"^(?!https?://127\.0\.0\.1[:/]).*"), _block)
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _block(route):
    BLOCKED.append(route.request.url)
    route.abort()


# --- one notebook, as the student runs it ---------------------------------------

_STATE_JS = """
() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.map((cell, index) => {
    const model = cell.model;
    const prompt = cell.node.querySelector('.jp-InputArea-prompt');
    const outputs = model.type === 'code' ? model.outputs.toJSON() : [];
    const stderr = Array.from(cell.node.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')).map(n => n.innerText);
    // the output area shows the model's outputs in order, one child each
    const shown = model.type === 'code' ? Array.from(cell.outputArea.node.children) : [];
    const widgetViews = outputs.map((o, i) => [o, shown[i]])
      .filter(([o, node]) => o.data && o.data['application/vnd.jupyter.widget-view+json'])
      .map(([o, node]) => ({shown: node !== undefined,
                            rendered: node !== undefined && node.querySelector('.jupyter-widgets') !== null,
                            text: node ? node.innerText.slice(0, 300) : ''}));
    return {
      index, type: model.type,
      empty: model.sharedModel.getSource().trim() === '',
      count: model.type === 'code' ? model.executionCount : null,
      prompt: prompt ? prompt.innerText : '',
      errors: outputs.filter(o => o.output_type === 'error').map(o => ({ename: o.ename, evalue: o.evalue})),
      stderr, widgetViews,
    };
  });
  return {path: panel.context.path, kernel: kernel ? kernel.status : 'none', cells};
}
"""


class NotebookFailure(AssertionError):
    pass


def state(page):
    return page.evaluate(_STATE_JS)


def open_notebook(page, url, name, timeout=180.0):
    """Open ``name`` in JupyterLab and wait until its kernel is idle; return the state."""
    page.goto(f"{url}/lab/tree/{name}?reset")  # ?reset: a fresh workspace, no tabs restored
    current = _wait(
        page,
        lambda s: s is not None and s["path"] == name and s["kernel"] == "idle",
        timeout,
        f"{name}: the notebook did not open with an idle kernel",
    )
    return current


def run_all(page, name, timeout=1200.0):
    """Run > Run All Cells from the menu; wait until the kernel is idle and every cell has run (or one failed)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()

    def finished(s):
        code = [c for c in s["cells"] if c["type"] == "code" and not c["empty"]]
        running = any("*" in c["prompt"] for c in code)
        failed = any(c["errors"] for c in code)
        return s["kernel"] == "idle" and not running and (failed or all(c["count"] for c in code))

    _wait(page, finished, timeout, f"{name}: Run All did not finish within {timeout:.0f} s", stable=2)
    return state(page)


def _wait(page, predicate, timeout, message, stable=1, poll=0.5):
    """Poll the notebook state until ``predicate`` holds ``stable`` times in a row."""
    deadline, hits, current = time.monotonic() + timeout, 0, None
    while True:
        current = state(page)
        hits = hits + 1 if predicate(current) else 0
        if hits >= stable:
            return current
        if time.monotonic() > deadline:
            raise NotebookFailure(f"{message}; last state: {_summary(current)}")
        page.wait_for_timeout(poll * 1000)


def _summary(current):
    if current is None:
        return "no notebook panel"
    code = [c for c in current["cells"] if c["type"] == "code" and not c["empty"]]
    pending = [c["index"] for c in code if not c["count"]]
    return f"kernel {current['kernel']}, cells not yet run: {pending}"


def cell_errors(current):
    """(cell index, description) for every error output and every traceback printed to stderr."""
    problems = []
    for cell in current["cells"]:
        for error in cell["errors"]:
            problems.append((cell["index"], f"{error['ename']}: {error['evalue']}"))
        for text in [] if cell["errors"] else cell["stderr"]:  # (an error output is rendered as stderr too)
            if "Traceback" in text or re.search(r"^\w*(Error|Exception)\b", text, re.M):
                problems.append((cell["index"], "traceback printed to stderr: " + text.strip()[-400:]))
    return problems


def not_run(current):
    return [c["index"] for c in current["cells"] if c["type"] == "code" and not c["empty"] and not c["count"]]


def widget_problems(current):
    """(cell index, description) for every widget output that did not render."""
    problems = []
    for cell in current["cells"]:
        for view in cell["widgetViews"]:
            failure = next((text for text in WIDGET_FAILURES if text in view["text"]), None)
            if failure or not view["rendered"]:
                shown = repr(view["text"]) if view["shown"] else "nothing"
                problems.append((cell["index"], f"a widget output did not render (the cell shows {shown})"))
    return problems


def wait_for_widgets(page, name, timeout=60.0):
    """Wait until every widget output has rendered; return the problems left after ``timeout``."""
    try:
        current = _wait(page, lambda s: not widget_problems(s), timeout, "", poll=1.0)
    except NotebookFailure:
        current = state(page)
    return widget_problems(current)


def panels(page):
    """The interactive panels on the page, each with the index of the cell that shows it."""
    locator = page.locator(PANEL)
    indices = locator.evaluate_all(
        "els => { const cells = Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'));"
        " return els.map(el => cells.indexOf(el.closest('.jp-Cell'))); }"
    )
    return [(locator.nth(i), index) for i, index in enumerate(indices)]


def plot_source(panel):
    return panel.locator(PLOT_IMAGE).first.get_attribute("src")


def slider_handles(panel):
    handles = panel.locator(SLIDER_HANDLE)
    return [handles.nth(i) for i in range(handles.count())]


def slider_label(handle):
    return handle.evaluate(
        "h => { const s = h.closest('.widget-slider'); const l = s && s.querySelector('.widget-label');"
        " return l ? l.innerText : '?'; }"
    )


# Wait (in the page) for the plot image to load a new source; resolve with the time since the key went down.
_ARM_JS = """
([panel, key]) => {
  const img = panel.querySelector('img.vilab-plot, .vilab-plot img');
  const before = img.getAttribute('src');
  window.__vilabChange = new Promise(resolve => {
    const onLoad = () => {
      if (img.getAttribute('src') !== before) {
        img.removeEventListener('load', onLoad);
        resolve(performance.now() - window.__vilabKeyDown);
      }
    };
    img.addEventListener('load', onLoad);
  });
  window.__vilabKeyDown = null;
  document.addEventListener('keydown', () => {
    if (window.__vilabKeyDown === null) window.__vilabKeyDown = performance.now();
  }, {capture: true, once: true});
}
"""


def move_slider(page, panel, handle, timeout=30.0):
    """Press one arrow key on ``handle`` (right, or left at the maximum); return the ms until the new plot loaded.

    Returns None when the plot did not change within ``timeout``.
    """
    handle.scroll_into_view_if_needed()
    now, top = (float(handle.get_attribute(a)) for a in ("aria-valuenow", "aria-valuemax"))
    key = "ArrowLeft" if now >= top else "ArrowRight"
    panel.evaluate(_ARM_JS.replace("([panel, key])", "(panel)"))
    handle.focus()
    handle.press(key)
    try:
        return page.evaluate(
            f"Promise.race([window.__vilabChange, new Promise(r => setTimeout(() => r(null), {timeout * 1000}))])"
        )
    except Exception:  # noqa: BLE001 - a page error here means the plot never changed
        return None


def screenshot(page, name, max_height=16000):
    """A full-page screenshot of the whole notebook (the viewport is stretched to the notebook's height)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "() => { window.jupyterapp.shell.collapseLeft();"
        " const n = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');"
        " if (n) n.scrollTop = 0; return n ? n.scrollHeight : document.body.scrollHeight; }"
    )
    page.set_viewport_size({"width": size["width"], "height": int(min(max(height + 150, size["height"]), max_height))})
    page.wait_for_timeout(500)
    path = SCREENSHOT_DIR / (Path(name).stem + ".png")
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path
