"""Stability: which units cannot keep up with the work they are given.

An unstable unit's queue grows without end, so every figure that involves it moves
with the run's length: such a comparison is of run lengths, not of regimes. The rule
(:func:`citysim.daily.unstable`): over the window, work offered at least the staff
time on duty, or the mean wait of the window's last week over 1.5 times the first
week's (and longer by more than a quarter hour).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from citysim.daily import unstable

__all__ = ["unstable_units"]


def unstable_units(units: pd.DataFrame) -> dict:
    """The unstable units of a run, from the units table.

    Returns:
        ``count``, ``grid_workers`` (how many of them are grid workers) and ``units``: for each
        unstable unit other than grid workers, its ``unit``, ``kind``, ``load`` (work offered /
        time on duty) and mean waits in the window's first and last weeks (minutes).
    """
    cols = ("offered_min", "on_duty_min", "wait_first_week_min", "wait_last_week_min")
    offered, on_duty, first, last = (units[c].to_numpy(dtype=float, na_value=np.nan) for c in cols)
    bad = unstable(offered, on_duty, first, last)
    grid = units["kind"].to_numpy(dtype=object) == "grid"
    with np.errstate(invalid="ignore", divide="ignore"):
        load = offered / on_duty
    rows = [
        {
            "unit": units["unit"].iloc[i],
            "kind": units["kind"].iloc[i],
            "load": load[i],
            "wait_first_week_min": first[i],
            "wait_last_week_min": last[i],
        }
        for i in np.flatnonzero(bad & ~grid)
    ]
    rows.sort(key=lambda r: -(r["load"] if r["load"] == r["load"] else 0))
    return {"count": int(bad.sum()), "grid_workers": int((bad & grid).sum()), "units": rows}
