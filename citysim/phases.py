"""Periodic processes without a citywide phase.

A department's coordination meeting, the poll of its sensor alerts: each unit
keeps its own rhythm. Its phase is a fraction of the cycle, drawn once from the
run's seed and keyed by the unit's *name* (not its number, since the set of
units can differ between regimes), so that every regime gives a unit the same
phase and a weekly and a daily meeting of one desk start at the same fraction
of their cycles. Nothing happens at a citywide minute 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from citysim.rng import Streams, purpose_key

__all__ = ["next_cycle", "unit_phases"]


def unit_phases(streams: Streams, names: Sequence[str]) -> np.ndarray:
    """Each named unit's phase, a fraction of its cycles in [0, 1) (same name, same phase, any regime)."""
    return np.array([streams.generator("phase", purpose_key(n)).random() for n in names])


def next_cycle(t: np.ndarray, interval: np.ndarray | float, phase: np.ndarray | float) -> np.ndarray:
    """The first time at or after ``t`` of the form ``phase * interval + k * interval`` (``phase`` a fraction)."""
    interval = np.asarray(interval, dtype=float)
    offset = np.asarray(phase, dtype=float) * interval
    return np.ceil((np.asarray(t, dtype=float) - offset) / interval) * interval + offset
