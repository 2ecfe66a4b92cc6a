"""Calibration: the simulated city's hotline beside the figures its sources report.

A "hotline item" is a resident's report by phone, web form or app (what a
12345 hotline counts). Simulated: items per resident per year, the channel
mix, the share of items dispatched to a department, and the share of calls
answered (接通率) on the departments' own hotlines and on one merged hotline
(whichever the regime has; see :mod:`citysim.metrics.calls`); sourced: the
scenario's ``[calibration]`` table, with the source named.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "CHANNELS",
    "HOTLINE_CHANNELS",
    "calibration_table",
    "channel_shares",
    "dispatched_share",
    "hotline_channel_shares",
    "hotline_items",
    "items_per_resident_year",
]

CHANNELS = ("phone", "online", "app", "in_person", "sensor", "grid_worker")
"""Every way an incident can first reach the city."""

HOTLINE_CHANNELS = ("phone", "online", "app")
"""Channels whose reports a hotline counts as items."""


def hotline_items(incidents: pd.DataFrame) -> np.ndarray:
    """Which incidents reached the city as hotline items (phone, online or app)."""
    return incidents["channel"].isin(HOTLINE_CHANNELS).to_numpy(dtype=bool, na_value=False)


def items_per_resident_year(incidents: pd.DataFrame, population: float, horizon_min: float) -> float:
    """Hotline items per resident per year: items / population × 365 / simulated days.

    Args:
        incidents: the incidents table.
        population: residents (the cells table's population).
        horizon_min: length of the run, minutes.
    """
    years = horizon_min / 1440.0 / 365.0
    if population <= 0 or years <= 0:
        return np.nan
    return float(hotline_items(incidents).sum() / population / years)


def channel_shares(incidents: pd.DataFrame) -> pd.Series:
    """How the city learns of its problems: share of detected incidents by first channel.

    Returns:
        Shares indexed by every channel of :data:`CHANNELS` (0 when unused);
        NaN when nothing was detected.
    """
    channel = incidents["channel"].dropna()
    counts = channel.value_counts().reindex(list(CHANNELS), fill_value=0).astype(float)
    return (counts / len(channel) if len(channel) else counts * np.nan).rename_axis("channel")


def hotline_channel_shares(incidents: pd.DataFrame) -> dict[str, float]:
    """Among hotline items, the share by phone and online (web form + app)."""
    items = incidents["channel"][hotline_items(incidents)]
    if not len(items):
        return {"phone": np.nan, "online": np.nan}
    phone = float((items == "phone").mean())
    return {"phone": phone, "online": 1.0 - phone}


def dispatched_share(incidents: pd.DataFrame) -> float:
    """Share of hotline items sent on to a team or grid worker (the rest answered at intake)."""
    items = hotline_items(incidents)
    if not items.any():
        return np.nan
    return float(incidents["dispatched_at"].notna().to_numpy()[items].mean())


def calibration_table(
    incidents: pd.DataFrame,
    population: float,
    horizon_min: float,
    sourced: object | None = None,
    line_rates: dict[str, float] | None = None,
) -> dict:
    """Simulated hotline figures side by side with sourced ones.

    Args:
        incidents: the incidents table.
        population: residents (the cells table's population).
        horizon_min: length of the run, minutes.
        sourced: the scenario's calibration (``items_per_resident_year``,
            ``phone_share``, ``online_share``, ``dispatched_share``,
            ``connection_rate_department_lines``, ``connection_rate_unified``, ``source``);
            None when there is none.
        line_rates: the simulated connection rate of each kind of line, ``unified`` and
            ``department`` (:meth:`citysim.metrics.calls.CallCounts.line_rates`; None: left out).

    Returns:
        ``{figure: {"simulated": x, "sourced": y or None}}`` for the figures,
        plus ``source`` (str) and ``channel_shares`` (simulated, of all
        detected incidents).
    """
    mix = hotline_channel_shares(incidents)
    simulated = {
        "items_per_resident_year": items_per_resident_year(incidents, population, horizon_min),
        "phone_share": mix["phone"],
        "online_share": mix["online"],
        "dispatched_share": dispatched_share(incidents),
    }
    if line_rates is not None:
        simulated["connection_rate_department_lines"] = line_rates["department"]
        simulated["connection_rate_unified"] = line_rates["unified"]
    out: dict = {k: {"simulated": v, "sourced": getattr(sourced, k, None)} for k, v in simulated.items()}
    out["source"] = getattr(sourced, "source", "") or ""
    out["channel_shares"] = channel_shares(incidents).to_dict()
    return out
