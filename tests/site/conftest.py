"""Fixtures of the website tests (``make test-site``): the built site, a local server, a headless Chromium."""

import pytest
from site_helpers import SITE_HTML, serve


@pytest.fixture(scope="session")
def site_html():
    if not (SITE_HTML / "index.html").exists():
        pytest.fail(f"no built site in {SITE_HTML}: run `make site` first")
    return SITE_HTML


@pytest.fixture(scope="session")
def site_url(site_html):
    with serve(site_html) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium that can reach 127.0.0.1 only (every other request is aborted and recorded)."""
    import lab_driver

    lab_driver.BLOCKED.clear()
    with lab_driver.chromium(width=1280, height=900) as context:
        yield context
