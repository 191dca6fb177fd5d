"""No network at all: installed at start-up (by sitecustomize) in every Python process with this folder on PYTHONPATH.

`make test` puts ``tests/offline`` on PYTHONPATH for its nbval run, so pytest
and every notebook kernel it starts can reach only loopback addresses and
Unix sockets. Any other connection, datagram or host-name lookup raises
``OSError`` before the operating system is asked to do anything (no packet
leaves). Jupyter's own kernel traffic (ZeroMQ over 127.0.0.1) is unaffected.
"""

import ipaddress
import socket

MESSAGE = "vilab offline guard: no network access allowed here (tried {!r})"
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_local_host(host):
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host is None or host.lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a host name other than localhost: resolving it would already use the network


def _is_local_address(sock, address):
    if sock.family == getattr(socket, "AF_UNIX", None) or not isinstance(address, tuple):
        return True
    return _is_local_host(address[0])


def _guard(method):
    def guarded(self, address, *args):
        if not _is_local_address(self, address):
            raise OSError(MESSAGE.format(address))
        return method(self, address, *args)

    guarded.__name__ = method.__name__
    return guarded


def _guard_sendto(method):
    def sendto(self, data, *args):
        if not _is_local_address(self, args[-1]):
            raise OSError(MESSAGE.format(args[-1]))
        return method(self, data, *args)

    return sendto


def _guard_lookup(function):
    def lookup(host, *args, **kwargs):
        if not _is_local_host(host):
            raise OSError(MESSAGE.format(host))
        return function(host, *args, **kwargs)

    lookup.__name__ = function.__name__
    return lookup


def _create_connection(address, *args, **kwargs):
    if not _is_local_host(address[0]):
        raise OSError(MESSAGE.format(address))
    return _real_create_connection(address, *args, **kwargs)


_real_create_connection = socket.create_connection
socket.socket.connect = _guard(socket.socket.connect)
socket.socket.connect_ex = _guard(socket.socket.connect_ex)
socket.socket.sendto = _guard_sendto(socket.socket.sendto)
socket.getaddrinfo = _guard_lookup(socket.getaddrinfo)
socket.gethostbyname = _guard_lookup(socket.gethostbyname)
socket.gethostbyname_ex = _guard_lookup(socket.gethostbyname_ex)
socket.create_connection = _create_connection
socket.VILAB_OFFLINE_GUARD = True  # lets a test check that the guard is active
