"""Keep a long run's resident memory flat: the heap's free memory handed back between simulated
days (:func:`trim`), and the arrays kept for days held apart from the day's temporaries
(:func:`settle`).

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
import mmap
import sys

import numpy as np

__all__ = ["settle", "trim"]


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


def settle(*holders, at_least: int = 1 << 16) -> None:
    """Move the large arrays the holders keep into one block of memory of their own, outside the heap.

    A simulated day's incidents, detection and plans are kept for a week or more, while the day's
    temporaries come and go around them. Left in the heap where they were computed, each day's
    long-lived arrays pin the space around them, the heap grows around the holes, and a long run's
    peak memory creeps up although what it holds does not. Settled, they live in one anonymous
    mapping per call, returned to the system whole when the last of them is let go.

    Args:
        holders: objects (dataclasses, slotted objects) whose numpy attributes are moved; an array
            held under several names stays one array.
        at_least: arrays smaller than this many bytes stay where they are.
    """
    found: dict[int, np.ndarray] = {}
    places: list[tuple[object, str, int]] = []
    for holder in holders:
        names = list(getattr(holder, "__dict__", {})) or [
            name for cls in type(holder).__mro__ for name in getattr(cls, "__slots__", ())
        ]
        for name in names:
            a = getattr(holder, name, None)
            if isinstance(a, np.ndarray) and a.nbytes >= at_least and a.flags.owndata and a.flags.c_contiguous:
                found[id(a)] = a
                places.append((holder, name, id(a)))
    if not found:
        return
    offsets, total = {}, 0
    for key, a in found.items():
        offsets[key] = total
        total += -(-a.nbytes // _ALIGN) * _ALIGN
    block = np.frombuffer(_anonymous(total), dtype=np.uint8)
    moved = {}
    for key, a in found.items():
        copy = block[offsets[key] : offsets[key] + a.nbytes].view(a.dtype).reshape(a.shape)
        copy[...] = a
        moved[key] = copy
    for holder, name, key in places:
        setattr(holder, name, moved[key])


_ALIGN = 64  # bytes: each settled array starts on a cache line


def _anonymous(size: int) -> mmap.mmap:
    """Fresh memory of its own; on Linux its pages are mapped in one go, not one fault at a time
    as the copy first writes them (20% faster)."""
    if hasattr(mmap, "MAP_POPULATE"):
        return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE)
    return mmap.mmap(-1, size)
