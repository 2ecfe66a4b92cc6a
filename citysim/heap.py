"""Keep a long run's resident memory flat: the arrays kept for days held apart from the day's
temporaries (:func:`settle`).

Each day allocates and frees large numpy temporaries (the day's plans, the rows
written out). Left in the heap where they were computed, a day's long-lived arrays
pinned the space around them and a long run's resident memory crept up by about
1.5 MiB a simulated day (a year of Chongqing: 1.26 GiB after 4 weeks, 1.60 GiB after
52). Settled, they live in blocks of their own, and a block let go is reused by a
later day's (the system zeroing fresh pages for every day's copy took about 12 ms a
simulated day). The heap itself is left to the allocator: handing its free memory
back every week (``malloc_trim``, as earlier versions did) kept resident memory no
lower once arrays were settled, and the pages handed back were faulted in again (a
year of Chongqing: 3.8 s of system time).
"""

from __future__ import annotations

import gc
import mmap
import sys
import threading
from contextlib import contextmanager

import numpy as np

__all__ = ["gc_paused", "settle"]


@contextmanager
def gc_paused():
    """No cyclic garbage collection inside the block (building a model's 300,000 objects).

    Python runs a full collection each time the objects it tracks grow by a quarter: building
    Chongqing's model took three of them, 70-90 ms each, that found nothing to free.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def settle(*holders, at_least: int = 1 << 16) -> None:
    """Move the large arrays the holders keep into one block of memory of their own, outside the heap.

    A simulated day's incidents, detection and plans are kept for a week or more, while the day's
    temporaries come and go around them. Left in the heap where they were computed, each day's
    long-lived arrays pin the space around them, the heap grows around the holes, and a long run's
    peak memory creeps up although what it holds does not. Settled, they live in one anonymous
    mapping per call; once the last of them is let go, the mapping is reused by a later call (or
    returned to the system whole, beyond :data:`_SPARE` unused ones).

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
    block = _block(total)
    moved = {}
    for key, a in found.items():
        copy = block[offsets[key] : offsets[key] + a.nbytes].view(a.dtype).reshape(a.shape)
        copy[...] = a
        moved[key] = copy
    for holder, name, key in places:
        setattr(holder, name, moved[key])


_ALIGN = 64  # bytes: each settled array starts on a cache line
_SLACK = 8  # a new block is an eighth larger than asked, so that a later day a little larger fits in it
_SPARE = 2  # blocks nothing refers to any more, kept for reuse at most
_POOL: list[np.ndarray] = []  # every block settle made and still holds
_POOL_LOCK = threading.Lock()  # models in two threads (a dashboard's sessions) never pick the same block
_FREE_REFS = sys.getrefcount(np.zeros(1)) + 1  # a block's references when only the pool holds it (see _unused)


def _unused(i: int) -> bool:
    """Whether nothing but the pool refers to block ``i`` (every array settled in it has been let go)."""
    return sys.getrefcount(_POOL[i]) <= _FREE_REFS


def _block(size: int) -> np.ndarray:
    """A block of at least ``size`` bytes: one no longer used, of a fitting size, else a new one.

    Reusing a block spares the system zeroing fresh pages for the copy (a day's arrays are tens of
    megabytes); at most :data:`_SPARE` unused blocks are kept, the others handed back.
    """
    with _POOL_LOCK:
        return _pick_block(size)


def _pick_block(size: int) -> np.ndarray:
    free = [i for i in range(len(_POOL)) if _unused(i)]
    fits = [i for i in free if size <= len(_POOL[i]) <= size + size // (_SLACK // 2)]
    if fits:
        best = min(fits, key=lambda i: len(_POOL[i]))
        block = _POOL[best]
        free.remove(best)
    else:
        block = np.frombuffer(_anonymous(size + size // _SLACK), dtype=np.uint8)
        _POOL.append(block)
    for i in sorted(free, key=lambda i: len(_POOL[i]))[: max(len(free) - _SPARE, 0)]:
        _POOL[i] = None  # handed back to the system (unmapped) as the pool lets it go
    _POOL[:] = [b for b in _POOL if b is not None]
    return block[:size]


def _anonymous(size: int) -> mmap.mmap:
    """Fresh memory of its own; on Linux its pages are mapped in one go, not one fault at a time
    as the copy first writes them (20% faster)."""
    if hasattr(mmap, "MAP_POPULATE"):
        return mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE)
    return mmap.mmap(-1, size)
