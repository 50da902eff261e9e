"""Local addresses: everything in the test bed binds 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Collection

LOCAL_HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    The port is released before the caller binds it; servers started on it fail loudly (and the
    readiness wait says so) in the rare case another process takes it first.
    """
    return free_ports(1)[0]


def free_ports(count: int, taken: Collection[int] = ()) -> list[int]:
    """``count`` distinct free ports, none of them in ``taken`` (ports handed out earlier, perhaps not bound yet).

    Every socket stays open until all are picked, so the kernel cannot hand one port out twice.
    """
    with contextlib.ExitStack() as stack:
        ports: list[int] = []
        while len(ports) < count:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((LOCAL_HOST, 0))
            port = int(sock.getsockname()[1])
            if port not in taken:
                ports.append(port)
        return ports
