"""The engine: staffed units as counters plus queues, on SimPy's clock.

A city's work is a network of *units*: a hotline with 40 operators, a gas
department's desk in one district with 3 clerks, a street centre with 4 staff,
a district's 6 fire crews, one grid worker. Each unit is a number of free
servers and one first-come-first-served queue (a :class:`collections.deque`)
per priority class: a free server takes the longest-waiting job of the most
urgent class waiting, and never leaves a job it has begun for a more urgent one.

What moves through the network are *jobs* (an incident, a false alarm), each
with a pre-compiled *plan* (a :class:`~citysim.batch.Batch`): the steps it will
take, decided in bulk by the model before the job starts (which unit, how long
the service takes, which pure delays lie between, how long a caller will hold).
Only what depends on who else is in the city (waiting for a free server, and
hanging up when that takes too long) is left to the event loop, so each step
costs one SimPy event, its end, and a job that has to queue with a finite
patience one more: the moment its patience runs out (ignored if it was
answered before). A step is one of

* a **service** at a unit: join the queue of its class, hold one server for ``dur``
  minutes; or, with a finite ``patience``, leave the queue unserved when it runs
  out and go on at the step's ``alt`` (a redial) or end there (the caller gave up);
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
from collections import deque
from collections.abc import Sequence
from heapq import heapify, heappop, heappush

import numpy as np
import simpy
from simpy.events import NORMAL, Event

from citysim.batch import DELAY, NEVER, NO_STEP, Batch, _doubles, _ints

__all__ = ["DELAY", "NEVER", "NO_STEP", "Batch", "Network"]

_HANG_UP = True
"""Marks a network event as the end of a caller's patience (a 6-tuple) rather than of a step (a 5-tuple)."""


class Network:
    """Staffed units serving jobs by priority class, first come first served within a class, on a SimPy clock.

    Args:
        env: the SimPy environment whose clock (minutes) drives the network.
        servers: number of servers on duty at each unit at the start.
        classes: priority classes (each step's ``prio`` is below it; 1: one queue per unit).

    The network puts its events on the environment's own event queue and runs
    them with :meth:`run`, which also processes any ordinary SimPy event on that
    queue (a shift change scheduled with ``env.timeout``) in the same order
    SimPy would: by time, then priority, then scheduling order. An event of the
    network is a plain tuple ``(time, priority, id, batch, step)`` (the end of a
    step), or with a sixth item the moment a waiting caller's patience runs out,
    rather than a :class:`simpy.Event` (that is SimPy's private event queue: this
    module is the only one touching it, and SimPy is pinned in ``pyproject.toml``).

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

    def __init__(self, env: simpy.Environment, servers: Sequence[int], classes: int = 1) -> None:
        self.env = env
        servers = np.asarray(servers, dtype=np.int64)
        if np.any(servers < 0):
            raise ValueError("a unit cannot have a negative number of servers")
        if classes < 1:
            raise ValueError("a network needs at least one priority class")
        self.classes = int(classes)
        self.servers = _ints(servers)
        self.free = _ints(servers)
        # queue of unit u, class c: queues[u * classes + c]; a caller who hung up stays in it, skipped, until reached
        self.queues: list[deque] = [deque() for _ in range(len(servers) * self.classes)]
        self.waiting_count = _ints(np.zeros(len(servers) * self.classes, dtype=np.int64))  # callers still waiting
        self.waiting: set[int] = set()  # units that may have someone in a queue
        self.events = 0
        self.overtime = _doubles(np.zeros(len(servers)))  # server-minutes worked past going off duty
        self._off_since = _doubles(np.zeros(len(servers)))

    # ------------------------------------------------------------------ setup
    def _push(self, time: float, batch: Batch, step: int) -> None:
        heappush(self.env._queue, (time, NORMAL, next(self.env._eid), batch, step))

    def add(self, batch: Batch) -> None:
        """Release a batch's jobs at their release times."""
        if batch.classes > self.classes:
            raise ValueError(f"the batch uses {batch.classes} priority classes, the network has {self.classes}")
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
            while self.free[u] > 0 and self._take(u, now):
                self.free[u] -= 1
        for u in [u for u in self.waiting if self.queue_length(u) == 0]:
            self.waiting.discard(u)

    def _take(self, u: int, now: float) -> bool:
        """A server of unit u starts the most urgent, longest-waiting job there (False if none waits)."""
        k = self.classes
        for i in range(u * k, u * k + k):
            q = self.queues[i]
            while q:
                b, s = q.popleft()
                if b.ended[s] == b.ended[s]:  # hung up while waiting
                    continue
                self.waiting_count[i] -= 1
                b.started[s] = now
                self._push(now + b.dur[s], b, s)
                return True
        return False

    def queue_length(self, unit: int) -> int:
        """Jobs waiting at a unit now (all classes)."""
        k = self.classes
        return int(sum(self.waiting_count[unit * k : unit * k + k]))

    def queue_lengths(self) -> np.ndarray:
        """Jobs waiting at every unit now (all classes)."""
        counts = np.frombuffer(self.waiting_count, dtype=np.int64)
        return counts.reshape(-1, self.classes).sum(axis=1)

    def forget(self, batch: Batch) -> None:
        """A finished batch will not be seen again: write out what it holds first.

        Nothing to free in this engine; the compiled engine gives the batch's space to the next
        batches, and its plan and records can no longer be read there.
        """

    def released(self, batch: Batch) -> int:
        """How many of a batch's jobs (in release order) have been released."""
        for item in self.env._queue:
            if len(item) == 5 and item[3] is batch and item[4] < 0:
                return -item[4] - 1
        return len(getattr(batch, "_release_times", ()))

    def replace(self, olds: list[tuple[Batch, np.ndarray]], new: Batch) -> None:
        """Put ``new`` in the place of ``olds`` (each with its old-to-new step numbers) on the event list and queues.

        The olds' pending releases are replaced by ``new``'s own release list. A pending end of patience of a
        job that has finished (it was answered) keeps pointing at its old batch, where it is ignored.
        """
        new.prepare_hot_loop()
        maps = {id(b): m for b, m in olds}
        heap = []
        for item in self.env._queue:
            if len(item) >= 5 and id(item[3]) in maps:
                if item[4] < 0:
                    continue  # the old release chains: new has them all
                step = int(maps[id(item[3])][item[4]])
                if step >= 0:
                    item = (item[0], item[1], item[2], new, step, *item[5:])
            heap.append(item)
        heapify(heap)
        self.env._queue[:] = heap
        for i, q in enumerate(self.queues):
            if q and any(id(b) in maps for b, _ in q):
                live = ((b, s) for b, s in q if b.ended[s] != b.ended[s])  # drop callers who hung up
                self.queues[i] = deque((new, int(maps[id(b)][s])) if id(b) in maps else (b, s) for b, s in live)
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
        free, queues, waiting, counts = self.free, self.queues, self.waiting, self.waiting_count
        overtime, off_since = self.overtime, self._off_since
        n_classes = self.classes
        push, pop = heappush, heappop
        ceil = math.ceil
        never = NEVER

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
                i = u * n_classes + b.prio[s]
                queues[i].append((b, s))
                counts[i] += 1
                waiting.add(u)
                if b.has_patience:
                    p = b.patience[s]
                    if p < never:
                        push(queue_heap, (now + p, NORMAL, next(eid), b, s, _HANG_UP))

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
            if len(item) == 6:  # a waiting caller's patience runs out
                if b.started[s] == b.started[s]:
                    continue  # answered before: nothing happens
                b.ended[s] = now  # hung up: left in the queue, skipped when reached
                counts[b.unit[s] * n_classes + b.prio[s]] -= 1
                nxt = b.alt[s]
                if nxt >= 0:
                    enter(b, nxt, now)
                else:  # gave up
                    b.unfinished -= 1
                    b.gave_up += 1
                    b.finished[b.job[s]] = now
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
                    started = False
                    for i in range(u * n_classes, u * n_classes + n_classes):
                        q = queues[i]
                        while q:
                            b2, s2 = q.popleft()
                            e2 = b2.ended[s2]
                            if e2 == e2:  # hung up while waiting
                                continue
                            counts[i] -= 1
                            b2.started[s2] = now
                            push(queue_heap, (now + b2.dur[s2], NORMAL, next(eid), b2, s2))
                            started = True
                            break
                        if started:
                            break
                    if not started:
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
