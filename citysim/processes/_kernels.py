"""Sampling kernels (numba): one pass where numpy sorts first.

Each gives its numpy twin's results exactly (``tests/test_dice.py`` compares them) and is used
where numba is installed (:func:`citysim.compiled.compiled_or`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from citysim._prefetch import prefetch

AHEAD = 16
"""Values ahead whose bucket is fetched (then, half as far ahead, the weights it points to)."""


@njit(cache=True, inline="always")
def _guess(x, width, k):
    """The bucket a value falls in if the edges were exact (they are, but for rounding)."""
    b = int(x / width) if width > 0 else 0
    return min(max(b, 0), k - 1)


@njit(cache=True)
def pick_in_buckets(cum, edges, starts, u):
    """``np.searchsorted(cum, u, side="right")``, each value looked for only between the entries of
    ``cum`` that fall in its bucket: ``starts[b]`` entries are at most ``edges[b]`` (see
    :func:`citysim.processes.occurrence.bucket_index`)."""
    k = len(edges) - 1
    width = edges[1]
    n = len(u)
    out = np.empty(n, dtype=np.int64)
    last = len(cum) - 1
    for i in range(n):
        # values looked up at random: fetch a later value's bucket, and the weights an earlier-fetched bucket
        # points to, while this one is looked up (hints: no effect on results)
        if i + AHEAD < n:
            b = _guess(u[i + AHEAD], width, k)
            prefetch(edges, b, 0)
            prefetch(starts, b, 0)
        if i + AHEAD // 2 < n and last >= 0:
            lo = starts[_guess(u[i + AHEAD // 2], width, k)]
            prefetch(cum, min(lo, last), 0)
            prefetch(cum, min(lo + 7, last), 0)
        x = u[i]
        b = _guess(x, width, k)
        while b > 0 and edges[b] > x:
            b -= 1
        while b < k - 1 and edges[b + 1] <= x:
            b += 1
        lo = starts[b]
        hi = starts[b + 1] if b < k - 1 else len(cum)
        while lo < hi:  # the first entry above x
            mid = (lo + hi) // 2
            if cum[mid] <= x:
                lo = mid + 1
            else:
                hi = mid
        out[i] = lo
    return out


@njit(cache=True)
def key_runs(same_job, key):
    """Runs of consecutive steps of one job sharing a positive ``key``: first steps and lengths (as
    ``citysim.processes.plan._key_runs_numpy``)."""
    n = len(key)
    starts = np.empty(n, dtype=np.int64)
    lengths = np.empty(n, dtype=np.int64)
    m = 0
    begin = 0
    for i in range(1, n + 1):
        if i < n and same_job[i] and key[i] == key[i - 1] and key[i] > 0:
            continue
        if key[begin] > 0:
            starts[m] = begin
            lengths[m] = i - begin
            m += 1
        begin = i
    return starts[:m], lengths[:m]


@njit(cache=True)
def profile_minutes(cp, u, lo, mass, a, top):
    """``citysim.processes.occurrence._profile_minutes_numpy`` in one pass (the same arithmetic: the same bits)."""
    out = np.empty(len(u))
    for i in range(len(u)):
        y = lo + u[i] * mass
        h = 0  # the last hour whose cumulative share is at most y (searchsorted, side right, less one), in 0..23
        while h < 23 and cp[h + 1] <= y:
            h += 1
        width = cp[h + 1] - cp[h]
        frac = (y - cp[h]) / width if width > 0 else 0.0
        out[i] = min(max(60.0 * h + 60.0 * frac, a), top)
    return out


@njit(cache=True)
def first_detection(times, resident_channel, by_channel):
    """``citysim.processes.detection._first_detection_numpy`` in one pass: the first of the earliest times
    (the first NaN where there is one, as ``np.argmin``), and its channel."""
    n = times.shape[1]
    by = np.empty(n, np.int64)
    at = np.empty(n)
    channel = np.empty(n, np.int64)
    for i in range(n):
        k = 0
        best = times[0, i]
        if not np.isnan(best):
            for j in range(1, times.shape[0]):
                v = times[j, i]
                if np.isnan(v):
                    k, best = j, v
                    break
                if v < best:
                    k, best = j, v
        at[i] = best
        if not np.isfinite(best):
            by[i] = -1
            channel[i] = -1
            continue
        by[i] = k
        channel[i] = by_channel[k] if by_channel[k] != -1 else resident_channel[i]
    return by, at, channel
