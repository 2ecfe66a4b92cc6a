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
