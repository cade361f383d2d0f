"""A free TCP port on localhost: torch.distributed rendezvous, or a URL where nothing answers."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port that was free a moment ago (bound to, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
