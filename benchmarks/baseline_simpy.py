"""The baseline a SimPy user would write: one generator process per incident.

It executes the very plans citysim compiles (same units, same staffing, same
service, travel and delay times), the way SimPy's documentation recommends:
each incident a process, each staffed unit a :class:`simpy.Resource`, each
service ``with unit.request() as req: yield req; yield env.timeout(t)``, a
joint dispatch as sub-processes joined with ``env.all_of``. Because both serve
first come first served, it must give the same start time to every step;
:func:`check_same_waits` asserts that before any timing is trusted.
"""

from __future__ import annotations

import math

import numpy as np
import simpy

from citysim.engine import Batch


def _incident(env: simpy.Environment, units: list[simpy.Resource], b: Batch, first: int, started: np.ndarray):
    s = first
    while s >= 0:
        width = b.width[s]
        if width > 1:
            members = [env.process(_step(env, units, b, m, started)) for m in range(s, s + width)]
            yield env.all_of(members)
            s = b.nxt[s]
        else:
            yield from _step(env, units, b, s, started)
            s = b.nxt[s]


def _step(env: simpy.Environment, units: list[simpy.Resource], b: Batch, s: int, started: np.ndarray):
    u = b.unit[s]
    d = b.dur[s]
    if u < 0:
        a = b.align[s]
        if a > 0:
            d = max(math.ceil((env.now + d) / a) * a - env.now, d)
        started[s] = env.now
        yield env.timeout(d)
        return
    with units[u].request() as req:
        yield req
        started[s] = env.now
        yield env.timeout(d)


def _releases(env, units, batches, started):
    jobs = [
        (b.release_np[j], k, j) for k, b in enumerate(batches) for j in range(b.n_jobs) if np.isfinite(b.release_np[j])
    ]
    jobs.sort(key=lambda x: (x[0], x[1], x[2]))
    for t, k, j in jobs:
        if t > env.now:
            yield env.timeout(t - env.now)
        b = batches[k]
        env.process(_incident(env, units, b, int(b.first_np[j]), started[k]))


def run_simpy(batches: list[Batch], servers: list[int], until: float) -> list[np.ndarray]:
    """Run plans with one SimPy process per incident; the start time of every step."""
    for b in batches:
        b.prepare_hot_loop()  # plain arrays of the plans
    env = simpy.Environment()
    units = [simpy.Resource(env, capacity=max(c, 1)) for c in servers]
    started = [np.full(b.n_steps, np.nan) for b in batches]
    env.process(_releases(env, units, batches, started))
    env.run(until=until)
    return started


def check_same_waits(citysim_started: list[np.ndarray], simpy_started: list[np.ndarray]) -> float:
    """Largest difference between the two engines' step start times (must be ~0)."""
    worst = 0.0
    for a, b in zip(citysim_started, simpy_started, strict=True):
        both = ~np.isnan(a) & ~np.isnan(b)
        if (np.isnan(a) != np.isnan(b)).any():
            return math.inf
        if both.any():
            worst = max(worst, float(np.max(np.abs(a[both] - b[both]))))
    return worst
