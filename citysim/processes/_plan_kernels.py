"""Plan layout kernel (numba): a day's slots laid out as steps in one pass, without sorting.

:func:`lay_out` gives ``citysim.processes.plan._lay_out_numpy``'s arrays exactly (``tests/test_plan_layout.py``
compares them) and is used where numba is installed (:func:`citysim.compiled.compiled_or`).
"""

from __future__ import annotations

import numpy as np
from numba import from_dtype, njit
from numba.typed import List

from citysim.batch import NO_STEP

BLOCK = 2048
"""Incidents laid out at a time (their steps' columns stay in the cache while they are linked)."""


def _typed(arrays: list, dtype) -> List:
    """The slots' arrays as numba's list (an empty array for None)."""
    out = List.empty_list(from_dtype(np.dtype(dtype))[::1])
    for values in arrays:
        out.append(np.zeros(0, dtype) if values is None else np.ascontiguousarray(values, dtype=dtype))
    return out


def lay_out(n, rows, columns, fills, keys, align, wanted):
    """The steps of the slots, laid out by incident, slot order within an incident (as ``_lay_out_numpy``,
    whose arguments it takes)."""
    ints, floats = columns[:2], columns[2:]
    return _lay_out(
        n,
        _typed(rows, np.int64),
        *(_typed(c, np.int64) for c in ints),
        *(_typed(c, np.float64) for c in floats),
        np.array(fills[:2], dtype=np.int64),
        np.array(fills[2:], dtype=np.float64),
        keys,
        align,
        wanted,
    )


@njit(cache=True, inline="always")
def _value(values, j, fill):
    """A slot's ``j``-th value of a column (``values`` empty: the slot has none, ``fill``)."""
    return values[j] if len(values) else fill


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
def _lay_out(n, rows, unit_s, prio_s, dur_s, travel_s, phase_s, patience_s, int_fill, float_fill, keys, align, wanted):
    """A counting sort: with each incident's number of steps counted, every slot's rows (ascending) are
    written straight to their steps, all columns at once, then linked job by job. Incidents go
    :data:`BLOCK` at a time, their steps laid out and linked while in the cache.
    """
    has_align, has_groups, has_calls = wanted[0], wanted[1], wanted[2]
    k = len(rows)
    start = np.zeros(n + 1, dtype=np.int64)
    for s in range(k):
        for r in rows[s]:
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
            rows_s, unit_v, prio_v, dur_v, travel_v = rows[s], unit_s[s], prio_s[s], dur_s[s], travel_s[s]
            phase_v, patience_v = phase_s[s], patience_s[s]
            s_role, s_attempt, s_try, s_align = keys[0, s], keys[1, s], keys[4, s], align[s]
            q = at[s]
            while q < len(rows_s) and rows_s[q] < hi:
                p = start[rows_s[q]]
                start[rows_s[q]] = p + 1
                slot[p] = s
                unit[p] = _value(unit_v, q, int_fill[0])
                prio[p] = _value(prio_v, q, int_fill[1])
                dur[p] = _value(dur_v, q, float_fill[0])
                travel[p] = _value(travel_v, q, float_fill[1])
                if has_align:
                    phase[p] = _value(phase_v, q, float_fill[2])
                    step_align[p] = s_align
                if has_calls:
                    patience[p] = _value(patience_v, q, float_fill[3])
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
