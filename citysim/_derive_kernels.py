"""The output rows' kernel (numba): what each incident's steps say, in two passes over the steps.

It gives :func:`citysim.derive._step_facts_numpy`'s results to the last bit (minima, maxima and
counts; ``tests/test_determinism.py`` compares them) and is used where numba is installed
(:func:`citysim.compiled.compiled_or`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def step_facts(job_incident, job, job_base, role, attempt, q, s, e, travel, call_try, alt, final, consult, roles, unit):
    """Per incident, from its steps (see :func:`citysim.derive._step_facts_numpy` for each fact); the times and
    units read at the steps found are read as the steps are gone over, in order.

    Both passes go over one incident's steps (they lie together: a job's steps, one job an incident) before
    the next incident's, while they are in the cache. The first value returned says whether they did lie
    together; if not (an incident met again after others), the rest is not to be used.
    """
    intake, verify, transfer, dispatch, field = roles[0], roles[1], roles[2], roles[3], roles[4]
    n = len(final)
    m = len(role)
    intake_idx = np.full(n, -1, np.int64)
    verify_idx = np.full(n, -1, np.int64)
    first_field = np.full(n, -1, np.int64)
    transfers = np.zeros(n, np.int64)
    calls = np.zeros(n, np.int64)
    hung_up_calls = np.zeros(n, np.int64)
    gave_up = np.zeros(n, np.bool_)
    reopened = np.zeros(n, np.int64)
    intake_started = np.full(n, np.nan)
    verify_ended = np.full(n, np.nan)
    field_queued = np.full(n, np.nan)
    field_unit = np.full(n, -1, np.int64)
    arrived = np.full(n, np.inf)
    last_disp = np.full(n, -1, np.int64)
    level_unit = np.full(n, -1, np.int64)  # the unit of the last dispatch step before the first field step
    resolved = np.full(n, -np.inf)
    pending = np.zeros(n, np.int64)
    closings = np.zeros(n, np.int64)
    arrive_final = np.full(n, np.inf)
    seen = np.zeros(n, np.bool_)
    together = True
    x0 = 0
    while x0 < m:
        r = job_incident[job[x0] - job_base]
        if seen[r]:
            together = False
            break
        seen[r] = True
        x1 = x0 + 1
        while x1 < m and job_incident[job[x1] - job_base] == r:
            x1 += 1
        for x in range(x0, x1):
            visited = not np.isnan(q[x])
            hung_up = visited and np.isnan(s[x]) and not np.isnan(e[x])
            taken = visited and not hung_up
            k = role[x]
            if intake_idx[r] < 0 and taken and attempt[x] == 0 and (k == intake or k == verify):
                intake_idx[r] = x
                intake_started[r] = s[x]
            if verify_idx[r] < 0 and k == verify:
                verify_idx[r] = x
                verify_ended[r] = e[x]
            if first_field[r] < 0 and k == field:
                first_field[r] = x
                field_queued[r] = q[x]
                field_unit[r] = unit[x]
            if visited:
                if k == transfer and call_try[x] <= 0:
                    transfers[r] += 1
                if call_try[x] >= 0:
                    calls[r] += 1
                if attempt[x] > reopened[r]:
                    reopened[r] = attempt[x]
            if hung_up:
                hung_up_calls[r] += 1
                if alt[x] < 0:
                    gave_up[r] = True
        for x in range(x0, x1):
            k = role[x]
            a = attempt[x]
            ff = first_field[r]
            if k == field:
                if a == attempt[ff]:  # the first attempt with a visit
                    v = s[x] + travel[x]
                    if np.isnan(v):
                        v = np.inf
                    if v < arrived[r]:
                        arrived[r] = v
                if a == final[r] and not np.isnan(q[x]) and not np.isnan(s[x]):
                    v = s[x] + travel[x]
                    if np.isnan(v) or v < arrive_final[r]:  # as np.minimum: NaN wins
                        arrive_final[r] = v
            if k == dispatch and a == 0 and (ff < 0 or x < ff) and x > last_disp[r]:
                last_disp[r] = x
                level_unit[r] = unit[x]
            visited = not np.isnan(q[x])
            taken = visited and not (np.isnan(s[x]) and not np.isnan(e[x]))
            closing = consult[r] and (k == intake or k == transfer) and a == 0 and taken
            if (k == field and a == final[r]) or closing:
                closings[r] += 1
                if np.isnan(e[x]):
                    pending[r] += 1
                elif e[x] > resolved[r]:
                    resolved[r] = e[x]
        x0 = x1
    return (
        together,
        intake_idx,
        verify_idx,
        first_field,
        transfers,
        calls,
        hung_up_calls,
        gave_up,
        reopened,
        arrived,
        np.where((level_unit < 0) & (first_field >= 0), field_unit, level_unit),  # else the field step's
        resolved,
        pending,
        closings,
        arrive_final,
        intake_started,
        verify_ended,
        field_queued,
    )


@njit(cache=True)
def stage_rows(q, s, e, travel, role, attempt, unit, job, job_base, job_incident, ids, keep, horizon, field, handling):
    """The stages table's columns (see :func:`citysim.derive._stage_rows_numpy`): the visited steps of the
    incidents kept in order, then a handling row for each of their field visits whose team got there."""
    m = len(q)
    n_v = 0
    n_site = 0
    for x in range(m):
        if not np.isnan(q[x]) and keep[job_incident[job[x] - job_base]]:
            n_v += 1
            if role[x] == field and s[x] + travel[x] <= horizon:
                n_site += 1
    n = n_v + n_site
    incident_id = np.empty(n, ids.dtype)
    att = np.empty(n, attempt.dtype)
    stage = np.empty(n, np.int32)
    units = np.empty(n, np.int32)
    queued = np.empty(n)
    started = np.empty(n)
    ended = np.empty(n)
    k = 0
    h = n_v
    for x in range(m):
        if np.isnan(q[x]):
            continue
        r = job_incident[job[x] - job_base]
        if not keep[r]:
            continue
        i = ids[r]
        incident_id[k] = i
        att[k] = attempt[x]
        stage[k] = role[x]
        units[k] = unit[x]
        queued[k] = q[x]
        started[k] = s[x]
        ended[k] = e[x]
        if role[x] == field:
            arrive = s[x] + travel[x]
            if arrive <= horizon:
                ended[k] = arrive
                incident_id[h] = i
                att[h] = attempt[x]
                stage[h] = handling
                units[h] = unit[x]
                queued[h] = arrive
                started[h] = arrive
                ended[h] = e[x]
                h += 1
            else:
                ended[k] = np.nan
        k += 1
    return incident_id, att, stage, units, queued, started, ended
