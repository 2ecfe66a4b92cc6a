"""Per-incident dice: uniforms drawn in bulk per day, purpose and stage.

Each purpose (``route``, ``service``, ``travel`` ...) has its own stream for
the day, and draws one row per incident of a fixed shape whatever the regime
(:meth:`Dice.at` takes some of those numbers without drawing the others):
an incident's third transfer under ``fragmented`` uses the same number it
would under any other regime, and a regime taking an extra step never shifts
another incident's draws.
"""

from __future__ import annotations

import numpy as np

from citysim.rng import Streams, jump_pays, uniforms_at

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
        self.shapes: dict[str, tuple[int, ...]] = {}  # each purpose asked for so far: its row's shape
        self._states: dict[str, tuple[int, int]] = {}  # each stream's start, for Dice.at

    def u(self, purpose: str, *shape: int) -> np.ndarray:
        """Uniforms in [0, 1) of shape ``(n, *shape)`` for one purpose (cached)."""
        key = f"{self.prefix}:{purpose}"
        self.shapes[purpose] = shape
        got = self._cache.get(key)
        if got is None:
            got = self.streams.generator(key, self.day).random((self.n, *shape))
            self._cache[key] = got
        return got

    def at(self, purpose: str, shape: tuple[int, ...], rows: np.ndarray, *index: int) -> np.ndarray:
        """``u(purpose, *shape)[rows, *index]``: the same numbers, computed alone where that pays.

        Only the numbers of ``rows`` at ``index`` are computed, by jumping over the others in
        the stream (see :func:`citysim.rng.uniforms_at`), unless the whole array is drawn
        already or computing them alone would not pay.
        """
        key = f"{self.prefix}:{purpose}"
        self.shapes[purpose] = shape
        whole = (self.n, *shape)
        if key not in self._cache and jump_pays(whole, index):
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = self.streams.pcg_state(key, self.day)
            got = uniforms_at(state, whole, rows, index)
            if got is not None:
                return got
        return self.u(purpose, *shape)[(rows, *index)]
