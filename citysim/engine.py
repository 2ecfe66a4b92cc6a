"""The engine: staffed units as counters plus FIFO queues, on SimPy's clock.

A city's work is a network of *units*: a hotline with 40 operators, a gas
department's desk in one district with 3 clerks, a street centre with 4 staff,
a district's 6 fire crews, one grid worker. Each unit is a number of free
servers and a first-come-first-served queue (a :class:`collections.deque`).

What moves through the network are *jobs* (an incident, a false alarm), each
with a pre-compiled *plan*: the list of steps it will take, decided in bulk
by the model before the job starts (which unit, how long the service takes,
which pure delays lie between). Only what depends on who else is in the city
(waiting for a free server) is left to the event loop, so each step costs one
SimPy event: its end. A step is one of

* a **service** at a unit: join the queue, hold one server for ``dur`` minutes;
* a **delay** (``unit == -1``): wait ``dur`` minutes, then, if ``align > 0``,
  until the next time ``phase + k * align`` (a department polling its alerts every
  hour, a weekly coordination meeting);
* a **parallel group**: ``width`` consecutive steps entered at once (joint
  dispatch of several departments), continuing when all have ended.

Every step's queued, started and ended times are recorded into arrays, from
which the model derives every output table. SimPy's
:class:`~simpy.core.Environment` is the clock: its event queue holds the
network's events beside any other SimPy event, and :meth:`Network.run`
processes them in SimPy's order (time, priority, scheduling order), so a run
is deterministic.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Sequence
from heapq import heapify, heappop, heappush

import numpy as np
import simpy
from simpy.events import NORMAL, Event

__all__ = ["Batch", "Network"]

NO_STEP = -1
"""``nxt`` of a job's last step, ``group`` of a step outside any parallel group."""
DELAY = -1
"""``unit`` of a pure delay step."""


def _doubles(values: np.ndarray) -> array:
    out = array("d")
    out.frombytes(np.ascontiguousarray(values, dtype=np.float64).tobytes())
    return out


def _ints(values: np.ndarray) -> array:
    out = array("q")
    out.frombytes(np.ascontiguousarray(values, dtype=np.int64).tobytes())
    return out


def _view(values) -> np.ndarray:
    """A numpy view of a record array (an array.array here, or an arena view in the compiled engine)."""
    return values if isinstance(values, np.ndarray) else np.frombuffer(values, dtype=np.float64)


class Batch:
    """Jobs released together (one day's incidents, one day's false alarms) and their plans.

    Steps of all jobs are stored column by column (one array per attribute,
    one slot per step), jobs' steps consecutive.

    Args:
        first: first step of each job.
        release: when each job enters its first step, minutes (``inf``: never).
        unit: unit of each step, or ``-1`` for a pure delay.
        dur: service or delay duration of each step, minutes.
        nxt: step that follows each step, ``-1`` after the job's last.
        align: for delays, wait on until the next ``phase + k * align`` (``0``: don't).
        phase: for aligned delays, minutes by which the unit's cycle is offset from minute 0.
        group: for members of a parallel group, the group's first step, else ``-1``.
        width: for a parallel group's first step, the number of members, else 1.
        tag: anything the owner needs to find its records again (e.g. the day).
    """

    __slots__ = (
        "tag",
        "n_jobs",
        "n_steps",
        "first_np",
        "release_np",
        "unit_np",
        "dur_np",
        "nxt_np",
        "align_np",
        "phase_np",
        "group_np",
        "width_np",
        "job_np",
        "unit",
        "dur",
        "nxt",
        "align",
        "phase",
        "group",
        "width",
        "job",
        "has_align",
        "has_groups",
        "queued",
        "started",
        "ended",
        "finished",
        "pending",
        "unfinished",
        "never",
        "_release_first",
        "_release_times",
        "_slot",
    )

    def __init__(
        self,
        first: np.ndarray,
        release: np.ndarray,
        unit: np.ndarray,
        dur: np.ndarray,
        nxt: np.ndarray,
        align: np.ndarray | None = None,
        group: np.ndarray | None = None,
        width: np.ndarray | None = None,
        tag: object = None,
        phase: np.ndarray | None = None,
    ) -> None:
        n_steps = len(unit)
        if not (len(dur) == len(nxt) == n_steps):
            raise ValueError("unit, dur and nxt must have one entry per step")
        if np.any(np.asarray(dur) < 0):
            raise ValueError("durations must be non-negative")
        self.tag = tag
        self.n_jobs = len(first)
        self.n_steps = n_steps
        self.first_np = np.asarray(first, dtype=np.int64)
        self.release_np = np.asarray(release, dtype=np.float64)
        self.unit_np = np.asarray(unit, dtype=np.int64)
        self.dur_np = np.asarray(dur, dtype=np.float64)
        self.nxt_np = np.asarray(nxt, dtype=np.int64)
        self.has_align = align is not None and bool(np.any(np.asarray(align) > 0))
        self.has_groups = width is not None and bool(np.any(np.asarray(width) > 1))
        self.align_np = np.asarray(align, dtype=np.float64) if self.has_align else np.zeros(n_steps)
        self.phase_np = (
            np.asarray(phase, dtype=np.float64) if self.has_align and phase is not None else np.zeros(n_steps)
        )
        self.group_np = np.asarray(group, dtype=np.int64) if self.has_groups else np.full(n_steps, NO_STEP)
        self.width_np = np.asarray(width, dtype=np.int64) if self.has_groups else np.ones(n_steps, dtype=np.int64)
        # records: numpy here; the engine that runs the batch may keep them elsewhere (see Network.add)
        self.queued = np.full(n_steps, np.nan)
        self.started = np.full(n_steps, np.nan)
        self.ended = np.full(n_steps, np.nan)
        self.finished = np.full(self.n_jobs, np.nan)
        counts = np.diff(np.append(self.first_np, n_steps))
        if self.n_jobs and (self.first_np[0] != 0 or np.any(counts < 1)):
            raise ValueError("each job needs at least one step, jobs' steps consecutive from step 0")
        self.job_np = np.repeat(np.arange(self.n_jobs), counts)
        self.pending: dict[int, int] = {}
        self.unfinished = int(np.count_nonzero(np.isfinite(self.release_np)))
        self.never = self.n_jobs - self.unfinished

    def prepare_hot_loop(self) -> None:
        """Copies of the plan and records the pure-Python engine reads fastest (array.array, 4x smaller than lists)."""
        self.unit, self.dur, self.nxt = _ints(self.unit_np), _doubles(self.dur_np), _ints(self.nxt_np)
        self.align, self.phase, self.group = _doubles(self.align_np), _doubles(self.phase_np), _ints(self.group_np)
        self.width, self.job = _ints(self.width_np), _ints(self.job_np)
        self.queued, self.started, self.ended = (_doubles(np.asarray(a)) for a in self.times())
        self.finished = _doubles(np.asarray(self.finished_at()))

    def times(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Queued, started and ended time of every step (NaN where not yet)."""
        return _view(self.queued), _view(self.started), _view(self.ended)

    def finished_at(self) -> np.ndarray:
        """When each job ended its last step (NaN: not yet)."""
        return _view(self.finished)

    @property
    def done(self) -> bool:
        """Whether every job that will ever start has finished."""
        return self.unfinished == 0


class Network:
    """Staffed units serving jobs first come, first served, on a SimPy clock.

    Args:
        env: the SimPy environment whose clock (minutes) drives the network.
        servers: number of servers on duty at each unit at the start.

    The network puts its events on the environment's own event queue and runs
    them with :meth:`run`, which also processes any ordinary SimPy event on that
    queue (a shift change scheduled with ``env.timeout``) in the same order
    SimPy would: by time, then priority, then scheduling order. An event of the
    network is a plain tuple ``(time, priority, id, batch, step)`` rather than a
    :class:`simpy.Event` (that is SimPy's private event queue: this module is the
    only one touching it, and SimPy is pinned in ``pyproject.toml``).

    Example:
        Two clerks at one desk, three jobs of 10 minutes arriving together::

            >>> env = simpy.Environment()
            >>> net = Network(env, [2])
            >>> b = Batch(first=np.array([0, 1, 2]), release=np.zeros(3),
            ...           unit=np.zeros(3, int), dur=np.full(3, 10.0), nxt=np.full(3, -1))
            >>> net.add(b); net.run()
            >>> b.times()[1].tolist()   # started
            [0.0, 0.0, 10.0]
    """

    def __init__(self, env: simpy.Environment, servers: Sequence[int]) -> None:
        self.env = env
        servers = np.asarray(servers, dtype=np.int64)
        if np.any(servers < 0):
            raise ValueError("a unit cannot have a negative number of servers")
        self.servers = _ints(servers)
        self.free = _ints(servers)
        self.queues: list[deque] = [deque() for _ in range(len(servers))]
        self.waiting: set[int] = set()  # units with someone in their queue
        self.events = 0
        self.overtime = _doubles(np.zeros(len(servers)))  # server-minutes worked past going off duty
        self._off_since = _doubles(np.zeros(len(servers)))

    # ------------------------------------------------------------------ setup
    def _push(self, time: float, batch: Batch, step: int) -> None:
        heappush(self.env._queue, (time, NORMAL, next(self.env._eid), batch, step))

    def add(self, batch: Batch) -> None:
        """Release a batch's jobs at their release times."""
        batch.prepare_hot_loop()
        order = np.argsort(batch.release_np, kind="stable")
        order = order[np.isfinite(batch.release_np[order])]
        if len(order) == 0:
            return
        batch._release_first = _ints(batch.first_np[order])
        batch._release_times = _doubles(batch.release_np[order])
        self._push(max(batch._release_times[0], self.env.now), batch, -1)

    def set_servers(self, unit: int, servers: int) -> None:
        """Change how many servers a unit has on duty (shift change, absence).

        Servers leaving finish the job they are serving first; the time they
        work past the change is counted in :attr:`overtime`.
        """
        target = np.frombuffer(self.servers, dtype=np.int64).copy()
        target[unit] = max(int(servers), 0)
        self.set_all_servers(target)

    def set_all_servers(self, target: np.ndarray) -> None:
        """Set every unit's servers on duty at once (a shift change across the city)."""
        servers = np.frombuffer(self.servers, dtype=np.int64)
        free = np.frombuffer(self.free, dtype=np.int64)
        off_since = np.frombuffer(self._off_since, dtype=np.float64)
        target = np.maximum(np.asarray(target, dtype=np.int64), 0)
        delta = target - servers
        changed = np.flatnonzero(delta)
        if len(changed) == 0:
            return
        now = self.env.now
        free[changed] += delta[changed]
        servers[changed] = target[changed]
        off_since[changed[delta[changed] < 0]] = now
        for u in [u for u in self.waiting if delta[u] > 0]:
            queue = self.queues[u]
            while self.free[u] > 0 and queue:
                self.free[u] -= 1
                b, s = queue.popleft()
                b.started[s] = now
                self._push(now + b.dur[s], b, s)
            if not queue:
                self.waiting.discard(u)

    def queue_length(self, unit: int) -> int:
        """Jobs waiting at a unit now."""
        return len(self.queues[unit])

    def forget(self, batch: Batch) -> None:
        """A finished batch will not be seen again (nothing to free in this engine)."""

    def released(self, batch: Batch) -> int:
        """How many of a batch's jobs (in release order) have been released."""
        for item in self.env._queue:
            if len(item) == 5 and item[3] is batch and item[4] < 0:
                return -item[4] - 1
        return len(getattr(batch, "_release_times", ()))

    def replace(self, olds: list[tuple[Batch, np.ndarray]], new: Batch) -> None:
        """Put ``new`` in the place of ``olds`` (each with its old-to-new step numbers) on the event list and queues.

        The olds' pending releases are replaced by ``new``'s own release list.
        """
        new.prepare_hot_loop()
        maps = {id(b): m for b, m in olds}
        heap = []
        for item in self.env._queue:
            if len(item) == 5 and id(item[3]) in maps:
                if item[4] < 0:
                    continue  # the old release chains: new has them all
                item = (item[0], item[1], item[2], new, int(maps[id(item[3])][item[4]]))
            heap.append(item)
        heapify(heap)
        self.env._queue[:] = heap
        for u in self.waiting:
            q = self.queues[u]
            if any(id(b) in maps for b, _ in q):
                self.queues[u] = deque((new, int(maps[id(b)][s])) if id(b) in maps else (b, s) for b, s in q)
        if len(new._release_times):
            self._push(max(new._release_times[0], self.env.now), new, -1)

    def busy(self, unit: int) -> int:
        """Servers of a unit serving a job now."""
        return self.servers[unit] - max(self.free[unit], 0)

    # --------------------------------------------------------------- hot loop
    def run(self, until: float = math.inf) -> None:
        """Process every event before ``until`` (minutes), then set the clock to ``until``.

        Like ``env.run(until)``, events at exactly ``until`` are left for the next call.
        """
        env = self.env
        queue_heap = env._queue
        eid = env._eid
        free, queues, waiting = self.free, self.queues, self.waiting
        overtime, off_since = self.overtime, self._off_since
        push, pop = heappush, heappop
        ceil = math.ceil

        def arrive(b: Batch, s: int, now: float) -> None:
            b.queued[s] = now
            u = b.unit[s]
            if u < 0:  # a pure delay
                d = b.dur[s]
                if b.has_align:
                    a = b.align[s]
                    if a > 0.0:
                        ph = b.phase[s]
                        d = max(ceil((now + d - ph) / a) * a + ph - now, d)
                b.started[s] = now
                push(queue_heap, (now + d, NORMAL, next(eid), b, s))
            elif free[u] > 0:
                free[u] -= 1
                b.started[s] = now
                push(queue_heap, (now + b.dur[s], NORMAL, next(eid), b, s))
            else:
                q = queues[u]
                if not q:
                    waiting.add(u)
                q.append((b, s))

        def enter(b: Batch, s: int, now: float) -> None:
            w = b.width[s]
            if w > 1:
                b.pending[s] = w
                for member in range(s, s + w):
                    arrive(b, member, now)
            else:
                arrive(b, s, now)

        processed = 0
        while queue_heap:
            item = queue_heap[0]
            now = item[0]
            if now >= until:
                break
            pop(queue_heap)
            env._now = now
            if len(item) == 4:  # an ordinary SimPy event (a shift change ...)
                _process_simpy_event(item[3])
                continue
            processed += 1
            b = item[3]
            s = item[4]
            if s < 0:  # release jobs due now, then schedule the next release
                k = -s - 1
                times, first = b._release_times, b._release_first
                n = len(times)
                groups = b.has_groups
                while True:
                    if groups:
                        enter(b, first[k], now)
                    else:
                        arrive(b, first[k], now)
                    k += 1
                    if k >= n:
                        break
                    if times[k] > now:
                        push(queue_heap, (times[k], NORMAL, next(eid), b, -k - 1))
                        break
                continue
            # the end of step s
            b.ended[s] = now
            u = b.unit[s]
            if u >= 0:
                f = free[u]
                if f < 0:  # this server goes off duty, having finished its job
                    free[u] = f + 1
                    overtime[u] += now - off_since[u]
                else:
                    q = queues[u]
                    if q:
                        b2, s2 = q.popleft()
                        if not q:
                            waiting.discard(u)
                        b2.started[s2] = now
                        push(queue_heap, (now + b2.dur[s2], NORMAL, next(eid), b2, s2))
                    else:
                        free[u] = f + 1
            if b.has_groups:
                g = b.group[s]
                if g >= 0:
                    left = b.pending[g] - 1
                    if left:
                        b.pending[g] = left
                        continue
                    del b.pending[g]
                nxt = b.nxt[s]
                if nxt >= 0:
                    enter(b, nxt, now)
                    continue
            else:
                nxt = b.nxt[s]
                if nxt >= 0:
                    arrive(b, nxt, now)
                    continue
            b.unfinished -= 1  # the job's last step has ended
            b.finished[b.job[s]] = now
        self.events += processed
        if until != math.inf and env._now < until:
            env._now = until


def _process_simpy_event(event: Event) -> None:
    """What ``Environment.step`` does with an event it pops."""
    callbacks, event.callbacks = event.callbacks, None
    for callback in callbacks:
        callback(event)
    if not event._ok and not hasattr(event, "_defused"):
        exc = type(event._value)(*event._value.args)
        exc.__cause__ = event._value
        raise exc
