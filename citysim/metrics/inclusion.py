"""Inclusion: who the city serves well and who it leaves behind.

Per cohort (elderly, disabled, rural ...) and per district kind (core ..
mountain): the share of needs met within a week of occurring, how long meeting
them takes, the share not reported within a week; the ratio of the worst-served
group's share met to the best-served group's; and how unevenly unmet need is
spread over the city's grid cells (a population-weighted Gini coefficient).

Every share is over all the group's incidents, from a Kaplan-Meier curve (a case
still open at the end of the run is censored, see :mod:`citysim.metrics.survival`),
so it does not move with the run's length; a need closed without being met never
counts as met.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from citysim.metrics.survival import WEEK_MIN, Survival, clock_survival, given_up, met_durations, met_survival

__all__ = ["gini", "needs_met", "share_met_by", "unmet_need_by_cell", "unmet_need_gini", "worst_best"]


def needs_met(incidents: pd.DataFrame, by: str, horizon_min: float) -> pd.DataFrame:
    """How well each group of residents is served.

    Args:
        incidents: the incidents table.
        by: ``"cohort"`` or ``"district_kind"`` (any incidents column).
        horizon_min: the end of the run (open cases are censored there).

    Returns:
        Index the groups, columns ``incidents``; ``share_met`` (share of the
        group's incidents whose need was met within a week of occurring);
        ``median_resolve_min`` (median minutes from occurrence to resolution, NaN
        where not estimable); ``never_reported`` (share not detected within a week); ``given_up``
        (share whose resident hung up and did not call again: never met).
    """
    keys = incidents[by].to_numpy(dtype=object)
    rows = {}
    for group in sorted({k for k in keys if k is not None and k == k}):
        g = incidents[keys == group]
        rows[group] = {
            "incidents": len(g),
            "share_met": met_survival(g, horizon_min).share_within(WEEK_MIN),
            "median_resolve_min": clock_survival(g, "occurred_at", "resolved_at", horizon_min).quantile(0.5),
            "never_reported": 1.0 - clock_survival(g, "occurred_at", "detected_at", horizon_min).share_within(WEEK_MIN),
            "given_up": float(given_up(g).mean()),
        }
    columns = ["incidents", "share_met", "median_resolve_min", "never_reported", "given_up"]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    out["incidents"] = out["incidents"].astype(int)
    return out.rename_axis(by)


def share_met_by(incidents: pd.DataFrame, by: str, horizon_min: float, within: float = WEEK_MIN) -> pd.Series:
    """Per group (e.g. cohort), the share of needs met within ``within`` minutes of occurring (Kaplan-Meier)."""
    keys = incidents[by].to_numpy(dtype=object)
    out = {}
    for group in sorted({k for k in keys if k is not None and k == k}):
        out[group] = met_survival(incidents[keys == group], horizon_min).share_within(within)
    return pd.Series(out, dtype=float).rename_axis(by)


def worst_best(shares: pd.Series) -> dict:
    """The worst- and best-served groups and the ratio of their shares (worst / best).

    Args:
        shares: a share per group, e.g. ``needs_met(...)["share_met"]``.

    Returns:
        ``{"worst", "worst_share", "best", "best_share", "ratio"}``; the ratio is
        1 when every group is served alike, NaN when no group has a share or
        the best share is 0.
    """
    s = shares.dropna()
    if not len(s):
        return {
            "worst": None,
            "worst_share": np.nan,
            "best": None,
            "best_share": np.nan,
            "ratio": np.nan,
        }
    worst, best = s.idxmin(), s.idxmax()
    ratio = s[worst] / s[best] if s[best] > 0 else np.nan
    return {
        "worst": worst,
        "worst_share": float(s[worst]),
        "best": best,
        "best_share": float(s[best]),
        "ratio": ratio,
    }


def gini(values: np.ndarray | pd.Series, weights: np.ndarray | pd.Series | None = None) -> float:
    """Gini coefficient of non-negative values, each weighted (e.g. by residents).

    0 when every weighted unit has the same value; it approaches 1 when one
    unit holds everything. Computed from the Lorenz curve, so it equals the
    weighted mean absolute difference over twice the weighted mean:
    ``gini([0, 0, 0, 1]) == 0.75``.

    Args:
        values: one value per unit (e.g. unmet need per resident of a cell).
        weights: one weight per unit (default 1); units of weight 0 are left out.

    Returns:
        The Gini coefficient; 0 when every value is 0, NaN when no unit is left.

    Raises:
        ValueError: if a value or weight is negative, or their lengths differ.
    """
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if x.shape != w.shape:
        raise ValueError(f"gini: values ({len(x)}) and weights ({len(w)}) must have the same length")
    if (x < 0).any() or (w < 0).any():
        raise ValueError("gini: values and weights must be non-negative")
    keep = (w > 0) & ~np.isnan(x)
    x, w = x[keep], w[keep]
    if not len(x):
        return np.nan
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    total = float((w * x).sum())
    if total == 0:
        return 0.0
    people = np.cumsum(w) / w.sum()
    lorenz = np.cumsum(w * x) / total
    area = np.diff(people, prepend=0.0) * (lorenz + np.r_[0.0, lorenz[:-1]])
    return float(1.0 - area.sum())


def unmet_need_by_cell(
    incidents: pd.DataFrame, cells: pd.DataFrame, horizon_min: float, overall: Survival | None = None
) -> pd.DataFrame:
    """Needs not met within a week of occurring, per grid cell and per resident.

    A case still open that was followed less than a week counts with its chance of not
    being met by then, from the city-wide curve ``overall`` (exact once every case is
    followed a week, as with a week's follow-up).

    Args:
        incidents: the incidents table.
        cells: the cells table (every cell of the city, with its population).
        horizon_min: the end of the run.
        overall: :func:`~citysim.metrics.survival.met_survival` of all the incidents, if computed.

    Returns:
        Index the cell, columns ``population``, ``unmet`` (expected needs not met within a
        week) and ``unmet_per_resident`` (NaN in a cell without residents); NaN throughout
        when no case could be followed a week.
    """
    overall = met_survival(incidents, horizon_min) if overall is None else overall
    duration, met, _ = met_durations(incidents, horizon_min)
    out = cells.set_index("cell")[["population"]].astype(float)
    s_week = overall.at(WEEK_MIN)
    if np.isnan(s_week):
        out["unmet"] = np.nan
    else:
        unmet = np.where(met, (duration > WEEK_MIN).astype(float), 1.0)
        open_short = ~met & np.isfinite(duration) & (duration < WEEK_MIN)
        if open_short.any():
            s_then = overall.at(duration[open_short])
            unmet[open_short] = np.where(s_then > 0, s_week / np.where(s_then > 0, s_then, 1.0), 1.0)
        per_cell = pd.Series(unmet).groupby(incidents["cell"].to_numpy()).sum()
        out["unmet"] = per_cell.reindex(out.index, fill_value=0.0)
    out["unmet_per_resident"] = out["unmet"] / out["population"].where(out["population"] > 0)
    return out


def unmet_need_gini(
    incidents: pd.DataFrame, cells: pd.DataFrame, horizon_min: float, overall: Survival | None = None
) -> float:
    """How unevenly needs not met within a week are spread over the city's cells (population-weighted Gini).

    0: every resident lives where unmet need per resident is the same; near 1:
    all unmet need is concentrated where few people live. NaN when no case was followed a week.
    """
    per = unmet_need_by_cell(incidents, cells, horizon_min, overall)
    if per["unmet"].isna().all():
        return np.nan
    return gini(per["unmet_per_resident"].fillna(0.0), per["population"])
