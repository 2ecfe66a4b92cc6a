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
  until the next multiple of ``align`` (a department polling its alerts every
  hour, a weekly coordination meeting);
* a **parallel group**: ``width`` consecutive steps entered at once (joint
  dispatch of several departments), continuing when all have ended.

Every step's queued, started and ended times are recorded into arrays, from
which the model derives every output table. SimPy's
:class:`~simpy.core.Environment` is the clock: events are scheduled with
``env.schedule`` and processed by ``env.run``. Ties are served in the order
they were scheduled, so a run is deterministic.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Callable, Sequence

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
        align: for delays, wait on until the next multiple of this (``0``: don't).
        group: for members of a parallel group, the group's first step, else ``-1``.
        width: for a parallel group's first step, the number of members, else 1.
        tag: anything the owner needs to find its records again (e.g. the day).
    """

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
        # hot-loop views: array.array reads are as fast as lists and 4x smaller
        self.unit = _ints(self.unit_np)
        self.dur = _doubles(self.dur_np)
        self.nxt = _ints(np.asarray(nxt))
        self.align = _doubles(np.zeros(n_steps) if align is None else np.asarray(align))
        self.group = _ints(np.full(n_steps, NO_STEP) if group is None else np.asarray(group))
        self.width = _ints(np.ones(n_steps, dtype=np.int64) if width is None else np.asarray(width))
        self.has_align = align is not None and bool(np.any(np.asarray(align) > 0))
        nan = np.full(n_steps, np.nan)
        self.queued = _doubles(nan)
        self.started = _doubles(nan)
        self.ended = _doubles(nan)
        self.finished = _doubles(np.full(self.n_jobs, np.nan))
        counts = np.diff(np.append(self.first_np, n_steps))
        if self.n_jobs and (self.first_np[0] != 0 or np.any(counts < 1)):
            raise ValueError("each job needs at least one step, jobs' steps consecutive from step 0")
        self.job_np = np.repeat(np.arange(self.n_jobs), counts)
        self.job = _ints(self.job_np)
        self.pending: dict[int, int] = {}
        self.unfinished = int(np.count_nonzero(np.isfinite(self.release_np)))
        self.never = self.n_jobs - self.unfinished

    def times(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Queued, started and ended time of every step (NaN where not yet)."""
        return (
            np.frombuffer(self.queued, dtype=np.float64),
            np.frombuffer(self.started, dtype=np.float64),
            np.frombuffer(self.ended, dtype=np.float64),
        )

    def finished_at(self) -> np.ndarray:
        """When each job ended its last step (NaN: not yet)."""
        return np.frombuffer(self.finished, dtype=np.float64)

    @property
    def done(self) -> bool:
        """Whether every job that will ever start has finished."""
        return self.unfinished == 0


class _Wake(Event):
    """The end of one step of one job (a SimPy event with its callback built in)."""

    def __init__(self, env: simpy.Environment, callback: Callable, batch: Batch, step: int) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        self.batch = batch
        self.step = step


class Network:
    """Staffed units serving jobs first come, first served, on a SimPy clock.

    Args:
        env: the SimPy environment whose clock (minutes) drives the network.
        servers: number of servers on duty at each unit at the start.

    Example:
        Two clerks at one desk, three jobs of 10 minutes arriving together::

            >>> env = simpy.Environment()
            >>> net = Network(env, [2])
            >>> b = Batch(first=np.array([0, 1, 2]), release=np.zeros(3),
            ...           unit=np.zeros(3, int), dur=np.full(3, 10.0), nxt=np.full(3, -1))
            >>> net.add(b); env.run()
            >>> b.times()[1].tolist()   # started
            [0.0, 0.0, 10.0]
    """

    def __init__(self, env: simpy.Environment, servers: Sequence[int]) -> None:
        self.env = env
        self.servers = [int(s) for s in servers]
        if any(s < 0 for s in self.servers):
            raise ValueError("a unit cannot have a negative number of servers")
        self.free = list(self.servers)
        self.queues: list[deque] = [deque() for _ in self.servers]
        self.events = 0
        self.overtime = [0.0] * len(self.servers)  # server-minutes worked past going off duty
        self._off_since = [0.0] * len(self.servers)

    # ------------------------------------------------------------------ setup
    def add(self, batch: Batch) -> None:
        """Release a batch's jobs at their release times."""
        order = np.argsort(batch.release_np, kind="stable")
        order = order[np.isfinite(batch.release_np[order])]
        if len(order) == 0:
            return
        batch._release_order = _ints(order)
        batch._release_times = _doubles(batch.release_np[order])
        batch._next_release = 0
        now = self.env.now
        delay = max(batch._release_times[0] - now, 0.0)
        self._schedule(delay, self._release, batch, 0)

    def set_servers(self, unit: int, servers: int) -> None:
        """Change how many servers a unit has on duty (shift change, absence).

        Servers leaving finish the job they are serving first; the time they
        work past the change is counted in :attr:`overtime`.
        """
        servers = max(int(servers), 0)
        delta = servers - self.servers[unit]
        self.servers[unit] = servers
        self.free[unit] += delta
        if delta < 0:
            self._off_since[unit] = self.env.now
        queue = self.queues[unit]
        now = self.env.now
        while self.free[unit] > 0 and queue:
            self.free[unit] -= 1
            b, s = queue.popleft()
            b.started[s] = now
            self._schedule(b.dur[s], self._done, b, s)

    def queue_length(self, unit: int) -> int:
        """Jobs waiting at a unit now."""
        return len(self.queues[unit])

    def busy(self, unit: int) -> int:
        """Servers of a unit serving a job now."""
        return self.servers[unit] - max(self.free[unit], 0)

    # --------------------------------------------------------------- hot loop
    def _schedule(self, delay: float, callback: Callable, batch: Batch, step: int) -> None:
        self.events += 1
        self.env.schedule(_Wake(self.env, callback, batch, step), NORMAL, delay)

    def _release(self, ev: _Wake) -> None:
        b = ev.batch
        k = ev.step
        now = self.env._now
        times = b._release_times
        order = b._release_order
        n = len(order)
        while True:
            self._enter(b, b.first_np[order[k]].item(), now)
            k += 1
            if k >= n:
                return
            if times[k] > now:
                self._schedule(times[k] - now, self._release, b, k)
                return

    def _enter(self, b: Batch, s: int, now: float) -> None:
        w = b.width[s]
        if w > 1:
            b.pending[s] = w
            for member in range(s, s + w):
                self._arrive(b, member, now)
        else:
            self._arrive(b, s, now)

    def _arrive(self, b: Batch, s: int, now: float) -> None:
        b.queued[s] = now
        u = b.unit[s]
        if u < 0:
            d = b.dur[s]
            if b.has_align:
                a = b.align[s]
                if a > 0.0:
                    d = max(math.ceil((now + d) / a) * a - now, d)
            b.started[s] = now
            self._schedule(d, self._done, b, s)
        elif self.free[u] > 0:
            self.free[u] -= 1
            b.started[s] = now
            self._schedule(b.dur[s], self._done, b, s)
        else:
            self.queues[u].append((b, s))

    def _done(self, ev: _Wake) -> None:
        b = ev.batch
        s = ev.step
        now = self.env._now
        b.ended[s] = now
        u = b.unit[s]
        if u >= 0:
            if self.free[u] < 0:  # this server goes off duty, having finished its job
                self.free[u] += 1
                self.overtime[u] += now - self._off_since[u]
            else:
                queue = self.queues[u]
                if queue:
                    b2, s2 = queue.popleft()
                    b2.started[s2] = now
                    self._schedule(b2.dur[s2], self._done, b2, s2)
                else:
                    self.free[u] += 1
        g = b.group[s]
        if g >= 0:
            left = b.pending[g] - 1
            if left:
                b.pending[g] = left
                return
            del b.pending[g]
        n = b.nxt[s]
        if n >= 0:
            self._enter(b, n, now)
        else:
            b.unfinished -= 1
            b.finished[b.job[s]] = now
