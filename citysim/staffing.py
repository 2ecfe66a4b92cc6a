"""Staff as a budget per function, placed by the regime: the same headcount, organised differently.

The scenario gives each *function* a budget of staff on duty (regime-neutral:
per resident, by district kind). The regime decides how a budget is pooled and
placed, never how big it is:

* ``call_centre`` (city level): the call-takers (``centres.city.intake_staff_per_1m``)
  and the call-back staff (``callback_staff_per_1m``). Under ``intake = "unified"``
  the call-takers are one pool on the city hotline, on duty hour by hour as calls
  come in (the daily rhythm of the incident types); under ``"per_department"`` they
  staff the departments' own hotlines, shared by each department's expected calls,
  at the departments' ``desk_hours``. Under ``closure_supervision = "self_reported"``
  the call-back staff take calls with the call-takers.
* ``city_dispatch`` (city level): the city centre's dispatchers.
* ``district_offices`` (district level, one budget per district): the departments'
  desk clerks (``desk_staff_per_100k``, each desk its own under every regime) and the
  district's dispatchers (``centres.district.staff_per_100k``): in the district
  centre under ``dispatch_level = "lowest_capable"`` (on duty as work comes in), at
  the departments' desks under ``"escalation"`` (shared by each department's
  expected work orders, at its ``desk_hours``).
* ``street_centres``, ``field_teams`` (one budget per department: crews on duty hour by
  hour as the work comes in, emergency crews alike at all hours), ``grid_workers``,
  ``emergency_lines`` (call-takers of the departments' emergency numbers, round the
  clock): placed alike under every regime.

A budget is a number of staff-hours a day; it is placed hour by hour and unit by
unit in whole people, with the total kept exactly (largest remainders), so the
staff-hours of a function are the same under every regime (the ledger, counted from
the servers the engine builds, shows it). Rounding never contradicts the file: a
unit the placement staffs at all in an hour gets at least its ``min_on_duty``. A
budget too small to keep that minimum under *some* organisation (a small town with
nine department hotlines) is raised to it, for every regime alike: the fragmented
city needs those people to keep its lines open, the integrated one pools them.
"""

from __future__ import annotations

import numpy as np

from citysim.errors import ScenarioError

__all__ = ["FUNCTIONS", "FUNCTION_LEVEL", "hours_mask", "place", "round_with_minimum"]

FUNCTIONS = (
    "call_centre",
    "city_dispatch",
    "district_offices",
    "street_centres",
    "field_teams",
    "grid_workers",
    "emergency_lines",
)
"""Staffing functions, each a budget the regime places (see the module)."""

FUNCTION_LEVEL = {
    "call_centre": "city",
    "city_dispatch": "city",
    "district_offices": "district",
    "street_centres": "street",
    "field_teams": "district",
    "grid_workers": "street",
    "emergency_lines": "city",
}


def hours_mask(start_h: int, end_h: int) -> np.ndarray:
    """Which of the 24 hours lie in ``[start_h, end_h)``."""
    hours = np.arange(24)
    return (hours >= start_h) & (hours < end_h)


def round_with_minimum(target: np.ndarray, minimum: int) -> np.ndarray:
    """Whole people on duty: at least ``target`` (rounded up: a unit needing 1.4 crews gets 2), and at least
    ``minimum`` wherever ``target`` is positive."""
    out = np.ceil(np.asarray(target, dtype=float) - 1e-9).astype(np.int64)
    return np.where(target > 0, np.maximum(out, minimum), 0)


def place(total: int, target: np.ndarray, minimum: np.ndarray, what: str = "staff") -> np.ndarray:
    """Whole people per (unit, hour) adding up to exactly ``total`` staff-hours, close to ``target``.

    Args:
        total: staff-hours a day to place.
        target: desired staff-hours per (unit, hour), any non-negative scale (only its shape counts).
        minimum: fewest people in each (unit, hour) where ``target`` is positive.
        what: the budget's name, for the error message.

    Raises:
        ScenarioError: when the budget cannot give every staffed hour its minimum.
    """
    target = np.asarray(target, dtype=float)
    minimum = np.where(target > 0, minimum, 0).astype(np.int64)
    if minimum.sum() > total:
        raise ScenarioError(
            "staffing",
            what,
            f"a budget of {total:,} staff-hours a day cannot keep the minimum on duty in every staffed hour "
            f"({int(minimum.sum()):,} staff-hours): raise the budget or lower min_on_duty",
        )
    if total == 0 or target.sum() <= 0:
        return np.zeros(target.shape, dtype=np.int64)
    ideal = target / target.sum() * total
    out = np.maximum(np.floor(ideal).astype(np.int64), minimum)
    flat_ideal, flat = ideal.ravel(), out.ravel()
    staffed = target.ravel() > 0
    while (rest := total - int(flat.sum())) != 0:
        gap = flat_ideal - flat
        if rest > 0:
            order = np.argsort(np.where(staffed, -gap, np.inf), kind="stable")[: min(rest, int(staffed.sum()))]
            flat[order] += 1
        else:
            room = flat > minimum.ravel()
            order = np.argsort(np.where(room, gap, np.inf), kind="stable")[: min(-rest, int(room.sum()))]
            flat[order] -= 1
    return flat.reshape(target.shape)
