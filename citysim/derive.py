"""Output rows derived in bulk from a compiled day's plan and the times the engine recorded.

:func:`incident_and_stage_rows` gives a day's rows of the ``incidents``, ``stages`` and
``alerts`` tables (see :mod:`citysim.events` for their columns), :func:`false_alarm_rows`
the false alarms' rows of ``alerts``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from citysim.compiled import compiled_or
from citysim.events import LEVELS, OUTCOMES, STAGES, STATUSES, Codes
from citysim.processes.detection import CHANNEL_NAMES, DETECTED_BY, SENSOR
from citysim.processes.plan import ROLE
from citysim.scenario import DISTRICT_KINDS

__all__ = ["concat_rows", "false_alarm_rows", "incident_and_stage_rows", "select_rows"]


def _first_per(keys: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """Index of the first True step per incident (-1 if none); steps ordered by incident."""
    out = np.full(n, -1, dtype=np.int64)
    idx = np.flatnonzero(mask)
    if len(idx):
        k, first = np.unique(keys[idx], return_index=True)
        out[k] = idx[first]
    return out


def _at(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """values[index], NaN where index is -1."""
    out = np.full(len(index), np.nan)
    ok = index >= 0
    out[ok] = values[index[ok]]
    return out


_FACT_ROLES = np.array([ROLE[r] for r in ("intake", "verify", "transfer", "dispatch", "field")], dtype=np.int64)
"""The roles :func:`_step_facts` asks about, in the order it takes them."""


def _step_facts_numpy(
    job_incident, job, job_base, role, attempt, q, s, e, travel, call_try, alt, final, consult, roles, unit
):
    """Per incident, what its steps say (numpy; numba's kernel gives the same bits).

    Args:
        job_incident, job, job_base: each step's incident is ``job_incident[job - job_base]``.
        role, attempt, q, s, e, travel, call_try, alt, unit: per step (``alt`` < 0: the caller gives up).
        final: per incident, its last attempt; consult: per incident, a consultation (no dispatch).
        roles: the role codes of intake, verify, transfer, dispatch and field.

    Returns:
        Per incident: its first intake (or verify) step taken on the first attempt, its first verify
        step, its first field step (-1: none); transfers, calls and calls hung up; whether it gave up;
        its last attempt visited; the earliest arrival on the first attempt with a field step (inf:
        none); the unit of its last first-attempt dispatch step before the first field step, else of
        its first field step (-1: none); the latest end of a closing step (-inf: none), closing steps
        not ended, closing steps; the earliest arrival on the final attempt (inf: none); when its
        intake step started, its verify step ended, its first field step was queued (NaN: no such
        step, or not yet).
    """
    intake, verify, transfer, dispatch, field_role = (int(r) for r in roles)
    n = len(final)
    row = job_incident[job - job_base] if len(job) else np.zeros(0, dtype=np.int64)
    visited = ~np.isnan(q)
    hung_up = visited & np.isnan(s) & ~np.isnan(e)  # a caller who hung up before being answered
    taken = visited & ~hung_up  # visited, and not left unanswered
    intake_idx = _first_per(row, taken & (attempt == 0) & ((role == intake) | (role == verify)), n)
    verify_idx = _first_per(row, role == verify, n)
    # a call to another hotline counts as one transfer however often the resident redials it
    transfers = np.bincount(row[visited & (role == transfer) & (call_try <= 0)], minlength=n)
    calls = np.bincount(row[visited & (call_try >= 0)], minlength=n)
    hung_up_calls = np.bincount(row[hung_up], minlength=n)
    # gave up: hung up on a try after which the resident would not call again
    gave_up = np.bincount(row[hung_up & (alt < 0)], minlength=n) > 0
    reopened = np.zeros(n, dtype=np.int64)
    if visited.any():
        np.maximum.at(reopened, row[visited], attempt[visited].astype(np.int64))

    field = role == field_role
    first_field = _first_per(row, field, n)
    # first arrival: the earliest team on site on the first attempt with a visit (joint dispatch sends several)
    first_attempt = np.full(n, -1, dtype=np.int64)
    first_attempt[first_field >= 0] = attempt[first_field[first_field >= 0]]
    fa = np.flatnonzero(field & (attempt == first_attempt[row])) if len(row) else np.zeros(0, dtype=np.int64)
    arrived = np.full(n, np.inf)
    np.minimum.at(arrived, row[fa], np.nan_to_num(s[fa] + travel[fa], nan=np.inf))
    last_disp = np.full(n, -1, dtype=np.int64)
    disp = np.flatnonzero((role == dispatch) & (attempt == 0))
    if len(disp):
        before = disp < np.where(first_field[row[disp]] >= 0, first_field[row[disp]], np.iinfo(np.int64).max)
        np.maximum.at(last_disp, row[disp[before]], disp[before])

    closing = np.zeros(len(row), dtype=bool)
    if len(row):
        closing = (field & (attempt == final[row])) | (
            consult[row] & ((role == intake) | (role == transfer)) & (attempt == 0) & taken
        )
    resolved = np.full(n, -np.inf)
    np.maximum.at(resolved, row[closing], np.nan_to_num(e[closing], nan=-np.inf))
    pending = np.bincount(row[closing & np.isnan(e)], minlength=n)
    closings = np.bincount(row[closing], minlength=n)
    arrive_final = np.full(n, np.inf)
    fin_field = np.flatnonzero(field & visited & ~np.isnan(s)) if len(row) else np.zeros(0, dtype=np.int64)
    fin_field = fin_field[attempt[fin_field] == final[row[fin_field]]]
    np.minimum.at(arrive_final, row[fin_field], s[fin_field] + travel[fin_field])
    level_unit = np.where(last_disp >= 0, unit[np.maximum(last_disp, 0)], -1) if len(unit) else last_disp
    if len(unit):
        level_unit = np.where((level_unit < 0) & (first_field >= 0), unit[np.maximum(first_field, 0)], level_unit)
    return (
        *(intake_idx, verify_idx, first_field, transfers, calls, hung_up_calls, gave_up, reopened),
        *(arrived, level_unit, resolved, pending, closings, arrive_final),
        *(_at(s, intake_idx), _at(e, verify_idx), _at(q, first_field)),
    )


_together = compiled_or("step_facts", None, module="citysim._derive_kernels")


def _step_facts(*steps) -> tuple[np.ndarray, ...]:
    """:func:`_step_facts_numpy`'s facts, in one compiled pass over each incident's steps where numba is
    installed (numpy's for a plan whose incidents' steps do not lie together, which the model never makes)."""
    if _together is not None:
        together, *facts = _together(*steps)
        if together:
            return tuple(facts)
    return _step_facts_numpy(*steps)


_STAGE_COLUMNS = ("incident_id", "attempt", "stage", "unit", "queued_at", "started_at", "ended_at")


def _stage_rows_numpy(q, s, e, travel, role, attempt, unit, job, job_base, job_incident, ids, keep, horizon, field,
                      handling):  # fmt: skip
    """The stages table's columns (:data:`_STAGE_COLUMNS`; numpy: numba's kernel gives the same): one row
    per visited step of the incident rows ``keep`` marks, in step order, a field visit's row ending when the
    team got there (null: not by the horizon); then a handling row for each field visit whose team got there."""
    row = job_incident[job - job_base] if len(q) else np.zeros(0, dtype=np.int64)
    v = np.flatnonzero(~np.isnan(q) & keep[row])
    arrive_v = s[v] + travel[v]
    arrive_v = np.where(arrive_v <= horizon, arrive_v, np.nan)
    is_field = role[v] == field
    ended = np.where(is_field, arrive_v, e[v])
    on_site = v[is_field & ~np.isnan(arrive_v)]  # handling rows: teams that got there
    arrive = s[on_site] + travel[on_site]
    return (
        np.concatenate([ids[row[v]], ids[row[on_site]]]),
        np.concatenate([attempt[v], attempt[on_site]]),
        np.concatenate([role[v].astype(np.int32), np.full(len(on_site), handling, dtype=np.int32)]),
        np.concatenate([unit[v], unit[on_site]]).astype(np.int32),
        np.concatenate([q[v], arrive]),
        np.concatenate([s[v], arrive]),
        np.concatenate([ended, e[on_site]]),
    )


_stage_rows = compiled_or("stage_rows", _stage_rows_numpy, module="citysim._derive_kernels")


def select_rows(rows: dict, index: np.ndarray) -> dict:
    """The rows ``index`` (ascending positions) of a table held as a dict of columns."""
    return {
        name: Codes(col.codes.take(index), col.names) if isinstance(col, Codes) else col[index]
        for name, col in rows.items()
    }


def concat_rows(parts: list[tuple[dict, ...]]) -> tuple[dict, ...]:
    """Several writes' rows of the same tables (tuples of dicts of columns) as one write's, in order."""

    def joined(cols: list) -> object:
        if isinstance(cols[0], Codes):
            return Codes(np.concatenate([c.codes for c in cols]), cols[0].names)
        return np.concatenate(cols)

    return tuple({name: joined([p[i][name] for p in parts]) for name in parts[0][i]} for i in range(len(parts[0])))


def incident_and_stage_rows(cd, horizon: float, names: dict, keep: np.ndarray | None = None) -> tuple[dict, dict, dict]:
    """Rows of the incidents, stages and (true) alerts tables for one compiled day.

    Args:
        cd: a :class:`~citysim.processes.incident.CompiledDay`.
        horizon: end of the run, minutes.
        names: lookups: ``type``, ``cohort``, ``district``, ``unit``, ``unit_level``,
            ``sensor``, ``district_of_cell``, ``kind_of_cell``, ``street_of_cell``, ``severity``, ``hazard``.
        keep: per incident of the day, whether its rows are wanted (all where None): the rows of the
            others are left out of all three tables.
    """
    inc, det, plan = cd.incidents, cd.detection, cd.plan
    n = len(inc)
    batch = plan.batch
    q, s, e = (np.asarray(a) for a in batch.times())  # only read: every column below is a new array
    role, attempt, unit = plan.role, plan.attempt, batch.unit_np
    travel = plan.travel
    _, _, alt, job = batch.links
    consult = ~cd.dispatched
    facts = _step_facts(
        plan.job_incident, job, batch.bases[1], role, attempt, q, s, e, travel, plan.call_try, alt,
        cd.attempts_planned - 1, consult, _FACT_ROLES, unit,
    )  # fmt: skip
    intake_idx, verify_idx, first_field, transfers, calls, hung_up_calls, gave_up, reopened = facts[:8]
    arrived_at, level_unit, resolved_at, pending, closings, arrive_final = facts[8:14]
    intake_started, verify_ended, field_queued = facts[14:]

    detected_at = np.where(det.detected_at <= horizon, det.detected_at, np.nan)
    seen = ~np.isnan(detected_at)
    intake_at = np.where(intake_idx >= 0, intake_started, detected_at)
    intake_at = np.where(seen, intake_at, np.nan)
    dispatched_at = field_queued
    arrived_at = np.where(arrived_at <= horizon, arrived_at, np.nan)

    # level: unit of the last dispatch step before the first field visit, else of the field unit
    level = np.where(level_unit >= 0, names["unit_level_code"][np.maximum(level_unit, 0)], -1)
    level = np.where(~np.isnan(dispatched_at), level, -1)

    # a consultation is answered by its last call taken in: once its plan has ended (no transfer still to come)
    job_done = np.zeros(n, dtype=bool)
    job_done[plan.job_incident] = ~np.isnan(np.asarray(batch.finished_at()))
    resolved_at = np.where((closings > 0) & (pending == 0) & (job_done | ~consult) & ~gave_up, resolved_at, np.nan)

    # hazards: harm unless someone arrives on the final (real) attempt before time to harm
    harm_t = inc.occurred_at + inc.time_to_harm
    harmed = np.isfinite(harm_t) & (harm_t <= horizon) & ~(arrive_final <= harm_t)
    harmed_at = np.where(harmed, harm_t, np.nan)

    status = np.where(~seen, STATUSES.index("undetected"), np.where(~np.isnan(resolved_at), 0, 1))
    status = np.where(seen & gave_up, STATUSES.index("gave_up"), status)
    ids = inc.ids
    dist = names["district_of_cell"][inc.cell]
    incidents = {
        "id": ids,
        "type": Codes(inc.type, names["type"]),
        "district": Codes(dist, names["district"]),
        "district_kind": Codes(names["kind_of_cell"][inc.cell], DISTRICT_KINDS),
        "street": names["street_of_cell"][inc.cell],
        "cell": inc.cell,
        "cohort": Codes(inc.cohort, names["cohort"]),
        "severity": names["severity"][inc.type],
        "hazard": names["hazard"][inc.type],
        "occurred_at": inc.occurred_at,
        "detected_at": detected_at,
        "detected_by": Codes(np.where(seen, det.detected_by, -1), DETECTED_BY),
        "channel": Codes(np.where(seen, det.channel, -1), CHANNEL_NAMES),
        "intake_at": intake_at,
        "transfers": transfers,
        "dispatched_at": dispatched_at,
        "level": Codes(level, LEVELS),
        "arrived_at": arrived_at,
        "resolved_at": resolved_at,
        "harm_due_at": np.where(np.isfinite(harm_t), harm_t, np.nan),
        "harmed_at": harmed_at,
        "reopened": reopened,
        "status": Codes(status, STATUSES),
        "closed_unmet": cd.closed_unmet & ~np.isnan(resolved_at),
        "calls": calls,
        "hung_up": hung_up_calls,
        "gave_up": gave_up,
    }
    if keep is not None:
        incidents = select_rows(incidents, np.flatnonzero(keep))
    else:
        keep = np.ones(n, dtype=bool)

    # stages: one row per visited step; field visits split into travel and handling
    columns = _stage_rows(
        q, s, e, travel, role, attempt, unit, job, batch.bases[1], plan.job_incident, ids, keep, float(horizon),
        ROLE["field"], STAGES.index("handling"),
    )  # fmt: skip
    stages = dict(zip(_STAGE_COLUMNS, columns, strict=True))
    stages["stage"] = Codes(stages["stage"], STAGES)
    stages["unit"] = Codes(stages["unit"], names["unit"])

    # true alerts
    a = np.flatnonzero((det.sensor_type >= 0) & (det.sensor_raised_at <= horizon) & keep)
    by_sensor = det.detected_by[a] == SENSOR
    verify_idx = verify_idx[a]
    verified = np.where(verify_idx >= 0, verify_ended[a], np.where(by_sensor, detected_at[a], np.nan))
    code = OUTCOMES.index
    outcome = np.where(
        ~by_sensor,
        code("duplicate"),
        np.where(verify_idx >= 0, np.where(np.isnan(verified), code("pending"), code("verified")), code("work_order")),
    )
    outcome = np.where(by_sensor & np.isnan(detected_at[a]), code("pending"), outcome)
    alerts = {
        "alert_id": np.char.add("t", ids[a].astype(str)).astype(object),
        "sensor_type": Codes(det.sensor_type[a], names["sensor"]),
        "district": Codes(dist[a], names["district"]),
        "cell": inc.cell[a],
        "raised_at": det.sensor_raised_at[a],
        "true_alarm": np.ones(len(a), dtype=bool),
        "incident_id": ids[a],
        "outcome": Codes(outcome, OUTCOMES),
        "verified_at": np.where(by_sensor, verified, np.nan),
    }
    return incidents, stages, alerts


def false_alarm_rows(fa, horizon: float, names: dict) -> dict:
    """Rows of the alerts table for one day's false alarms."""
    n = len(fa.raised_at)
    keep = fa.raised_at <= horizon
    verified = np.full(n, np.nan)
    if fa.plan is not None:
        batch = fa.plan.batch
        fin = batch.finished_at()
        verified[fa.plan.job_incident] = fin
    code = OUTCOMES.index
    outcome = np.where(fa.filtered, code("filtered"), np.where(np.isnan(verified), code("pending"), code("dismissed")))
    verified = np.where(fa.filtered, fa.raised_at, verified)
    idx = np.arange(n)[keep]
    return {
        "alert_id": np.array([f"f{fa.day}-{i}" for i in idx], dtype=object),
        "sensor_type": Codes(fa.sensor_type[keep], names["sensor"]),
        "district": Codes(names["district_of_cell"][fa.cell[keep]], names["district"]),
        "cell": fa.cell[keep],
        "raised_at": fa.raised_at[keep],
        "true_alarm": np.zeros(keep.sum(), dtype=bool),
        "incident_id": pd.array([pd.NA] * int(keep.sum()), dtype="Int64"),
        "outcome": Codes(outcome[keep], OUTCOMES),
        "verified_at": verified[keep],
    }
