"""What each staffed unit did in a day: busy time by activity, work offered, waits.

At the end of each simulated day the model asks :func:`day_use` about every plan
still held (a day's incidents, its false alarms, carried-forward stragglers): each
step's service that overlaps the day counts as busy time of its unit, each step that
joined a unit's queue during the day counts as work offered to it (its whole
service time), and each service that began during the day gives a wait (began minus
queued). These feed the units table, the daily time series and the stability check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from citysim.compiled import compiled_or
from citysim.processes.plan import ROLE

__all__ = ["BUSY_ROLES", "DayUse", "DutyClock", "day_use"]

BUSY_ROLES = ("intake", "verify", "transfer", "dispatch", "field", "callback")
"""Activities whose service time is counted as busy time (the units table's ``busy_<role>_min``)."""


@dataclass
class DayUse:
    """One day's use of every unit (arrays indexed by unit)."""

    busy: dict[str, np.ndarray]  # role -> server-minutes busy within the day
    offered: np.ndarray  # service minutes of the steps that joined the unit's queue during the day
    wait_sum: np.ndarray  # minutes waited by the services that began during the day
    wait_count: np.ndarray  # services that began during the day
    wait_unit: np.ndarray  # per such service: its unit
    wait_min: np.ndarray  # per such service: minutes it waited

    @property
    def busy_total(self) -> np.ndarray:
        """Server-minutes busy within the day, all activities."""
        return sum(self.busy.values())


def day_use(plans: Iterable, n_units: int, start: float, end: float, track: bool = False) -> DayUse:
    """Busy time, work offered and waits of every unit within ``[start, end)``.

    Args:
        plans: the compiled plans still held by the model.
        n_units: number of units.
        start, end: the day, minutes.
        track: days asked in order (the model's end of each day): each plan keeps the steps that may
            still count on a later day (:attr:`~citysim.processes.plan.Plan.live`), and the next day
            looks at those only. The same results, without going over every held step every day.
    """
    n_roles = len(BUSY_ROLES)
    role_slot = np.full(max(ROLE.values()) + 1, -1, dtype=np.int64)
    for i, r in enumerate(BUSY_ROLES):
        role_slot[ROLE[r]] = i
    busy_flat = np.zeros(n_roles * n_units)
    offered = np.zeros(n_units)
    work = np.zeros(n_roles * n_units + n_units)  # the compiled kernel's sums of one plan (zero between plans)
    units, waits = [], []
    for plan in plans:
        b = plan.batch
        q, s, e = b.times()
        steps = plan.live if track and plan.live is not None else np.arange(b.n_steps)
        job = b.links[3]
        began_unit, began_wait, live = _plan_use(
            steps, b.unit_np, plan.role, role_slot, q, s, e, b.dur_np, job, b.bases[1], b.finished_at(),
            float(start), float(end), n_units, n_roles, busy_flat, offered, work,
        )  # fmt: skip
        if track:
            plan.live = live
        if len(began_unit):
            units.append(began_unit)
            waits.append(began_wait)
    busy = {r: busy_flat[i * n_units : (i + 1) * n_units].copy() for i, r in enumerate(BUSY_ROLES)}
    wait_unit = np.concatenate(units) if units else np.zeros(0, dtype=np.int64)
    wait_min = np.concatenate(waits) if waits else np.zeros(0)
    return DayUse(
        busy=busy,
        offered=offered,
        wait_sum=np.bincount(wait_unit, weights=wait_min, minlength=n_units),
        wait_count=np.bincount(wait_unit, minlength=n_units).astype(float),
        wait_unit=wait_unit,
        wait_min=wait_min,
    )


def _plan_use_numpy(steps, unit, role, role_slot, q, s, e, dur, job, job_base, fin, start, end, n_units, n_roles,
                    busy, offered, work):  # fmt: skip
    """Add one plan's busy minutes per (role slot, unit) to ``busy`` and its work offered per unit to
    ``offered``; return the services begun in the day and which of ``steps`` may still count on a later day.

    Only ``steps`` (ascending) are looked at. A step counts no more once it has no unit, or it came
    and its service ended (or its caller hung up) by ``end``, or it was never reached and its job has
    ended. The plan's sums run in step order (as ``np.bincount``) and are then added to the totals:
    :func:`citysim._fast_kernels._plan_use` gives the same bits (``work`` is its space for the plan's sums).
    """
    unit, role, q, s, e, dur, job = (np.asarray(a)[steps] for a in (unit, role, q, s, e, dur, job))
    slot = role_slot[role]
    sel = (unit >= 0) & (s < end) & (s + dur > start) & (slot >= 0)
    if sel.any():
        overlap = np.minimum(s[sel] + dur[sel], end) - np.maximum(s[sel], start)
        busy += np.bincount(slot[sel] * n_units + unit[sel], weights=overlap, minlength=n_roles * n_units)
    came = (unit >= 0) & (q >= start) & (q < end)
    if came.any():
        offered += np.bincount(unit[came], weights=dur[came], minlength=n_units)
    began = (unit >= 0) & (s >= start) & (s < end)
    ended = (q < end) & (((s < end) & (s + dur <= end)) | (np.isnan(s) & ~np.isnan(e)))
    never = np.isnan(q) & (np.asarray(fin)[job - job_base] <= end)
    return unit[began], s[began] - q[began], steps[(unit >= 0) & ~ended & ~never]


_plan_use = compiled_or("_plan_use", _plan_use_numpy)  # one pass where numba is installed


def _add_duty_numpy(target, servers, since, duty, now):
    """Units whose servers on duty become ``target`` at ``now``: their minutes at the old number added to ``duty``."""
    changed = np.flatnonzero(target != servers)
    duty[changed] += servers[changed] * (now - since[changed])
    since[changed] = now
    servers[changed] = target[changed]


_add_duty = compiled_or("_add_duty", _add_duty_numpy)


class DutyClock:
    """Server-minutes each unit is on duty, counted as its staffing changes (overtime not included).

    A unit's minutes at a number of servers are added when that number changes, or when
    :meth:`close` is asked (at each day's end): a shift change that touches a few units costs
    a pass over the units, not a sum over all of them. Staffing is in whole servers and changes
    on whole minutes, so the sums are whole numbers and exact in any order.
    """

    def __init__(self, servers: np.ndarray) -> None:
        self.servers = np.array(servers, dtype=float)  # on duty now, as set (a negative target counts as set)
        self.since = np.zeros(len(self.servers))  # since when, per unit
        self.duty = np.zeros(len(self.servers))  # since the run began, up to ``since``

    def change(self, target: np.ndarray, now: float) -> None:
        """Servers on duty become ``target`` at ``now``."""
        _add_duty(np.asarray(target, dtype=np.int64), self.servers, self.since, self.duty, float(now))

    def close(self, now: float) -> np.ndarray:
        """Server-minutes on duty per unit from the run's start to ``now`` (the clock's own array)."""
        self.duty += self.servers * (now - self.since)
        self.since[:] = now
        return self.duty
