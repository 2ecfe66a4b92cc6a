"""Compiled kernels where numba is installed, their numpy twins where not."""

from __future__ import annotations

import importlib
from collections.abc import Callable

__all__ = ["compiled_or"]


def compiled_or(name: str, fallback: Callable, module: str = "citysim._fast_kernels") -> Callable:
    """The numba kernel ``name`` of ``module`` (default :mod:`citysim._fast_kernels`) where numba is installed,
    else ``fallback``.

    Both give the same results to the last bit (each kernel's test says so); the kernel is used
    whichever engine runs, since it changes no result.
    """
    try:
        kernels = importlib.import_module(module)
    except ImportError:
        return fallback
    return getattr(kernels, name)
