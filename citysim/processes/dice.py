"""Per-incident dice: uniforms drawn in bulk per day, purpose and stage.

Each purpose (``route``, ``service``, ``travel`` ...) has its own stream for
the day, and draws one row per incident of a fixed shape whatever the regime:
an incident's third transfer under ``fragmented`` uses the same number it
would under any other regime, and a regime taking an extra step never shifts
another incident's draws.
"""

from __future__ import annotations

import numpy as np

from citysim.rng import Streams

__all__ = ["Dice"]


class Dice:
    """Uniform numbers for ``n`` incidents of one day.

    Args:
        streams: the run's streams.
        purpose_prefix: separates incidents from false alarms, e.g. ``"incident"``.
        day: the simulated day.
        n: number of incidents (rows).
    """

    def __init__(self, streams: Streams, purpose_prefix: str, day: int, n: int) -> None:
        self.streams = streams
        self.prefix = purpose_prefix
        self.day = day
        self.n = n
        self._cache: dict[str, np.ndarray] = {}

    def u(self, purpose: str, *shape: int) -> np.ndarray:
        """Uniforms in [0, 1) of shape ``(n, *shape)`` for one purpose (cached)."""
        key = f"{self.prefix}:{purpose}"
        got = self._cache.get(key)
        if got is None:
            got = self.streams.generator(key, self.day).random((self.n, *shape))
            self._cache[key] = got
        return got
