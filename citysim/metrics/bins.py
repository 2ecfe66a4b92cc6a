"""Times to an event, binned: what streamed metrics keep instead of one duration per incident.

A run's metrics are accumulated as its incidents end (:mod:`citysim.metrics.stream`), so
durations are counted into bins rather than kept. The bins are geometric: each ends
:data:`RESOLUTION` (1%) above where it starts, from :data:`FLOOR_MIN` (0.01 minute) to
:data:`CEILING_MIN` (beyond any run citysim accepts), with a bin of its own for exactly 0
and extra edges at the times figures are read at (every hour of
:data:`~citysim.metrics.headline.SURVIVAL_HOURS`, a day, three days, a week, each incident
type's resolution target). So:

* a share *within* one of those times is exact, but for one thing: the order of events and
  censorings inside a bin is not kept, so a bin's censorings count as at risk for half of
  it (the life-table rule); on the test runs (a few hundred incidents a group) shares
  agree within 0.002, and the error shrinks with the square of the group's size;
* a median, p90 or other quantile is read by interpolating linearly inside the bin where
  the curve crosses it, so it lies within 1% of the exact value (0.01 minute below
  :data:`FLOOR_MIN`);
* a restricted mean integrates the curve bin by bin with the trapezoid rule, within 1%;
* counts and means (sums over counts) are exact.

:class:`BinnedSurvival` answers as :class:`~citysim.metrics.survival.Survival` does
(``at``, ``share_within``, ``quantile``, ``restricted_mean``), so the headline rules are
the same code; :func:`binned_quantiles` reads quantiles of uncensored durations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from citysim.metrics.survival import Reads

__all__ = [
    "CEILING_MIN",
    "FLOOR_MIN",
    "RESOLUTION",
    "BinnedSurvival",
    "TimeBins",
    "binned_quantiles",
    "index_of",
    "logs",
]

RESOLUTION = 0.01
"""Each bin ends 1% above where it starts (relative resolution of binned times)."""

FLOOR_MIN = 0.01
"""Below this many minutes, one bin (absolute resolution there)."""

CEILING_MIN = 2.0e7
"""Above this many minutes (38 years), one bin: longer than any run."""


class TimeBins:
    """Geometric time bins with extra edges at given times.

    Bin 0 holds durations of exactly 0 (or less); bin ``j >= 1`` holds durations in
    ``(edges[j - 1], edges[j]]``; the last bin everything above :data:`CEILING_MIN`.

    Args:
        extra_min: times (minutes) that must be edges, so shares within them are exact.
    """

    def __init__(self, extra_min: Iterable[float] = ()) -> None:
        self._log_r = float(np.log1p(RESOLUTION))
        self._n_log = n_log = int(np.ceil(np.log(CEILING_MIN / FLOOR_MIN) / self._log_r))
        grid = FLOOR_MIN * np.exp(self._log_r * np.arange(n_log + 1))
        extra = np.unique([float(t) for t in extra_min if FLOOR_MIN < float(t) < grid[-1]])
        extra = extra[~np.isin(extra, grid)]
        self.edges = np.concatenate([[0.0], np.unique(np.concatenate([grid, extra])), [np.inf]])
        self.n = len(self.edges)
        # log bin L holds (grid[L-1], grid[L]]: its first bin comes just after grid[L-1], then one per extra inside
        pos = np.searchsorted(self.edges, grid)
        self._base = np.concatenate([[1], pos + 1])
        k_extra = self._log_bin(extra)
        per_bin = np.bincount(k_extra, minlength=n_log + 2)
        self._split = np.full((n_log + 2, max(int(per_bin.max(initial=0)), 1)), np.inf)
        for k in np.unique(k_extra):
            inside = np.sort(extra[k_extra == k])
            self._split[k, : len(inside)] = inside

    def _log_bin(self, x: np.ndarray) -> np.ndarray:
        """Log-grid bin: 0 for x <= FLOOR, L for FLOOR*r^(L-1) < x <= FLOOR*r^L, the last above the grid."""
        return _log_bin(logs(x), self._log_r, self._n_log)

    @property
    def tables(self) -> tuple[float, int, np.ndarray, np.ndarray]:
        """What :func:`index_of` needs besides the durations: ``log(1 + RESOLUTION)``, the log grid's bins,
        each log bin's first bin and the extra edges inside it (``[log bin, j]``, inf where none)."""
        return self._log_r, self._n_log, self._base, self._split

    def index(self, minutes: np.ndarray) -> np.ndarray:
        """The bin of each duration in minutes (0 for 0 or less; NaN: not allowed, filter first)."""
        x = np.asarray(minutes, dtype=float)
        return index_of(x, logs(x), *self.tables)

    def count(self, minutes: np.ndarray, group: np.ndarray | None, n_groups: int = 1) -> np.ndarray:
        """Counts per (group, bin) of durations, as an array ``[n_groups, n]`` (groups < 0 left out)."""
        b = self.index(minutes)
        if group is None:
            return np.bincount(b, minlength=self.n)[None, :].astype(np.int64)
        ok = group >= 0
        flat = group[ok].astype(np.int64) * self.n + b[ok]
        return np.bincount(flat, minlength=n_groups * self.n).reshape(n_groups, self.n).astype(np.int64)


def logs(minutes: np.ndarray) -> np.ndarray:
    """``log(max(minutes, FLOOR_MIN) / FLOOR_MIN)``: the one step of binning numba could give other bits for
    (its ``log`` is not numpy's); compiled kernels are handed these."""
    x = np.asarray(minutes, dtype=float)
    out = np.maximum(x, FLOOR_MIN, out=np.empty(x.shape))
    out /= FLOOR_MIN
    return np.log(out, out=out)


def _log_bin(log_ratio: np.ndarray, log_r: float, n_log: int) -> np.ndarray:
    k = np.ceil(log_ratio / log_r)
    return np.clip(np.nan_to_num(k, nan=0.0, posinf=n_log + 1), 0, n_log + 1).astype(np.int64)


def index_of(x: np.ndarray, log_ratio: np.ndarray, log_r: float, n_log: int, base: np.ndarray, split: np.ndarray):
    """:meth:`TimeBins.index` of durations ``x`` given their :func:`logs` and the bins' :attr:`TimeBins.tables`
    (as ``citysim.metrics._kernels.bins_of`` does)."""
    k = _log_bin(log_ratio, log_r, n_log)
    idx = base[k]
    for j in range(split.shape[1]):
        idx = idx + (x > split[k, j])
    return np.where(x <= 0, 0, idx)


@dataclass
class BinnedSurvival(Reads):
    """A Kaplan-Meier curve from binned event and censoring counts (see the module's rules).

    Attributes:
        edges: the bins' upper edges (:attr:`TimeBins.edges`).
        events: cases whose event fell in each bin.
        censored: cases censored in each bin (at risk for half their bin: the life-table rule).
        never: cases that can never end (at risk for ever).
        followed: the longest any case was followed (minutes).
    """

    edges: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    never: int
    followed: float

    def __post_init__(self) -> None:
        self.n = int(self.events.sum() + self.censored.sum() + self.never)
        left = self.n - np.concatenate([[0], np.cumsum(self.events + self.censored)[:-1]])
        left = left - self.censored / 2.0  # a bin's censorings are at risk for half of it (the life-table rule)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(left > 0, 1.0 - self.events / np.where(left > 0, left, 1), 1.0)
        self.survival = np.cumprod(factor)  # S just after each bin's upper edge

    def at(self, t: float | np.ndarray) -> np.ndarray:
        """``S(t)`` at bin edges exactly (elsewhere the bin's end: within 1% of ``t``); NaN beyond ``followed``."""
        t = np.asarray(t, dtype=float)
        if self.n == 0:
            return np.full(t.shape, np.nan)
        k = np.searchsorted(self.edges, t * (1 + 1e-12), side="right") - 1
        s = self.survival[np.clip(k, 0, len(self.survival) - 1)]
        return np.where(t <= self.followed, np.where(t < 0, 1.0, s), np.nan)

    def quantile(self, p: float) -> float:
        """Minutes by which a share ``p`` had the event (within the bin where the curve crosses it); NaN if never."""
        if self.n == 0:
            return np.nan
        reached = np.flatnonzero(1.0 - self.survival >= p - 1e-12)
        if not len(reached):
            return np.nan
        j = int(reached[0])
        if j == 0:
            return 0.0
        lo, hi = self.edges[j - 1], self.edges[j]
        f0, f1 = 1.0 - self.survival[j - 1], 1.0 - self.survival[j]
        if not np.isfinite(hi):
            return float(lo)
        return float(lo + (hi - lo) * min(max((p - f0) / (f1 - f0), 0.0), 1.0)) if f1 > f0 else float(hi)

    def restricted_mean(self, tau: float) -> float:
        """Mean minutes to the event, each case counted at most ``tau`` (trapezoid rule; NaN: not followed)."""
        if self.n == 0 or self.followed < tau:
            return np.nan
        k = int(np.searchsorted(self.edges, tau * (1 + 1e-12), side="right") - 1)
        lo = self.edges[: k + 1]
        s_before = np.concatenate([[1.0], self.survival[:k]])
        s_after = self.survival[: k + 1]
        width = np.diff(np.concatenate([[0.0], lo]))
        area = float(np.sum(width * (s_before + s_after) / 2.0))
        return area + float((tau - lo[-1]) * s_after[-1])


def binned_quantiles(edges: np.ndarray, counts: np.ndarray, ps: Iterable[float]) -> list[float]:
    """Percentiles of durations from their bin counts, as numpy's default (linear) method defines them.

    The ``p`` percentile of ``n`` sorted values lies between the values of rank ``floor((n-1)p)``
    and the next; each is placed inside its bin (spread evenly over it), so the result is within
    the bin's 1% of the exact percentile. NaN when there is no duration.
    """
    total = int(counts.sum())
    if total == 0:
        return [np.nan for _ in ps]
    below = np.cumsum(counts) - counts  # values in earlier bins

    def value(rank: int) -> float:
        j = int(np.searchsorted(below + counts, rank, side="right"))
        if j == 0:
            return 0.0
        lo, hi = edges[j - 1], edges[j]
        if not np.isfinite(hi):
            return float(lo)
        return float(lo + (hi - lo) * (rank - below[j] + 0.5) / counts[j])

    out = []
    for p in ps:
        pos = (total - 1) * p
        k = int(np.floor(pos))
        lo = value(k)
        out.append(lo if k + 1 >= total else lo + (value(k + 1) - lo) * (pos - k))
    return out
