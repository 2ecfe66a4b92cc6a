"""The engine compiled with numba (optional: ``pip install 'citysim[fast]'``).

:class:`FastNetwork` does exactly what :class:`citysim.engine.Network` does —
the same units, plans, first-come-first-served queues, parallel groups,
aligned delays, shift changes and overtime, in the same order (time, then
scheduling order; SimPy events such as shift changes first at equal times)
— with the event loop compiled. A test checks that both give identical
tables. SimPy's :class:`~simpy.core.Environment` stays the clock: the
compiled loop runs up to the next SimPy event on the environment's queue,
which Python then processes, and so on.

Internals: every active batch's steps live in one set of flat arrays (the
*arena*), a step addressed by its index there; a batch's record arrays
(queued, started, ended, finished) are views into the arena, so the model
reads them as usual. When the arena is full, finished batches' space is
reclaimed by moving the live ones to the front and renumbering. The event
queue is a binary heap of (time, sequence, address) in three arrays; a
unit's queue is a linked list through the steps waiting in it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from heapq import heappop

import numpy as np
import simpy
from numba import njit

from citysim.engine import Batch, _process_simpy_event

__all__ = ["FastNetwork"]

STRIDE = np.int64(1) << np.int64(32)
# integer step arrays and float step arrays of the arena, by row
UNIT, NXT, GROUP, WIDTH, JOB, PENDING, WAIT, SLOT = range(8)
STEP_INT = np.int32  # the integer rows: indices into the arena and unit numbers (half the memory of int64)
GROWTH = 1.5  # a full arena grows to this many times what is live
DUR, ALIGN, QUEUED, STARTED, ENDED = range(5)


@njit(cache=True, inline="always")
def _less(t1, s1, t2, s2):
    return t1 < t2 or (t1 == t2 and s1 < s2)


@njit(cache=True, inline="always")
def _push(ht, hs, ha, hn, t, addr):
    i = hn[0]
    seq = hn[1]
    hn[0] = i + 1
    hn[1] = seq + 1
    while i > 0:
        p = (i - 1) >> 1
        if _less(ht[p], hs[p], t, seq):
            break
        ht[i] = ht[p]
        hs[i] = hs[p]
        ha[i] = ha[p]
        i = p
    ht[i] = t
    hs[i] = seq
    ha[i] = addr


@njit(cache=True, inline="always")
def _pop(ht, hs, ha, hn):
    n = hn[0] - 1
    hn[0] = n
    t = ht[n]
    s = hs[n]
    a = ha[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _less(ht[c + 1], hs[c + 1], ht[c], hs[c]):
            c += 1
        if _less(t, s, ht[c], hs[c]):
            break
        ht[i] = ht[c]
        hs[i] = hs[c]
        ha[i] = ha[c]
        i = c
    if n > 0:
        ht[i] = t
        hs[i] = s
        ha[i] = a


@njit(cache=True, inline="always")
def _arrive(x, now, IA, FA, has_align, free, q_head, q_tail, q_len, ht, hs, ha, hn):
    FA[x, QUEUED] = now
    u = IA[x, UNIT]
    if u < 0:  # a pure delay
        d = FA[x, DUR]
        if has_align[IA[x, SLOT]]:
            a = FA[x, ALIGN]
            if a > 0.0:
                d = max(math.ceil((now + d) / a) * a - now, d)
        FA[x, STARTED] = now
        _push(ht, hs, ha, hn, now + d, x)
    elif free[u] > 0:
        free[u] -= 1
        FA[x, STARTED] = now
        _push(ht, hs, ha, hn, now + FA[x, DUR], x)
    else:
        IA[x, WAIT] = -1
        tail = q_tail[u]
        if tail < 0:
            q_head[u] = x
        else:
            IA[tail, WAIT] = x
        q_tail[u] = x
        q_len[u] += 1


@njit(cache=True, inline="always")
def _start_next(u, now, IA, FA, q_head, q_tail, q_len, ht, hs, ha, hn):
    """A server of unit u is free: start the first job waiting there (False if none waits)."""
    x = q_head[u]
    if x < 0:
        return False
    nxt = IA[x, WAIT]
    q_head[u] = nxt
    if nxt < 0:
        q_tail[u] = -1
    q_len[u] -= 1
    FA[x, STARTED] = now
    _push(ht, hs, ha, hn, now + FA[x, DUR], x)
    return True


@njit(cache=True)
def _run(
    until,
    ht,
    hs,
    ha,
    hn,
    IA,
    FA,
    finished,
    has_align,
    has_groups,
    unfinished,
    rel_t,
    rel_x,
    rel_base,
    free,
    q_head,
    q_tail,
    q_len,
    overtime,
    off_since,
):
    """Process network events before ``until``; returns how many."""
    processed = 0
    while hn[0] > 0:
        now = ht[0]
        if now >= until:
            break
        x = ha[0]
        _pop(ht, hs, ha, hn)
        processed += 1
        if x < 0:  # releases of a batch: -(slot * STRIDE + k) - 1
            code = -x - 1
            b = code // STRIDE
            k = code % STRIDE + rel_base[b]
            end = rel_base[b + 1]
            while True:
                s0 = rel_x[k]
                if has_groups[b] and IA[s0, WIDTH] > 1:
                    w = IA[s0, WIDTH]
                    IA[s0, PENDING] = w
                    for m in range(s0, s0 + w):
                        _arrive(m, now, IA, FA, has_align, free, q_head, q_tail, q_len, ht, hs, ha, hn)
                else:
                    _arrive(s0, now, IA, FA, has_align, free, q_head, q_tail, q_len, ht, hs, ha, hn)
                k += 1
                if k >= end:
                    break
                if rel_t[k] > now:
                    _push(ht, hs, ha, hn, rel_t[k], -(b * STRIDE + (k - rel_base[b])) - 1)
                    break
            continue
        FA[x, ENDED] = now
        u = IA[x, UNIT]
        if u >= 0:
            if free[u] < 0:  # this server goes off duty, having finished its job
                free[u] += 1
                overtime[u] += now - off_since[u]
            elif not _start_next(u, now, IA, FA, q_head, q_tail, q_len, ht, hs, ha, hn):
                free[u] += 1
        nx = IA[x, NXT]
        b = IA[x, SLOT]
        if has_groups[b]:
            g = IA[x, GROUP]
            if g >= 0:
                IA[g, PENDING] -= 1
                if IA[g, PENDING] > 0:
                    continue
            if nx >= 0 and IA[nx, WIDTH] > 1:
                w = IA[nx, WIDTH]
                IA[nx, PENDING] = w
                for m in range(nx, nx + w):
                    _arrive(m, now, IA, FA, has_align, free, q_head, q_tail, q_len, ht, hs, ha, hn)
                continue
        if nx >= 0:
            _arrive(nx, now, IA, FA, has_align, free, q_head, q_tail, q_len, ht, hs, ha, hn)
        else:
            unfinished[b] -= 1
            finished[IA[x, JOB]] = now
    return processed


@njit(cache=True)
def _start_waiting(units, now, IA, FA, free, q_head, q_tail, q_len, ht, hs, ha, hn):
    for u in units:
        while free[u] > 0 and _start_next(u, now, IA, FA, q_head, q_tail, q_len, ht, hs, ha, hn):
            free[u] -= 1


@njit(cache=True)
def _relink_queues(src, IA, q_head, q_tail, q_len, fwd, lo, hi):
    """Renumber every waiting job: steps in [lo, hi) move to ``fwd[step - lo]``; queues keep their order.

    Links are read from ``src`` at the old numbers and written to ``IA`` at the new ones.
    """
    for u in range(len(q_head)):
        if q_len[u] == 0:
            continue
        x = q_head[u]
        prev = -1
        while x >= 0:
            nx = src[x, WAIT]
            y = fwd[x - lo] if lo <= x < hi else x
            if prev < 0:
                q_head[u] = y
            else:
                IA[prev, WAIT] = y
            prev = y
            x = nx
        IA[prev, WAIT] = -1
        q_tail[u] = prev


@njit(cache=True)
def _queued_chains(IA, q_head, q_len):
    """Every waiting step, queue after queue in order (the units with a queue, and where each starts)."""
    total = 0
    for u in range(len(q_head)):
        total += q_len[u]
    steps = np.empty(total, dtype=np.int64)
    k = 0
    for u in range(len(q_head)):
        x = q_head[u]
        while x >= 0 and q_len[u] > 0:
            steps[k] = x
            k += 1
            x = IA[x, WAIT]
    return steps


@njit(cache=True)
def _relink_chains(IA, q_head, q_tail, q_len, steps):
    """Write the links of the waiting steps (already renumbered), queue after queue."""
    k = 0
    for u in range(len(q_head)):
        n = q_len[u]
        if n == 0:
            continue
        q_head[u] = steps[k]
        for i in range(n - 1):
            IA[steps[k + i], WAIT] = steps[k + i + 1]
        IA[steps[k + n - 1], WAIT] = -1
        q_tail[u] = steps[k + n - 1]
        k += n


class FastNetwork:
    """:class:`citysim.engine.Network` with its event loop compiled by numba (same interface, same results)."""

    def __init__(self, env: simpy.Environment, servers: Sequence[int]) -> None:
        self.env = env
        servers = np.asarray(servers, dtype=np.int64)
        if np.any(servers < 0):
            raise ValueError("a unit cannot have a negative number of servers")
        n = len(servers)
        self.servers = servers.copy()
        self.free = servers.copy()
        self.q_head = np.full(n, -1, dtype=np.int64)
        self.q_tail = np.full(n, -1, dtype=np.int64)
        self.q_len = np.zeros(n, dtype=np.int64)
        self.overtime = np.zeros(n)
        self._off_since = np.zeros(n)
        self.events = 0
        self._ht, self._hs, self._ha = np.zeros(1024), np.zeros(1024, np.int64), np.zeros(1024, np.int64)
        self._hn = np.zeros(2, dtype=np.int64)  # heap size, next sequence number
        # the arena: steps and jobs of active batches
        self._I = np.zeros((1 << 16, 8), dtype=STEP_INT)
        self._F = np.zeros((1 << 16, 5))
        self._fin = np.zeros(1 << 14)
        self._top = self._jtop = 0  # first free step / job index
        self._slots: list[Batch | None] = []
        self._base: dict[int, tuple[int, int]] = {}  # slot -> (step base, job base)
        self._has_align = np.zeros(64, dtype=np.bool_)
        self._has_groups = np.zeros(64, dtype=np.bool_)
        self._unfinished = np.zeros(64, dtype=np.int64)
        self._rel_t = np.zeros(0)
        self._rel_x = np.zeros(0, dtype=np.int64)
        self._rel_base = np.zeros(65, dtype=np.int64)

    # ------------------------------------------------------------------ batches
    def add(self, batch: Batch) -> None:
        """Release a batch's jobs at their release times."""
        order = np.argsort(batch.release_np, kind="stable")
        order = order[np.isfinite(batch.release_np[order])]
        batch._release_times = batch.release_np[order].astype(np.float64)
        batch._release_first = batch.first_np[order].astype(np.int64)
        slot = self._place(batch)
        if len(order):
            t0 = max(float(batch._release_times[0]), self.env.now)
            _push(self._ht, self._hs, self._ha, self._hn, t0, -(slot * STRIDE) - 1)

    def _place(self, batch: Batch, pending: np.ndarray | None = None) -> int:
        """Copy a batch's plan and records into the arena, in a free slot."""
        slot = next((i for i, b in enumerate(self._slots) if b is None), None)
        if slot is None:
            self._slots.append(None)
            slot = len(self._slots) - 1
            if slot >= len(self._has_align):
                grow = 2 * len(self._has_align)
                self._has_align = np.resize(self._has_align, grow)
                self._has_groups = np.resize(self._has_groups, grow)
                self._unfinished = np.resize(self._unfinished, grow)
        n, nj = batch.n_steps, batch.n_jobs
        self._make_room(n, nj)
        base, jbase = self._top, self._jtop
        self._top += n
        self._jtop += nj
        IA, FA = self._I, self._F
        sl = slice(base, base + n)
        IA[sl, UNIT] = batch.unit_np
        nxt = batch.nxt_np
        IA[sl, NXT] = np.where(nxt >= 0, nxt + base, -1)
        group = batch.group_np
        IA[sl, GROUP] = np.where(group >= 0, group + base, -1)
        IA[sl, WIDTH] = batch.width_np
        IA[sl, JOB] = batch.job_np + jbase
        IA[sl, PENDING] = 0 if pending is None else pending
        IA[sl, WAIT] = -1
        IA[sl, SLOT] = slot
        FA[sl, DUR] = batch.dur_np
        FA[sl, ALIGN] = batch.align_np
        queued, started, ended = batch.times()
        FA[sl, QUEUED], FA[sl, STARTED], FA[sl, ENDED] = queued, started, ended
        self._fin[jbase : jbase + nj] = batch.finished_at()
        self._slots[slot] = batch
        self._base[slot] = (base, jbase)
        batch._slot = slot
        self._point(batch, base, jbase)
        self._has_align[slot] = batch.has_align
        self._has_groups[slot] = batch.has_groups
        self._unfinished[slot] = batch.unfinished
        self._rebuild_releases()
        self._reserve_heap()
        return slot

    def released(self, batch: Batch) -> int:
        """How many of a batch's jobs (in release order) have been released."""
        slot = batch._slot
        codes = -self._ha[: self._hn[0]] - 1
        mine = (self._ha[: self._hn[0]] < 0) & (codes // STRIDE == slot)
        if mine.any():
            return int(codes[mine][0] % STRIDE)
        return len(batch._release_times)

    def replace(self, olds: list[tuple[Batch, np.ndarray]], new: Batch) -> None:
        """Put ``new`` in the place of ``olds`` (each with its old-to-new steps) on the event list and in queues."""
        pending = np.zeros(new.n_steps, np.int64)
        for old, step_map in olds:
            base, _ = self._base[old._slot]
            kept = np.flatnonzero(step_map >= 0)
            pending[step_map[kept]] = self._I[base + kept, PENDING]
        new_slot = self._place(new, pending)  # may compact the arena: read the old bases after this
        new_base, _ = self._base[new_slot]
        n = self._hn[0]
        ha = self._ha[:n]
        lo = min(self._base[old._slot][0] for old, _ in olds)
        hi = max(self._base[old._slot][0] + old.n_steps for old, _ in olds)
        fwd = np.arange(lo, hi, dtype=np.int64)  # old steps to their new place (others stay)
        for old, step_map in olds:
            old_base, _ = self._base[old._slot]
            fwd[old_base - lo : old_base - lo + old.n_steps] = np.where(step_map >= 0, new_base + step_map, -1)
        _relink_queues(self._I, self._I, self.q_head, self.q_tail, self.q_len, fwd, lo, hi)
        idx = np.flatnonzero((ha >= lo) & (ha < hi))
        ha[idx] = fwd[ha[idx] - lo]
        # drop the olds' release events; the new batch has one release list for all
        old_slots = np.array([old._slot for old, _ in olds])
        codes = -ha - 1
        drop = (ha < 0) & np.isin(codes // STRIDE, old_slots)
        keep = ~drop
        t, q, a = self._ht[:n][keep], self._hs[:n][keep], ha[keep]
        order = np.lexsort((q, t))  # sorted is a valid heap
        m = len(order)
        self._ht[:m], self._hs[:m], self._ha[:m] = t[order], q[order], a[order]
        self._hn[0] = m
        for old, _ in olds:
            self._slots[old._slot] = None
            del self._base[old._slot]
        self._rebuild_releases()
        if len(new._release_times):
            _push(
                self._ht,
                self._hs,
                self._ha,
                self._hn,
                max(float(new._release_times[0]), self.env.now),
                -(new_slot * STRIDE) - 1,
            )

    def _point(self, batch: Batch, base: int, jbase: int) -> None:
        """Make the batch's record arrays views of its part of the arena."""
        sl = slice(base, base + batch.n_steps)
        batch.queued, batch.started, batch.ended = self._F[sl, QUEUED], self._F[sl, STARTED], self._F[sl, ENDED]
        batch.finished = self._fin[jbase : jbase + batch.n_jobs]

    def _rebuild_releases(self) -> None:
        """Release order (times, and first steps in the arena) of every slot, laid end to end."""
        times, steps = [], []
        bounds = np.zeros(len(self._has_align) + 1, dtype=np.int64)
        pos = 0
        for slot in range(len(self._has_align)):
            bounds[slot] = pos
            b = self._slots[slot] if slot < len(self._slots) else None
            if b is not None:
                t, first = b._release_times, b._release_first
                times.append(np.asarray(t, dtype=np.float64))
                steps.append(np.asarray(first, dtype=np.int64) + self._base[slot][0])
                pos += len(t)
        bounds[-1] = pos
        self._rel_t = np.concatenate(times) if times else np.zeros(0)
        self._rel_x = np.concatenate(steps).astype(np.int64) if steps else np.zeros(0, np.int64)
        self._rel_base = bounds

    def forget(self, batch: Batch) -> None:
        """Free a finished batch's slot; its records are copied out of the arena first."""
        slot = getattr(batch, "_slot", None)
        if slot is None or self._slots[slot] is not batch:
            return
        batch.queued, batch.started, batch.ended = (np.array(a) for a in (batch.queued, batch.started, batch.ended))
        batch.finished = np.array(batch.finished)
        self._slots[slot] = None
        del self._base[slot]

    def _make_room(self, n: int, nj: int) -> None:
        """Room for n more steps and nj more jobs: move the live batches to the front, growing if need be."""
        if self._top + n <= self._I.shape[0] and self._jtop + nj <= len(self._fin):
            return
        live = sorted((base, jbase, slot) for slot, (base, jbase) in self._base.items())
        used = sum(self._slots[s].n_steps for _, _, s in live)
        used_j = sum(self._slots[s].n_jobs for _, _, s in live)
        waiting = _queued_chains(self._I, self.q_head, self.q_len)  # before anything moves
        if used + n <= 0.75 * self._I.shape[0] and used_j + nj <= 0.75 * len(self._fin):
            IA, FA, fin = self._I, self._F, self._fin  # compact in place: regions only move down
        else:
            cap, cap_j = int(GROWTH * (used + n)), int(GROWTH * (used_j + nj))
            IA, FA, fin = np.empty((cap, 8), STEP_INT), np.empty((cap, 5)), np.empty(cap_j)
        fwd = np.full(self._top, -1, dtype=np.int64)
        top = jtop = 0
        new_base = {}
        for base, jbase, slot in live:
            b = self._slots[slot]
            m, mj = b.n_steps, b.n_jobs
            fwd[base : base + m] = np.arange(top, top + m)
            IA[top : top + m] = self._I[base : base + m]
            FA[top : top + m] = self._F[base : base + m]
            IA[top : top + m, JOB] += jtop - jbase
            fin[jtop : jtop + mj] = self._fin[jbase : jbase + mj]
            new_base[slot] = (top, jtop)
            top += m
            jtop += mj

        def remap(a: np.ndarray) -> np.ndarray:
            return np.where(a >= 0, fwd[np.maximum(a, 0)], a)

        for row in (NXT, GROUP):
            IA[:top, row] = remap(IA[:top, row])
        _relink_chains(IA, self.q_head, self.q_tail, self.q_len, fwd[waiting])
        n_heap = self._hn[0]
        self._ha[:n_heap] = remap(self._ha[:n_heap])  # releases (negative) are kept
        self._I, self._F, self._fin = IA, FA, fin
        self._top, self._jtop, self._base = top, jtop, new_base
        for slot, (base, jbase) in new_base.items():
            self._point(self._slots[slot], base, jbase)
        self._rebuild_releases()

    def _reserve_heap(self) -> None:
        size = self._top + len(self._slots) + 16
        if size <= len(self._ht):
            return
        cap = max(size, int(GROWTH * len(self._ht)))
        n = self._hn[0]
        for name in ("_ht", "_hs", "_ha"):
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[:n] = old[:n]
            setattr(self, name, new)

    # ------------------------------------------------------------------ staff
    def set_servers(self, unit: int, servers: int) -> None:
        """Change how many servers a unit has on duty."""
        target = self.servers.copy()
        target[unit] = max(int(servers), 0)
        self.set_all_servers(target)

    def set_all_servers(self, target: np.ndarray) -> None:
        """Set every unit's servers on duty at once (a shift change across the city)."""
        target = np.maximum(np.asarray(target, dtype=np.int64), 0)
        delta = target - self.servers
        changed = np.flatnonzero(delta)
        if len(changed) == 0:
            return
        now = self.env.now
        self.free[changed] += delta[changed]
        self.servers[changed] = target[changed]
        self._off_since[changed[delta[changed] < 0]] = now
        grew = changed[(delta[changed] > 0) & (self.q_len[changed] > 0)]
        if len(grew):
            _start_waiting(
                grew,
                now,
                self._I,
                self._F,
                self.free,
                self.q_head,
                self.q_tail,
                self.q_len,
                self._ht,
                self._hs,
                self._ha,
                self._hn,
            )

    def queue_length(self, unit: int) -> int:
        return int(self.q_len[unit])

    def busy(self, unit: int) -> int:
        return int(self.servers[unit] - max(self.free[unit], 0))

    # ------------------------------------------------------------------ run
    def run(self, until: float = math.inf) -> None:
        """Process every event before ``until``, SimPy's own events included, then set the clock to ``until``."""
        env = self.env
        while True:
            simpy_next = env._queue[0][0] if env._queue else math.inf
            stop = min(until, simpy_next)
            self.events += _run(
                stop,
                self._ht,
                self._hs,
                self._ha,
                self._hn,
                self._I,
                self._F,
                self._fin,
                self._has_align,
                self._has_groups,
                self._unfinished,
                self._rel_t,
                self._rel_x,
                self._rel_base,
                self.free,
                self.q_head,
                self.q_tail,
                self.q_len,
                self.overtime,
                self._off_since,
            )
            if simpy_next < until:
                env._now, _, _, event = heappop(env._queue)
                _process_simpy_event(event)
                continue
            break
        for slot, b in enumerate(self._slots):
            if b is not None:
                b.unfinished = int(self._unfinished[slot])
        if until != math.inf and env._now < until:
            env._now = until
