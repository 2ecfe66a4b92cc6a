"""The units, cells and daily tables of a run, from the model's state at its end."""

from __future__ import annotations

import numpy as np

from citysim.accounting import BUSY_ROLES
from citysim.daily import WATCHED, unstable
from citysim.events import COLUMNS
from citysim.scenario import DISTRICT_KINDS
from citysim.staffing import FUNCTIONS
from citysim.units import UNIT_KINDS

__all__ = ["cells_rows", "daily_rows", "units_rows"]

DAILY_COLUMNS = tuple(COLUMNS["daily"])


def units_rows(model) -> dict:
    """Rows of the units table (time on duty and busy time by activity)."""
    u, city, reg = model.units, model.city, model.regime
    names = model._names
    busy_total = sum(model.busy.values())
    kind = np.array(UNIT_KINDS, dtype=object)[u.kind]
    grid = kind == "grid"
    days = model.window.days
    gw = model.scenario.grid_workers
    shift_min = np.where(grid, gw.shift_hours * 60.0 * days, 0.0)
    paperwork = shift_min * reg.paperwork_share
    proactive = (shift_min - paperwork) * reg.proactive_share
    patrol = np.maximum(shift_min - paperwork - proactive - busy_total, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(model.on_duty > 0, busy_total / model.on_duty, np.nan)
    return {
        "unit": names["unit"],
        "kind": kind,
        "level": names["unit_level"],
        "department": np.where(
            u.department >= 0, np.array(city.department_names + [""], dtype=object)[u.department], None
        ),
        "district": np.where(u.district >= 0, names["district"][np.maximum(u.district, 0)], None),
        "street": np.where(u.street >= 0, u.street, None),
        "function": np.array(FUNCTIONS, dtype=object)[u.function],
        **{f"servers_h{h:02d}": u.servers_by_hour[:, h] for h in range(24)},
        "staff_hours_per_day": u.staff_hours,
        "on_duty_min": model.on_duty,
        **{f"busy_{r}_min": model.busy[r] for r in BUSY_ROLES},
        "busy_min": busy_total,
        "utilisation": util,
        **model.book.unit_columns(),
        "paperwork_min": np.where(grid, paperwork, np.nan),
        "proactive_min": np.where(grid, proactive, np.nan),
        "patrol_min": np.where(grid, patrol, np.nan),
    }


def daily_rows(model, units: dict) -> dict:
    """The daily table: city and kind rows, and the busiest and unstable units day by day."""
    grid = units["kind"] == "grid"
    with np.errstate(invalid="ignore", divide="ignore"):
        util = np.where(grid, -1.0, np.nan_to_num(units["utilisation"], nan=-1.0))
    bad = unstable(*(units[c] for c in ("offered_min", "on_duty_min", "wait_first_week_min", "wait_last_week_min")))
    watched = np.union1d(np.argsort(-util, kind="stable")[:WATCHED], np.flatnonzero(bad & ~grid))
    rows = model.book.rows_for(watched)
    return {c: [r.get(c) for r in rows] for c in DAILY_COLUMNS}


def cells_rows(model) -> dict:
    """Rows of the cells table."""
    city = model.city
    return {
        "cell": np.arange(city.n_cells),
        "street": city.cell_street,
        "district": model._names["district"][city.cell_district],
        "district_kind": np.array(DISTRICT_KINDS, dtype=object)[city.cell_kind],
        "population": city.cell_population,
        "area_km2": city.cell_area_km2,
        "sensors": city.sensor_count.sum(axis=1),
        "patrol_cycle_min": model.patrol_cycle_sum / max(model.patrol_days, 1),
    }
