"""What an experiment reads from a run's metrics: headline figures, survival, cost, inclusion.

This is the only module of :mod:`citysim.experiments` that knows where a
metric lives in ``metrics.json``. Everything else asks these functions, so a
change to the metrics (the ``headline`` block, the Kaplan-Meier curve, the
staffing ledger) is one change here.

Each headline metric has a *kind* that says how it is judged:

* ``"time_h"``: hours; a confidence interval's width is judged relative to the mean;
* ``"share"``: 0-1; width judged in absolute terms;
* ``"ratio"``: worst / best ratios (0-1); bootstrap intervals, width absolute;
* ``"count"``: events per day or per case; width judged relative to the mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

__all__ = [
    "KINDS",
    "RELATIVE_KINDS",
    "cost_of",
    "headline_kinds",
    "headline_of",
    "inclusion_of",
    "survival_grid_h",
    "survival_of",
]

KINDS = ("time_h", "share", "ratio", "count")
"""Kinds of headline metric."""

RELATIVE_KINDS = ("time_h", "count")
"""Kinds whose confidence-interval widths are judged relative to the mean (the rest: absolute)."""

# Until metrics carry their own ``headline`` block: (name, kind, path in metrics.json, scale).
_DERIVED: tuple[tuple[str, str, tuple[str, ...], float], ...] = (
    ("resolution_median_h", "time_h", ("response", "overall", "resolution", "median"), 1 / 60),
    ("resolution_p90_h", "time_h", ("response", "overall", "resolution", "p90"), 1 / 60),
    ("resolution_mean_h", "time_h", ("response", "overall", "resolution", "mean"), 1 / 60),
    ("resolved_within_target", "share", ("targets", "resolution", "overall"), 1.0),
    ("detected_share", "share", ("coverage", "detected", "overall"), 1.0),
    ("hazards_warned_share", "share", ("coverage", "hazards", "overall", "early_warning"), 1.0),
    ("harm_per_million_day", "count", ("harm", "per_million_day"), 1.0),
    ("needs_met_worst_best_cohort", "ratio", ("inclusion", "ratio", "cohort", "ratio"), 1.0),
    ("needs_met_worst_best_district_kind", "ratio", ("inclusion", "ratio", "district_kind", "ratio"), 1.0),
    ("unmet_gini_cells", "share", ("inclusion", "gini_unmet_need"), 1.0),
    ("transfers_per_case", "count", ("cost", "transfers_per_case", "dispatched"), 1.0),
)


def _lookup(metrics: Mapping, path: tuple[str, ...]) -> float:
    value: object = metrics
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return math.nan
        value = value[key]
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


def _official_kinds() -> dict[str, str] | None:
    try:
        from citysim.metrics.headline import HEADLINE_KINDS  # type: ignore[import-not-found]
    except ImportError:
        return None
    return dict(HEADLINE_KINDS)


def headline_kinds() -> dict[str, str]:
    """Every headline metric's name and kind, in report order (see the module docstring for kinds)."""
    official = _official_kinds()
    if official is not None:
        return official
    kinds = {name: kind for name, kind, _, _ in _DERIVED}
    kinds["needs_met_share"] = "share"
    return kinds


def headline_of(metrics: Mapping) -> tuple[dict[str, float], dict[str, str]]:
    """A run's headline metrics (``name -> value``, NaN where not estimable) and their kinds.

    Reads ``metrics["headline"]`` where the metrics carry it, otherwise derives
    the same kind of figures from the rest of ``metrics.json``.
    """
    kinds = headline_kinds()
    block = metrics.get("headline")
    if isinstance(block, Mapping):
        values = {name: math.nan if block.get(name) is None else float(block[name]) for name in kinds}
        return values, kinds
    values = {name: _lookup(metrics, path) * scale for name, _, path, scale in _DERIVED}
    values["needs_met_share"] = _needs_met_share(metrics)
    return values, kinds


def _needs_met_share(metrics: Mapping) -> float:
    """Share of all needs met: the cohorts' shares weighted by their incidents."""
    rows = ((metrics.get("inclusion") or {}).get("by_cohort") or {}).values()
    pairs = [(_lookup(r, ("incidents",)), _lookup(r, ("share_met",))) for r in rows if isinstance(r, Mapping)]
    pairs = [(n, s) for n, s in pairs if n > 0 and math.isfinite(s)]
    total = sum(n for n, _ in pairs)
    return sum(n * s for n, s in pairs) / total if total else math.nan


def cost_of(metrics: Mapping) -> float | None:
    """The annual cost of the staff a run used (CNY, from the staffing ledger), or None where not priced."""
    ledger = metrics.get("ledger")
    if not isinstance(ledger, Mapping) or ledger.get("annual_cost") is None:
        return None
    return float(ledger["annual_cost"])


def survival_grid_h(horizon_h: float, points: int = 60) -> np.ndarray:
    """Hours at which survival curves are kept: 0, then log-spaced from 6 minutes to the horizon."""
    top = max(horizon_h, 0.2)
    return np.concatenate([[0.0], np.geomspace(0.1, top, points - 1)])


def survival_of(
    metrics: Mapping, incidents=None, horizon_h: float | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """The share of incidents not yet resolved, by hours since occurrence, or None.

    Reads the Kaplan-Meier curve the metrics carry (``metrics["survival"]["resolution"]``
    with ``hours`` and ``survival``) where present; otherwise, given the run's
    ``incidents`` table, an empirical curve in which open cases count as never
    resolved (no censoring). The curve is evaluated on :func:`survival_grid_h`
    so curves of many runs can be averaged.
    """
    block = metrics.get("survival")
    if isinstance(block, Mapping) and isinstance(block.get("resolution"), Mapping):
        curve = block["resolution"]
        hours = np.asarray(curve["hours"], dtype=float)
        surv = np.asarray(curve["survival"], dtype=float)
        grid = survival_grid_h(float(hours[-1]) if horizon_h is None else horizon_h)
        idx = np.searchsorted(hours, grid, side="right") - 1
        return grid, np.where(idx >= 0, surv[np.clip(idx, 0, None)], 1.0)
    if incidents is None or len(incidents) == 0 or horizon_h is None:
        return None
    waits = ((incidents["resolved_at"] - incidents["occurred_at"]) / 60.0).to_numpy(dtype=float, na_value=np.nan)
    done = np.sort(waits[np.isfinite(waits)])
    grid = survival_grid_h(horizon_h)
    return grid, 1.0 - np.searchsorted(done, grid, side="right") / len(waits)


def inclusion_of(metrics: Mapping) -> dict[str, dict[str, float]]:
    """Share of needs met by cohort and by district kind: ``{"cohort": {...}, "district_kind": {...}}``."""
    inclusion = metrics.get("inclusion") or {}
    out: dict[str, dict[str, float]] = {}
    for group in ("cohort", "district_kind"):
        rows = inclusion.get(f"by_{group}") or {}
        out[group] = {str(k): _lookup(row, ("share_met",)) for k, row in rows.items() if isinstance(row, Mapping)}
    return out
