"""Test-wide guards: no network, no GUI backend."""

import os
import socket

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("VILAB_OFFLINE", "1")  # the loaders never try to download in tests

_real_connect = socket.socket.connect


def pytest_addoption(parser):
    parser.addoption(
        "--browser", action="store_true", help="run the real-browser test in tests/browser (make test-browser)"
    )
    parser.addoption("--site", action="store_true", help="test the built website in tests/site (make test-site)")


def pytest_ignore_collect(collection_path, config):
    """tests/browser needs Chromium and minutes: only `make test-browser` (pytest --browser) collects it.

    tests/site needs the built site and its packages: only `make test-site` (pytest --site) collects it.
    """
    for folder, option in (("browser", "--browser"), ("site", "--site")):
        if collection_path.name == folder and collection_path.is_dir() and not config.getoption(option):
            return True
    return None


def _loopback_only(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if self.family == socket.AF_UNIX or host in ("127.0.0.1", "::1", "localhost"):
        return _real_connect(self, address)
    raise OSError(f"tests must not touch the network (tried to connect to {address!r})")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection to a non-loopback address fails loudly inside a test."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
