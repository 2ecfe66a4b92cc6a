"""Stable orders, compiled where numba is installed (:mod:`citysim._sort_kernels`), else numpy's.

Both give ``np.argsort(x, kind="stable")`` to the element: a stable order is unique.
"""

from __future__ import annotations

import numpy as np

from citysim.compiled import compiled_or

__all__ = ["rows_order", "stable_argsort"]


def _stable_argsort_numpy(x: np.ndarray) -> np.ndarray:
    """By numpy's faster unstable sort where no two values are equal (the same order then)."""
    order = np.argsort(x)
    ordered = x[order]
    if len(x) and (np.isnan(ordered[-1]) or np.any(ordered[1:] == ordered[:-1])):
        return np.argsort(x, kind="stable")
    return order


def _rows_order_numpy(rows: np.ndarray, n: int) -> np.ndarray:
    return np.argsort(rows, kind="stable")


_stable = compiled_or("stable_argsort", _stable_argsort_numpy, module="citysim._sort_kernels")
_rows = compiled_or("rows_order", _rows_order_numpy, module="citysim._sort_kernels")


def stable_argsort(x: np.ndarray) -> np.ndarray:
    """``np.argsort(x, kind="stable")`` of float values (the same indices, by a radix sort where compiled)."""
    return _stable(np.ascontiguousarray(x, dtype=np.float64))


def rows_order(rows: np.ndarray, n: int) -> np.ndarray:
    """``np.argsort(rows, kind="stable")`` of integers in ``[0, n)`` (by a counting sort where compiled)."""
    return _rows(np.ascontiguousarray(rows, dtype=np.int64), int(n))
