"""Where entropy and time come from.

The core is sans-I/O: it never calls ``os.urandom`` or ``time.time`` itself.
Every random byte and every clock reading goes through a ``CryptoProvider``,
so tests can replay byte-identical handshakes with a seeded provider.
"""

from __future__ import annotations

import os
import time
from typing import Protocol


class CryptoProvider(Protocol):
    """Entropy and time for one connection (or many)."""

    def random(self, n: int) -> bytes:
        """``n`` bytes from a cryptographically secure source."""
        ...

    def now(self) -> float:
        """The current unix time in seconds."""
        ...


class DefaultProvider:
    """The operating system's CSPRNG and wall clock."""

    __slots__ = ()

    def random(self, n: int) -> bytes:
        return os.urandom(n)

    def now(self) -> float:
        return time.time()


DEFAULT_PROVIDER: CryptoProvider = DefaultProvider()
