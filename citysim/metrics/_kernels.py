"""The metrics stream's kernels (numba): one pass where numpy takes several.

Each gives its numpy twin's results to the last bit (the same additions in the same
order; ``tests/test_metrics.py`` compares them), and is used where numba is installed
(:func:`citysim.compiled.compiled_or`).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def look_up(row, low, values):
    """``row[value - low]`` of each value from ``low`` to ``low + len(row) - 2``, else ``row[-1]``: one pass (as
    ``citysim.metrics.chunk._look_up_numpy``)."""
    out = np.empty(len(values), np.int64)
    high = low + len(row) - 2
    for i in range(len(values)):
        v = values[i]
        out[i] = row[v - low] if low <= v <= high else row[-1]
    return out


@njit(cache=True, inline="always")
def _tally(counts, groups, col, values):
    """``counts[g, col + j] += values[j]`` for each of ``groups`` >= 0."""
    for g in groups:
        if g >= 0:
            for j in range(len(values)):
                counts[g, col + j] += values[j]


@njit(cache=True)
def count_calls(counts, offsets, row, item_of, stage, unit, lines, queued, started, ended, facts, call_stages, redial):
    """Calls and phone items added to ``counts`` in one pass over the stage rows, then one over the items: as
    ``citysim.metrics.calls._count_calls_numpy`` (integer counts; an item's line and hour its first call's)."""
    o_line, o_cohort, o_kind, o_hour = offsets[0], offsets[1], offsets[2], offsets[3]
    n_items = facts.shape[1]
    first_line = np.full(n_items, -1, np.int64)
    first_hour = np.full(n_items, -1, np.int64)
    redials = np.zeros(n_items, np.int64)
    groups = np.empty(5, np.int64)  # overall, line, cohort, district kind, hour
    values = np.empty(4, np.int64)
    for r in range(len(row)):
        i = item_of[row[r]]
        if i < 0:
            continue
        st = stage[r]
        if st == redial and not np.isnan(ended[r]):
            redials[i] += 1
        call = False
        for c in call_stages:
            call = call or st == c
        if not call:
            continue
        line = lines[unit[r]] if unit[r] >= 0 else -1
        if line < 0:
            continue
        q = queued[r]
        hour = int((0.0 if np.isnan(q) else q) // 60 % 24)
        cohort, kind = facts[0, i], facts[1, i]
        groups[0], groups[1], groups[4] = 0, line + o_line, hour + o_hour
        groups[2] = cohort + o_cohort if cohort >= 0 else -1
        groups[3] = kind + o_kind if kind >= 0 else -1
        answered = not np.isnan(started[r])
        values[0], values[1], values[2] = 1, answered, not answered and not np.isnan(ended[r])
        _tally(counts, groups, 0, values[:3])
        if first_line[i] < 0:
            first_line[i], first_hour[i] = line, hour
    for i in range(n_items):
        cohort, kind, has = facts[0, i], facts[1, i], first_line[i] >= 0
        groups[0] = 0
        groups[1] = first_line[i] + o_line if has else -1
        groups[2] = cohort + o_cohort if cohort >= 0 else -1
        groups[3] = kind + o_kind if kind >= 0 else -1
        groups[4] = first_hour[i] + o_hour if has else -1
        values[0], values[1], values[2], values[3] = 1, facts[2, i], redials[i], facts[3, i]
        _tally(counts, groups, 3, values)


@njit(cache=True)
def add_rows(into, at, first, middle, last):
    """``into[at[i]] += [first[i], *middle[i], last[i]]`` for each row ``i`` with ``at[i] >= 0``, in row order
    (as ``citysim.metrics.stream._add_rows_numpy``)."""
    for i in range(len(at)):
        a = at[i]
        if a < 0:
            continue
        into[a, 0] += first[i]
        for j in range(middle.shape[1]):
            into[a, 1 + j] += middle[i, j]
        into[a, middle.shape[1] + 1] += last[i]


@njit(cache=True, inline="always")
def _min_nan(a, b):
    """``np.minimum`` of two numbers (NaN if either is)."""
    if np.isnan(a) or np.isnan(b):
        return np.nan
    return min(a, b)


@njit(cache=True)
def stage_parts(key, code, attempt, queued, started, ended, resolved, category, reopening, travel, dispatch, n_parts):
    """Minutes per incident and part (``[len(resolved), n_parts]``): the union of each part's stage intervals.

    As :func:`citysim.metrics.response.stage_intervals` then :func:`~citysim.metrics.response.parts_minutes`:
    the same intervals, each part's sorted by start (ties in row order, travel's waits after every row),
    each adding what extends past the furthest end so far.
    """
    n = len(key)
    m = 0
    for r in range(n):
        if key[r] >= 0 and code[r] >= 0 and queued[r] < resolved[key[r]]:
            m += 1
    group = np.empty(2 * m, np.int64)
    start = np.empty(2 * m)
    end = np.empty(2 * m)
    k = 0
    for second in range(2):  # every row's interval, then travel rows' waits for a team
        for r in range(n):
            i = key[r]
            if i < 0 or code[r] < 0 or not queued[r] < resolved[i]:
                continue
            cat = reopening if attempt[r] >= 1 else category[code[r]]
            if second == 0:
                s = started[r] if code[r] == travel else queued[r]
                e = _min_nan(ended[r], resolved[i])
            else:
                if code[r] != travel:
                    continue
                if cat == category[travel]:
                    cat = dispatch
                s = queued[r]
                e = _min_nan(started[r], resolved[i])
            if e > s:
                group[k] = i * n_parts + cat
                start[k] = s
                end[k] = e
                k += 1
    n_groups = len(resolved) * n_parts
    # intervals by group (counting sort, stable), then by start within each group (insertion sort, stable)
    first = np.zeros(n_groups + 1, np.int64)
    for j in range(k):
        first[group[j] + 1] += 1
    for g in range(n_groups):
        first[g + 1] += first[g]
    at = first[:-1].copy()
    order = np.empty(k, np.int64)
    for j in range(k):
        order[at[group[j]]] = j
        at[group[j]] += 1
    out = np.zeros(n_groups)
    for g in range(n_groups):
        lo, hi = first[g], first[g + 1]
        if hi == lo:
            continue
        for x in range(lo + 1, hi):
            y = order[x]
            z = x
            while z > lo and start[order[z - 1]] > start[y]:
                order[z] = order[z - 1]
                z -= 1
            order[z] = y
        if hi - lo == 1:
            out[g] = end[order[lo]] - start[order[lo]]
            continue
        acc = 0.0
        reach = -np.inf
        for x in range(lo, hi):
            j = order[x]
            v = end[j] - max(start[j], reach)
            acc += v if v > 0.0 else 0.0
            reach = max(reach, end[j])
        out[g] = acc
    return out.reshape(len(resolved), n_parts)


@njit(cache=True)
def bins_of(x, log_ratio, log_r, n_log, base, split):
    """The bin of each duration of ``x`` minutes (``[spans, n]``) given its ``log_ratio``
    (:func:`citysim.metrics.bins.logs`, numpy's log: numba's may differ in the last bit) and the bins' tables,
    as :func:`citysim.metrics.bins.index_of` (NaN durations: bin 1, as there)."""
    out = np.empty(x.shape, np.int32)
    top = n_log + 1.0
    for i in range(x.shape[0]):
        for r in range(x.shape[1]):
            k = np.ceil(log_ratio[i, r] / log_r)
            if not k >= 0.0:  # NaN or below: 0
                k = 0.0
            if k > top:
                k = top
            b = int(k)
            v = base[b]
            for j in range(split.shape[1]):
                v += 1 if x[i, r] > split[b, j] else 0
            out[i, r] = 0 if x[i, r] <= 0 else v
    return out


@njit(cache=True)
def _clock_sweep(events, censored, never, at, kind, groups):
    """Each incident on one Kaplan-Meier clock (``kind``: 1 an event, 2 a censoring, 3 never ending; 0 none)
    in bin ``at``, for each of its groups; group axis by group axis, so the arrays touched stay in cache."""
    for a in range(groups.shape[0]):
        for r in range(groups.shape[1]):
            g = groups[a, r]
            if g < 0 or kind[r] == 0:
                continue
            if kind[r] == 1:
                events[g, at[r]] += 1
            elif kind[r] == 2:
                censored[g, at[r]] += 1
            else:
                never[g] += 1.0


@njit(cache=True)
def _measure_sweep(hist, sums, at, groups, minutes):
    """Each incident with a response time (bin ``at`` >= 0) counted in its bin for each of its groups, its
    ``minutes`` summed in row order into a temporary, then added to ``sums`` (as the numpy twin's bincount)."""
    tmp = np.zeros(len(sums))
    for a in range(groups.shape[0]):
        for r in range(groups.shape[1]):
            g = groups[a, r]
            if g >= 0 and at[r] >= 0:
                hist[g, at[r]] += 1
                tmp[g] += minutes[r]
    for g in range(len(sums)):
        sums[g] += tmp[g]


@njit(cache=True)
def incident_pass(
    groups, times, spans, logs, flags, cell, horizon, week, ends, measured, tables, into, unmet_cell, open_short
):
    """One pass over a write's incidents: as ``citysim.metrics.incident_pass._incident_pass_numpy`` (the same
    counts; each sum adds the same numbers in row order, into a temporary then into ``sums`` / ``unmet_cell``).

    Each incident's bins are found first, then added clock by clock and measure by measure (the four of
    ``CLOCKS`` and of ``MEASURES``): the histograms are too large to be updated all at once from cache.
    """
    log_r, n_log, base, split = tables
    (incidents, gave_ups), (first_occurred, first_detected), events, censored, never, hist, sums = into
    n = groups.shape[1]
    per_cell = np.zeros(len(unmet_cell))
    b = bins_of(spans, logs, log_r, n_log, base, split)  # every span's bin (used where there is one)
    at = np.empty((8, n), np.int32)  # per clock then per measure, each incident's bin (-1: none; bins < 2**31)
    kind = np.zeros((4, n), np.int8)  # per clock: 1 an event, 2 a censoring, 3 never ending (0: not on it)
    for r in range(n):
        occurred, detected, resolved = times[0, r], times[1, r], times[2, r]
        resolved_ok, seen = not np.isnan(resolved), not np.isnan(detected)
        done = resolved_ok and resolved <= horizon
        found = seen and detected <= horizon
        gave_up = flags[0, r]
        unmet = flags[1, r] or gave_up
        met = resolved_ok and not unmet
        for m in range(4):
            at[4 + m, r] = -1 if np.isnan(times[ends[m], r]) else b[measured[m], r]
        # the clocks: resolution, report to resolution, detection, needs met
        at[0, r], kind[0, r] = (b[0, r], 1) if done else (b[2, r], 3 if gave_up else 2)
        at[1, r] = b[3, r]
        if seen:
            kind[1, r] = 1 if done else (3 if gave_up else 2)
        at[2, r], kind[2, r] = (b[1, r], 1) if found else (b[2, r], 2)
        at[3, r], kind[3, r] = (b[0, r], 1) if met else (b[2, r], 3 if unmet else 2)
        for a in range(groups.shape[0]):
            g = groups[a, r]
            if g < 0:
                continue
            incidents[g] += 1
            if gave_up:
                gave_ups[g] += 1
            if not np.isnan(occurred) and occurred < first_occurred[g]:
                first_occurred[g] = occurred
            if seen and detected < first_detected[g]:
                first_detected[g] = detected
        minutes = spans[0, r] if met else spans[2, r]
        short = not met and not unmet and minutes < week
        sure = minutes > week if met else not short
        per_cell[cell[r]] += 1.0 if sure else 0.0
        open_short[r] = short
    for i in range(len(unmet_cell)):
        unmet_cell[i] += per_cell[i]
    e0, e1, e2, e3 = events
    c0, c1, c2, c3 = censored
    v0, v1, v2, v3 = never
    _clock_sweep(e0, c0, v0, at[0], kind[0], groups)
    _clock_sweep(e1, c1, v1, at[1], kind[1], groups)
    _clock_sweep(e2, c2, v2, at[2], kind[2], groups)
    _clock_sweep(e3, c3, v3, at[3], kind[3], groups)
    h0, h1, h2, h3 = hist
    s0, s1, s2, s3 = sums
    _measure_sweep(h0, s0, at[4], groups, spans[measured[0]])
    _measure_sweep(h1, s1, at[5], groups, spans[measured[1]])
    _measure_sweep(h2, s2, at[6], groups, spans[measured[2]])
    _measure_sweep(h3, s3, at[7], groups, spans[measured[3]])


@njit(cache=True)
def cost_tally(channel, hotline, phone, detected, dispatched_at, calls, hung_up, transfers, reopened):
    """One write's cost sums in one pass, as ``citysim.metrics.stream._cost_tally_numpy`` (whole numbers: exact)."""
    out = np.zeros(11)
    for i in range(len(channel)):
        ch = channel[i]
        item = ch >= 0 and hotline[ch]
        dispatched = not np.isnan(dispatched_at[i])
        seen = not np.isnan(detected[i])
        if item:
            out[0] += 1.0
            if ch == phone:
                out[1] += 1.0
            if dispatched:
                out[4] += 1.0
        if ch == phone:
            out[2] += _nan_to_zero(calls[i])
            out[3] += _nan_to_zero(hung_up[i])
        if seen:
            t = _nan_to_zero(transfers[i])
            out[5] += 1.0
            out[7] += t
            if dispatched:
                out[6] += 1.0
                out[8] += t
            if _nan_to_zero(reopened[i]) > 0.0:
                out[9] += 1.0
        if dispatched:
            out[10] += 1.0
    return out


@njit(cache=True, inline="always")
def _nan_to_zero(x):
    """``np.nan_to_num`` of one value (NaN: 0, infinities: the largest finite floats)."""
    if np.isnan(x):
        return 0.0
    if x == np.inf:
        return 1.7976931348623157e308
    if x == -np.inf:
        return -1.7976931348623157e308
    return x
