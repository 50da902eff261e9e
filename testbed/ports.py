"""Local addresses: everything in the test bed binds 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket

LOCAL_HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    The port is released before the caller binds it; servers started on it fail loudly (and the
    readiness wait says so) in the rare case another process takes it first.
    """
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports: all held open while picked, so the kernel cannot hand one out twice."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in socks:
            sock.bind((LOCAL_HOST, 0))
        return [int(sock.getsockname()[1]) for sock in socks]
