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


@njit(cache=True, inline="always")
def _value(values, off, j, fill):
    """A slot's ``j``-th value of a column (``off``: where the slot's values start, -1: it has none, ``fill``)."""
    return values[off + j] if off >= 0 else fill


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
def lay_out(n, ends, rows, ints, int_off, int_fill, floats, float_off, float_fill, keys, align, wanted):
    """The steps of slots laid out by incident, slot order within an incident (as ``_lay_out_numpy``).

    A counting sort: with each incident's number of steps counted, every slot's rows (ascending) are
    written straight to their steps, all columns at once, then linked job by job. Incidents go
    :data:`BLOCK` at a time, their steps laid out and linked while in the cache.
    """
    has_align, has_groups, has_calls = wanted[0], wanted[1], wanted[2]
    m, k = len(rows), len(ends)
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(m):
        start[rows[i] + 1] += 1
    n_jobs = 0
    for r in range(n):
        n_jobs += start[r + 1] > 0
        start[r + 1] += start[r]
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
    at = np.empty(k, dtype=np.int64)  # per slot, its first row not yet laid out
    at[0], at[1:] = 0, ends[:-1]
    j = 0
    for lo in range(0, n, BLOCK):
        hi = min(lo + BLOCK, n)
        for s in range(k):
            begin, end = (ends[s - 1] if s > 0 else 0), ends[s]
            o_unit, o_prio = int_off[0, s], int_off[1, s]
            o_dur, o_travel, o_phase, o_patience = float_off[0, s], float_off[1, s], float_off[2, s], float_off[3, s]
            s_role, s_attempt, s_try, s_align = keys[0, s], keys[1, s], keys[4, s], align[s]
            i = at[s]
            while i < end and rows[i] < hi:
                p = start[rows[i]]
                start[rows[i]] = p + 1
                q = i - begin
                slot[p] = s
                unit[p] = _value(ints, o_unit, q, int_fill[0])
                prio[p] = _value(ints, o_prio, q, int_fill[1])
                dur[p] = _value(floats, o_dur, q, float_fill[0])
                travel[p] = _value(floats, o_travel, q, float_fill[1])
                if has_align:
                    phase[p] = _value(floats, o_phase, q, float_fill[2])
                    step_align[p] = s_align
                if has_calls:
                    patience[p] = _value(floats, o_patience, q, float_fill[3])
                role[p], attempt[p], call_try[p] = s_role, s_attempt, s_try
                i += 1
            at[s] = i
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
