"""Give the heap's free memory back to the system between simulated days.

Each day allocates and frees large numpy temporaries (the day's plans, the rows
written out). glibc's allocator keeps freed memory in fragmented arenas rather
than returning it, so a long run's resident memory crept up by about 1.5 MiB a
simulated day (a year of Chongqing: 1.26 GiB after 4 weeks, 1.60 GiB after 52)
although what the run holds stays flat. ``malloc_trim(0)`` at the end of every
seventh day returns it (a few milliseconds; trimming daily doubled the system time
spent mapping the pages again, for no lower peak). Elsewhere than glibc, :func:`trim`
does nothing.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["trim"]


def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl ...): nothing to trim
        return None


_TRIM = _malloc_trim()


def trim() -> None:
    """Return free heap memory to the system (glibc), or nothing."""
    if _TRIM is not None:
        _TRIM(0)
