"""Random streams: one run seed, many independent numpy Generators.

Every random draw in citysim comes from a :class:`numpy.random.Generator` made
here. A stream is named by a purpose (``"occurrence"``, ``"detection"``,
``"service"`` ...) and by integer keys (usually the simulated day), and is
derived from the run's seed through :class:`numpy.random.SeedSequence`'s
``spawn_key``. Two consequences matter for experiments:

* the same seed, purpose and keys give the same numbers in any process, in any
  order of requests (no hidden global state);
* the draws that decide *what happens in the city* (where and when incidents
  occur) never depend on the regime, and the draws that decide *what happens to
  an incident* are made in bulk per day for every incident and stage, whether a
  regime uses them or not. So for one seed every regime sees the same
  incidents and each incident keeps its own dice (common random numbers).
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["Streams", "purpose_key"]


def purpose_key(purpose: str) -> int:
    """A stable integer for a name (Python's ``hash`` is salted per process)."""
    return zlib.crc32(purpose.encode("utf-8"))


class Streams:
    """Named random streams derived from one run seed.

    Args:
        seed: The run's seed (a non-negative integer).

    Example:
        >>> streams = Streams(7)
        >>> a = streams.generator("occurrence", 0).random()
        >>> b = Streams(7).generator("occurrence", 0).random()
        >>> a == b
        True
    """

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        self.seed = int(seed)

    def seed_sequence(self, purpose: str, *keys: int) -> np.random.SeedSequence:
        """The SeedSequence of one stream."""
        return np.random.SeedSequence(entropy=self.seed, spawn_key=(purpose_key(purpose), *(int(k) for k in keys)))

    def generator(self, purpose: str, *keys: int) -> np.random.Generator:
        """A fresh Generator for ``purpose`` and ``keys`` (same inputs, same numbers)."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(purpose, *keys)))
