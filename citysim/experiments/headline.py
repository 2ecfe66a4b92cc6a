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

__all__ = ["RELATIVE_KINDS", "cost_of", "headline_kinds", "headline_of", "inclusion_of", "survival_of"]

RELATIVE_KINDS = ("time_h", "count")
"""Kinds whose confidence-interval widths are judged relative to the mean (the rest: absolute)."""


def _number(value: object) -> float:
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


def headline_kinds() -> dict[str, str]:
    """Every headline metric's name and kind, in report order."""
    return dict(HEADLINE_KINDS)


def headline_of(metrics: Mapping) -> tuple[dict[str, float], dict[str, str]]:
    """A run's headline metrics (``name -> value``, NaN where not estimable) and their kinds."""
    block = metrics.get("headline") or {}
    return {name: _number(block.get(name)) for name in HEADLINE_KINDS}, headline_kinds()


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
