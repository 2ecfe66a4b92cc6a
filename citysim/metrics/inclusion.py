"""Inclusion: who the city serves well and who it leaves behind.

Per cohort (elderly, disabled, rural ...) and per district kind (core ..
mountain): the share of needs met, how long meeting them takes, the share
never reported; the ratio of the worst-served group's share met to the
best-served group's; and how unevenly unmet need is spread over the city's
grid cells (a population-weighted Gini coefficient).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["gini", "met_mask", "needs_met", "unmet_need_by_cell", "unmet_need_gini", "worst_best"]


def met_mask(incidents: pd.DataFrame) -> np.ndarray:
    """Whether each incident's need was met: resolved by the horizon and not closed prematurely."""
    resolved = (incidents["status"] == "resolved").to_numpy(dtype=bool, na_value=False)
    return resolved & ~incidents["closed_unmet"].to_numpy(dtype=bool, na_value=False)


def needs_met(incidents: pd.DataFrame, by: str) -> pd.DataFrame:
    """How well each group of residents is served.

    Args:
        incidents: the incidents table.
        by: ``"cohort"`` or ``"district_kind"`` (any incidents column).

    Returns:
        Index the groups, columns ``incidents``; ``share_met`` (met / all the
        group's incidents); ``median_resolve_min`` and ``mean_resolve_min``
        (occurrence to resolution, over the needs met); ``never_reported``
        (share still undetected at the horizon).
    """
    met = met_mask(incidents)
    took = incidents["resolved_at"].to_numpy(dtype=float, na_value=np.nan)
    took = took - incidents["occurred_at"].to_numpy(dtype=float, na_value=np.nan)
    frame = pd.DataFrame(
        {
            "met": met,
            "took": np.where(met, took, np.nan),
            "never": (incidents["status"] == "undetected").to_numpy(dtype=bool, na_value=False),
        }
    )
    g = frame.groupby(incidents[by].to_numpy(dtype=object))
    out = pd.DataFrame(
        {
            "incidents": g.size(),
            "share_met": g["met"].mean().astype(float),
            "median_resolve_min": g["took"].median(),
            "mean_resolve_min": g["took"].mean(),
            "never_reported": g["never"].mean().astype(float),
        }
    )
    return out.rename_axis(by)


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


def unmet_need_by_cell(incidents: pd.DataFrame, cells: pd.DataFrame) -> pd.DataFrame:
    """Needs not met in each grid cell by the horizon, per resident.

    Args:
        incidents: the incidents table.
        cells: the cells table (every cell of the city, with its population).

    Returns:
        Index the cell, columns ``population``, ``unmet`` (incidents not met:
        undetected, in progress or closed prematurely) and ``unmet_per_resident``
        (NaN in a cell without residents).
    """
    unmet = pd.Series(~met_mask(incidents)).groupby(incidents["cell"].to_numpy()).sum()
    out = cells.set_index("cell")[["population"]].astype(float)
    out["unmet"] = unmet.reindex(out.index, fill_value=0).astype(int)
    out["unmet_per_resident"] = out["unmet"] / out["population"].where(out["population"] > 0)
    return out


def unmet_need_gini(incidents: pd.DataFrame, cells: pd.DataFrame) -> float:
    """How unevenly unmet need is spread over the city's cells (population-weighted Gini).

    0: every resident lives where unmet need per resident is the same; near 1:
    all unmet need is concentrated where few people live.
    """
    per = unmet_need_by_cell(incidents, cells)
    return gini(per["unmet_per_resident"].fillna(0.0), per["population"])
