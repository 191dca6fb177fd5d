"""Shared by the website tests: where the built site is, its pages, a local static server."""

import contextlib
import functools
import http.server
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SITE_HTML = ROOT / "artifacts" / "site" / "html"
SITE_ARTIFACTS = ROOT / "artifacts" / "site"
sys.path.insert(0, str(ROOT / "tests" / "browser"))  # lab_driver: the Chromium the browser test already uses
sys.path.insert(0, str(ROOT / "site"))  # site/build.py and site/settings.py


def site_pages():
    """Every HTML page of the built site (relative paths), or [] when it is not built."""
    if not SITE_HTML.is_dir():
        return []
    return sorted(p.relative_to(SITE_HTML).as_posix() for p in SITE_HTML.rglob("*.html") if "_static" not in p.parts)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory):
    """A static file server for ``directory`` on 127.0.0.1 (a free port), stopped afterwards."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
