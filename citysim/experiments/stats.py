"""Confidence intervals over replications: t intervals, paired differences, bootstrap, two-stage sizing.

Every function takes the per-replication values of a metric (NaN where a run
could not estimate it: those replications are left out, and pairs need both).
Every resampling draws from the numpy Generator it is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Interval", "bootstrap_mean", "bootstrap_paired", "full_rounds", "mean_interval", "stein_replications"]

LEVEL = 0.95
BOOTSTRAP = 2000


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval over ``n`` replications (NaN where n < 2)."""

    estimate: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    @property
    def excludes_zero(self) -> bool:
        """The interval lies wholly above or below zero."""
        return bool(self.low > 0 or self.high < 0)


def _finite(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x[np.isfinite(x)]


def mean_interval(x, level: float = LEVEL) -> Interval:
    """The mean and its Student-t interval."""
    x = _finite(x)
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return Interval(mean, mean - half, mean + half, n)


def paired(a, b) -> tuple[np.ndarray, np.ndarray]:
    """The replications where both values are finite."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]


def bootstrap_mean(x, rng: np.random.Generator, level: float = LEVEL, draws: int = BOOTSTRAP) -> Interval:
    """The mean and its percentile-bootstrap interval."""
    x = _finite(x)
    if len(x) < 2:
        return mean_interval(x, level)
    means = x[rng.integers(0, len(x), (draws, len(x)))].mean(axis=1)
    low, high = np.quantile(means, [0.5 - level / 2, 0.5 + level / 2])
    return Interval(float(x.mean()), float(low), float(high), len(x))


def bootstrap_paired(
    a, b, rng: np.random.Generator, relative: bool, level: float = LEVEL, draws: int = BOOTSTRAP
) -> Interval:
    """Mean of b minus mean of a (over paired replications), absolute or relative to a's mean, bootstrapped.

    Replications are resampled in pairs, so common random numbers keep their benefit.
    """
    a, b = paired(a, b)
    n = len(a)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)

    def stat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        diff = y.mean(axis=-1) - x.mean(axis=-1)
        if not relative:
            return diff
        with np.errstate(divide="ignore", invalid="ignore"):
            return diff / np.abs(x.mean(axis=-1))

    estimate = float(stat(a, b))
    if n < 2:
        return Interval(estimate, math.nan, math.nan, n)
    rows = rng.integers(0, n, (draws, n))
    values = stat(a[rows], b[rows])
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return Interval(estimate, math.nan, math.nan, n)
    low, high = np.quantile(values, [0.5 - level / 2, 0.5 + level / 2])
    return Interval(estimate, float(low), float(high), n)


def stein_replications(pilot, half_width: float, level: float = LEVEL) -> int:
    """Replications for a t interval of at most ``half_width``, from a pilot sample (Stein's two-stage rule).

    The pilot's standard deviation and its t quantile (with the pilot's degrees of freedom) size
    the second stage once; the total is then run whatever widths happen along the way, which
    keeps the interval's coverage (stopping as soon as a width is reached does not).
    """
    x = _finite(pilot)
    n0 = len(x)
    if n0 < 2 or not half_width > 0:
        return n0
    s = float(x.std(ddof=1))
    t = float(stats.t.ppf(0.5 + level / 2, n0 - 1))
    return max(n0, math.ceil((t * s / half_width) ** 2))


def full_rounds(replications: int, runs_per_replication: int, workers: int) -> int:
    """The fewest replications, at least ``replications``, whose runs fill whole rounds of ``workers``."""
    for n in range(replications, replications + workers + 1):
        if (n * runs_per_replication) % workers == 0:
            return n
    return replications
