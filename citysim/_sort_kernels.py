"""Sorting kernels (numba): stable orders in a few linear passes where numpy compares.

Each gives ``np.argsort(x, kind="stable")`` exactly (a stable order is unique:
ties keep their places), which ``tests/test_dice.py`` checks, and is used where
numba is installed (:func:`citysim.sorting.stable_argsort`, :func:`citysim.sorting.rows_order`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_SIGN = np.uint64(1) << np.uint64(63)
_ALL = ~np.uint64(0)
_DIGIT = 16
_MASK = np.uint64((1 << _DIGIT) - 1)


@njit(cache=True)
def stable_argsort(x):
    """``np.argsort(x, kind="stable")`` of float64 values: a radix sort of their bits, 16 at a time.

    Bits are turned into keys that order as numpy does: -0.0 equal to 0.0, NaN last (all NaN equal).
    Passes over 16 bits that every key shares are skipped.
    """
    n = len(x)
    keys = np.empty(n, dtype=np.uint64)
    y = x + 0.0  # -0.0 + 0.0 is 0.0
    bits = y.view(np.uint64)
    for i in range(n):
        if np.isnan(y[i]):
            keys[i] = _ALL
        elif bits[i] & _SIGN:
            keys[i] = ~bits[i]
        else:
            keys[i] = bits[i] | _SIGN
    order = np.arange(n)
    if n < 2:
        return order
    other = np.empty(n, dtype=np.int64)
    counts = np.zeros((4, 1 << _DIGIT), dtype=np.int64)
    for i in range(n):
        k = keys[i]
        for p in range(4):
            counts[p, (k >> np.uint64(p * _DIGIT)) & _MASK] += 1
    for p in range(4):
        c = counts[p]
        if c[(keys[0] >> np.uint64(p * _DIGIT)) & _MASK] == n:
            continue  # every key has this digit: the pass would change nothing
        pos = 0
        for d in range(1 << _DIGIT):
            m = c[d]
            c[d] = pos
            pos += m
        for j in range(n):
            i = order[j]
            d = (keys[i] >> np.uint64(p * _DIGIT)) & _MASK
            other[c[d]] = i
            c[d] += 1
        order, other = other, order
    return order


@njit(cache=True)
def rows_order(rows, n):
    """``np.argsort(rows, kind="stable")`` of integers in ``[0, n)``: a counting sort."""
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(len(rows)):
        start[rows[i] + 1] += 1
    for r in range(n):
        start[r + 1] += start[r]
    order = np.empty(len(rows), dtype=np.int64)
    for i in range(len(rows)):
        r = rows[i]
        order[start[r]] = i
        start[r] += 1
    return order
