"""The event log: every output table of a run, derived from the engine's records.

A run produces five tables (their columns are documented in
``docs/output-columns.md``, generated from :data:`COLUMNS`):

* ``incidents``: one row per incident, its timestamps and fate;
* ``stages``: one row per stage visit (queue, service or wait) of an incident;
* ``alerts``: sensor alerts, true and false, and what became of each;
* ``units``: per staffed unit, time on duty and busy time by activity;
* ``cells``: per grid cell, residents, sensors and patrol reach.

Rows are derived in bulk from a compiled day's plan and the times the engine
recorded, once the day's incidents are all finished (or at the end of the
run), and handed to a *sink*: kept in memory (:class:`MemorySink`) or
streamed to Parquet in row groups (:class:`ParquetSink`), so a long run never
holds more than a window of finished incidents.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from citysim.processes.detection import CHANNEL_NAMES, DETECTED_BY, SENSOR
from citysim.processes.plan import ROLE, ROLES
from citysim.scenario import DISTRICT_KINDS

__all__ = ["COLUMNS", "MemorySink", "ParquetSink", "STATUSES"]

STATUSES = ("resolved", "in_progress", "undetected")
LEVELS = ("street", "district", "city")
STAGES = tuple("travel" if r == "field" else r for r in ROLES) + ("handling",)
"""Stage names of ``stages.parquet`` (a field visit is written as travel, then handling)."""
OUTCOMES = ("work_order", "verified", "duplicate", "filtered", "dismissed", "pending")

CATEGORY = pa.dictionary(pa.int32(), pa.string())
"""Type of a column of names (district, unit, stage ...): stored once, referenced by number."""


class Codes:
    """A column of names given as numbers into a list of names (-1: null), written dictionary-encoded."""

    __slots__ = ("codes", "names")

    def __init__(self, codes: np.ndarray, names) -> None:
        self.codes = np.asarray(codes, dtype=np.int32)
        self.names = names  # kept as given: the same list is turned into an Arrow dictionary only once

    def __len__(self) -> int:
        return len(self.codes)

    def to_objects(self) -> np.ndarray:
        """The names as a numpy object array (None for nulls)."""
        table = np.array([*self.names, None], dtype=object)
        return table[np.where(self.codes >= 0, self.codes, len(self.names))]

    def arrow(self) -> pa.DictionaryArray:
        key = id(self.names)
        cached = _DICTIONARIES.get(key)
        if cached is None or cached[0] is not self.names:
            cached = (self.names, pa.array(list(self.names), type=pa.string()))
            _DICTIONARIES[key] = cached
        return pa.DictionaryArray.from_arrays(pa.array(self.codes, type=pa.int32(), mask=self.codes < 0), cached[1])


_DICTIONARIES: dict[int, tuple[object, pa.Array]] = {}


# table -> column -> (arrow type, unit, meaning)
COLUMNS: dict[str, dict[str, tuple[pa.DataType, str, str]]] = {
    "incidents": {
        "id": (pa.int64(), "", "incident id, unique in the run, in order of occurrence"),
        "type": (CATEGORY, "", "incident type (scenario's incident_types)"),
        "district": (CATEGORY, "", "district name"),
        "district_kind": (CATEGORY, "", "core, urban, suburban, rural or mountain"),
        "street": (pa.int32(), "", "street index in the city"),
        "cell": (pa.int32(), "", "grid cell index in the city"),
        "cohort": (CATEGORY, "", "cohort of the affected resident"),
        "severity": (pa.int8(), "1-5", "1 minor .. 5 life-threatening"),
        "hazard": (pa.bool_(), "", "turns into harm if not handled in time"),
        "occurred_at": (pa.float64(), "min", "when it occurred"),
        "detected_at": (pa.float64(), "min", "when the city first learnt of it (null: not by the horizon)"),
        "detected_by": (CATEGORY, "", "sensor, patrol, proactive, resident or after_harm (null: undetected)"),
        "channel": (CATEGORY, "", "phone, online, app, in_person, sensor or grid_worker"),
        "intake_at": (pa.float64(), "min", "when a hotline, street centre or desk started taking it in"),
        "transfers": (pa.int16(), "count", "times it was routed to the wrong unit and passed on"),
        "dispatched_at": (pa.float64(), "min", "when the first work order reached a team or grid worker"),
        "level": (CATEGORY, "", "level that issued the first work order: street, district or city"),
        "arrived_at": (pa.float64(), "min", "first arrival on site"),
        "resolved_at": (pa.float64(), "min", "final closure (answered, for consultations)"),
        "harm_due_at": (
            pa.float64(),
            "min",
            "hazards: when it turns into harm unless a team is on site by then on the attempt that resolves it "
            "(a visit that closes it prematurely does not count; null: not a hazard)",
        ),
        "harmed_at": (pa.float64(), "min", "when a hazard turned into harm (null: it did not, or not by the horizon)"),
        "reopened": (pa.int8(), "count", "reopenings and re-reports (attempts after the first)"),
        "status": (CATEGORY, "", "resolved, in_progress or undetected at the horizon"),
        "closed_unmet": (pa.bool_(), "", "closed prematurely on its last attempt: the need was not met"),
    },
    "stages": {
        "incident_id": (pa.int64(), "", "incident id"),
        "attempt": (pa.int8(), "", "0 first attempt, 1 after the first reopening ..."),
        "stage": (CATEGORY, "", ", ".join(r for r in ROLES if r != "field") + ", travel, handling"),
        "unit": (CATEGORY, "", "unit serving it (null for waits)"),
        "queued_at": (pa.float64(), "min", "joined the unit's queue (or began waiting)"),
        "started_at": (pa.float64(), "min", "service began (null: still queued at the horizon)"),
        "ended_at": (pa.float64(), "min", "service or wait ended (null: not by the horizon)"),
    },
    "alerts": {
        "alert_id": (pa.string(), "", "t<incident id> for true alerts, f<day>-<n> for false ones"),
        "sensor_type": (CATEGORY, "", "sensor type"),
        "district": (CATEGORY, "", "district name"),
        "cell": (pa.int32(), "", "grid cell index"),
        "raised_at": (pa.float64(), "min", "when the sensor raised it"),
        "true_alarm": (pa.bool_(), "", "an incident lies behind it"),
        "incident_id": (pa.int64(), "", "the incident (true alarms)"),
        "outcome": (
            CATEGORY,
            "",
            "work_order, verified, duplicate (the incident was already known), filtered, dismissed or pending",
        ),
        "verified_at": (pa.float64(), "min", "when it was verified or dismissed (null: not yet)"),
    },
    "units": {
        "unit": (pa.string(), "", "unit name"),
        "kind": (
            pa.string(),
            "",
            "city_intake, city_dispatch, city_callback, hotline, desk, team, district_centre, street_centre, grid",
        ),
        "level": (pa.string(), "", "city, district or street"),
        "department": (pa.string(), "", "department (null for centres and grid workers)"),
        "district": (pa.string(), "", "district (null for city-wide units)"),
        "street": (pa.int32(), "", "street index (street units)"),
        "servers_day": (pa.int32(), "persons", "staff (or teams) on duty by day"),
        "servers_night": (pa.int32(), "persons", "staff on duty by night"),
        "on_duty_min": (pa.float64(), "server-min", "staff time on duty, with time finishing a job after a shift"),
        **{
            f"busy_{r}_min": (pa.float64(), "server-min", f"time spent on {r} steps")
            for r in ("intake", "verify", "transfer", "dispatch", "field", "callback")
        },
        "busy_min": (pa.float64(), "server-min", "total busy time"),
        "utilisation": (pa.float64(), "share", "busy_min / on_duty_min"),
        "paperwork_min": (pa.float64(), "worker-min", "grid workers: filling in reports"),
        "proactive_min": (pa.float64(), "worker-min", "grid workers: visiting vulnerable residents"),
        "patrol_min": (pa.float64(), "worker-min", "grid workers: patrolling (what the shift leaves)"),
    },
    "cells": {
        "cell": (pa.int32(), "", "grid cell index"),
        "street": (pa.int32(), "", "street index"),
        "district": (pa.string(), "", "district name"),
        "district_kind": (pa.string(), "", "district kind"),
        "population": (pa.float64(), "persons", "residents"),
        "area_km2": (pa.float64(), "km²", "land area"),
        "sensors": (pa.int64(), "devices", "sensors of all types"),
        "patrol_cycle_min": (pa.float64(), "min", "mean minutes between a grid worker's passes over the run"),
    },
}


def _empty(name: str) -> pa.Table:
    """A table with no rows."""
    return _table(name, {c: [] for c in COLUMNS[name]})


def _table(name: str, data: dict[str, object]) -> pa.Table:
    cols = COLUMNS[name]
    arrays = []
    for col, (typ, _, _) in cols.items():
        values = data[col]
        if isinstance(values, Codes):
            arrays.append(values.arrow())
        else:
            arrays.append(pa.array(values, type=typ, from_pandas=True))
    return pa.Table.from_arrays(arrays, names=list(cols))


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """A table as a DataFrame; integer columns with nulls stay integers (pandas' Int64)."""
    df = table.to_pandas()
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_integer(col.type) and col.null_count:
            df[name] = pd.array(col.to_pylist(), dtype="Int64")
    return df


class MemorySink:
    """Keeps every table in memory (for the Python API and tests)."""

    def __init__(self) -> None:
        self.parts: dict[str, list[pa.Table]] = {name: [] for name in COLUMNS}

    def write(self, name: str, data: dict[str, object]) -> None:
        table = _table(name, data)
        if table.num_rows:
            self.parts[name].append(table)

    def close(self) -> None:
        pass

    def frames(self) -> dict[str, pd.DataFrame]:
        """Each table as a pandas DataFrame (nullable columns stay nullable)."""
        out = {}
        for name, parts in self.parts.items():
            table = pa.concat_tables(parts) if parts else _empty(name)
            out[name] = _in_id_order(name, to_pandas(table))
        return out

    def sampled_frames(self) -> tuple[dict[str, pd.DataFrame], int, None]:
        """The tables, all of them (held in memory already), as :meth:`ParquetSink.sampled_frames` returns them."""
        return self.frames(), 1, None


def _in_id_order(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows are written as incidents end (old days' stragglers later): put them back in id order."""
    key = {"incidents": "id", "stages": "incident_id"}.get(name)
    if key is None or len(frame) == 0:
        return frame
    return frame.iloc[np.argsort(frame[key].to_numpy(), kind="stable")].reset_index(drop=True)


class ParquetSink:
    """Streams each table to ``DIR/<table>.parquet``, one row group per write."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.writers: dict[str, pq.ParquetWriter] = {}

    def _writer(self, name: str, schema: pa.Schema) -> pq.ParquetWriter:
        # dictionary-encode only the name columns (trying it on times is wasted work), no statistics: 2-3x faster
        names = [c for c, (typ, _, _) in COLUMNS[name].items() if typ == CATEGORY]
        return pq.ParquetWriter(
            self.dir / f"{name}.parquet", schema, compression="zstd", use_dictionary=names, write_statistics=False
        )

    def write(self, name: str, data: dict[str, object]) -> None:
        table = _table(name, data)
        if name not in self.writers:
            self.writers[name] = self._writer(name, table.schema)
        if table.num_rows:
            self.writers[name].write_table(table)

    def close(self) -> None:
        for name in COLUMNS:
            if name not in self.writers:
                self.writers[name] = self._writer(name, _empty(name).schema)
        for w in self.writers.values():
            w.close()

    def sampled_frames(self, max_incidents: int = 3_000_000) -> tuple[dict[str, pd.DataFrame], int, dict]:
        """The tables, every k-th incident only if they would not fit in memory (see :func:`load_tables`)."""
        return load_tables(self.dir, max_incidents)


# ------------------------------------------------------------------ derivation


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


def incident_and_stage_rows(cd, horizon: float, names: dict) -> tuple[dict, dict, dict]:
    """Rows of the incidents, stages and (true) alerts tables for one compiled day.

    Args:
        cd: a :class:`~citysim.processes.incident.CompiledDay`.
        horizon: end of the run, minutes.
        names: lookups: ``type``, ``cohort``, ``district``, ``unit``, ``unit_level``,
            ``sensor``, ``district_of_cell``, ``kind_of_cell``, ``street_of_cell``, ``severity``, ``hazard``.
    """
    inc, det, plan = cd.incidents, cd.detection, cd.plan
    n = len(inc)
    batch = plan.batch
    q, s, e = (np.array(a) for a in batch.times())
    row = plan.job_incident[batch.job_np] if batch.n_steps else np.zeros(0, dtype=np.int64)
    role, attempt, unit = plan.role, plan.attempt, batch.unit_np
    travel = plan.travel
    visited = ~np.isnan(q)

    detected_at = np.where(det.detected_at <= horizon, det.detected_at, np.nan)
    seen = ~np.isnan(detected_at)
    intake_idx = _first_per(row, (attempt == 0) & np.isin(role, (ROLE["intake"], ROLE["verify"])), n)
    intake_at = np.where(intake_idx >= 0, _at(s, intake_idx), detected_at)
    intake_at = np.where(seen, intake_at, np.nan)
    transfers = np.bincount(row[visited & (role == ROLE["transfer"])], minlength=n)

    field = role == ROLE["field"]
    first_field = _first_per(row, field, n)
    dispatched_at = _at(q, first_field)
    # first arrival: the earliest team on site on the first attempt with a visit (joint dispatch sends several)
    first_attempt = np.full(n, -1, dtype=np.int64)
    first_attempt[first_field >= 0] = attempt[first_field[first_field >= 0]]
    fa = np.flatnonzero(field & (attempt == first_attempt[row])) if len(row) else np.zeros(0, dtype=np.int64)
    arrived_at = np.full(n, np.inf)
    np.minimum.at(arrived_at, row[fa], np.nan_to_num(s[fa] + travel[fa], nan=np.inf))
    arrived_at = np.where(arrived_at <= horizon, arrived_at, np.nan)

    # level: unit of the last dispatch step before the first field visit, else of the field unit
    level_unit = np.full(n, -1, dtype=np.int64)
    disp = np.flatnonzero((role == ROLE["dispatch"]) & (attempt == 0))
    if len(disp):
        before = disp < np.where(first_field[row[disp]] >= 0, first_field[row[disp]], np.iinfo(np.int64).max)
        disp = disp[before]
        last_disp = np.full(n, -1, dtype=np.int64)
        np.maximum.at(last_disp, row[disp], disp)
        level_unit = np.where(last_disp >= 0, unit[np.maximum(last_disp, 0)], -1)
    level_unit = np.where((level_unit < 0) & (first_field >= 0), unit[np.maximum(first_field, 0)], level_unit)
    level = np.where(level_unit >= 0, names["unit_level_code"][np.maximum(level_unit, 0)], -1)
    level = np.where(~np.isnan(dispatched_at), level, -1)

    final = cd.attempts_planned - 1
    consult = ~cd.dispatched
    closing = np.zeros(len(row), dtype=bool)
    if len(row):
        closing = (field & (attempt == final[row])) | (
            consult[row] & np.isin(role, (ROLE["intake"], ROLE["transfer"])) & (attempt == 0)
        )
    resolved_at = np.full(n, -np.inf)
    pending = np.zeros(n, dtype=np.int64)
    np.maximum.at(resolved_at, row[closing], np.nan_to_num(e[closing], nan=-np.inf))
    np.add.at(pending, row[closing], np.isnan(e[closing]))
    has_closing = np.bincount(row[closing], minlength=n) > 0
    resolved_at = np.where(has_closing & (pending == 0), resolved_at, np.nan)

    # hazards: harm unless someone arrives on the final (real) attempt before time to harm
    harm_t = inc.occurred_at + inc.time_to_harm
    arrive_final = np.full(n, np.inf)
    fin_field = np.flatnonzero(field & visited & ~np.isnan(s)) if len(row) else np.zeros(0, dtype=np.int64)
    fin_field = fin_field[attempt[fin_field] == final[row[fin_field]]]
    np.minimum.at(arrive_final, row[fin_field], s[fin_field] + travel[fin_field])
    harmed = np.isfinite(harm_t) & (harm_t <= horizon) & ~(arrive_final <= harm_t)
    harmed_at = np.where(harmed, harm_t, np.nan)

    reopened = np.zeros(n, dtype=np.int64)
    if visited.any():
        np.maximum.at(reopened, row[visited], attempt[visited].astype(np.int64))
    status = np.where(~seen, STATUSES.index("undetected"), np.where(~np.isnan(resolved_at), 0, 1))
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
    }

    # stages: one row per visited step; field visits split into travel and handling
    v = np.flatnonzero(visited)
    stage_code = role[v].astype(np.int32)
    arrive_v = s[v] + travel[v]
    arrive_v = np.where(arrive_v <= horizon, arrive_v, np.nan)
    is_field = field[v]
    ended = np.where(is_field, arrive_v, e[v])
    on_site = v[is_field & ~np.isnan(arrive_v)]  # handling rows: teams that got there
    arrive = s[on_site] + travel[on_site]
    stages = {
        "incident_id": np.concatenate([ids[row[v]], ids[row[on_site]]]),
        "attempt": np.concatenate([attempt[v], attempt[on_site]]),
        "stage": Codes(np.concatenate([stage_code, np.full(len(on_site), STAGES.index("handling"))]), STAGES),
        "unit": Codes(np.concatenate([unit[v], unit[on_site]]), names["unit"]),
        "queued_at": np.concatenate([q[v], arrive]),
        "started_at": np.concatenate([s[v], arrive]),
        "ended_at": np.concatenate([ended, e[on_site]]),
    }

    # true alerts
    a = np.flatnonzero((det.sensor_type >= 0) & (det.sensor_raised_at <= horizon))
    by_sensor = det.detected_by[a] == SENSOR
    verify_idx = _first_per(row, role == ROLE["verify"], n)[a]
    verified = np.where(verify_idx >= 0, _at(e, verify_idx), np.where(by_sensor, detected_at[a], np.nan))
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


def load_tables(directory: str | Path, max_incidents: int = 3_000_000) -> tuple[dict[str, pd.DataFrame], int, dict]:
    """A run's tables from its Parquet files, sampled if they would not fit in memory.

    Above ``max_incidents`` incidents, only every k-th incident (by id: independent of
    its fate) and its stages and true alerts are loaded, in row groups, so memory stays
    bounded; units, cells and false alarms are loaded whole.

    Returns:
        ``(tables, k, exact_counts)``: the tables, the sampling step k (1: all), and the
        table sizes counted over everything.
    """
    d = Path(directory)
    files = {name: pq.ParquetFile(d / f"{name}.parquet") for name in COLUMNS}
    n_inc = files["incidents"].metadata.num_rows
    k = max(1, -(-n_inc // max_incidents))
    counts = {
        "incidents": n_inc,
        "by_status": {},
        "alerts": {"true": 0, "false": 0, "by_outcome": {}},
        "stage_rows": files["stages"].metadata.num_rows,
        "stage_rows_by_stage": {},
    }

    def add(counter: dict, values: pd.Series) -> None:
        for key, v in values.value_counts().items():
            counter[str(key)] = counter.get(str(key), 0) + int(v)

    tables = {}
    for name, key in (("incidents", "id"), ("stages", "incident_id"), ("alerts", "incident_id")):
        parts = []
        for i in range(files[name].num_row_groups):
            frame = to_pandas(files[name].read_row_group(i))
            if name == "incidents":
                add(counts["by_status"], frame["status"])
            elif name == "stages":
                add(counts["stage_rows_by_stage"], frame["stage"])
            else:
                truth = frame["true_alarm"].to_numpy(dtype=bool)
                counts["alerts"]["true"] += int(truth.sum())
                counts["alerts"]["false"] += int((~truth).sum())
                add(counts["alerts"]["by_outcome"], frame["outcome"])
            if k > 1:
                ids = frame[key]
                keep = ids.isna() | (ids.fillna(0).astype("int64") % k == 0) if name == "alerts" else ids % k == 0
                frame = frame[keep.to_numpy(dtype=bool)]
            parts.append(frame)
        frame = pd.concat(parts, ignore_index=True) if parts else to_pandas(_empty(name))
        tables[name] = _in_id_order(name, frame)
    for name in ("units", "cells"):
        tables[name] = to_pandas(files[name].read())
    return tables, k, counts
