"""What the metrics stream adds per write of incidents, by group: counts, firsts, times to an event, unmet need.

Per incident and each of its groups (:meth:`citysim.metrics.stream.MetricsStream._groups`):
its count (and whether its resident gave up), the first occurrence and detection, the
Kaplan-Meier clocks' events, censorings and cases never ending (as
:func:`citysim.metrics.survival.clock_survival` and ``met_survival`` count them), the response
measures' binned times and sums (as ``response_times``); per grid cell, the needs sure not met
within a week (as ``unmet_need_by_cell``), and the cases open less than a week to weigh later.

:func:`incident_pass` does it in one pass where numba is installed
(``citysim.metrics._kernels.incident_pass``), else in numpy: the same counts and sums to the
last bit (``tests/test_stream.py`` compares them).
"""

from __future__ import annotations

import numpy as np

from citysim.compiled import compiled_or
from citysim.metrics.bins import index_of
from citysim.metrics.response import MEASURES

__all__ = ["ENDS", "MEASURED", "TIMES", "incident_pass", "spans_of"]

TIMES = ("occurred_at", "detected_at", "resolved_at", "dispatched_at", "arrived_at")
"""The incidents' times the pass reads (rows of its ``times``)."""

_SINCE_OCCURRENCE = {"resolved_at": 0, "detected_at": 1, "dispatched_at": 4, "arrived_at": 5}

ENDS = np.array([TIMES.index(end) for end in MEASURES.values()], dtype=np.int64)
"""Per response measure (in ``MEASURES``' order), the row of ``times`` where it ends (NaN: not measured)."""

MEASURED = np.array([_SINCE_OCCURRENCE[end] for end in MEASURES.values()], dtype=np.int64)
"""Per response measure, its row of :func:`spans_of`."""


def spans_of(times: np.ndarray, horizon: float) -> np.ndarray:
    """Minutes from occurrence to resolution, to detection, to the horizon, from detection to resolution (or the
    horizon, if later or never), from occurrence to dispatch and to arrival (``[6, n]``, NaN where not reached)."""
    occurred, detected, resolved, dispatched, arrived = times
    return np.stack(
        [
            resolved - occurred,
            detected - occurred,
            horizon - occurred,
            np.where(resolved <= horizon, resolved, horizon) - detected,
            dispatched - occurred,
            arrived - occurred,
        ]
    )


def _incident_pass_numpy(
    groups, times, spans, logs, flags, cell, horizon, week, ends, measured, tables, into, unmet_cell, open_short
):
    """Add a write's incidents to what the stream keeps.

    Args:
        groups: per incident, its groups (``[4, n]``, -1: none).
        times, spans, logs: its :data:`TIMES`, :func:`spans_of` and their :func:`~citysim.metrics.bins.logs`.
        flags: whether its resident gave up, whether it was closed with the need unmet (``[2, n]``).
        cell: its grid cell.
        horizon, week: the run's horizon and a week, minutes.
        ends, measured: :data:`ENDS` and :data:`MEASURED`.
        tables: the bins' :attr:`~citysim.metrics.bins.TimeBins.tables`.
        into: what is added to, per group: ``counts`` (incidents, gave up), ``first`` (occurred, detected),
            the clocks' ``events``, ``censored`` and ``never`` (in ``CLOCKS``' order), the measures' ``hist``
            and ``sums`` (in ``MEASURES``' order).
        unmet_cell: per grid cell (at least up to the largest ``cell``), needs sure not met within a week.
        open_short: set to the cases open less than a week (their need met or not is weighed at the end).
    """
    log_r, n_log, base, split = tables
    (incidents, gave_ups), first, events, censored, never, hist, sums = into
    n = groups.shape[1]
    occurred, detected, resolved = times[0], times[1], times[2]
    gave_up, unmet = flags[0], flags[1] | flags[0]
    every = np.ones(n, dtype=bool)
    incidents += _count(groups, every, len(incidents))
    gave_ups += _count(groups, gave_up, len(gave_ups))
    _first_of(first[0], groups, occurred)
    _first_of(first[1], groups, detected)

    resolved_ok, seen = ~np.isnan(resolved), ~np.isnan(detected)
    done = resolved_ok & (resolved <= horizon)
    found = seen & (detected <= horizon)
    met = resolved_ok & ~unmet

    def binned(i: int, rows: np.ndarray) -> np.ndarray:
        out = np.full(n, -1, dtype=np.int64)
        if rows.any():
            out[rows] = index_of(spans[i][rows], logs[i][rows], log_r, n_log, base, split)
        return out

    b_res, b_det, b_open = binned(0, resolved_ok), binned(1, seen), binned(2, ~done | ~found | ~met)
    clocks = (
        (np.where(done, b_res, b_open), done, every, gave_up & ~done),
        (binned(3, seen), done, seen, seen & gave_up & ~done),
        (np.where(found, b_det, b_open), found, every, np.zeros(n, dtype=bool)),
        (np.where(met, b_res, b_open), met, every, unmet & ~met),
    )
    for (bins, ended, has, gone), ev, ce, nv in zip(clocks, events, censored, never, strict=True):
        _add_binned(ev, bins, groups, has & ended, np.zeros(0), np.zeros(0))
        _add_binned(ce, bins, groups, has & ~ended & ~gone, np.zeros(0), np.zeros(0))
        nv += _count(groups, gone, len(nv))
    for m in range(len(hist)):
        ok = ~np.isnan(times[ends[m]])
        _add_binned(hist[m], binned(measured[m], ok), groups, ok, sums[m], spans[measured[m]])

    minutes = np.where(met, spans[0], spans[2])
    open_short[:] = ~met & ~unmet & (minutes < week)
    sure = np.where(met, minutes > week, ~open_short).astype(float)
    unmet_cell += np.bincount(cell, weights=sure, minlength=len(unmet_cell))


incident_pass = compiled_or("incident_pass", _incident_pass_numpy, module="citysim.metrics._kernels")


def _count(groups: np.ndarray, rows: np.ndarray, n_groups: int) -> np.ndarray:
    """Incidents of ``rows`` per group."""
    g = groups[:, rows]
    return np.bincount(g[g >= 0], minlength=n_groups)


def _add_binned(into, bins, groups, rows, sums, minutes) -> None:
    """``into[g, bins[r]] += 1`` for each row ``r`` in ``rows`` and each of its groups ``g >= 0``; given
    ``sums`` (length > 0), each group's ``minutes`` of those rows, in row order, then added to ``sums[g]``."""
    rows = np.flatnonzero(rows)
    if not len(rows):
        return
    g = groups[:, rows]
    has = g >= 0
    into += np.bincount((g * into.shape[1] + bins[rows])[has], minlength=into.size).reshape(into.shape)
    if len(sums):
        sums += np.bincount(g[has], weights=np.broadcast_to(minutes[rows], g.shape)[has], minlength=len(sums))


def _first_of(first, groups, values) -> None:
    """``first[g] = min(first[g], values[r])`` for each row ``r`` with a value (not NaN) and each of its
    ``groups[:, r]`` >= 0."""
    ok = ~np.isnan(values)
    if ok.any():
        g = groups[:, ok]
        v = np.broadcast_to(values[ok], g.shape)
        np.minimum.at(first, g[g >= 0], v[g >= 0])
