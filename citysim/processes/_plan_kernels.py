"""Plan layout kernel (numba): a day's slots laid out as steps in one pass, without sorting.

:func:`lay_out` gives ``citysim.processes.plan._lay_out_numpy``'s arrays exactly (``tests/test_plan_layout.py``
compares them) and is used where numba is installed (:func:`citysim.compiled.compiled_or`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from citysim.batch import NO_STEP

BLOCK = 2048
"""Incidents laid out at a time (their steps' columns stay in the cache while they are linked)."""


def _flat(arrays: list, dtype) -> tuple[np.ndarray, np.ndarray]:
    """The slots' arrays end to end, and where each slot's begins (-1: None, the column's fill).

    One copy in C (numba's typed lists would read them in place, but compile their methods anew in
    each process: half a second).
    """
    present = [a for a in arrays if a is not None]
    flat = np.concatenate(present).astype(dtype, copy=False) if present else np.zeros(0, dtype)
    sizes = np.array([-1 if a is None else len(a) for a in arrays], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(np.maximum(sizes, 0))[:-1]]).astype(np.int64)
    return flat, np.where(sizes >= 0, starts, -1)


def lay_out(n, rows, columns, fills, keys, align, wanted):
    """The steps of the slots, laid out by incident, slot order within an incident (as ``_lay_out_numpy``,
    whose arguments it takes)."""
    ints, floats = columns[:2], columns[2:]
    rows_flat, rows_at = _flat(rows, np.int64)
    return _lay_out(
        n,
        rows_flat,
        np.append(rows_at, len(rows_flat)),
        *(x for c in ints for x in _flat(c, np.int64)),
        *(x for c in floats for x in _flat(c, np.float64)),
        np.array(fills[:2], dtype=np.int64),
        np.array(fills[2:], dtype=np.float64),
        keys,
        align,
        wanted,
    )


@njit(cache=True, inline="always")
def _value(values, at, q, fill):
    """A slot's ``q``-th value of a column whose values start at ``at`` (-1: the slot has none, ``fill``)."""
    return values[at + q] if at >= 0 else fill


@njit(cache=True, inline="always")
def _run_end(key, slot, i, end):
    """The step after the run of steps from ``i`` (before ``end``) whose slots share a positive ``key``."""
    k = key[slot[i]]
    e = i + 1
    if k > 0:
        while e < end and key[slot[e]] == k:
            e += 1
    return e


@njit(cache=True, inline="always")
def _link(a, end, nxt, group, width, alt, call_try, slot, group_of, call_of, wanted):
    """Link one job's steps ``a .. end - 1``: the next step, parallel groups (entered at once, left together),
    calls' tries (answered: on after the call; hung up: the redial, or an end)."""
    for t in range(a, end - 1):
        nxt[t] = t + 1
    nxt[end - 1] = NO_STEP
    i = a
    while wanted[1] and i < end:
        e = _run_end(group_of, slot, i, end)
        if e - i > 1:
            after = nxt[e - 1]
            for t in range(i, e):
                group[t] = i
                nxt[t] = after
            width[i] = e - i
        i = e
    i = a
    while wanted[2] and i < end:
        e = _run_end(call_of, slot, i, end)
        after = nxt[e - 1]
        for t in range(i, e):
            if call_try[t] >= 0:
                alt[t] = t + 1 if t < e - 1 else NO_STEP
                nxt[t] = after
        i = e


@njit(cache=True)
def _lay_out(n, rows, rows_at, unit_v, unit_at, prio_v, prio_at, dur_v, dur_at, travel_v, travel_at, phase_v,
              phase_at, patience_v, patience_at, int_fill, float_fill, keys, align, wanted):  # fmt: skip
    """Each slot's rows are ``rows[rows_at[s]:rows_at[s + 1]]``, its values of a column ``<column>_v`` from
    ``<column>_at[s]`` on (-1: none). A counting sort: with each incident's number of steps counted,
    every slot's rows (ascending) are written straight to their steps, all columns at once, then
    linked job by job. Incidents go :data:`BLOCK` at a time, their steps laid out and linked while in
    the cache.
    """
    has_align, has_groups, has_calls = wanted[0], wanted[1], wanted[2]
    k = len(rows_at) - 1
    start = np.zeros(n + 1, dtype=np.int64)
    for r in rows:
        start[r + 1] += 1
    n_jobs = 0
    for r in range(n):
        n_jobs += start[r + 1] > 0
        start[r + 1] += start[r]
    m = start[n]
    job_incident = np.empty(n_jobs, dtype=np.int64)
    first = np.empty(n_jobs, dtype=np.int64)
    j = 0
    for r in range(n):
        if start[r + 1] > start[r]:
            job_incident[j], first[j] = r, start[r]
            j += 1

    unit, prio = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
    dur, travel = np.empty(m), np.empty(m)
    phase, step_align = np.empty(m if has_align else 0), np.empty(m if has_align else 0)
    patience = np.empty(m if has_calls else 0)
    role, attempt, call_try = np.empty(m, dtype=np.int8), np.empty(m, dtype=np.int8), np.empty(m, dtype=np.int8)
    nxt = np.empty(m, dtype=np.int64)
    group = np.full(m if has_groups else 0, NO_STEP, dtype=np.int64)
    width = np.ones(m if has_groups else 0, dtype=np.int64)
    alt = np.full(m if has_calls else 0, NO_STEP, dtype=np.int64)
    slot = np.empty(m, dtype=np.int32)
    at = np.zeros(k, dtype=np.int64)  # per slot, its first row not yet laid out
    j = 0
    for lo in range(0, n, BLOCK):
        hi = min(lo + BLOCK, n)
        for s in range(k):
            rows_s = rows[rows_at[s] : rows_at[s + 1]]
            s_role, s_attempt, s_try, s_align = keys[0, s], keys[1, s], keys[4, s], align[s]
            q = at[s]
            while q < len(rows_s) and rows_s[q] < hi:
                p = start[rows_s[q]]
                start[rows_s[q]] = p + 1
                slot[p] = s
                unit[p] = _value(unit_v, unit_at[s], q, int_fill[0])
                prio[p] = _value(prio_v, prio_at[s], q, int_fill[1])
                dur[p] = _value(dur_v, dur_at[s], q, float_fill[0])
                travel[p] = _value(travel_v, travel_at[s], q, float_fill[1])
                if has_align:
                    phase[p] = _value(phase_v, phase_at[s], q, float_fill[2])
                    step_align[p] = s_align
                if has_calls:
                    patience[p] = _value(patience_v, patience_at[s], q, float_fill[3])
                role[p], attempt[p], call_try[p] = s_role, s_attempt, s_try
                q += 1
            at[s] = q
        stop = start[hi - 1]  # the block's last incident's steps are laid out: the end of the block's steps
        while j < n_jobs and first[j] < stop:
            end = first[j + 1] if j + 1 < n_jobs else m
            _link(first[j], end, nxt, group, width, alt, call_try, slot, keys[2], keys[3], wanted)
            j += 1
    return (job_incident, first, nxt, group, width, alt) + (
        unit,
        prio,
        dur,
        travel,
        phase,
        step_align,
        patience,
        role,
        attempt,
        call_try,
    )
