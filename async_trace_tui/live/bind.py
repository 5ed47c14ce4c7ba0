"""Addresses for the receivers: HOST:PORT parsed, ports taken before the TUI starts, so that a
port in use is a one-line error (exit 2) rather than a TUI that flashes and dies."""

from __future__ import annotations

import ipaddress
import socket

DEFAULT_GRPC = "127.0.0.1:4317"
DEFAULT_HTTP = "127.0.0.1:4318"


class BindError(Exception):
    """One line for the user."""


def parse_address(text: str, option: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:PORT` for IPv6; `:PORT` means 127.0.0.1)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise BindError(f"{option}: {text!r} is not HOST:PORT (a port from 0 to 65535)")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int, what: str) -> socket.socket:
    """A bound TCP socket (not yet listening); port 0 takes a free port."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise BindError(f"cannot listen for {what} on {host}:{port}: {e.strerror or e}") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
    except OSError as e:
        sock.close()
        why = "the port is in use" if e.errno in (98, 48) else (e.strerror or str(e))
        raise BindError(f"cannot listen for {what} on {host}:{port}: {why}") from None
    return sock


def shown(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
