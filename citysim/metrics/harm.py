"""Harm and cost: what the city failed to prevent, and what its work cost.

Harm is hazards (gas leaks, fires, landslides, flooding) that turned into harm
because no one was on site in time. Cost is the friction of the city's
organisation: cases transferred between units or handed from one department
to the next, cases reopened, and how busy each kind of staff is and how grid
workers' shifts split between paperwork, visits, patrols and tasks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "OVERLOAD",
    "staff_use",
    "busiest_units",
    "grid_time_split",
    "handoffs_per_case",
    "harm_by_type",
    "reopened_share",
    "street_centre_overload",
    "transfers_per_case",
    "utilisation_by",
]

OVERLOAD = 0.85
"""Utilisation above which a street centre counts as overloaded."""


def harm_by_type(incidents: pd.DataFrame, population: float, horizon_min: float) -> pd.DataFrame:
    """Hazards that turned into harm, per incident type and overall.

    Args:
        incidents: the incidents table.
        population: residents of the city (the cells table's population).
        horizon_min: length of the run, minutes.

    Returns:
        Index the hazard types plus ``all``, columns ``hazards`` (occurred),
        ``harmed`` and ``per_million_day`` (harmed per million residents per
        simulated day).
    """
    hazard = incidents["hazard"].to_numpy(dtype=bool, na_value=False)
    harmed = incidents["harmed_at"].notna().to_numpy() & hazard
    frame = pd.DataFrame({"hazards": hazard, "harmed": harmed})
    g = frame[hazard].groupby(incidents["type"].to_numpy(dtype=object)[hazard]).sum()
    g.loc["all"] = [int(hazard.sum()), int(harmed.sum())]
    exposure = population / 1e6 * horizon_min / 1440.0
    g["per_million_day"] = g["harmed"] / exposure if exposure > 0 else np.nan
    return g.astype({"hazards": int, "harmed": int}).rename_axis("type")


def transfers_per_case(incidents: pd.DataFrame) -> dict[str, float]:
    """How often cases are passed on after being routed to the wrong unit.

    Returns:
        ``dispatched``: mean transfers over detected incidents that were
        dispatched; ``detected``: over all detected incidents (NaN if none).
    """
    detected = incidents["detected_at"].notna().to_numpy()
    dispatched = detected & incidents["dispatched_at"].notna().to_numpy()
    transfers = incidents["transfers"].to_numpy(dtype=float, na_value=0.0)
    return {
        "dispatched": float(transfers[dispatched].mean()) if dispatched.any() else np.nan,
        "detected": float(transfers[detected].mean()) if detected.any() else np.nan,
    }


def handoffs_per_case(incidents: pd.DataFrame, stages: pd.DataFrame) -> float:
    """Mean hand-offs (waits between departments working in sequence) per dispatched case.

    Returns:
        ``handoff_wait`` stage rows of dispatched incidents / dispatched
        incidents; NaN if none was dispatched.
    """
    ids = incidents.loc[incidents["dispatched_at"].notna().to_numpy(), "id"]
    if not len(ids):
        return np.nan
    handoff = (stages["stage"] == "handoff_wait").to_numpy(dtype=bool, na_value=False)
    handoff = handoff & stages["incident_id"].isin(ids).to_numpy()
    return float(handoff.sum() / len(ids))


def reopened_share(incidents: pd.DataFrame) -> float:
    """Share of detected incidents reopened or re-reported at least once (NaN if none)."""
    detected = incidents["detected_at"].notna().to_numpy()
    if not detected.any():
        return np.nan
    return float((incidents["reopened"].to_numpy(dtype=float, na_value=0.0)[detected] > 0).mean())


def utilisation_by(units: pd.DataFrame, by: str | list[str]) -> pd.Series:
    """How busy staff are: busy time over time on duty, summed over each group's units.

    Args:
        units: the units table.
        by: column(s) to group by, e.g. ``"kind"`` or ``["kind", "department"]``.

    Returns:
        Utilisation in [0, 1] per group (NaN where no one was on duty).
    """
    sums = units.groupby(by, dropna=True)[["busy_min", "on_duty_min"]].sum()
    return (sums["busy_min"] / sums["on_duty_min"].where(sums["on_duty_min"] > 0)).rename("utilisation")


def busiest_units(units: pd.DataFrame, n: int = 3) -> pd.Series:
    """The ``n`` busiest staffed units, each one unit (a desk, a team, a street centre ...), not a kind.

    A kind's utilisation pools its idle units with its overloaded ones; this
    names the units where work actually waits.

    Args:
        units: the units table.
        n: how many units.

    Returns:
        Utilisation by unit name, highest first (ties in table order); units
        never on duty are left out.
    """
    on_duty = units["on_duty_min"].where(units["on_duty_min"] > 0)
    util = (units["busy_min"] / on_duty).set_axis(units["unit"]).rename("utilisation").dropna()
    return util.sort_values(ascending=False, kind="stable").head(n)


def grid_time_split(units: pd.DataFrame) -> pd.Series:
    """How grid workers' time splits: paperwork, proactive visits, patrols and tasks.

    Tasks are the work orders they carry out (their ``busy_min``).

    Returns:
        Shares of ``paperwork``, ``proactive``, ``patrol`` and ``tasks`` summing
        to 1 (NaN when the city has no grid-worker time).
    """
    grid = units[(units["kind"] == "grid").to_numpy(dtype=bool, na_value=False)]
    minutes = pd.Series(
        {
            "paperwork": grid["paperwork_min"].sum(),
            "proactive": grid["proactive_min"].sum(),
            "patrol": grid["patrol_min"].sum(),
            "tasks": grid["busy_min"].sum(),
        },
        dtype=float,
    )
    total = minutes.sum()
    return minutes / total if total > 0 else minutes * np.nan


def street_centre_overload(units: pd.DataFrame, threshold: float = OVERLOAD) -> dict:
    """Whether integration overloads the street offices (城运平台过载).

    Args:
        units: the units table.
        threshold: utilisation above which a centre is overloaded.

    Returns:
        ``centres`` (count), ``overloaded_share`` (share with utilisation
        above ``threshold``) and ``max_utilisation``; NaN without centres.
    """
    sc = units[(units["kind"] == "street_centre").to_numpy(dtype=bool, na_value=False)]
    on_duty = sc["on_duty_min"].to_numpy(dtype=float, na_value=np.nan)
    util = sc["busy_min"].to_numpy(dtype=float, na_value=np.nan) / np.where(on_duty > 0, on_duty, np.nan)
    util = util[~np.isnan(util)]
    if not len(util):
        return {"centres": len(sc), "overloaded_share": np.nan, "max_utilisation": np.nan}
    return {
        "centres": len(sc),
        "overloaded_share": float((util > threshold).mean()),
        "max_utilisation": float(util.max()),
    }


STAFF_KINDS = ("desk", "team", "hotline")
"""Unit kinds whose utilisation is also given per department."""


def staff_use(units: pd.DataFrame) -> dict:
    """How busy the city's staff were: utilisation by kind, by kind and department, the busiest units;
    grid workers' time split and street centres' overload (the ``cost`` block's part from the units table)."""
    staff = units[units["kind"].isin(STAFF_KINDS).to_numpy(dtype=bool, na_value=False)]
    by_kind_dept: dict = {}
    for (kind, dept), u in utilisation_by(staff, ["kind", "department"]).items():
        by_kind_dept.setdefault(kind, {})[dept] = u
    return {
        "utilisation": {
            "by_kind": utilisation_by(units, "kind"),
            "by_kind_department": by_kind_dept,
            "busiest_units": busiest_units(units),
        },
        "grid_time": grid_time_split(units),
        "street_centres": street_centre_overload(units),
    }
