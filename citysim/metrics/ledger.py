"""The ledger: who was on duty, by staffing function, and what the city paid for it.

Counted from the units table, that is from the servers the engine actually built
(see :mod:`citysim.staffing`), so that regimes compared at the same headcount can be
seen to be: each function's staff-hours a day, its staff on duty in each hour, the
full-time staff that takes (staff-hours a day × 365 / hours a year per person) and,
where the scenario prices them (``[costs]``, stated assumptions), the yearly cost of
staff, sensors and the platforms a regime's levers switch on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["HOUR_COLUMNS", "ledger"]

HOUR_COLUMNS = [f"servers_h{h:02d}" for h in range(24)]
"""The units table's columns of staff on duty in each hour."""


def ledger(units: pd.DataFrame, cells: pd.DataFrame, costs=None, regime=None) -> dict:
    """Staffing and yearly cost of a run.

    Args:
        units: the units table.
        cells: the cells table (residents and sensors).
        costs: the scenario's :class:`~citysim.schema.services.Costs` (None: no prices).
        regime: the regime run (which platforms it pays for; None: none).

    Returns:
        ``by_function`` (per function: ``level``, ``units`` staffed, ``staff_hours_per_day``,
        ``on_duty_by_hour``, ``full_time_staff``, ``cny_per_year``), totals of staff-hours and
        full-time staff, ``sensors``, and ``annual_cost`` (CNY; None where nothing is priced).
    """
    hours_per_year = 2000.0 if costs is None else costs.staff_hours_per_year
    prices = {} if costs is None else costs.staff_cny_per_year
    by_hour = units[HOUR_COLUMNS].to_numpy(dtype=float)
    out: dict = {}
    for function, idx in units.groupby("function", sort=False).indices.items():
        hours = by_hour[idx].sum(axis=0)
        fte = float(hours.sum()) * 365.0 / hours_per_year
        out[function] = {
            "level": str(units["level"].iloc[idx[0]]),
            "units": int((by_hour[idx].sum(axis=1) > 0).sum()),
            "staff_hours_per_day": float(hours.sum()),
            "on_duty_by_hour": hours.tolist(),
            "full_time_staff": fte,
            "cny_per_year": fte * prices[function] if function in prices else None,
        }
    residents_m = float(cells["population"].sum()) / 1e6
    sensors = float(cells["sensors"].sum())
    sensor_cost = None if costs is None else sensors * costs.sensor_cny_per_year
    platforms = None
    if costs is not None and regime is not None:
        platforms = residents_m * (
            costs.unified_intake_platform_cny_per_1m * (regime.intake == "unified")
            + costs.sensor_fusion_platform_cny_per_1m * (regime.sensor_fusion == "fused")
        )
    parts = [f["cny_per_year"] for f in out.values()] + [sensor_cost, platforms]
    priced = [p for p in parts if p is not None]
    return {
        "by_function": out,
        "staff_hours_per_day": float(np.sum([f["staff_hours_per_day"] for f in out.values()])),
        "full_time_staff": float(np.sum([f["full_time_staff"] for f in out.values()])),
        "sensors": sensors,
        "sensors_cny_per_year": sensor_cost,
        "platforms_cny_per_year": platforms,
        "annual_cost": float(sum(priced)) if priced and any(p > 0 for p in priced) else None,
    }
