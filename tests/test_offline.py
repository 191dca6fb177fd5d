"""The offline guard that `make test` puts under its nbval run (tests/offline/offline_guard.py) really cuts the network.

The guarded process tries TEST-NET-1 (192.0.2.1, reserved for documentation,
never routed): the guard must raise its own error at once, before the real
``connect`` runs, so no packet is ever sent. Loopback must keep working: the
notebook kernels talk to nbval over 127.0.0.1.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
GUARD_DIR = ROOT / "tests" / "offline"

PROBE = r"""
import json, socket, time, urllib.request

assert socket.VILAB_OFFLINE_GUARD
out = {}

def attempt(name, action):
    start = time.perf_counter()
    try:
        action()
        out[name] = ["no error", 0.0]
    except OSError as error:
        out[name] = [str(error), time.perf_counter() - start]

tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.settimeout(5)
attempt("connect", lambda: tcp.connect(("192.0.2.1", 80)))
attempt("not connected afterwards", tcp.getpeername)
attempt("connect_ex", lambda: socket.socket().connect_ex(("192.0.2.1", 443)))
attempt("create_connection", lambda: socket.create_connection(("192.0.2.1", 80), timeout=5))
attempt("getaddrinfo", lambda: socket.getaddrinfo("example.com", 80))
attempt("udp sendto", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("192.0.2.1", 53)))
attempt("urlopen", lambda: urllib.request.urlopen("http://192.0.2.1/", timeout=5))

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
client = socket.create_connection(server.getsockname(), timeout=5)
peer, _ = server.accept()
client.sendall(b"ping")
out["loopback"] = peer.recv(4).decode()
left, right = socket.socketpair()
left.sendall(b"unix")
out["unix"] = right.recv(4).decode()
print(json.dumps(out))
"""


def guarded_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(GUARD_DIR), env.get("PYTHONPATH")]))
    return env


def test_guard_blocks_every_non_loopback_route_before_any_packet():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=guarded_env(), capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    for name in ["connect", "connect_ex", "create_connection", "getaddrinfo", "udp sendto", "urlopen"]:
        message, seconds = out[name]
        assert "vilab offline guard" in message, f"{name}: expected the guard's error, got {message!r}"
        # the real connect would block until the 5 s timeout or fail with another error: ours comes first
        assert seconds < 0.5, f"{name}: the guard took {seconds:.3f} s, so the network may have been tried"
    message, _ = out["not connected afterwards"]
    assert "not connected" in message.lower(), f"the socket must never have connected, got {message!r}"
    assert out["loopback"] == "ping"
    assert out["unix"] == "unix"


def test_guard_is_not_active_without_the_pythonpath():
    result = subprocess.run(
        [sys.executable, "-c", "import socket; print(hasattr(socket, 'VILAB_OFFLINE_GUARD'))"],
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "False"


def test_notebook_kernels_inherit_the_guard_and_still_talk_over_loopback(monkeypatch, tmp_path):
    """A kernel started under the guard runs cells (ZeroMQ over 127.0.0.1) and cannot reach the network."""
    for name, value in guarded_env().items():
        monkeypatch.setenv(name, value)
    source = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('192.0.2.1', 80), timeout=5)\n"
        "except OSError as error:\n"
        "    print(socket.VILAB_OFFLINE_GUARD, error)"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    text = notebook.cells[0].outputs[0]["text"]
    assert text.startswith("True vilab offline guard"), text
