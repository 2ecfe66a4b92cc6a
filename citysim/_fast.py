"""The engine compiled with numba (optional: ``pip install 'citysim[fast]'``).

:class:`FastNetwork` does exactly what :class:`citysim.engine.Network` does —
the same units, plans, queues by priority class (first come, first served
within a class), callers hanging up and redialling, parallel groups, aligned
delays, shift changes and overtime, in the same order (time, then
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
queue is a binary heap of (time, sequence, address) in three arrays (an
address ``HANG_UP + x``: the end of the patience of the caller waiting at
step x); a unit's queue for a class is a doubly linked list through the steps
waiting in it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from heapq import heappop

import numpy as np
import simpy

from citysim._arena_kernels import _queued_chains, _relink_chains, _relink_queues, _renumber_events
from citysim._fast_kernels import (
    ALIGN,
    ALT,
    DEAD,
    DUR,
    ENDED,
    GROUP,
    GROWTH,
    HANG_UP,
    JOB,
    N_FLOAT_ROWS,
    N_INT_ROWS,
    NXT,
    PATIENCE,
    PENDING,
    PHASE,
    PRIO,
    QUEUED,
    STARTED,
    STEP_INT,
    STRIDE,
    UNIT,
    WIDTH,
    _fill,
    _heapify,
    _push,
    _run,
    _set_servers,
)
from citysim.batch import Batch
from citysim.engine import _process_simpy_event
from citysim.lookup import one_of
from citysim.sorting import stable_argsort

__all__ = ["FastNetwork"]

SPRAWL = 2.0
"""The arena's used space (up to its top) is kept within this many times what is held: first fit
leaves holes a little too small for the next day, and each page once written stays resident."""

_NONE = np.zeros(0)
"""No records given to :func:`_fill`: a new batch's start blank."""


class FastNetwork:
    """:class:`citysim.engine.Network` with its event loop compiled by numba (same interface, same results)."""

    def __init__(self, env: simpy.Environment, servers: Sequence[int], classes: int = 1) -> None:
        self.env = env
        servers = np.asarray(servers, dtype=np.int64)
        if np.any(servers < 0):
            raise ValueError("a unit cannot have a negative number of servers")
        if classes < 1:
            raise ValueError("a network needs at least one priority class")
        n = len(servers)
        self.classes = int(classes)
        self.servers = servers.copy()
        self.free = servers.copy()
        self.q_head = np.full(n * self.classes, -1, dtype=np.int64)  # queue of unit u, class c: u * classes + c
        self.q_tail = np.full(n * self.classes, -1, dtype=np.int64)
        self.q_len = np.zeros(n * self.classes, dtype=np.int64)
        self.overtime = np.zeros(n)
        self._off_since = np.zeros(n)
        self.events = 0
        self._ht, self._hs, self._ha = np.zeros(1024), np.zeros(1024, np.int64), np.zeros(1024, np.int64)
        self._hn = np.zeros(3, dtype=np.int64)  # heap size, next sequence number, the top being processed
        # the arena: steps and jobs of active batches
        self._I = np.zeros((1 << 16, N_INT_ROWS), dtype=STEP_INT)
        self._F = np.zeros((1 << 16, N_FLOAT_ROWS))
        self._fin = np.zeros(1 << 14)
        self._top = self._jtop = 0  # first free step / job index
        self._slots: list[Batch | None] = []
        self._base: dict[int, tuple[int, int]] = {}  # slot -> (step base, job base)
        self._has_align = np.zeros(64, dtype=np.bool_)
        self._has_groups = np.zeros(64, dtype=np.bool_)
        self._unfinished = np.zeros(64, dtype=np.int64)
        self._gave_up = np.zeros(64, dtype=np.int64)
        # release order of the slots with releases to come: times and first steps, slot s's in rows lo..hi
        # of _rel_base[s]; a new batch's are appended, ranges no longer read are dropped when space runs out
        self._rel_t = np.zeros(1024)
        self._rel_x = np.zeros(1024, dtype=np.int64)
        self._rel_n = 0
        self._rel_base = np.zeros((64, 2), dtype=np.int64)

    # ------------------------------------------------------------------ batches
    def add(self, batch: Batch) -> None:
        """Release a batch's jobs at their release times."""
        if batch.classes > self.classes:
            raise ValueError(f"the batch uses {batch.classes} priority classes, the network has {self.classes}")
        released = np.flatnonzero(np.isfinite(batch.release_np))  # never released: not sorted
        order = released[stable_argsort(batch.release_np[released])]
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
                self._gave_up = np.resize(self._gave_up, grow)
                self._rel_base = np.concatenate([self._rel_base, np.zeros_like(self._rel_base)])
        n, nj = batch.n_steps, batch.n_jobs
        base, jbase, used, used_j = self._gap(n, nj)
        # no gap, or the top would spread the arena beyond SPRAWL times what is held: compact (or grow)
        sprawl = base + n > max(self._top, SPRAWL * (used + n)) or jbase + nj > max(self._jtop, SPRAWL * (used_j + nj))
        if base < 0 or jbase < 0 or sprawl:
            self._make_room(n, nj)
            base, jbase = self._top, self._jtop
        self._top = max(self._top, base + n)
        self._jtop = max(self._jtop, jbase + nj)
        blank = not batch.has_records  # a new batch: its records start blank in the arena (NaN)
        queued, started, ended = (_NONE,) * 3 if blank else batch.times()
        _fill(
            self._I,
            self._F,
            base,
            slot,
            batch.unit_np,
            batch.nxt_np,
            batch.group_np,
            batch.width_np,
            batch.job_np + jbase,
            np.zeros(0, np.int64) if pending is None else np.asarray(pending, np.int64),
            batch.alt_np,
            batch.prio_np,
            batch.dur_np,
            batch.align_np,
            batch.phase_np,
            batch.patience_np,
            np.asarray(queued),
            np.asarray(started),
            np.asarray(ended),
        )
        self._fin[jbase : jbase + nj] = np.nan if blank else batch.finished_at()
        self._slots[slot] = batch
        self._base[slot] = (base, jbase)
        batch._slot = slot
        self._point(batch, base, jbase)
        self._has_align[slot] = batch.has_align
        self._has_groups[slot] = batch.has_groups
        self._unfinished[slot] = batch.unfinished
        self._gave_up[slot] = batch.gave_up
        self._add_releases(slot)
        self._reserve_heap()
        return slot

    def _gap(self, n: int, nj: int) -> tuple[int, int, int, int]:
        """The lowest free places for n steps and nj jobs between the live batches (-1: none without compacting),
        and the steps and jobs live.

        Days are written out roughly in the order they began, so the space of old days is taken again
        by new ones and the arena is rarely compacted.
        """
        steps, jobs = [], []
        for slot, (base, jbase) in self._base.items():
            b = self._slots[slot]
            steps.append((base, base + b.n_steps))
            jobs.append((jbase, jbase + b.n_jobs))
        used, used_j = sum(e - b for b, e in steps), sum(e - b for b, e in jobs)
        return _first_fit(steps, n, self._I.shape[0]), _first_fit(jobs, nj, len(self._fin)), used, used_j

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
        # old steps to their new place (others stay): each old batch's place and its old-to-new steps
        bases = np.array([self._base[old._slot][0] for old, _ in olds], dtype=np.int64)
        sizes = np.array([old.n_steps for old, _ in olds], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        moved = (bases, sizes, starts, np.concatenate([m for _, m in olds]).astype(np.int64), new_base)
        _relink_queues(self._I, self._I, self.q_head, self.q_tail, self.q_len, *moved)
        _renumber_events(ha, n, *moved)
        # drop the olds' release events; the new batch has one release list for all
        old_slots = [old._slot for old, _ in olds]
        codes = -ha - 1
        drop = (ha < 0) & one_of(codes // STRIDE, old_slots)
        if drop.any():
            keep = ~drop
            m = int(keep.sum())
            self._ht[:m], self._hs[:m], self._ha[:m] = self._ht[:n][keep], self._hs[:n][keep], ha[keep]
            self._hn[0] = m
            _heapify(self._ht, self._hs, self._ha, m)  # (time, sequence) are unique: the same order of events
        for old, _ in olds:
            self._free(old)
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
        """Make the batch's plan and record arrays views of its part of the arena (the plan is held once)."""
        ints_at, floats_at = self._I[base : base + batch.n_steps], self._F[base : base + batch.n_steps]
        ints = {"unit_np": UNIT, "width_np": WIDTH, "prio_np": PRIO, "_nxt": NXT, "_group": GROUP, "_alt": ALT}
        floats = {"dur_np": DUR, "align_np": ALIGN, "phase_np": PHASE, "patience_np": PATIENCE}
        floats |= {"queued": QUEUED, "started": STARTED, "ended": ENDED}
        stored = {name: ints_at[:, col] for name, col in ints.items()}
        stored |= {name: floats_at[:, col] for name, col in floats.items()}
        stored |= {"_job": ints_at[:, JOB], "finished": self._fin[jbase : jbase + batch.n_jobs]}
        batch.lend(stored, (base, jbase))

    def _add_releases(self, slot: int) -> None:
        """Append a newly placed batch's release order (it is about to put its first release on the event list)."""
        b = self._slots[slot]
        m = len(b._release_times)
        lo = self._rel_n
        if lo + m > len(self._rel_t):
            self._rebuild_releases(placing=slot)
            return
        self._rel_t[lo : lo + m] = b._release_times
        self._rel_x[lo : lo + m] = np.asarray(b._release_first, dtype=np.int64) + self._base[slot][0]
        self._rel_base[slot] = (lo, lo + m)
        self._rel_n = lo + m

    def _rebuild_releases(self, placing: int = -1) -> None:
        """Release order (times, and first steps in the arena) of every slot with a release still to come
        (one on the event list, or ``placing``, about to be put there), laid end to end with room to append;
        the others' ranges are empty (the event loop reads a slot's range only when that slot's next release
        comes up)."""
        ha = self._ha[: self._hn[0]]
        coming = set(((-ha[ha < 0] - 1) // STRIDE).tolist())
        coming.add(placing)
        ranges = np.zeros_like(self._rel_base)
        parts = [s for s in range(len(self._slots)) if self._slots[s] is not None and s in coming]
        total = sum(len(self._slots[s]._release_times) for s in parts)
        times, steps = np.zeros(max(2 * total, 1024)), np.zeros(max(2 * total, 1024), dtype=np.int64)
        pos = 0
        for slot in parts:
            b = self._slots[slot]
            m = len(b._release_times)
            times[pos : pos + m] = b._release_times
            steps[pos : pos + m] = np.asarray(b._release_first, dtype=np.int64) + self._base[slot][0]
            ranges[slot] = (pos, pos + m)
            pos += m
        self._rel_t, self._rel_x, self._rel_base, self._rel_n = times, steps, ranges, pos

    def forget(self, batch: Batch) -> None:
        """Free a finished batch's slot (its plan and records can no longer be read: write them out first)."""
        slot = getattr(batch, "_slot", None)
        if slot is None or self._slots[slot] is not batch:
            return
        self._free(batch)

    def _free(self, batch: Batch) -> None:
        """Give a batch's space back (its plan and records no longer readable); ends of patience there are dropped."""
        slot = batch._slot
        base, _ = self._base[slot]
        batch.let_go()
        ha = self._ha[: self._hn[0]]
        ha[(ha >= HANG_UP + base) & (ha < HANG_UP + base + batch.n_steps)] = DEAD  # answered callers' (space reused)
        self._slots[slot] = None
        del self._base[slot]

    def _make_room(self, n: int, nj: int) -> None:
        """Room for n more steps and nj more jobs at the top: grow, or move the live batches to the front, or both."""
        live = sorted((base, jbase, slot) for slot, (base, jbase) in self._base.items())
        used = sum(self._slots[s].n_steps for _, _, s in live)
        used_j = sum(self._slots[s].n_jobs for _, _, s in live)
        grow = used + n > 0.75 * self._I.shape[0] or used_j + nj > 0.75 * len(self._fin)
        # growing, take plenty: space not yet written to costs no memory (the pages are mapped when first used,
        # and new batches take the lowest free space), while each growth copies what is held
        cap = max(int(GROWTH * (used + n)), 4 * self._I.shape[0])
        cap_j = max(int(GROWTH * (used_j + nj)), 4 * len(self._fin))
        if grow and self._top - used <= 0.25 * used and self._jtop - used_j <= 0.25 * used_j:
            self._grow(max(cap, self._top + n), max(cap_j, self._jtop + nj))  # few holes: nothing moves
            return
        waiting = _queued_chains(self._I, self.q_head, self.q_len)  # before anything moves
        if not grow:
            IA, FA, fin = self._I, self._F, self._fin  # compact in place: regions only move down
        else:
            IA, FA, fin = np.empty((cap, N_INT_ROWS), STEP_INT), np.empty((cap, N_FLOAT_ROWS)), np.empty(cap_j)
        # steps and jobs each move down in their own order (a batch's steps and jobs need not be in the same order)
        new_job, jtop = {}, 0
        for _, jbase, slot in sorted(live, key=lambda r: r[1]):
            mj = self._slots[slot].n_jobs
            fin[jtop : jtop + mj] = self._fin[jbase : jbase + mj]
            new_job[slot] = jtop
            jtop += mj
        fwd = np.full(self._top, -1, dtype=np.int64)
        top = 0
        new_base = {}
        for base, jbase, slot in live:
            m = self._slots[slot].n_steps
            fwd[base : base + m] = np.arange(top, top + m)
            IA[top : top + m] = self._I[base : base + m]
            FA[top : top + m] = self._F[base : base + m]
            IA[top : top + m, JOB] += new_job[slot] - jbase
            new_base[slot] = (top, new_job[slot])
            top += m

        def remap(a: np.ndarray) -> np.ndarray:
            return np.where(a >= 0, fwd[np.clip(a, 0, len(fwd) - 1)], a)

        for row in (NXT, GROUP, ALT):
            IA[:top, row] = remap(IA[:top, row])
        _relink_chains(IA, self.q_head, self.q_tail, self.q_len, fwd[waiting])
        n_heap = self._hn[0]
        ha = self._ha[:n_heap]
        hang_up = (ha >= HANG_UP) & (ha != DEAD)
        dead = ha == DEAD
        moved = remap(np.where(hang_up, ha - HANG_UP, 0))
        ha[:] = np.where(hang_up, np.where(moved >= 0, moved + HANG_UP, DEAD), np.where(dead, DEAD, remap(ha)))
        self._I, self._F, self._fin = IA, FA, fin
        self._top, self._jtop, self._base = top, jtop, new_base
        for slot, (base, jbase) in new_base.items():
            self._point(self._slots[slot], base, jbase)
        self._rebuild_releases()

    def _grow(self, cap: int, cap_j: int) -> None:
        """Larger arena arrays, every step and job at the same place (no renumbering)."""
        top, jtop = self._top, self._jtop
        IA, FA, fin = np.empty((cap, N_INT_ROWS), STEP_INT), np.empty((cap, N_FLOAT_ROWS)), np.empty(cap_j)
        IA[:top], FA[:top], fin[:jtop] = self._I[:top], self._F[:top], self._fin[:jtop]
        self._I, self._F, self._fin = IA, FA, fin
        for slot, (base, jbase) in self._base.items():
            self._point(self._slots[slot], base, jbase)

    def _reserve_heap(self) -> None:
        # each step is ended once and hangs up at most once; a batch has one pending release
        size = self._hn[0] + 2 * self._top + len(self._slots) + 16
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
        _set_servers(
            np.asarray(target, dtype=np.int64),
            self.env.now,
            self.servers,
            self.free,
            self._off_since,
            self._I,
            self._F,
            self.q_head,
            self.q_tail,
            self.q_len,
            self.classes,
            self._ht,
            self._hs,
            self._ha,
            self._hn,
        )

    def queue_length(self, unit: int) -> int:
        k = self.classes
        return int(self.q_len[unit * k : unit * k + k].sum())

    def queue_lengths(self) -> np.ndarray:
        return self.q_len.reshape(-1, self.classes).sum(axis=1).astype(np.int64)

    def busy(self, unit: int) -> int:
        return int(self.servers[unit] - max(self.free[unit], 0))

    # ------------------------------------------------------------------ run
    def run(self, until: float = math.inf) -> None:
        """Process every event before ``until``, SimPy's own events included, then set the clock to ``until``."""
        env = self.env
        self._reserve_heap()
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
                self._gave_up,
                self._rel_t,
                self._rel_x,
                self._rel_base,
                self.free,
                self.q_head,
                self.q_tail,
                self.q_len,
                self.classes,
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
                b.gave_up = int(self._gave_up[slot])
        if until != math.inf and env._now < until:
            env._now = until


def _first_fit(regions: list[tuple[int, int]], need: int, capacity: int) -> int:
    """The lowest start of ``need`` free places among used ``regions`` (start, end) of ``capacity`` (-1: none)."""
    pos = 0
    for start, end in sorted(regions):
        if start - pos >= need:
            return pos
        pos = max(pos, end)
    return pos if capacity - pos >= need else -1
