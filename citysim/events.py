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
run), and handed to a *sink*: kept in memory (:class:`MemorySink`),
streamed to Parquet in row groups (:class:`ParquetSink`) or counted into the
run's metrics as they come (:class:`citysim.metrics.stream.MetricsStream`;
:class:`TeeSink` hands them to several), so a long run never holds more than
a window of finished incidents.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from citysim.processes.plan import ROLES

__all__ = ["COLUMNS", "FolderTables", "MemorySink", "ParquetSink", "STATUSES", "TeeSink"]

STATUSES = ("resolved", "in_progress", "undetected", "gave_up")
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
        if len(self.codes) and self.codes.max() >= len(cached[1]):
            raise ValueError(f"name codes up to {self.codes.max()} for {len(cached[1])} names")
        indices = _with_nulls(self.codes, self.codes < 0, pa.int32())
        return pa.DictionaryArray.from_arrays(indices, cached[1], safe=False)  # in range: checked above


def _with_nulls(values: np.ndarray, null: np.ndarray, typ: pa.DataType) -> pa.Array:
    """``values`` as an Arrow array of ``typ`` (the same memory), null where ``null``.

    What ``pa.array(values, mask=null)`` gives, with the validity bits packed by numpy (a quarter of the time).
    """
    values = np.ascontiguousarray(values)
    n_null = int(np.count_nonzero(null))
    if n_null == 0:
        return pa.array(values, type=typ)
    valid = pa.py_buffer(np.packbits(~null, bitorder="little"))
    return pa.Array.from_buffers(typ, len(values), [valid, pa.py_buffer(values)], null_count=n_null)


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
        "status": (
            CATEGORY,
            "",
            "resolved, in_progress, undetected or gave_up (the resident hung up and did not call again: never "
            "taken in) at the horizon",
        ),
        "closed_unmet": (pa.bool_(), "", "closed prematurely on its last attempt: the need was not met"),
        "calls": (pa.int16(), "count", "calls and walk-in reports placed (each redial one more)"),
        "hung_up": (pa.int16(), "count", "of those, left unanswered when the resident's patience ran out"),
        "gave_up": (
            pa.bool_(),
            "",
            "the resident hung up and did not call again: a need given up, never met (never censored)",
        ),
    },
    "stages": {
        "incident_id": (pa.int64(), "", "incident id"),
        "attempt": (pa.int8(), "", "0 first attempt, 1 after the first reopening ..."),
        "stage": (CATEGORY, "", ", ".join(r for r in ROLES if r != "field") + ", travel, handling"),
        "unit": (CATEGORY, "", "unit serving it (null for waits)"),
        "queued_at": (pa.float64(), "min", "joined the unit's queue (or began waiting)"),
        "started_at": (
            pa.float64(),
            "min",
            "service began (null: the resident hung up first, at ended_at; or still queued at the horizon)",
        ),
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
            "city_intake, city_dispatch, city_callback, hotline, desk, team, district_centre, street_centre, grid, "
            "emergency_line",
        ),
        "level": (pa.string(), "", "city, district or street"),
        "department": (pa.string(), "", "department (null for centres and grid workers)"),
        "district": (pa.string(), "", "district (null for city-wide units)"),
        "street": (pa.int32(), "", "street index (street units)"),
        "function": (
            pa.string(),
            "",
            "staffing budget it draws on: call_centre, city_dispatch, district_offices, street_centres, "
            "field_teams, grid_workers or emergency_lines",
        ),
        **{
            f"servers_h{h:02d}": (pa.int32(), "persons", f"staff (or teams) on duty {h:02d}:00-{h + 1:02d}:00")
            for h in range(24)
        },
        "staff_hours_per_day": (pa.int32(), "staff-hours", "staff on duty summed over the day's hours"),
        "on_duty_min": (pa.float64(), "server-min", "staff time on duty, with time finishing a job after a shift"),
        **{
            f"busy_{r}_min": (pa.float64(), "server-min", f"time spent on {r} steps")
            for r in ("intake", "verify", "transfer", "dispatch", "field", "callback")
        },
        "busy_min": (pa.float64(), "server-min", "total busy time"),
        "offered_min": (pa.float64(), "server-min", "service minutes of the work that joined its queue in the window"),
        "wait_first_week_min": (
            pa.float64(),
            "min",
            "mean wait of services begun in the window's first week (windows of two weeks or more)",
        ),
        "wait_last_week_min": (
            pa.float64(),
            "min",
            "mean wait of services begun in the window's last week (windows of two weeks or more)",
        ),
        "utilisation": (pa.float64(), "share", "busy_min / on_duty_min"),
        "paperwork_min": (pa.float64(), "worker-min", "grid workers: filling in reports"),
        "proactive_min": (pa.float64(), "worker-min", "grid workers: visiting vulnerable residents"),
        "patrol_min": (pa.float64(), "worker-min", "grid workers: patrolling (what the shift leaves)"),
    },
    "daily": {
        "day": (pa.int32(), "", "simulated day from the start of the warm-up"),
        "period": (CATEGORY, "", "warmup, window or follow_up"),
        "scope": (CATEGORY, "", "city (all units), unit_kind, or unit (the busiest and the unstable)"),
        "name": (pa.string(), "", "all, the unit kind, or the unit's name"),
        "work_offered_h": (pa.float64(), "h", "service hours of the steps that joined a queue that day"),
        "on_duty_h": (pa.float64(), "staff-h", "staff on duty that day"),
        "busy_h": (pa.float64(), "staff-h", "staff busy that day"),
        "utilisation": (pa.float64(), "share", "busy_h / on_duty_h"),
        "mean_wait_min": (pa.float64(), "min", "mean wait of the services that began that day"),
        "p90_wait_min": (pa.float64(), "min", "90th percentile of those waits (city and kind rows)"),
        "queue_at_midnight": (pa.int64(), "jobs", "jobs still waiting at the end of the day"),
        "incidents": (pa.int64(), "count", "city rows: incidents that occurred that day"),
        "detected": (pa.int64(), "count", "city rows: incidents first detected that day"),
        "ended": (pa.int64(), "count", "city rows: incidents whose story ended that day"),
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


NEVER_NULL: dict[str, frozenset[str]] = {
    "incidents": frozenset(
        "id type district district_kind street cell cohort severity hazard occurred_at transfers reopened status "
        "closed_unmet calls hung_up gave_up".split()
    ),
    "stages": frozenset("incident_id attempt stage queued_at".split()),
    "alerts": frozenset("alert_id sensor_type district cell raised_at true_alarm outcome".split()),
}
"""Columns that always hold a value, stored as required in the Parquet files (the writer then has no
null flags to encode: a tenth of the time of those columns)."""


def schema(name: str) -> pa.Schema:
    """A table's Arrow schema: its columns' types, each nullable unless in :data:`NEVER_NULL`."""
    never = NEVER_NULL.get(name, frozenset())
    return pa.schema([pa.field(c, typ, nullable=c not in never) for c, (typ, _, _) in COLUMNS[name].items()])


def _empty(name: str) -> pa.Table:
    """A table with no rows."""
    return _table(name, {c: [] for c in COLUMNS[name]})


_SCHEMAS: dict[str, pa.Schema] = {}


def _table(name: str, data: dict[str, object]) -> pa.Table:
    if name not in _SCHEMAS:
        _SCHEMAS[name] = schema(name)
    arrays = []
    for field in _SCHEMAS[name]:
        values = data[field.name]
        if isinstance(values, Codes):
            arr = values.arrow()
        elif (
            field.type == pa.float64()
            and isinstance(values, np.ndarray)
            and values.dtype == np.float64
            and values.ndim == 1
        ):
            arr = _with_nulls(values, np.isnan(values), field.type)  # NaN: null, as from_pandas makes it
        else:
            arr = pa.array(values, type=field.type, from_pandas=True)
        if arr.null_count and not field.nullable:
            raise ValueError(f"{name}.{field.name}: {arr.null_count} missing values in a column that always holds one")
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=_SCHEMAS[name])


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


ID_COLUMN = {"incidents": "id", "stages": "incident_id"}
"""The tables whose rows are incidents' (or their stages), and the column of the incident's id."""


def _in_id_order(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows are written as incidents end (old days' stragglers later): put them back in id order."""
    key = ID_COLUMN.get(name)
    if key is None or len(frame) == 0:
        return frame
    return frame.iloc[np.argsort(frame[key].to_numpy(), kind="stable")].reset_index(drop=True)


class ParquetSink:
    """Streams each table to ``DIR/<table>.parquet``, one row group per write.

    The files are written once and not read again by the run: what was written more than
    :data:`KEEP_CACHED` bytes ago is let go of the system's page cache as the run goes
    (:func:`release_written`), so a year's gigabytes of tables do not push other files out of it,
    and the pages let go are reused for the next writes.
    """

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.files: dict[str, pa.NativeFile] = {}
        self.released: dict[str, int] = {}  # per table, up to where its file was let go of the page cache

    def _writer(self, name: str, schema: pa.Schema) -> pq.ParquetWriter:
        # dictionary-encode only the name columns (trying it on times is wasted work), no statistics: 2-3x faster;
        # lz4 writes a day's tables in 60% of zstd's time, for files about a quarter larger; times split into
        # byte streams (exponents together) before lz4: the files a sixth smaller in the same time; data pages of
        # format 2.0 written in batches of 64k values: 7% less time; incident ids (ascending within a write) as
        # deltas, bit-packed and left uncompressed: a fifth of their bytes, in 70% of the time
        names = [c for c, (typ, _, _) in COLUMNS[name].items() if typ == CATEGORY]
        floats = [c for c, (typ, _, _) in COLUMNS[name].items() if typ == pa.float64()]
        ids = [ID_COLUMN[name]] if name in ID_COLUMN else []
        encoding = {c: "BYTE_STREAM_SPLIT" for c in floats} | {c: "DELTA_BINARY_PACKED" for c in ids}
        self.files[name] = pa.OSFile(str(self.dir / f"{name}.parquet"), "wb")
        return pq.ParquetWriter(
            self.files[name],
            schema,
            compression={c: "none" if c in ids else "lz4" for c in COLUMNS[name]},
            use_dictionary=names,
            write_statistics=False,
            column_encoding=encoding or None,
            data_page_version="2.0",
            write_batch_size=1 << 16,
        )

    def write(self, name: str, data: dict[str, object]) -> None:
        table = _table(name, data)
        if name not in self.writers:
            self.writers[name] = self._writer(name, table.schema)
        if table.num_rows:  # one row group per write: a group of incidents, then their stages
            self.writers[name].write_table(table, row_group_size=table.num_rows)
            self.released[name] = release_written(self.files[name], self.released.get(name, 0))

    def close(self) -> None:
        for name in COLUMNS:
            if name not in self.writers:
                self.writers[name] = self._writer(name, _empty(name).schema)
        for name, w in self.writers.items():
            w.close()
            self.files[name].close()


KEEP_CACHED = 32 << 20
"""Bytes of a table's file last written that stay in the page cache (:func:`release_written`)."""


def release_written(file: pa.NativeFile, since: int) -> int:
    """Let the system drop from its page cache what was written to ``file`` before its last :data:`KEEP_CACHED` bytes.

    ``since`` is where the last call reached (0 at first); the call returns where this one reaches.
    The system writes the pages out (if not yet done) and then frees them; pages still being written
    stay, so each call goes back three spans of :data:`KEEP_CACHED` before ``since`` to let go of those
    that were being written the last time. Where the system has no such advice (``os.posix_fadvise``:
    not on Windows or macOS), it does nothing.
    """
    end = file.tell() - KEEP_CACHED
    if end <= since or not hasattr(os, "posix_fadvise"):
        return since
    start = max(0, since - 3 * KEEP_CACHED)
    os.posix_fadvise(file.fileno(), start, end - start, os.POSIX_FADV_DONTNEED)
    return end


class TeeSink:
    """Hands every write to several sinks: the tables' files (or memory) and a metrics stream, say."""

    def __init__(self, *sinks) -> None:
        self.sinks = sinks

    def write(self, name: str, data: dict[str, object]) -> None:
        for sink in self.sinks:
            sink.write(name, data)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()

    def cut(self, window) -> None:
        """The run was cut short: tell the sinks that count as they go (see :meth:`CityModel.cut`)."""
        for sink in self.sinks:
            if hasattr(sink, "cut"):
                sink.cut(window)


class FolderTables(Mapping):
    """A run folder's tables, each read whole from its Parquet file when first asked for.

    For runs small enough to hold in memory (a year of a megacity's stages is not): metrics
    never need them (they stream, see :mod:`citysim.metrics.stream`).
    """

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self._loaded: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in COLUMNS:
            raise KeyError(name)
        if name not in self._loaded:
            self._loaded[name] = _in_id_order(name, to_pandas(pq.read_table(self.dir / f"{name}.parquet")))
        return self._loaded[name]

    def __iter__(self):
        return iter(COLUMNS)

    def __len__(self) -> int:
        return len(COLUMNS)
