"""The headline: response, coverage and inclusion on every incident of the measurement window.

This block of ``metrics.json`` is the one place later commands (compare, sweep,
dashboard, report) read headline figures from. Its rules (the measurement
contract of :mod:`citysim.window`):

* the population is **every incident that occurred in the window**, undetected
  ones included; incidents of the warm-up and the follow-up are not counted;
* a case still open when the run ends is **censored**, never dropped: times to
  an event come from Kaplan-Meier curves (:mod:`citysim.metrics.survival`);
  medians and p90s are NaN where the curve does not get there while cases are
  followed, never a mean over the resolved only;
* **two clocks**: from occurrence (the regime comparison's clock: a city that
  finds a problem late pays for it) and, prefixed ``report_``, from first
  detection (as a hotline measures from the report; for a sensor-detected case,
  from the alert), over the incidents detected;
* shares "within" a time use that time whatever the run's length: detected and
  needs met within a week (a need closed without being met, or given up by a
  resident who hung up and did not call again, is never met),
  resolved within 24 h, 72 h and each type's target; the restricted mean counts
  each case at most a week.

Each figure has a kind (:data:`HEADLINE_KINDS`), for confidence intervals:
``time_h`` (hours: judged relative), ``share`` (0-1: judged absolute),
``ratio`` (worst/best: bootstrap) and ``count`` (per day or per case).
``connection_rate`` is the share of phone calls answered (each redial a call:
see :mod:`citysim.metrics.calls`), ``needs_given_up_share`` the share of every
incident of the window whose resident hung up and did not call again.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from citysim.metrics.inclusion import share_met_by, unmet_need_gini, worst_best
from citysim.metrics.response import resolution_target_shares
from citysim.metrics.survival import WEEK_MIN, clock_survival, column, given_up, met_survival

__all__ = ["HEADLINE_KINDS", "SURVIVAL_HOURS", "headline", "survival_curves"]

HEADLINE_KINDS: dict[str, str] = {
    "incidents_per_day": "count",
    "resolution_median_h": "time_h",
    "resolution_p90_h": "time_h",
    "resolution_rmean_h": "time_h",
    "resolved_within_24h": "share",
    "resolved_within_72h": "share",
    "resolved_within_target": "share",
    "report_resolution_median_h": "time_h",
    "report_resolution_p90_h": "time_h",
    "report_resolution_rmean_h": "time_h",
    "report_resolved_within_24h": "share",
    "report_resolved_within_72h": "share",
    "open_at_end": "share",
    "detection_median_h": "time_h",
    "detected_share": "share",
    "hazards_warned_share": "share",
    "harm_per_day": "count",
    "needs_met_share": "share",
    "needs_met_worst_best_cohort": "ratio",
    "needs_met_worst_best_district_kind": "ratio",
    "unmet_gini_cells": "share",
    "transfers_per_case": "count",
    "connection_rate": "share",
    "needs_given_up_share": "share",
}
"""Every headline figure and its kind (``time_h``, ``share``, ``ratio``, ``count``), in display order."""

SURVIVAL_HOURS = (0, 0.5, 1, 2, 4, 6, 8, 12, 16, 24, 36, 48, 72, 96, 120, 144, 168, 240, 336)
"""Hours at which ``metrics.json`` keeps each survival curve (for figures and comparisons)."""


def _ratio(incidents: pd.DataFrame, by: str, horizon_min: float) -> float:
    """Worst-served group's share of needs met within a week over the best-served group's."""
    return worst_best(share_met_by(incidents, by, horizon_min))["ratio"]


def _within_targets(incidents: pd.DataFrame, horizon_min: float, target_min: Mapping[str, float] | None) -> float:
    if not target_min:
        return np.nan
    return float(resolution_target_shares(incidents, target_min, horizon_min).loc["all", "share"])


def headline(
    incidents: pd.DataFrame,
    cells: pd.DataFrame,
    horizon_min: float,
    window_days: int,
    target_min: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The headline figures of a run (see the module's rules), as ``name -> value`` (NaN: not estimable).

    Args:
        incidents: the incidents that occurred in the measurement window (the incidents table).
        cells: the cells table (residents per cell, for the Gini of unmet need).
        horizon_min: the end of the run (the window's open cases are censored there).
        window_days: the window's length, days.
        target_min: incident type -> resolution target, minutes (the scenario's).
    """
    h = 60.0
    n = len(incidents)
    occ = clock_survival(incidents, "occurred_at", "resolved_at", horizon_min)
    rep = clock_survival(incidents, "detected_at", "resolved_at", horizon_min)
    det = clock_survival(incidents, "occurred_at", "detected_at", horizon_min)
    met = met_survival(incidents, horizon_min)
    hazard = incidents["hazard"].to_numpy(dtype=bool, na_value=False)
    due = column(incidents, "harm_due_at")
    known = hazard & (due <= horizon_min)
    detected_at = column(incidents, "detected_at")
    dispatched = ~np.isnan(detected_at) & ~np.isnan(column(incidents, "dispatched_at"))
    transfers = incidents["transfers"].to_numpy(dtype=float, na_value=0.0)
    phone = (
        (incidents["channel"] == "phone").to_numpy(dtype=bool, na_value=False)
        if "channel" in incidents
        else np.zeros(n, dtype=bool)
    )
    calls = incidents["calls"].to_numpy(dtype=float, na_value=0.0)[phone] if "calls" in incidents else np.zeros(0)
    hung_up = incidents["hung_up"].to_numpy(dtype=float, na_value=0.0)[phone] if "hung_up" in incidents else calls * 0
    out = {
        "incidents_per_day": n / window_days,
        "resolution_median_h": occ.quantile(0.5) / h,
        "resolution_p90_h": occ.quantile(0.9) / h,
        "resolution_rmean_h": occ.restricted_mean(WEEK_MIN) / h,
        "resolved_within_24h": occ.share_within(24 * h),
        "resolved_within_72h": occ.share_within(72 * h),
        "resolved_within_target": _within_targets(incidents, horizon_min, target_min),
        "report_resolution_median_h": rep.quantile(0.5) / h,
        "report_resolution_p90_h": rep.quantile(0.9) / h,
        "report_resolution_rmean_h": rep.restricted_mean(WEEK_MIN) / h,
        "report_resolved_within_24h": rep.share_within(24 * h),
        "report_resolved_within_72h": rep.share_within(72 * h),
        "open_at_end": float(np.mean(np.isnan(column(incidents, "resolved_at")))) if n else np.nan,
        "detection_median_h": det.quantile(0.5) / h,
        "detected_share": det.share_within(WEEK_MIN),
        "hazards_warned_share": float(np.mean(detected_at[known] < due[known])) if known.any() else np.nan,
        "harm_per_day": float(incidents["harmed_at"].notna().to_numpy()[hazard].sum()) / window_days,
        "needs_met_share": met.share_within(WEEK_MIN),
        "needs_met_worst_best_cohort": worst_best(share_met_by(incidents, "cohort", horizon_min))["ratio"],
        "needs_met_worst_best_district_kind": worst_best(share_met_by(incidents, "district_kind", horizon_min))[
            "ratio"
        ],
        "unmet_gini_cells": unmet_need_gini(incidents, cells, horizon_min, met),
        "transfers_per_case": float(transfers[dispatched].mean()) if dispatched.any() else np.nan,
        # a call still on hold at the end counts as answered (with a follow-up, none is)
        "connection_rate": 1.0 - hung_up.sum() / calls.sum() if calls.sum() > 0 else np.nan,
        "needs_given_up_share": float(given_up(incidents).mean()) if n else np.nan,
    }
    return {k: float(out[k]) for k in HEADLINE_KINDS}


def survival_curves(incidents: pd.DataFrame, horizon_min: float, hours=SURVIVAL_HOURS) -> dict:
    """Each clock's survival curve at fixed hours (NaN where not followed so long), for figures."""
    t = np.asarray(hours, dtype=float) * 60.0
    curves = {
        "resolution": clock_survival(incidents, "occurred_at", "resolved_at", horizon_min),
        "report_resolution": clock_survival(incidents, "detected_at", "resolved_at", horizon_min),
        "detection": clock_survival(incidents, "occurred_at", "detected_at", horizon_min),
        "needs_met": met_survival(incidents, horizon_min),
    }
    return {"hours": list(hours), **{name: s.at(t).tolist() for name, s in curves.items()}}
