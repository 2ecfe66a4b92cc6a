"""Numbers as people read them: durations, shares, counts."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from citysim.scenario import DISTRICT_KINDS


def _num(x: float | None) -> float:
    return np.nan if x is None else float(x)


def _dur(minutes: float | None) -> str:
    """A duration in readable units: minutes under 1.5 h, hours under 2 days, else days."""
    m = _num(minutes)
    if math.isnan(m):
        return "-"
    if m < 10:
        return f"{m:.1f} min"
    if m < 90:
        return f"{m:.0f} min"
    if m < 2880:
        return f"{m / 60:.1f} h"
    return f"{m / 1440:.1f} d"


def _pct(share: float | None) -> str:
    s = _num(share)
    return "-" if math.isnan(s) else f"{100 * s:.1f}%"


def _fmt(x: object) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.3g}"
    return str(x)


def _by_kind(groups: Mapping) -> dict:
    """Groups keyed by district kind in the order core, urban ... mountain."""
    order = {k: i for i, k in enumerate(DISTRICT_KINDS)}
    return dict(sorted(groups.items(), key=lambda kv: order.get(kv[0], len(order))))
