"""Metrics: pure functions of a run's output tables.

Every function takes the tables of :mod:`citysim.events` (``incidents``,
``stages``, ``alerts``, ``units``, ``cells``) as DataFrames and returns numbers,
Series or DataFrames; nothing here runs the model, prints or draws.
:func:`compute_metrics` gathers them into one JSON-ready dict, the
``metrics.json`` of a run. It is the reference: a run's metrics are accumulated
as its incidents end (:mod:`citysim.metrics.stream`, times binned at 1%:
:mod:`citysim.metrics.bins`), never by reading the whole tables back, and agree
with it within that resolution (a test checks)::

    m = compute_metrics(result.tables, result.window, scenario=result.scenario)
    m["headline"]["resolution_median_h"]          # hours, from occurrence, open cases censored
    m["response"]["overall"]["resolution"]["p90"]   # minutes
    m["inclusion"]["ratio"]["cohort"]               # worst / best share of needs met

Times are in minutes, shares in [0, 1]; a figure that cannot be computed
(no incidents of that kind) is None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from citysim.metrics import calibration, calls, coverage, harm, inclusion, response, survival
from citysim.metrics.calibration import calibration_table, channel_shares, items_per_resident_year
from citysim.metrics.calls import CallCounts
from citysim.metrics.chunk import Chunk
from citysim.metrics.coverage import (
    detected_by_shares,
    detected_share,
    detected_share_by,
    hazard_warning,
    population_reach,
)
from citysim.metrics.harm import (
    busiest_units,
    grid_time_split,
    handoffs_per_case,
    harm_by_type,
    reopened_share,
    staff_use,
    street_centre_overload,
    transfers_per_case,
    utilisation_by,
)
from citysim.metrics.headline import HEADLINE_KINDS, headline, survival_curves
from citysim.metrics.inclusion import (
    gini,
    needs_met,
    share_met_by,
    unmet_need_by_cell,
    unmet_need_gini,
    worst_best,
)
from citysim.metrics.ledger import ledger
from citysim.metrics.response import (
    chain_targets,
    decomposition,
    resolution_target_shares,
    response_by,
    response_durations,
    response_times,
    stage_minutes,
)
from citysim.metrics.stability import unstable_units
from citysim.metrics.survival import given_up
from citysim.window import Window

__all__ = [
    "HEADLINE_KINDS",
    "busiest_units",
    "headline",
    "share_met_by",
    "survival",
    "survival_curves",
    "calibration",
    "calibration_table",
    "CallCounts",
    "calls",
    "chain_targets",
    "channel_shares",
    "compute_metrics",
    "coverage",
    "decomposition",
    "detected_by_shares",
    "detected_share",
    "detected_share_by",
    "gini",
    "grid_time_split",
    "handoffs_per_case",
    "harm",
    "harm_by_type",
    "hazard_warning",
    "inclusion",
    "ledger",
    "unstable_units",
    "items_per_resident_year",
    "needs_met",
    "population_reach",
    "reopened_share",
    "resolution_target_shares",
    "response",
    "response_by",
    "response_durations",
    "response_times",
    "stage_minutes",
    "street_centre_overload",
    "table_counts",
    "to_jsonable",
    "transfers_per_case",
    "unmet_need_by_cell",
    "unmet_need_gini",
    "utilisation_by",
    "worst_best",
]

STATUSES = ("resolved", "in_progress", "undetected", "gave_up")


def _names(frame: pd.DataFrame, column: str) -> list[str]:
    return sorted({str(v) for v in frame[column].dropna()}) if column in frame else []


def to_jsonable(obj: object) -> object:
    """Turn nested dicts, lists, DataFrames (rows by index) and Series into plain JSON values.

    numpy numbers become Python ints and floats, NaN, infinities and missing
    values become None, keys become strings.
    """
    if isinstance(obj, pd.DataFrame):
        return {str(k): to_jsonable(row) for k, row in obj.to_dict(orient="index").items()}
    if isinstance(obj, pd.Series | Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    return obj if isinstance(obj, str) else str(obj)


def _nested(frame: pd.DataFrame) -> dict:
    """A frame indexed (group, measure) as ``{group: {measure: {column: value}}}``."""
    out: dict = {}
    for (group, measure), row in frame.to_dict(orient="index").items():
        out.setdefault(str(group), {})[str(measure)] = row
    return out


def _row(frame: pd.DataFrame, label: object) -> dict:
    """One row of a frame as a dict, each value keeping its column's type (counts stay ints)."""
    return frame.to_dict(orient="index")[label]


def table_counts(tables: Mapping[str, pd.DataFrame]) -> dict:
    """Sizes of a run's tables: incidents by status, alerts by truth and outcome, stage rows.

    Args:
        tables: the run's tables (``incidents``, ``alerts``, ``stages``).
    """
    inc, alerts, stages = tables["incidents"], tables["alerts"], tables["stages"]
    by_status = inc["status"].value_counts()
    true_alarm = alerts["true_alarm"].to_numpy(dtype=bool, na_value=False)
    return {
        "incidents": len(inc),
        "by_status": {s: int(by_status.get(s, 0)) for s in (*STATUSES, *by_status.index.difference(STATUSES))},
        "alerts": {
            "true": int(true_alarm.sum()),
            "false": int((~true_alarm).sum()),
            "by_outcome": {str(k): int(v) for k, v in alerts["outcome"].value_counts().sort_index().items()},
        },
        "stage_rows": len(stages),
        "stage_rows_by_stage": {str(k): int(v) for k, v in stages["stage"].value_counts().sort_index().items()},
    }


def compute_metrics(
    tables: Mapping[str, pd.DataFrame],
    window: Window,
    scenario: object | None = None,
    regime: object | None = None,
) -> dict:
    """Every metric of a run, as a JSON-serialisable nested dict (``metrics.json``).

    Args:
        tables: the run's ``incidents``, ``stages``, ``alerts``, ``units`` and
            ``cells`` tables (the incidents of the measurement window).
        window: the run's warm-up, measurement window and follow-up.
        scenario: the scenario run (its ``incident_types[...].target_min``,
            ``calibration`` and ``costs``); None leaves out the resolution targets,
            the sourced figures and prices.
        regime: the regime run (for the platforms its levers pay for).

    Returns:
        Keys ``window``, ``headline`` (see :mod:`citysim.metrics.headline`: the figures
        other commands read), ``survival``, ``response``, ``decomposition``, ``targets``,
        ``coverage`` (with ``given_up``: the share of incidents whose resident hung up and
        did not call again), ``inclusion``, ``harm``, ``cost``, ``calls`` (connection rate,
        hang-ups, redials and needs given up: see :mod:`citysim.metrics.calls`),
        ``calibration``, ``ledger`` (staffing and yearly cost) and ``counts``.
    """
    inc, stages, units, cells = (tables[k] for k in ("incidents", "stages", "units", "cells"))
    population = float(cells["population"].sum())
    horizon_min, length_min = window.horizon_min, window.length_min

    per_incident = stage_minutes(inc, stages)
    call_counts = CallCounts(list(scenario.cohorts) if scenario is not None else _names(inc, "cohort"))
    call_counts.add(Chunk({c: inc[c] for c in inc.columns}), Chunk({c: stages[c] for c in stages.columns}))
    target_min = {t: it.target_min for t, it in scenario.incident_types.items()} if scenario is not None else {}
    targets = None
    if scenario is not None:
        shares = resolution_target_shares(inc, target_min, horizon_min)
        targets = {"overall": shares.loc["all", "share"], "by_type": shares.drop(index="all")}

    met_cohort = needs_met(inc, "cohort", horizon_min)
    met_kind = needs_met(inc, "district_kind", horizon_min)
    harmed = harm_by_type(inc, population, length_min)

    metrics = {
        "window": window.as_dict(),
        "headline": headline(inc, cells, horizon_min, window.days, target_min),
        "survival": survival_curves(inc, horizon_min),
        "response": {
            "overall": response_times(inc),
            **{f"by_{by}": _nested(response_by(inc, by)) for by in ("type", "district_kind", "cohort")},
        },
        "decomposition": {
            "overall": _row(decomposition(inc, stages, per_incident=per_incident), "all"),
            "by_type": decomposition(inc, stages, "type", per_incident=per_incident),
        },
        "targets": {"resolution": targets, "chains": chain_targets(inc)},
        "coverage": {
            "detected": {
                "overall": detected_share(inc),
                "by_type": detected_share_by(inc, "type"),
                "by_detected_by": detected_by_shares(inc),
            },
            "hazards": {
                "overall": _row(hazard_warning(inc, horizon_min), "all"),
                "by_type": hazard_warning(inc, horizon_min, "type"),
            },
            "population": {
                "overall": _row(population_reach(cells), "all"),
                "by_district_kind": population_reach(cells, "district_kind"),
            },
            "given_up": float(given_up(inc).mean()) if len(inc) else None,
        },
        "inclusion": {
            "by_cohort": met_cohort,
            "by_district_kind": met_kind,
            "ratio": {
                "cohort": worst_best(met_cohort["share_met"]),
                "district_kind": worst_best(met_kind["share_met"]),
            },
            "gini_unmet_need": unmet_need_gini(inc, cells, horizon_min),
        },
        "harm": {
            "harmed": harmed.loc["all", "harmed"],
            "per_million_day": harmed.loc["all", "per_million_day"],
            "by_type": harmed.drop(index="all"),
        },
        "cost": {
            "transfers_per_case": transfers_per_case(inc),
            "handoffs_per_case": handoffs_per_case(inc, stages),
            "reopened_share": reopened_share(inc),
            **staff_use(units),
        },
        "calls": call_counts.block(),
        "calibration": calibration_table(
            inc, population, length_min, None if scenario is None else scenario.calibration, call_counts.line_rates()
        ),
        "ledger": ledger(units, cells, None if scenario is None else scenario.costs, regime),
        "stability": unstable_units(units),
        "counts": table_counts(tables),
    }
    return to_jsonable(metrics)
