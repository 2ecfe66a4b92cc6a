"""Time to an event with cases still open: Kaplan-Meier curves and what is read off them.

A run ends while some cases are still open. Dropping them (counting only the
resolved) favours a regime whose slow cases are still open; counting them as
resolved at the horizon favours nobody honestly either. Here an open case is
*censored*: it is known to take longer than the time it was followed. The
Kaplan-Meier estimate of the survival curve ``S(t)`` (the share of cases not yet
resolved ``t`` minutes after they started) uses every case, and the figures are
read off it (:class:`Survival`):

* the share resolved within ``t``: ``1 - S(t)``;
* the median and other quantiles: the first ``t`` with ``1 - S(t) >= p``; NaN
  where the curve never gets there while cases are still followed (not estimable);
* the restricted mean up to ``tau``: the area under ``S`` from 0 to ``tau``, the
  mean time to resolution with every case counted at most ``tau`` (NaN when no case
  was followed as long as ``tau``).

In citysim every case is followed from its start to the end of the run
(administrative censoring), so censoring is independent of how long a case takes,
as the estimator assumes. A case that can never end (a need closed without being
met, when the event is "need met") is given an infinite censoring time: it stays
in the denominator for ever. The estimator is :func:`scipy.stats.ecdf`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "WEEK_MIN",
    "Survival",
    "clock_survival",
    "column",
    "given_up",
    "kaplan_meier",
    "met_durations",
    "met_survival",
]

WEEK_MIN = 7 * 1440.0
"""A week, minutes: the horizon of "detected", "needs met" and the restricted mean in the headline."""


class Reads:
    """What is read off a survival curve that has ``at(t)``."""

    def share_within(self, t: float) -> float:
        """Share with the event within ``t`` minutes: ``1 - S(t)``."""
        return float(1.0 - self.at(t))


@dataclass(frozen=True)
class Survival(Reads):
    """A Kaplan-Meier survival curve: ``S`` just after each event time.

    Attributes:
        times: event times, ascending (minutes).
        survival: ``S(t)`` at each event time (the share still open just after it).
        n: cases.
        followed: the longest time any case was followed (event or censoring).
    """

    times: np.ndarray
    survival: np.ndarray
    n: int
    followed: float

    def at(self, t: float | np.ndarray) -> np.ndarray:
        """``S(t)``: the share of cases still open ``t`` minutes after they started (NaN beyond ``followed``)."""
        t = np.asarray(t, dtype=float)
        if self.n == 0:
            return np.full(t.shape, np.nan)
        k = np.searchsorted(self.times, t, side="right")
        s = np.where(k > 0, self.survival[np.maximum(k - 1, 0)], 1.0) if len(self.times) else np.ones(t.shape)
        return np.where(t <= self.followed, s, np.nan)

    def quantile(self, p: float) -> float:
        """Minutes by which a share ``p`` of cases is resolved (NaN: not estimable from this run)."""
        if self.n == 0:
            return np.nan
        reached = np.flatnonzero(1.0 - self.survival >= p - 1e-12)
        return float(self.times[reached[0]]) if len(reached) else np.nan

    def restricted_mean(self, tau: float) -> float:
        """Mean minutes to resolution with each case counted at most ``tau`` (NaN if none followed so long)."""
        if self.n == 0 or self.followed < tau:
            return np.nan
        inside = self.times < tau
        edges = np.concatenate([[0.0], self.times[inside], [tau]])
        heights = np.concatenate([[1.0], self.survival[inside]])
        return float(np.sum(np.diff(edges) * heights))


def kaplan_meier(duration: np.ndarray, observed: np.ndarray, followed: float | None = None) -> Survival:
    """The Kaplan-Meier curve of durations, some of them censored.

    Args:
        duration: per case, minutes to the event, or to the end of follow-up where the
            event was not observed (``inf``: it can never happen; the case stays at risk for ever).
        observed: per case, whether the event happened (else censored at ``duration``).
        followed: the longest any case was followed (default: the longest finite duration).

    Example:
        >>> s = kaplan_meier(np.array([1.0, 2.0, 3.0, 4.0]), np.array([True, False, True, True]))
        >>> float(s.at(1.5)), round(float(s.at(3.5)), 4)
        (0.75, 0.375)
    """
    duration = np.asarray(duration, dtype=float)
    observed = np.asarray(observed, dtype=bool)
    n = len(duration)
    if followed is None:
        finite = np.isfinite(duration)
        followed = float(np.max(duration[finite])) if finite.any() else 0.0
    if n == 0 or not observed.any():
        return Survival(np.zeros(0), np.zeros(0), n, float(followed))
    censored = duration[~observed]
    # a case that can never end is censored after everything followed: at risk for ever
    never = max(float(followed), float(np.max(duration[observed]))) + 1.0
    censored = np.where(np.isfinite(censored), censored, never)
    from scipy import stats  # here: scipy.stats takes half a second to import, and a run's metrics stream

    curve = stats.ecdf(stats.CensoredData(uncensored=duration[observed], right=censored)).sf
    keep = curve.quantiles < never
    return Survival(curve.quantiles[keep], curve.probabilities[keep], n, float(followed))


def column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column of minutes as floats (NaN where missing)."""
    return frame[name].to_numpy(dtype=float, na_value=np.nan)


def given_up(incidents: pd.DataFrame) -> np.ndarray:
    """Which incidents' residents hung up and did not call again (False throughout for tables without the column)."""
    if "gave_up" not in incidents:
        return np.zeros(len(incidents), dtype=bool)
    return incidents["gave_up"].to_numpy(dtype=bool, na_value=False)


def clock_survival(incidents: pd.DataFrame, start: str, end: str, horizon_min: float) -> Survival:
    """Kaplan-Meier curve of the time from column ``start`` to column ``end``, open cases censored at the horizon.

    Incidents without a ``start`` (never detected, for the detection clock) are left out. To
    ``resolved_at``, a need given up (the resident hung up and did not call again) never ends: it
    stays in the denominator for ever, never censored.
    """
    t0, t1 = column(incidents, start), column(incidents, end)
    has = ~np.isnan(t0)
    never = given_up(incidents)[has] if end == "resolved_at" else np.zeros(int(has.sum()), dtype=bool)
    t0, t1 = t0[has], t1[has]
    done = ~np.isnan(t1) & (t1 <= horizon_min)
    duration = np.where(done, t1 - t0, np.where(never, np.inf, horizon_min - t0))
    return kaplan_meier(duration, done, followed=float(horizon_min - t0.min()) if len(t0) else 0.0)


def met_durations(incidents: pd.DataFrame, horizon_min: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Per incident, minutes from occurrence to the need met (or followed, or ``inf``: closed unmet or given up),
    whether met, and the longest follow-up."""
    occurred = column(incidents, "occurred_at")
    resolved = column(incidents, "resolved_at")
    unmet = incidents["closed_unmet"].to_numpy(dtype=bool, na_value=False) | given_up(incidents)
    met = ~np.isnan(resolved) & ~unmet
    duration = np.where(met, resolved - occurred, np.where(unmet, np.inf, horizon_min - occurred))
    followed = float(horizon_min - occurred.min()) if len(occurred) else 0.0
    return duration, met, followed


def met_survival(incidents: pd.DataFrame, horizon_min: float) -> Survival:
    """Kaplan-Meier curve of the time from occurrence until the need is met (closed unmet: never)."""
    duration, met, followed = met_durations(incidents, horizon_min)
    return kaplan_meier(duration, met, followed)
