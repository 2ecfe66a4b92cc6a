"""Choosing the engine: the compiled one (numba) where installed, else the pure-Python one.

Both give identical results (a test checks); ``CITYSIM_ENGINE=python`` or ``numba`` forces one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import simpy

from citysim.engine import Network

__all__ = ["make_network"]


def make_network(env: simpy.Environment, servers: Sequence[int], engine: str | None = None):
    """The engine to use: compiled with numba where installed, else this module's.

    Args:
        engine: ``"python"``, ``"numba"`` or ``"auto"`` (default: the ``CITYSIM_ENGINE``
            environment variable, else ``"auto"``). Both give identical results.
    """
    engine = engine or os.environ.get("CITYSIM_ENGINE", "auto")
    if engine not in ("auto", "python", "numba"):
        raise ValueError(f"engine must be 'auto', 'python' or 'numba', not {engine!r}")
    if engine != "python":
        try:
            from citysim._fast import FastNetwork
        except ImportError:
            if engine == "numba":
                raise
        else:
            return FastNetwork(env, servers)
    return Network(env, servers)
