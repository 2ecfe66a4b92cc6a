"""Coverage: how much of what goes wrong in the city the city ever learns of.

Three views: the share of incidents detected by the horizon (and by whom:
sensors, patrols, residents ...); for hazards, the share found before they
turn into harm (early warning) and the share that never did (averted); and
the share of residents living where a sensor or a daily grid-worker patrol
reaches.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "DAILY_MIN",
    "detected_by_shares",
    "detected_share",
    "detected_share_by",
    "hazard_warning",
    "population_reach",
]

DAILY_MIN = 1440.0
"""A grid worker passing a cell at least this often (minutes) counts as a daily patrol."""


def _detected(incidents: pd.DataFrame) -> pd.Series:
    return pd.Series(
        (incidents["status"] != "undetected").to_numpy(dtype=bool, na_value=True),
        index=incidents.index,
    )


def detected_share(incidents: pd.DataFrame) -> float:
    """Share of incidents the city learnt of by the horizon (status not ``undetected``).

    Returns:
        A share in [0, 1]; NaN for no incidents.
    """
    return float(_detected(incidents).mean()) if len(incidents) else np.nan


def detected_share_by(incidents: pd.DataFrame, by: str) -> pd.Series:
    """Share of incidents detected by the horizon, per group (e.g. per ``type``).

    Returns:
        Share detected, indexed by the groups of ``by``.
    """
    return _detected(incidents).groupby(incidents[by].to_numpy(dtype=object)).mean().rename_axis(by)


def detected_by_shares(incidents: pd.DataFrame) -> pd.Series:
    """Who found the city's problems: share of *all* incidents first detected by each source.

    Sources are the ``detected_by`` values (sensor, patrol, proactive, resident,
    after_harm); the shares add up to :func:`detected_share`.

    Returns:
        Share of all incidents, indexed by source; empty for no incidents.
    """
    if not len(incidents):
        return pd.Series(dtype=float)
    counts = incidents["detected_by"].dropna().value_counts()
    return (counts / len(incidents)).astype(float).rename_axis("detected_by").sort_index()


def hazard_warning(incidents: pd.DataFrame, horizon_min: float, by: str | None = None) -> pd.DataFrame:
    """Early warning and averted harm among hazards that were due to harm within the run.

    Only hazards whose ``harm_due_at`` is at or before the horizon count: for
    the others it is not yet known whether the warning came in time.

    Args:
        incidents: the incidents table.
        horizon_min: end of the run, minutes.
        by: an incidents column to break it down by (e.g. ``"type"``); None for
            one row ``all``.

    Returns:
        Columns ``hazards`` (count), ``early_warning`` (share detected before
        harm was due) and ``averted`` (share that never turned into harm).
    """
    due = incidents["harm_due_at"].to_numpy(dtype=float, na_value=np.nan)
    is_hazard = incidents["hazard"].to_numpy(dtype=bool, na_value=False)
    mask = is_hazard & (due <= horizon_min)
    detected = incidents["detected_at"].to_numpy(dtype=float, na_value=np.nan)
    frame = pd.DataFrame(
        {
            "early_warning": (detected < due)[mask],
            "averted": incidents["harmed_at"].isna().to_numpy()[mask],
        }
    )
    keys = np.full(len(frame), "all", dtype=object) if by is None else incidents[by].to_numpy(dtype=object)[mask]
    g = frame.groupby(keys)
    out = g.mean().astype(float)
    out.insert(0, "hazards", g.size())
    if by is None and not len(frame):
        out = pd.DataFrame({"hazards": [0], "early_warning": [np.nan], "averted": [np.nan]}, index=["all"])
    return out.rename_axis(by or "group")


def population_reach(cells: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Share of residents living where a sensor or a daily patrol reaches.

    A cell is reached by sensors when it holds at least one sensor, by a daily
    patrol when a grid worker passes it at least every :data:`DAILY_MIN` minutes.

    Args:
        cells: the cells table.
        by: a cells column to break it down by (e.g. ``"district_kind"``); None
            for one row ``all``.

    Returns:
        Columns ``population``, ``sensor``, ``daily_patrol`` and ``either``
        (shares of the group's residents).
    """
    pop = cells["population"].to_numpy(dtype=float, na_value=0.0)
    sensor = cells["sensors"].to_numpy(dtype=float, na_value=0.0) > 0
    patrol = cells["patrol_cycle_min"].to_numpy(dtype=float, na_value=np.nan) <= DAILY_MIN
    frame = pd.DataFrame(
        {
            "population": pop,
            "sensor": pop * sensor,
            "daily_patrol": pop * patrol,
            "either": pop * (sensor | patrol),
        }
    )
    keys = np.full(len(cells), "all", dtype=object) if by is None else cells[by].to_numpy(dtype=object)
    sums = frame.groupby(keys).sum()
    if by is None and not len(cells):
        sums = pd.DataFrame(0.0, index=["all"], columns=frame.columns)
    shares = sums[["sensor", "daily_patrol", "either"]].div(sums["population"].where(sums["population"] > 0), axis=0)
    return pd.concat([sums[["population"]], shares], axis=1).rename_axis(by or "group")
