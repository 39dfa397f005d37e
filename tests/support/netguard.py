"""Refuse every network connection that leaves this machine, and remember the attempt.

Tests must only talk to servers on 127.0.0.1 (the local Hub, Gradio apps, the OpenAI-compatible
server). A library that quietly reaches for the internet would make tests slow, flaky or wrong, so
any such attempt raises at once *and* is recorded, so the test fails even if the library swallows it.

Child processes (scripts, apps) install the same guard through `netguard_site/sitecustomize.py`. Their
attempts cannot reach the parent's `ATTEMPTS` list, so a child appends each one to the file named by
`LLMFT_NETGUARD_LOG` (which `tests.support.apps.guarded_env` sets to `child_log_path()`), and the
parent's fixture reads what was added there during each test (`child_attempts`) and fails the test.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import tempfile
from pathlib import Path

ATTEMPTS: list[str] = []
LOG_ENV = "LLMFT_NETGUARD_LOG"
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


def child_log_path() -> Path:
    """Where this (parent) process's children append their attempts: one file per test process."""
    return Path(tempfile.gettempdir()) / f"llmft-netguard-children-{os.getpid()}.log"


def child_attempts(offset: int = 0) -> tuple[list[str], int]:
    """Attempts the children wrote to `child_log_path()` past byte `offset`, and the new offset."""
    path = child_log_path()
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    # Only whole lines: a child may be writing the next one right now.
    complete = data[: data.rfind(b"\n") + 1]
    lines = complete.decode("utf-8", errors="replace").splitlines()
    return [line for line in lines if line.strip()], offset + len(complete)


def _report_to_parent(host: object) -> None:
    """In a child process: append the attempt to the parent's file (one short line, appended whole)."""
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    line = f"pid {os.getpid()}: {host}\n".encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError:
        pass  # the guard still raises; the child's own error then says what was blocked


def _refuse(host: object) -> None:
    ATTEMPTS.append(str(host))
    _report_to_parent(host)
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
