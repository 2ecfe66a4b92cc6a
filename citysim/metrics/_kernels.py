"""The metrics stream's kernels (numba): one pass where numpy takes several.

Each gives its numpy twin's results to the last bit (the same additions in the same
order; ``tests/test_metrics.py`` compares them), and is used where numba is installed
(:func:`citysim.compiled.compiled_or`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def add_binned(into, bins, groups, rows, sums, minutes):
    """``into[g, bins[r]] += 1`` for each row ``r`` in ``rows`` and each of its groups ``g >= 0``; given
    ``sums`` (length > 0), each group's ``minutes`` of those rows, in row order, then added to ``sums[g]``."""
    with_sums = len(sums) > 0
    tmp = np.zeros(len(sums))
    for a in range(groups.shape[0]):
        for r in range(groups.shape[1]):
            if rows[r]:
                g = groups[a, r]
                if g >= 0:
                    into[g, bins[r]] += 1
                    if with_sums:
                        tmp[g] += minutes[r]
    for g in range(len(sums)):
        sums[g] += tmp[g]


@njit(cache=True)
def add_counts(counts, col, groups, values):
    """``counts[g, col + j] += values[j, r]`` for each row ``r`` and each of its ``groups[:, r]`` >= 0."""
    for a in range(groups.shape[0]):
        for r in range(groups.shape[1]):
            g = groups[a, r]
            if g >= 0:
                for j in range(values.shape[0]):
                    counts[g, col + j] += values[j, r]


@njit(cache=True)
def first_of(first, groups, values):
    """``first[g] = min(first[g], values[r])`` for each row ``r`` with a value (not NaN) and each of its
    ``groups[:, r]`` >= 0."""
    for a in range(groups.shape[0]):
        for r in range(groups.shape[1]):
            g = groups[a, r]
            v = values[r]
            if g >= 0 and not np.isnan(v) and v < first[g]:
                first[g] = v


@njit(cache=True)
def add_rows(into, at, rows):
    """``into[at[i]] += rows[i]`` for each row ``i``, in row order (as ``citysim.metrics.stream._add_rows_numpy``)."""
    for i in range(len(at)):
        for j in range(rows.shape[1]):
            into[at[i], j] += rows[i, j]


@njit(cache=True, inline="always")
def _min_nan(a, b):
    """``np.minimum`` of two numbers (NaN if either is)."""
    if np.isnan(a) or np.isnan(b):
        return np.nan
    return min(a, b)


@njit(cache=True)
def stage_parts(key, code, attempt, queued, started, ended, resolved, category, reopening, travel, dispatch, n_parts):
    """Minutes per incident and part (``[len(resolved), n_parts]``): the union of each part's stage intervals.

    As :func:`citysim.metrics.response.stage_intervals` then :func:`~citysim.metrics.response.parts_minutes`:
    the same intervals, each part's sorted by start (ties in row order, travel's waits after every row),
    each adding what extends past the furthest end so far.
    """
    n = len(key)
    m = 0
    for r in range(n):
        if key[r] >= 0 and code[r] >= 0 and queued[r] < resolved[key[r]]:
            m += 1
    group = np.empty(2 * m, np.int64)
    start = np.empty(2 * m)
    end = np.empty(2 * m)
    k = 0
    for second in range(2):  # every row's interval, then travel rows' waits for a team
        for r in range(n):
            i = key[r]
            if i < 0 or code[r] < 0 or not queued[r] < resolved[i]:
                continue
            cat = reopening if attempt[r] >= 1 else category[code[r]]
            if second == 0:
                s = started[r] if code[r] == travel else queued[r]
                e = _min_nan(ended[r], resolved[i])
            else:
                if code[r] != travel:
                    continue
                if cat == category[travel]:
                    cat = dispatch
                s = queued[r]
                e = _min_nan(started[r], resolved[i])
            if e > s:
                group[k] = i * n_parts + cat
                start[k] = s
                end[k] = e
                k += 1
    n_groups = len(resolved) * n_parts
    # intervals by group (counting sort, stable), then by start within each group (insertion sort, stable)
    first = np.zeros(n_groups + 1, np.int64)
    for j in range(k):
        first[group[j] + 1] += 1
    for g in range(n_groups):
        first[g + 1] += first[g]
    at = first[:-1].copy()
    order = np.empty(k, np.int64)
    for j in range(k):
        order[at[group[j]]] = j
        at[group[j]] += 1
    out = np.zeros(n_groups)
    for g in range(n_groups):
        lo, hi = first[g], first[g + 1]
        if hi == lo:
            continue
        for x in range(lo + 1, hi):
            y = order[x]
            z = x
            while z > lo and start[order[z - 1]] > start[y]:
                order[z] = order[z - 1]
                z -= 1
            order[z] = y
        if hi - lo == 1:
            out[g] = end[order[lo]] - start[order[lo]]
            continue
        acc = 0.0
        reach = -np.inf
        for x in range(lo, hi):
            j = order[x]
            v = end[j] - max(start[j], reach)
            acc += v if v > 0.0 else 0.0
            reach = max(reach, end[j])
        out[g] = acc
    return out.reshape(len(resolved), n_parts)
