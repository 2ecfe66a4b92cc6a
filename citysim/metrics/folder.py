"""A run folder's metrics from its Parquet files, a row group at a time: ``citysim metrics OUT``.

:func:`metrics_of_folder` streams the folder's tables through a new
:class:`~citysim.metrics.stream.MetricsStream`, so memory stays bounded whatever the run's
length, and a run written before a metric existed gets it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from citysim.events import COLUMNS, _table
from citysim.metrics.stream import MetricsStream

__all__ = ["metrics_of_folder", "stream_of_folder"]


def metrics_of_folder(directory: str | Path, scenario, regime, window) -> dict:
    """``metrics.json`` of a run folder, from its Parquet files read a row group at a time (bounded memory).

    Raises:
        FileNotFoundError: a table's file is missing.
    """
    return stream_of_folder(directory, scenario, window).metrics(scenario, regime)


def stream_of_folder(directory: str | Path, scenario, window) -> MetricsStream:
    """A run folder's tables counted into a new :class:`MetricsStream` for ``window``, a row group at a time.

    Each incident's rows were written together (the incident, then its stages): the files are read
    in step, so each group of incidents is counted with its stage rows.

    Raises:
        FileNotFoundError: a table's file is missing.
    """
    d = Path(directory)
    s = MetricsStream.for_scenario(scenario, window)
    inc, stages = pq.ParquetFile(d / "incidents.parquet"), pq.ParquetFile(d / "stages.parquet")
    next_inc = 0
    pending: list[pa.Table] = []
    pending_ids = np.zeros(0, dtype=np.int64)

    def flush(stage_parts: list[pa.Table]) -> None:
        if pending:
            s.write("incidents", pa.concat_tables(pending))
            s.write("stages", pa.concat_tables(stage_parts) if stage_parts else _table("stages", _no_rows("stages")))
            pending.clear()

    stage_parts: list[pa.Table] = []
    for i in range(stages.num_row_groups):
        group = stages.read_row_group(i)
        ids = group.column("incident_id").to_numpy()
        if pending and not np.isin(ids, pending_ids).any():
            flush(stage_parts)
            stage_parts, pending_ids = [], np.zeros(0, dtype=np.int64)
        while not np.isin(ids, pending_ids).all():
            if next_inc >= inc.num_row_groups:
                raise ValueError(f"{d / 'stages.parquet'}: stage rows of incidents not in incidents.parquet")
            part = inc.read_row_group(next_inc)
            next_inc += 1
            pending.append(part)
            pending_ids = np.concatenate([pending_ids, part.column("id").to_numpy()])
        stage_parts.append(group)
    flush(stage_parts)
    for i in range(next_inc, inc.num_row_groups):
        s.write("incidents", inc.read_row_group(i))
        s.write("stages", _table("stages", _no_rows("stages")))
    alerts = pq.ParquetFile(d / "alerts.parquet")
    for i in range(alerts.num_row_groups):
        s.write("alerts", alerts.read_row_group(i))
    for name in ("units", "cells", "daily"):
        path = d / f"{name}.parquet"
        if path.exists():
            s.write(name, pq.read_table(path))
    s.close()
    return s


def _no_rows(name: str) -> dict:
    return {c: [] for c in COLUMNS[name]}
