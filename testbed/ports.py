"""Local addresses: everything in the test bed binds 127.0.0.1."""

from __future__ import annotations

import socket

LOCAL_HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    The port is released before the caller binds it; servers started on it fail loudly (and the
    readiness wait says so) in the rare case another process takes it first.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCAL_HOST, 0))
        return int(sock.getsockname()[1])
