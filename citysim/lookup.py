"""Small integer codes looked up in a table: ``np.isin`` and per-code mappings without a sort.

Codes here (channels, detectors, stages, entry kinds) are small non-negative integers, with -1
for none. ``np.isin`` sorts or compares once per value; a table read is one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

__all__ = ["mapped", "one_of"]


def mapped(codes: np.ndarray, mapping: Mapping[int, int], default: int = -1, dtype=np.int64) -> np.ndarray:
    """``mapping.get(code, default)`` for each code (codes not in ``mapping``, negative ones included: ``default``)."""
    top = max(mapping, default=-1) + 1
    table = np.full(top + 1, default, dtype=dtype)  # the last entry: every code outside 0 .. top - 1
    for code, value in mapping.items():
        if code < 0:
            raise ValueError(f"codes are non-negative, not {code}")
        table[code] = value
    return table[np.clip(codes, -1, top)]


def one_of(codes: np.ndarray, values: Iterable[int]) -> np.ndarray:
    """Whether each code is one of ``values`` (as ``np.isin(codes, values)``)."""
    return mapped(codes, dict.fromkeys(values, True), False, dtype=bool)
