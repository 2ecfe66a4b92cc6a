"""What an experiment reads from a run's metrics: headline figures, survival, cost, inclusion.

This is the only module of :mod:`citysim.experiments` that knows where a
metric lives in ``metrics.json``. Everything else asks these functions, so a
change to the metrics is one change here.

Each headline metric has a *kind* (:data:`citysim.metrics.headline.HEADLINE_KINDS`)
that says how it is judged:

* ``"time_h"``: hours; a confidence interval's width is judged relative to the mean;
* ``"share"``: 0-1; width judged in absolute terms;
* ``"ratio"``: worst / best ratios (0-1); bootstrap intervals, width absolute;
* ``"count"``: events per day or per case; width judged relative to the mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from citysim.metrics.headline import HEADLINE_KINDS

__all__ = [
    "RELATIVE_KINDS",
    "better_direction",
    "cost_of",
    "cost_per_improvement",
    "headline_kinds",
    "headline_of",
    "improvement_unit",
    "inclusion_of",
    "survival_of",
]

RELATIVE_KINDS = ("time_h", "count")
"""Kinds whose confidence-interval widths are judged relative to the mean (the rest: absolute)."""

_LOWER_IS_BETTER = (
    "_h",
    "open_at_end",
    "harm_per_day",
    "unmet_gini_cells",
    "transfers_per_case",
    "needs_given_up_share",
)
_NEUTRAL = ("incidents_per_day",)


def better_direction(metric: str) -> int:
    """+1 where a higher value is better (shares met, warned ...), -1 where lower is (times, harm,
    transfers, inequality), 0 where neither (the volume of incidents)."""
    if metric in _NEUTRAL:
        return 0
    return -1 if metric.endswith(_LOWER_IS_BETTER) else 1


def improvement_unit(metric: str, kind: str) -> tuple[float, str]:
    """How a unit of improvement in ``metric`` is counted for cost per unit: (scale, words).

    Shares and ratios count in percentage points, times in hours, counts as they are.
    """
    if kind == "time_h":
        return 1.0, "hour saved"
    if kind in ("share", "ratio"):
        return 100.0, "point gained" if better_direction(metric) > 0 else "point less"
    return 1.0, "fewer a day" if metric.endswith("_per_day") else "fewer"


def _number(value: object) -> float:
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


def headline_kinds() -> dict[str, str]:
    """Every headline metric's name and kind, in report order."""
    return dict(HEADLINE_KINDS)


def headline_of(metrics: Mapping) -> tuple[dict[str, float], dict[str, str]]:
    """A run's headline metrics (``name -> value``, NaN where not estimable) and their kinds."""
    block = metrics.get("headline") or {}
    return {name: _number(block.get(name)) for name in HEADLINE_KINDS}, headline_kinds()


def cost_per_improvement(metric: str, kind: str, cost_diff: float, diff: float) -> float:
    """Extra annual cost per unit of improvement (:func:`improvement_unit`) for a difference ``diff`` in
    ``metric`` bought with ``cost_diff`` more a year; NaN where it is no improvement or costs nothing more."""
    scale, _ = improvement_unit(metric, kind)
    gain = better_direction(metric) * diff * scale
    return cost_diff / gain if gain > 0 and cost_diff > 0 else math.nan


def cost_of(metrics: Mapping) -> float | None:
    """The annual cost of the staff a run used (CNY, from the staffing ledger), or None where not priced."""
    ledger = metrics.get("ledger")
    if not isinstance(ledger, Mapping) or ledger.get("annual_cost") is None:
        return None
    return float(ledger["annual_cost"])


def survival_of(metrics: Mapping) -> tuple[np.ndarray, np.ndarray] | None:
    """The Kaplan-Meier share of incidents not yet resolved, by hours since occurrence, or None.

    Returns:
        ``(hours, survival)`` at the fixed hours ``metrics.json`` keeps (NaN beyond the time
        the run followed its cases).
    """
    block = metrics.get("survival")
    if not isinstance(block, Mapping) or block.get("resolution") is None:
        return None
    hours = np.asarray(block["hours"], dtype=float)
    return hours, np.array([_number(v) for v in block["resolution"]])


def inclusion_of(metrics: Mapping) -> dict[str, dict[str, float]]:
    """Share of needs met by cohort and by district kind: ``{"cohort": {...}, "district_kind": {...}}``."""
    inclusion = metrics.get("inclusion") or {}
    out: dict[str, dict[str, float]] = {}
    for group in ("cohort", "district_kind"):
        rows = inclusion.get(f"by_{group}") or {}
        out[group] = {str(k): _number(row.get("share_met")) for k, row in rows.items() if isinstance(row, Mapping)}
    return out
