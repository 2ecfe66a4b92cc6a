"""Sampling kernels (numba): one pass where numpy sorts first.

Each gives its numpy twin's results exactly (``tests/test_dice.py`` compares them) and is used
where numba is installed (:func:`citysim.compiled.compiled_or`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def pick_in_buckets(cum, edges, starts, u):
    """``np.searchsorted(cum, u, side="right")``, each value looked for only between the entries of
    ``cum`` that fall in its bucket: ``starts[b]`` entries are at most ``edges[b]`` (see
    :func:`citysim.processes.occurrence.bucket_index`)."""
    k = len(edges) - 1
    width = edges[1]
    out = np.empty(len(u), dtype=np.int64)
    for i in range(len(u)):
        x = u[i]
        b = int(x / width) if width > 0 else 0
        b = min(max(b, 0), k - 1)
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
