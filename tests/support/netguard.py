"""Refuse every network connection that leaves this machine, and remember the attempt.

Tests must only talk to servers on 127.0.0.1 (the local Hub, Gradio apps, the OpenAI-compatible
server). A library that quietly reaches for the internet would make tests slow, flaky or wrong, so
any such attempt raises at once *and* is recorded, so the test fails even if the library swallows it.
"""

from __future__ import annotations

import ipaddress
import socket

ATTEMPTS: list[str] = []
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}
_installed = False


class NetworkBlockedError(ConnectionRefusedError):
    """Raised for a connection to a non-loopback host during tests."""


def is_loopback(host: object) -> bool:
    if host is None:
        return True
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(name.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(host: object) -> None:
    ATTEMPTS.append(str(host))
    raise NetworkBlockedError(f"tests may only reach 127.0.0.1; something tried to reach {host!r}")


def install() -> None:
    """Patch socket connect and name lookup (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: object) -> object:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):  # type: ignore[index]
            _refuse(address[0])  # type: ignore[index]
        return original_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> object:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):  # type: ignore[index]
            _refuse(address[0])  # type: ignore[index]
        return original_connect_ex(self, address)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        if not is_loopback(host):
            _refuse(host)
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
