"""The daily time series of a run and what makes a unit unstable.

Each simulated day (warm-up, window and follow-up alike, marked by ``period``)
adds rows to the ``daily`` table:

* one ``city`` row: incidents that occurred, were first detected and whose story
  ended that day, and the staff on duty and busy over all units;
* one row per unit kind (``unit_kind``): work offered (service hours of the steps
  that joined a queue that day), staff-hours on duty, busy hours, utilisation over
  the hours on duty, mean and 90th-percentile wait of the services that began that
  day, and jobs still queued at midnight;
* the same per unit (``unit``) for the units worth watching, chosen at the end: the
  busiest, and every unit found unstable. (Grid workers, tens of thousands of them,
  are followed as a kind.)

A unit is **unstable** over the window when the work offered to it is at least its
staff-hours on duty (load ≥ 1), or, in a window of two weeks or more, when its mean
wait in the window's last week is over 1.5 times that of its first week and longer
by more than :data:`WAIT_NOISE_MIN` while it is at least half loaded (an idle unit's
few waits are noise: its queue cannot grow without end). In a shorter window the
waits of a busy unit swing from day to day more than any trend: only the load counts. The units table carries what
the rule needs, so :func:`citysim.metrics.stability.unstable_units` re-applies it.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from citysim.accounting import DayUse
from citysim.units import UNIT_KINDS
from citysim.window import Window

__all__ = ["WAIT_NOISE_MIN", "WATCHED", "DailyBook", "unstable"]

_WEEK = 7
"""Days in the first and last weeks whose waits are compared."""

WAIT_NOISE_MIN = 15.0
"""A unit's mean wait must grow by more than this (minutes) to count as growing."""

WATCHED = 10
"""Busiest units (by utilisation over the window) followed day by day, besides the unstable ones."""


def unstable(offered: np.ndarray, on_duty: np.ndarray, wait_first: np.ndarray, wait_last: np.ndarray) -> np.ndarray:
    """Which units are unstable over the window (the rule of this module), from their window figures."""
    with np.errstate(invalid="ignore", divide="ignore"):
        overloaded = (offered > 0) & (offered >= on_duty)
        growing = (
            (wait_last > 1.5 * wait_first) & (wait_last - wait_first > WAIT_NOISE_MIN) & (offered >= 0.5 * on_duty)
        )
    return overloaded | np.nan_to_num(growing, nan=False).astype(bool)


class DailyBook:
    """Accumulates the daily rows and each unit's stability figures over a run.

    Args:
        kinds: unit kind (index into ``UNIT_KINDS``) of every unit.
        names: every unit's name.
        window: the run's window.
    """

    def __init__(self, kinds: np.ndarray, names: list[str], window: Window) -> None:
        self.kinds = np.asarray(kinds).astype(np.int16)  # small: each day's waits are sorted by kind (radix sort)
        self.names = names
        self.window = window
        n = len(kinds)
        self.tracked = np.flatnonzero(kinds != UNIT_KINDS.index("grid"))
        self.rows: list[dict] = []
        self.history: list[tuple[int, str, np.ndarray]] = []  # per day: (day, period, [measure, tracked unit])
        self.offered = np.zeros(n)  # over the window
        self.first_days = range(window.warmup_days, window.warmup_days + _WEEK)
        self.wait_first, self.n_first = np.zeros(n), np.zeros(n)
        # the window's last week is known only once it has ended (a stopped run ends it early): keep the latest
        self._recent: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=_WEEK)

    def add_day(self, day: int, use: DayUse, on_duty: np.ndarray, queued: np.ndarray, counts: dict[str, int]) -> None:
        """Record one simulated day."""
        period = self.window.period_of_day(day)
        busy = use.busy_total
        if period == "window":
            self.offered += use.offered
            self._recent.append((use.wait_sum, use.wait_count))
        if day in self.first_days:
            self.wait_first += use.wait_sum
            self.n_first += use.wait_count
        base = {"day": day, "period": period}
        self.rows.append(
            {
                **base,
                "scope": "city",
                "name": "all",
                **_measures(use.offered.sum(), on_duty.sum(), busy.sum(), use.wait_min, queued.sum()),
                **counts,
            }
        )
        kind_of_wait = self.kinds[use.wait_unit]
        by_kind = np.argsort(kind_of_wait, kind="stable")  # each kind's waits together, in their order (radix sort)
        bounds = np.searchsorted(kind_of_wait[by_kind], np.arange(len(UNIT_KINDS) + 1))
        for k, kind in enumerate(UNIT_KINDS):
            sel = self.kinds == k
            if sel.any():
                waits = use.wait_min[by_kind[bounds[k] : bounds[k + 1]]]
                measures = _measures(
                    use.offered[sel].sum(), on_duty[sel].sum(), busy[sel].sum(), waits, queued[sel].sum()
                )
                self.rows.append({**base, "scope": "unit_kind", "name": kind, **measures})
        t = self.tracked
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_wait = use.wait_sum[t] / use.wait_count[t]
        self.history.append(
            (day, period, np.stack([use.offered[t], on_duty[t], busy[t], mean_wait, queued[t]]).astype(np.float32))
        )

    def cut(self, window: Window) -> None:
        """The run stopped early: its window is now ``window`` (see :meth:`citysim.window.Window.cut`)."""
        self.window = window

    def unit_columns(self) -> dict[str, np.ndarray]:
        """Per unit, what the stability rule needs (for the units table); waits in windows of two weeks or more."""
        n = len(self.kinds)
        wait_last, n_last = np.zeros(n), np.zeros(n)
        for wait_sum, wait_count in self._recent:  # the window's last week, in order of days
            wait_last += wait_sum
            n_last += wait_count
        trend = self.window.days >= 2 * _WEEK  # two weeks to compare, else no trend is read
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "offered_min": self.offered,
                "wait_first_week_min": np.where(trend & (self.n_first > 0), self.wait_first / self.n_first, np.nan),
                "wait_last_week_min": np.where(trend & (n_last > 0), wait_last / n_last, np.nan),
            }

    def rows_for(self, watched: np.ndarray) -> list[dict]:
        """Every daily row: the city and kind rows, and the day-by-day rows of the ``watched`` units."""
        position = {int(u): i for i, u in enumerate(self.tracked)}
        picks = [(int(u), position[int(u)]) for u in watched if int(u) in position]
        out = list(self.rows)
        for day, period, m in self.history:
            for u, i in picks:
                offered, on_duty, busy, mean_wait, queued = (float(x) for x in m[:, i])
                out.append(
                    {
                        "day": day,
                        "period": period,
                        "scope": "unit",
                        "name": self.names[u],
                        "work_offered_h": offered / 60.0,
                        "on_duty_h": on_duty / 60.0,
                        "busy_h": busy / 60.0,
                        "utilisation": busy / on_duty if on_duty > 0 else np.nan,
                        "mean_wait_min": mean_wait,
                        "p90_wait_min": np.nan,
                        "queue_at_midnight": int(queued),
                    }
                )
        return out


def _measures(offered: float, on_duty: float, busy: float, waits: np.ndarray, queued: float) -> dict:
    return {
        "work_offered_h": offered / 60.0,
        "on_duty_h": on_duty / 60.0,
        "busy_h": busy / 60.0,
        "utilisation": busy / on_duty if on_duty > 0 else np.nan,
        "mean_wait_min": float(waits.mean()) if len(waits) else np.nan,
        "p90_wait_min": p90(waits) if len(waits) else np.nan,
        "queue_at_midnight": int(queued),
    }


def p90(x: np.ndarray) -> float:
    """``np.percentile(x, 90)`` to the last bit, of values without NaN, in a fraction of its time on many values.

    The two values it interpolates between are found among those lying between a sample's 88th and
    92nd percentiles (all of them, should they not lie there), then interpolated as numpy does.
    """
    n = len(x)
    if n < 4096:
        return float(np.percentile(x, 90))
    q = 90 / 100
    v = (n - 1) * q  # numpy's virtual index (its linear method)
    if v >= n - 1:
        return float(x.max())
    k = int(np.floor(v))
    gamma = v - k
    low, high = np.percentile(x[:: n // 1024], [88, 92])
    below = int(np.count_nonzero(x < low))
    near = x[(x >= low) & (x <= high)]
    if below <= k and below + len(near) >= k + 2:
        a, b = np.partition(near, [k - below, k + 1 - below])[[k - below, k + 1 - below]]
    else:
        a, b = np.partition(x, [k, k + 1])[[k, k + 1]]
    d = b - a
    return float(b - d * (1 - gamma) if gamma >= 0.5 else a + d * gamma)  # numpy's _lerp
