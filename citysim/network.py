"""Choosing the engine: the compiled one (numba) where installed, else the pure-Python one.

Both give identical results (a test checks); ``CITYSIM_ENGINE=python`` or ``numba`` forces one.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import simpy

from citysim.engine import Network
from citysim.errors import OptionError

__all__ = ["ENGINES", "engine_choice", "make_network"]

ENGINES = ("auto", "python", "numba")
"""Values of ``CITYSIM_ENGINE``."""


def engine_choice(engine: str | None = None) -> str:
    """The engine asked for: ``engine``, else the ``CITYSIM_ENGINE`` environment variable, else ``"auto"``.

    Raises:
        OptionError: for a value not in :data:`ENGINES`, naming where it came from.
    """
    source = "engine" if engine else "CITYSIM_ENGINE"
    engine = engine or os.environ.get("CITYSIM_ENGINE") or "auto"
    if engine not in ENGINES:
        raise OptionError(source, f"{engine!r} is not one of 'auto', 'python' or 'numba'")
    return engine


def make_network(env: simpy.Environment, servers: Sequence[int], engine: str | None = None, classes: int = 1):
    """The engine to use: compiled with numba where installed, else this module's.

    Args:
        env: the clock.
        servers: servers on duty at each unit at the start.
        classes: priority classes of the queues.
        engine: ``"python"``, ``"numba"`` or ``"auto"`` (default: the ``CITYSIM_ENGINE``
            environment variable, else ``"auto"``). Both give identical results.
    """
    engine = engine_choice(engine)
    if engine != "python":
        try:
            from citysim._fast import FastNetwork
        except ImportError:
            if engine == "numba":
                raise OptionError(
                    "CITYSIM_ENGINE", "'numba': numba is not installed (pip install 'citysim[fast]'); or use 'auto'"
                ) from None
        else:
            return FastNetwork(env, servers, classes)
    return Network(env, servers, classes)
