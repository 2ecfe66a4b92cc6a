"""The compiled engine's kernels (numba): the event heap, unit queues as linked lists, the event loop.

See :mod:`citysim._fast` for the arena these functions work on. A unit's queue
for one priority class (``u * classes + c``) is a doubly linked list through the
steps waiting in it (``WAIT`` the next, ``PREV`` the one before), so a caller
who hangs up leaves it at once.

The event heap is three arrays (time, sequence number, address) and ``hn``: its size, the next
sequence number, and whether the entry at the top is the event being processed. While it is,
the first event pushed takes the top's place (one sift down instead of a pop and a push); an
event that pushes none is popped before the next is read. The order of events is that of
(time, sequence number) either way: no two entries share both.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from citysim._prefetch import prefetch, prefetch_to_write

STRIDE = np.int64(1) << np.int64(32)
HANG_UP = np.int64(1) << np.int64(40)
"""An event ``HANG_UP + x``: the patience of the caller waiting at step x runs out."""
DEAD = HANG_UP * np.int64(2)
"""An end of patience whose step has left the arena (the caller was answered long ago): ignored."""
# integer step arrays and float step arrays of the arena, by row
UNIT, NXT, GROUP, WIDTH, JOB, PENDING, WAIT, SLOT, PREV, ALT, PRIO = range(11)
N_INT_ROWS = 11
STEP_INT = np.int32  # the integer rows: indices into the arena and unit numbers (half the memory of int64)
GROWTH = 1.5  # a full arena grows to this many times what is live
DUR, ALIGN, QUEUED, STARTED, ENDED, PHASE, PATIENCE = range(7)
N_FLOAT_ROWS = 7


@njit(cache=True, inline="always")
def _fetch_step(IA, FA, a):
    """Prefetch the arena rows of the step an event address ``a`` names (an end, or an end of patience;
    a dead one is past the arena)."""
    if a >= HANG_UP:
        a -= HANG_UP
    if a >= 0 and a < IA.shape[0]:
        prefetch_to_write(IA, a, 0)
        prefetch_to_write(FA, a, 0)
        prefetch_to_write(FA, a, N_FLOAT_ROWS - 1)
        if a + 1 < IA.shape[0]:  # the step after it (its job's next, most often)
            prefetch_to_write(IA, a + 1, N_INT_ROWS - 1)
            prefetch_to_write(FA, a + 1, N_FLOAT_ROWS - 1)


@njit(cache=True, inline="always")
def _less(t1, s1, t2, s2):
    return t1 < t2 or (t1 == t2 and s1 < s2)


@njit(cache=True, inline="always")
def _sift_down(ht, hs, ha, n, i, t, s, a):
    """Put entry (t, s, a) at place i of a heap of n entries, or below it, children moving up."""
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _less(ht[c + 1], hs[c + 1], ht[c], hs[c]):
            c += 1
        if _less(t, s, ht[c], hs[c]):
            break
        ht[i] = ht[c]
        hs[i] = hs[c]
        ha[i] = ha[c]
        i = c
    ht[i] = t
    hs[i] = s
    ha[i] = a


@njit(cache=True, inline="always")
def _push(ht, hs, ha, hn, t, addr):
    seq = hn[1]
    if hn[2]:  # the event at the top is being processed: its place is taken (one sift down, no pop then push)
        hn[2] = 0
        hn[1] = seq + 1
        _sift_down(ht, hs, ha, hn[0], 0, t, seq, addr)
        return
    i = hn[0]
    hn[0] = i + 1
    hn[1] = seq + 1
    while i > 0:
        p = (i - 1) >> 1
        if _less(ht[p], hs[p], t, seq):
            break
        ht[i] = ht[p]
        hs[i] = hs[p]
        ha[i] = ha[p]
        i = p
    ht[i] = t
    hs[i] = seq
    ha[i] = addr


@njit(cache=True, inline="always")
def _pop(ht, hs, ha, hn):
    n = hn[0] - 1
    hn[0] = n
    if n > 0:
        _sift_down(ht, hs, ha, n, 0, ht[n], hs[n], ha[n])


@njit(cache=True)
def _heapify(ht, hs, ha, n):
    """Make the first n entries a heap again (after some were taken out), sifting each parent down."""
    for i in range((n - 2) // 2, -1, -1):
        _sift_down(ht, hs, ha, n, i, ht[i], hs[i], ha[i])


@njit(cache=True, inline="always")
def _arrive(x, now, IA, FA, has_align, free, q_head, q_tail, q_len, classes, ht, hs, ha, hn):
    FA[x, QUEUED] = now
    u = IA[x, UNIT]
    if u < 0:  # a pure delay
        d = FA[x, DUR]
        if has_align[IA[x, SLOT]]:
            a = FA[x, ALIGN]
            if a > 0.0:
                ph = FA[x, PHASE]
                d = max(math.ceil((now + d - ph) / a) * a + ph - now, d)
        FA[x, STARTED] = now
        _push(ht, hs, ha, hn, now + d, x)
    elif free[u] > 0:
        free[u] -= 1
        FA[x, STARTED] = now
        _push(ht, hs, ha, hn, now + FA[x, DUR], x)
    else:
        i = u * classes + IA[x, PRIO]
        IA[x, WAIT] = -1
        tail = q_tail[i]
        IA[x, PREV] = tail
        if tail < 0:
            q_head[i] = x
        else:
            IA[tail, WAIT] = x
        q_tail[i] = x
        q_len[i] += 1
        p = FA[x, PATIENCE]
        if p < np.inf:
            _push(ht, hs, ha, hn, now + p, HANG_UP + x)


@njit(cache=True, inline="always")
def _start_next(u, now, IA, FA, q_head, q_tail, q_len, classes, ht, hs, ha, hn):
    """A server of unit u is free: start the most urgent, longest-waiting job there (False if none waits)."""
    for i in range(u * classes, u * classes + classes):
        x = q_head[i]
        if x < 0:
            continue
        nxt = IA[x, WAIT]
        q_head[i] = nxt
        if nxt < 0:
            q_tail[i] = -1
        else:
            IA[nxt, PREV] = -1
        q_len[i] -= 1
        FA[x, STARTED] = now
        _push(ht, hs, ha, hn, now + FA[x, DUR], x)
        return True
    return False


@njit(cache=True, inline="always")
def _unlink(x, i, IA, q_head, q_tail, q_len):
    """Take step x out of queue i (it hung up)."""
    prev = IA[x, PREV]
    nxt = IA[x, WAIT]
    if prev < 0:
        q_head[i] = nxt
    else:
        IA[prev, WAIT] = nxt
    if nxt < 0:
        q_tail[i] = prev
    else:
        IA[nxt, PREV] = prev
    q_len[i] -= 1


@njit(cache=True, inline="always")
def _enter(x, now, IA, FA, has_align, has_groups, free, q_head, q_tail, q_len, classes, ht, hs, ha, hn):
    """Job enters step x: alone, or with the members of the parallel group it heads."""
    if has_groups[IA[x, SLOT]] and IA[x, WIDTH] > 1:
        w = IA[x, WIDTH]
        IA[x, PENDING] = w
        for m in range(x, x + w):
            _arrive(m, now, IA, FA, has_align, free, q_head, q_tail, q_len, classes, ht, hs, ha, hn)
    else:
        _arrive(x, now, IA, FA, has_align, free, q_head, q_tail, q_len, classes, ht, hs, ha, hn)


@njit(cache=True)
def _run(
    until,
    ht,
    hs,
    ha,
    hn,
    IA,
    FA,
    finished,
    has_align,
    has_groups,
    unfinished,
    gave_up,
    rel_t,
    rel_x,
    rel_base,
    free,
    q_head,
    q_tail,
    q_len,
    classes,
    overtime,
    off_since,
):
    """Process network events before ``until``; returns how many."""
    processed = 0
    while True:
        if hn[2]:  # the last event pushed none: take it off the top now
            hn[2] = 0
            _pop(ht, hs, ha, hn)
        if hn[0] == 0:
            break
        now = ht[0]
        if now >= until:
            break
        x = ha[0]
        hn[2] = 1  # the top's place is taken by the first event this one pushes
        processed += 1
        if hn[0] > 1:  # the next event, unless this one pushes an earlier one: fetched ahead
            c = 1
            if hn[0] > 2 and _less(ht[2], hs[2], ht[1], hs[1]):
                c = 2
            y = ha[c]
            if y < 0:  # a release: its first step
                code = -y - 1
                y = rel_x[code % STRIDE + rel_base[code // STRIDE, 0]]
            _fetch_step(IA, FA, y)
        if x < 0:  # releases of a batch: -(slot * STRIDE + k) - 1
            code = -x - 1
            b = code // STRIDE
            k = code % STRIDE + rel_base[b, 0]
            end = rel_base[b, 1]
            while True:
                _enter(
                    rel_x[k], now, IA, FA, has_align, has_groups, free, q_head, q_tail, q_len, classes, ht, hs, ha, hn
                )
                k += 1
                if k >= end:
                    break
                if rel_t[k] > now:
                    _push(ht, hs, ha, hn, rel_t[k], -(b * STRIDE + (k - rel_base[b, 0])) - 1)
                    break
            continue
        if x >= HANG_UP:  # a waiting caller's patience runs out
            if x == DEAD:
                continue
            x -= HANG_UP
            if not np.isnan(FA[x, STARTED]):
                continue  # answered before: nothing happens
            FA[x, ENDED] = now
            _unlink(x, IA[x, UNIT] * classes + IA[x, PRIO], IA, q_head, q_tail, q_len)
            a = IA[x, ALT]
            if a >= 0:
                _enter(a, now, IA, FA, has_align, has_groups, free, q_head, q_tail, q_len, classes, ht, hs, ha, hn)
            else:  # gave up
                unfinished[IA[x, SLOT]] -= 1
                gave_up[IA[x, SLOT]] += 1
                finished[IA[x, JOB]] = now
            continue
        FA[x, ENDED] = now
        u = IA[x, UNIT]
        if u >= 0:
            if free[u] < 0:  # this server goes off duty, having finished its job
                free[u] += 1
                overtime[u] += now - off_since[u]
            elif not _start_next(u, now, IA, FA, q_head, q_tail, q_len, classes, ht, hs, ha, hn):
                free[u] += 1
        nx = IA[x, NXT]
        b = IA[x, SLOT]
        if has_groups[b]:
            g = IA[x, GROUP]
            if g >= 0:
                IA[g, PENDING] -= 1
                if IA[g, PENDING] > 0:
                    continue
            if nx >= 0 and IA[nx, WIDTH] > 1:
                w = IA[nx, WIDTH]
                IA[nx, PENDING] = w
                for m in range(nx, nx + w):
                    _arrive(m, now, IA, FA, has_align, free, q_head, q_tail, q_len, classes, ht, hs, ha, hn)
                continue
        if nx >= 0:
            _arrive(nx, now, IA, FA, has_align, free, q_head, q_tail, q_len, classes, ht, hs, ha, hn)
        else:
            unfinished[b] -= 1
            finished[IA[x, JOB]] = now
    return processed


@njit(cache=True)
def _set_servers(target, now, servers, free, off_since, IA, FA, q_head, q_tail, q_len, classes, ht, hs, ha, hn):
    """Servers on duty become ``target`` (at least 0), unit by unit: those leaving finish their job first
    (``free`` goes below 0), those arriving take the jobs waiting."""
    for u in range(len(target)):
        t = max(target[u], 0)
        d = t - servers[u]
        if d == 0:
            continue
        free[u] += d
        servers[u] = t
        if d < 0:
            off_since[u] = now
            continue
        while free[u] > 0 and _start_next(u, now, IA, FA, q_head, q_tail, q_len, classes, ht, hs, ha, hn):
            free[u] -= 1


@njit(cache=True)
def _add_duty(target, servers, since, duty, now):
    """:func:`citysim.accounting._add_duty_numpy` in one pass."""
    for u in range(len(target)):
        t = target[u]
        if t != servers[u]:
            duty[u] += servers[u] * (now - since[u])
            since[u] = now
            servers[u] = t


@njit(cache=True)
def _plan_use(steps, unit, role, role_slot, q, s, e, dur, job, job_base, fin, start, end, n_units, n_roles,
              busy, offered, work):  # fmt: skip
    """:func:`citysim.accounting._plan_use_numpy` in one pass (the same sums, in the same order).

    The plan's own sums are made in ``work`` (zero on entry, busy then offered), then added to the
    totals at the places touched, and ``work`` is left zero again: no arrays the size of the city per plan.
    """
    nb = n_roles * n_units
    touched = np.empty(2 * len(steps), dtype=np.int64)  # places of work first added to (at most two a step)
    n_touched = 0
    began_unit = np.empty(len(steps), dtype=unit.dtype)
    began_wait = np.empty(len(steps))
    still = np.empty(len(steps), dtype=np.int64)
    k = n_still = 0
    m = len(steps)
    for j in range(m):
        if j + 16 < m:  # kept steps lie scattered over the plan: fetch those a little ahead (a hint)
            a = steps[j + 16]
            prefetch(unit, a, 0)
            prefetch(s, a, 0)
        i = steps[j]
        u = unit[i]
        if u < 0:
            continue
        si = s[i]
        d = dur[i]
        r = role_slot[role[i]]
        if si < end and si + d > start and r >= 0:
            w = r * n_units + u
            if work[w] == 0.0:
                touched[n_touched] = w
                n_touched += 1
            work[w] += min(si + d, end) - max(si, start)
        qi = q[i]
        if qi >= start and qi < end:
            w = nb + u
            if work[w] == 0.0:
                touched[n_touched] = w
                n_touched += 1
            work[w] += d
        if si >= start and si < end:
            began_unit[k] = u
            began_wait[k] = si - qi
            k += 1
        done = qi < end and ((si < end and si + d <= end) or (np.isnan(si) and not np.isnan(e[i])))
        if not done and np.isnan(qi):
            done = fin[job[i] - job_base] <= end
        if not done:
            still[n_still] = i
            n_still += 1
    for t in range(n_touched):  # a place touched again after summing to zero is listed twice: added once
        w = touched[t]
        if w < nb:
            busy[w] += work[w]
        else:
            offered[w - nb] += work[w]
        work[w] = 0.0
    return began_unit[:k], began_wait[:k], still[:n_still]


@njit(cache=True)
def _scores(total, count, fin, start, end, job_incident, occurred, unmet, type_, target, cohort, cell,
            cell_district, n_dist, first, n_steps, started, ended, alt, any_gave_up):  # fmt: skip
    """:func:`citysim.trust._scores_numpy` in one pass over the plan's jobs."""
    n_jobs = len(fin)
    for j in range(n_jobs):
        f = fin[j]
        if not (f >= start and f < end):
            continue
        r = job_incident[j]
        met = not unmet[r]
        if met and any_gave_up:  # a try hung up with no try after it: the need given up
            hi = first[j + 1] if j + 1 < n_jobs else n_steps
            for i in range(first[j], hi):
                if np.isnan(started[i]) and not np.isnan(ended[i]) and alt[i] < 0:
                    met = False
                    break
        score = 0.0
        if met:
            score = 1.0 if f - occurred[r] <= target[type_[r]] else 0.5
        k = cohort[r] * n_dist + cell_district[cell[r]]
        total[k] += score
        count[k] += 1.0


@njit(cache=True)
def _fill(IA, FA, base, slot, unit, nxt, group, width, job, pending, alt, prio, dur, align, phase, patience, q, s, e):
    """Write a batch's steps into the arena from ``base`` (links shifted there; no job waiting), a row at a time
    (records ``q``, ``s``, ``e`` empty: blank)."""
    for i in range(len(unit)):
        x = base + i
        IA[x, UNIT] = unit[i]
        IA[x, NXT] = nxt[i] + base if nxt[i] >= 0 else -1
        IA[x, GROUP] = group[i] + base if group[i] >= 0 else -1
        IA[x, WIDTH] = width[i]
        IA[x, JOB] = job[i]
        IA[x, PENDING] = pending[i] if len(pending) else 0
        IA[x, WAIT] = -1
        IA[x, SLOT] = slot
        IA[x, PREV] = -1
        IA[x, ALT] = alt[i] + base if alt[i] >= 0 else -1
        IA[x, PRIO] = prio[i]
        FA[x, DUR] = dur[i]
        FA[x, ALIGN] = align[i]
        FA[x, QUEUED] = q[i] if len(q) else np.nan  # no records given: blank
        FA[x, STARTED] = s[i] if len(s) else np.nan
        FA[x, ENDED] = e[i] if len(e) else np.nan
        FA[x, PHASE] = phase[i]
        FA[x, PATIENCE] = patience[i]
