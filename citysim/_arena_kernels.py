"""The compiled engine's kernels for steps that move in the arena (numba): a compaction, or carrying forward.

When the arena is compacted (:meth:`citysim._fast.FastNetwork._make_room`) or old days' unfinished jobs are
carried into one batch (:meth:`citysim._fast.FastNetwork.replace`), steps get new numbers: the queues' links
through the waiting steps and the event list's steps are renumbered here, queues keeping their order.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from citysim._fast_kernels import DEAD, HANG_UP, PREV, WAIT


@njit(cache=True, inline="always")
def _moved(x, bases, sizes, starts, maps, new_base):
    """Where step x goes when the batches from ``bases`` (``sizes`` steps each, their old-to-new steps at
    ``maps[starts[k]:]``) are replaced by one from ``new_base`` (-1: not carried); other steps stay."""
    for k in range(len(bases)):
        d = x - bases[k]
        if d >= 0 and d < sizes[k]:
            m = maps[starts[k] + d]
            return new_base + m if m >= 0 else -1
    return x


@njit(cache=True)
def _relink_queues(src, IA, q_head, q_tail, q_len, bases, sizes, starts, maps, new_base):
    """Renumber every waiting job as :func:`_moved` says; queues keep their order.

    Links are read from ``src`` at the old numbers and written to ``IA`` at the new ones.
    """
    for i in range(len(q_head)):
        if q_len[i] == 0:
            continue
        x = q_head[i]
        prev = -1
        while x >= 0:
            nx = src[x, WAIT]
            y = _moved(x, bases, sizes, starts, maps, new_base)
            if prev < 0:
                q_head[i] = y
            else:
                IA[prev, WAIT] = y
            IA[y, PREV] = prev
            prev = y
            x = nx
        IA[prev, WAIT] = -1
        q_tail[i] = prev


@njit(cache=True)
def _renumber_events(ha, n, bases, sizes, starts, maps, new_base):
    """The first n events' steps renumbered as :func:`_moved` says: ends of steps, and ends of patience (of a
    waiting caller carried, or dead: of one answered whose job has ended and is not carried)."""
    for i in range(n):
        a = ha[i]
        if a < 0 or a == DEAD:  # a release, or a dead end of patience
            continue
        if a < HANG_UP:
            ha[i] = _moved(a, bases, sizes, starts, maps, new_base)
        else:
            m = _moved(a - HANG_UP, bases, sizes, starts, maps, new_base)
            ha[i] = m + HANG_UP if m >= 0 else DEAD


@njit(cache=True)
def _queued_chains(IA, q_head, q_len):
    """Every waiting step, queue after queue in order."""
    total = 0
    for i in range(len(q_head)):
        total += q_len[i]
    steps = np.empty(total, dtype=np.int64)
    k = 0
    for i in range(len(q_head)):
        x = q_head[i]
        while x >= 0 and q_len[i] > 0:
            steps[k] = x
            k += 1
            x = IA[x, WAIT]
    return steps


@njit(cache=True)
def _relink_chains(IA, q_head, q_tail, q_len, steps):
    """Write the links of the waiting steps (already renumbered), queue after queue."""
    k = 0
    for i in range(len(q_head)):
        n = q_len[i]
        if n == 0:
            continue
        q_head[i] = steps[k]
        IA[steps[k], PREV] = -1
        for j in range(n - 1):
            IA[steps[k + j], WAIT] = steps[k + j + 1]
            IA[steps[k + j + 1], PREV] = steps[k + j]
        IA[steps[k + n - 1], WAIT] = -1
        q_tail[i] = steps[k + n - 1]
        k += n
