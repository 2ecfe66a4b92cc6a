"""Response time: how long the city takes to learn of a problem, act and resolve it.

Every time is measured in minutes from the moment the problem occurred, from
the ``incidents`` table. Targets say how often the city keeps its promises
(each type's resolution target, a fire chain of 1 min to react, 3 to verify,
5 to act); the decomposition says where the time goes (queues at intake,
transfers between departments, waiting for data, travel ...), which is what
makes one regime faster than another.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from citysim.compiled import compiled_or
from citysim.metrics.survival import clock_survival

__all__ = [
    "CHAIN_TARGETS",
    "COMPONENTS",
    "STAGE_NAMES",
    "MEASURES",
    "chain_targets",
    "decomposition",
    "resolution_target_shares",
    "response_by",
    "response_durations",
    "response_times",
    "parts_minutes",
    "stage_intervals",
    "stage_parts",
    "stage_minutes",
    "summarise_minutes",
]

MEASURES = {
    "detect": "detected_at",
    "dispatch": "dispatched_at",
    "arrival": "arrived_at",
    "resolution": "resolved_at",
}
"""Response measure -> the incidents column where it ends (all start at ``occurred_at``)."""

STATS = ("count", "mean", "median", "p90", "p95")

CHAIN_TARGETS: dict[str, dict] = {
    "methane_alert_closed_20min": {
        "type": "gas_leak",
        "where": {"detected_by": "sensor"},
        "from": "detected_at",
        "within": {"closed": ("resolved_at", 20.0)},
    },
    "fire_react1_verify3_act5": {
        "type": "fire",
        "from": "detected_at",
        "within": {
            "react": ("intake_at", 1.0),
            "verify": ("dispatched_at", 4.0),
            "act": ("arrived_at", 9.0),
        },
    },
}
"""Named chain targets: a methane alert closed within 20 min of detection; a fire
taken in within 1 min of detection, a team sent within 3 more and on site within 5 more."""

_CATEGORY_OF_STAGE = {
    "intake": "intake",
    "verify": "intake",
    "transfer_wait": "transfers",
    "transfer": "transfers",
    "data_wait": "data_wait",
    "dispatch": "dispatch",
    "handoff_wait": "handoffs",
    "travel": "travel",
    "handling": "handling",
    "callback_wait": "reopening",
    "callback": "reopening",
    "rereport_wait": "reopening",
    "redial_wait": "intake",
}
_CATEGORIES = (
    "intake",
    "transfers",
    "data_wait",
    "dispatch",
    "handoffs",
    "travel",
    "handling",
    "reopening",
)
COMPONENTS = ("detection", *_CATEGORIES)
"""Parts of the resolution time, in the order of an incident's life."""
STAGE_NAMES = tuple(_CATEGORY_OF_STAGE)
"""Stages whose rows count in the decomposition (``stages.parquet``'s ``stage``)."""
_CATEGORY_CODE = np.array([_CATEGORIES.index(c) for c in _CATEGORY_OF_STAGE.values()])


def _minutes(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(dtype=float, na_value=np.nan)


def response_durations(incidents: pd.DataFrame) -> pd.DataFrame:
    """Minutes from occurrence to detection, dispatch, first arrival and resolution.

    Args:
        incidents: the incidents table.

    Returns:
        One row per incident (same index), columns ``detect``, ``dispatch``,
        ``arrival`` and ``resolution``; NaN where that moment has not come
        (never detected, not dispatched, unresolved at the horizon).
    """
    start = _minutes(incidents, "occurred_at")
    return pd.DataFrame({m: _minutes(incidents, col) - start for m, col in MEASURES.items()}, index=incidents.index)


def summarise_minutes(minutes: pd.Series | np.ndarray) -> dict[str, float]:
    """Count, mean, median, 90th and 95th percentile of durations, ignoring NaN.

    Percentiles interpolate linearly between order statistics (numpy's default):
    the p90 of 1, 2, 3, 4 and 10 minutes is 7.6 minutes.
    """
    x = np.asarray(minutes, dtype=float)
    x = x[~np.isnan(x)]
    if not len(x):
        return {"count": 0, "mean": np.nan, "median": np.nan, "p90": np.nan, "p95": np.nan}
    median, p90, p95 = np.percentile(x, [50, 90, 95])
    return {"count": len(x), "mean": float(x.mean()), "median": median, "p90": p90, "p95": p95}


def response_times(incidents: pd.DataFrame) -> pd.DataFrame:
    """How fast the city detects, dispatches, arrives and resolves, over all incidents.

    Returns:
        Index the measure (``detect``, ``dispatch``, ``arrival``, ``resolution``),
        columns ``count``, ``mean``, ``median``, ``p90``, ``p95`` in minutes;
        each measure counts only incidents that reached that moment.
    """
    d = response_durations(incidents)
    rows = [summarise_minutes(d[m]) for m in MEASURES]
    return pd.DataFrame(rows, index=pd.Index(list(MEASURES), name="measure"), columns=list(STATS))


def response_by(incidents: pd.DataFrame, by: str) -> pd.DataFrame:
    """Response times per group of incidents: per type, district kind or cohort.

    Args:
        incidents: the incidents table.
        by: the column to group by, e.g. ``"cohort"``.

    Returns:
        Index (group, measure), columns ``count``, ``mean``, ``median``, ``p90``,
        ``p95`` in minutes; a group none of whose incidents reached a moment has
        count 0 and NaN statistics for that measure.
    """
    codes, groups = pd.factorize(incidents[by], sort=True)
    d = response_durations(incidents)[codes >= 0]
    g = d.groupby(codes[codes >= 0])
    stats = {"count": g.count(), "mean": g.mean(), "median": g.median()}
    stats |= {"p90": g.quantile(0.9), "p95": g.quantile(0.95)}
    index = pd.MultiIndex.from_product([list(groups), list(MEASURES)], names=[by, "measure"])
    out = pd.DataFrame(
        {k: v.reindex(index=range(len(groups)), columns=list(MEASURES)).to_numpy().ravel() for k, v in stats.items()},
        index=index,
    )
    out["count"] = np.nan_to_num(out["count"]).astype(int)
    return out


def resolution_target_shares(
    incidents: pd.DataFrame, target_min: Mapping[str, float], horizon_min: float
) -> pd.DataFrame:
    """Share of incidents resolved within their type's target, of all the type's incidents.

    Each type's share comes from its Kaplan-Meier curve (cases still open at the
    horizon are censored, not dropped; see :mod:`citysim.metrics.survival`): NaN where
    no case of the type was followed as long as its target.

    Args:
        incidents: the incidents table.
        target_min: incident type -> resolution target in minutes (the scenario's
            ``incident_types[t].target_min``); other types are left out.
        horizon_min: the end of the run.

    Returns:
        Index the incident type plus ``all`` (every type against its own
        target, weighted by incidents), columns ``target_min``, ``incidents`` and ``share``.
    """
    types = incidents["type"].to_numpy(dtype=object)
    rows = {}
    for name, target in target_min.items():
        sel = types == name
        share = clock_survival(incidents[sel], "occurred_at", "resolved_at", horizon_min).share_within(target)
        rows[name] = {"target_min": float(target), "incidents": int(sel.sum()), "share": share if sel.any() else np.nan}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["target_min", "incidents", "share"])
    counted = out["incidents"] > 0
    weight = out.loc[counted, "incidents"]
    share_all = float((out.loc[counted, "share"] * weight).sum() / weight.sum()) if weight.sum() else np.nan
    if counted.any() and out.loc[counted, "share"].isna().any():
        share_all = np.nan
    out.loc["all"] = [np.nan, int(weight.sum()), share_all]
    out["incidents"] = out["incidents"].astype(int)
    return out.rename_axis("type")


def chain_targets(incidents: pd.DataFrame, chains: Mapping[str, Mapping] = CHAIN_TARGETS) -> dict:
    """Shares of incidents meeting named chains of time limits (e.g. the fire chain).

    Args:
        incidents: the incidents table.
        chains: name -> spec with ``type`` (incident type), optional ``where``
            (column -> required value), ``from`` (start column, default
            ``detected_at``) and ``within`` (step -> (end column, minutes since
            the start)). Only incidents whose start is known are counted; a step
            whose end has not come counts as missed.

    Returns:
        name -> ``{"type", "n", "steps": {step: share}, "all": share meeting every
        step}``, or None when no incident of that type (and filter) was counted.
    """
    out: dict[str, dict | None] = {}
    for name, spec in chains.items():
        mask = (incidents["type"] == spec["type"]).to_numpy(dtype=bool, na_value=False)
        for col, value in spec.get("where", {}).items():
            mask = mask & (incidents[col] == value).to_numpy(dtype=bool, na_value=False)
        start = _minutes(incidents, spec.get("from", "detected_at"))
        mask = mask & ~np.isnan(start)
        if not mask.any():
            out[name] = None
            continue
        met = {step: (_minutes(incidents, col) - start)[mask] <= limit for step, (col, limit) in spec["within"].items()}
        every = np.logical_and.reduce(list(met.values()))
        out[name] = {
            "type": spec["type"],
            "n": int(mask.sum()),
            "steps": {step: float(m.mean()) for step, m in met.items()},
            "all": float(every.mean()),
        }
    return out


def _stage_parts(stages: pd.DataFrame, ids: np.ndarray, resolved: np.ndarray) -> np.ndarray:
    """Minutes per part of the given incidents, from their stage rows (see :func:`stage_parts`)."""
    key = pd.Index(ids).get_indexer(stages["incident_id"].to_numpy())
    codes, names = pd.factorize(stages["stage"])
    stage_index = {name: i for i, name in enumerate(_CATEGORY_OF_STAGE)}
    code = np.array([stage_index.get(name, -1) for name in names] + [-1])[codes]
    times = (_minutes(stages, c) for c in ("queued_at", "started_at", "ended_at"))
    return stage_parts(key, code, _minutes(stages, "attempt"), *times, resolved)


def stage_intervals(
    key: np.ndarray,
    code: np.ndarray,
    attempt: np.ndarray,
    queued: np.ndarray,
    started: np.ndarray,
    ended: np.ndarray,
    resolved: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Intervals of stage rows, each labelled incident * parts + part (see :func:`stage_minutes`).

    Args:
        key: per stage row, its incident's position among the incidents counted (-1: not counted).
        code: per stage row, the stage as an index into :data:`STAGE_NAMES` (-1: none of them).
        attempt, queued, started, ended: the stage rows' columns.
        resolved: per incident counted, when it was resolved.
    """
    rows = np.flatnonzero((key >= 0) & (code >= 0))
    rows = rows[queued[rows] < resolved[key[rows]]]
    key, code = key[rows], code[rows]
    queued, started, ended = queued[rows], started[rows], ended[rows]
    cat = np.where(np.asarray(attempt)[rows] >= 1, _CATEGORIES.index("reopening"), _CATEGORY_CODE[code])
    travel = np.flatnonzero(code == STAGE_NAMES.index("travel"))
    # travel rows: the wait for a free team belongs to dispatch, the trip to travel
    wait_cat = np.where(cat[travel] == _CATEGORIES.index("travel"), _CATEGORIES.index("dispatch"), cat[travel])
    start = queued.copy()
    start[travel] = started[travel]
    key = np.concatenate([key, key[travel]])
    cat = np.concatenate([cat, wait_cat])
    start = np.concatenate([start, queued[travel]])
    end = np.minimum(np.concatenate([ended, started[travel]]), resolved[key])
    ok = end > start  # False where either is NaN
    return key[ok] * len(_CATEGORIES) + cat[ok], start[ok], end[ok]


def _stage_parts_numpy(*columns: np.ndarray) -> np.ndarray:
    return parts_minutes(*stage_intervals(*columns), len(columns[-1]))


_stage_parts_kernel = compiled_or("stage_parts", None, module="citysim.metrics._kernels")
_COLUMN_TYPES = (np.int64, np.int64, *[np.float64] * 5)


def stage_parts(*columns: np.ndarray) -> np.ndarray:
    """Minutes per incident and part (``[len(resolved), parts]``) from the columns :func:`stage_intervals`
    takes (``key, code, attempt, queued, started, ended, resolved``): its intervals, then :func:`parts_minutes`
    (in one pass where numba is installed: the same bits)."""
    if _stage_parts_kernel is None:
        return _stage_parts_numpy(*columns)
    return _stage_parts_kernel(
        *(np.asarray(c, t) for c, t in zip(columns, _COLUMN_TYPES, strict=True)),
        _CATEGORY_CODE.astype(np.int64),
        _CATEGORIES.index("reopening"),
        STAGE_NAMES.index("travel"),
        _CATEGORIES.index("dispatch"),
        len(_CATEGORIES),
    )


def parts_minutes(group: np.ndarray, start: np.ndarray, end: np.ndarray, n_incidents: int) -> np.ndarray:
    """Minutes per incident and part (``[n_incidents, parts]``) from :func:`stage_intervals`."""
    parts = _union_minutes(group, start, end, n_incidents * len(_CATEGORIES))
    return parts.reshape(n_incidents, len(_CATEGORIES))


def _union_minutes(group: np.ndarray, start: np.ndarray, end: np.ndarray, n_groups: int) -> np.ndarray:
    """Length of the union of each group's intervals (overlaps counted once)."""
    multi = np.bincount(group, minlength=n_groups)[group] > 1
    # float even when no group has a single interval (bincount of nothing counts in int64)
    out = np.bincount(group[~multi], weights=(end - start)[~multi], minlength=n_groups).astype(float)
    # groups of several intervals: sort by start, count only what extends past
    # the furthest end seen so far in the group
    group, start, end = group[multi], start[multi], end[multi]
    order = _by_group_then_start(group, start)
    group, start, end = group[order], start[order], end[order]
    if len(group):
        reach = _cummax_by_group(end, group)
        before = np.r_[-np.inf, reach[:-1]]
        before[np.r_[True, group[1:] != group[:-1]]] = -np.inf
        out += np.bincount(group, weights=np.clip(end - np.maximum(start, before), 0.0, None), minlength=n_groups)
    return out


def _by_group_then_start(group: np.ndarray, start: np.ndarray) -> np.ndarray:
    """``np.lexsort((start, group))``: rows come nearly in group order, so sort by group, then fix the few groups
    whose starts are out of order."""
    order = np.argsort(group, kind="stable")
    g, s = group[order], start[order]
    unsorted = (g[1:] == g[:-1]) & (s[1:] < s[:-1])
    if unsorted.any():
        at = np.flatnonzero(np.isin(g, g[1:][unsorted]))  # those groups' rows, each group's together
        order[at] = order[at][np.lexsort((s[at], g[at]))]
    return order


def _cummax_by_group(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Running maximum of ``values`` within each run of equal ``group`` (a scan doubling its reach each pass)."""
    out = values.copy()
    step = 1
    while step < len(out):
        same = group[step:] == group[:-step]
        if not same.any():  # no group is longer than step: done
            break
        np.maximum(out[step:], np.where(same, out[:-step], -np.inf), out=out[step:])
        step *= 2
    return out


def stage_minutes(incidents: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """Where each resolved, dispatched incident's time went, in minutes.

    ``detection`` is detected_at - occurred_at. Stage rows are sorted into
    ``intake`` (intake and verify, wait + service), ``transfers`` (transfer
    waits and transfers), ``data_wait``, ``dispatch`` (issuing work orders,
    plus the wait for a free team before travel), ``handoffs`` (waits between
    departments in sequence), ``travel``, ``handling`` and ``reopening`` (every
    row of a later attempt, and call-backs and re-report waits before the
    final closure). Rows that begin at or after the final closure (the last
    call-back) are left out. Where rows of one part overlap in time (teams
    sent in parallel), their union is counted, not their sum, so the parts
    may add up to less or (overlapping across parts) more than ``total``.

    Args:
        incidents: the incidents table.
        stages: the stages table.

    Returns:
        Index the incident id (incidents with status ``resolved`` and a
        dispatch), columns :data:`COMPONENTS` and ``total`` (resolved_at -
        occurred_at).
    """
    keep = (incidents["status"] == "resolved").to_numpy(dtype=bool, na_value=False)
    keep = keep & incidents["dispatched_at"].notna().to_numpy()
    inc = incidents.loc[keep]
    ids = inc["id"].to_numpy()
    resolved = _minutes(inc, "resolved_at")
    parts = _stage_parts(stages, ids, resolved)
    out = pd.DataFrame(parts, columns=list(_CATEGORIES), index=pd.Index(ids, name="id"))
    occurred = _minutes(inc, "occurred_at")
    out.insert(0, "detection", _minutes(inc, "detected_at") - occurred)
    out["total"] = resolved - occurred
    return out


def decomposition(
    incidents: pd.DataFrame,
    stages: pd.DataFrame,
    by: str | None = None,
    per_incident: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Mean minutes per resolved, dispatched incident spent in each part of its life.

    Args:
        incidents: the incidents table.
        stages: the stages table.
        by: an incidents column to break it down by (e.g. ``"type"``); None for
            one row ``all``.
        per_incident: :func:`stage_minutes` of these tables, if already computed.

    Returns:
        Index ``all`` or the groups, columns ``n`` (incidents), the
        :data:`COMPONENTS` and ``total`` (see :func:`stage_minutes`).
    """
    per = stage_minutes(incidents, stages) if per_incident is None else per_incident
    if by is None:
        keys = np.full(len(per), "all", dtype=object)
    else:
        keys = incidents.set_index("id")[by].reindex(per.index).to_numpy(dtype=object)
    g = per.groupby(keys)
    out = g.mean()
    out.insert(0, "n", g.size())
    if by is None and not len(per):
        out = pd.DataFrame([[0] + [np.nan] * per.shape[1]], index=["all"], columns=["n", *per.columns])
    return out.rename_axis(by or "group")
