"""Metrics accumulated as a run goes: counts, sums and binned times, never the whole tables.

:class:`MetricsStream` is a sink (as :class:`~citysim.events.MemorySink` and
:class:`~citysim.events.ParquetSink` are): the model hands it each incident's rows once
its story has ended, with all its stages, and it adds them to what it keeps:

* counts (incidents by status, type, channel, who detected them; hazards warned and
  harmed; chains of time limits met; alerts and stage rows) and sums (transfers,
  minutes in each part of the decomposition): exact;
* times to an event (resolution, detection, needs met, from occurrence and from the
  report), per group (incident type, cohort, district kind), as binned counts of events
  and of censorings (:mod:`citysim.metrics.bins`: 1% resolution), from which Kaplan-Meier
  curves, medians and shares within a time are read;
* per grid cell, needs not met within a week (for the Gini of unmet need).

Its memory does not grow with the run's length: a few thousand bins per group, a number
per grid cell. :meth:`MetricsStream.metrics` (:mod:`citysim.metrics.assemble`) gives the
same ``metrics.json`` as :func:`citysim.metrics.compute_metrics` gives from the tables,
within the stated resolution (a test checks both on the same runs).

The same stream reads a run's Parquet files back, row group by row group
(:func:`citysim.metrics.folder.metrics_of_folder`: ``citysim metrics OUT``).
"""

from __future__ import annotations

import numpy as np

from citysim.compiled import compiled_or
from citysim.events import OUTCOMES, STAGES, STATUSES, Codes
from citysim.metrics.assemble import _Reader, assemble
from citysim.metrics.bins import TimeBins, logs
from citysim.metrics.calibration import CHANNELS, HOTLINE_CHANNELS
from citysim.metrics.calls import CallCounts
from citysim.metrics.chunk import Chunk
from citysim.metrics.headline import SURVIVAL_HOURS
from citysim.metrics.incident_pass import ENDS, MEASURED, TIMES, incident_pass, spans_of
from citysim.metrics.response import CHAIN_TARGETS, COMPONENTS, MEASURES, STAGE_NAMES, stage_parts
from citysim.metrics.survival import WEEK_MIN
from citysim.processes.detection import DETECTED_BY
from citysim.scenario import DISTRICT_KINDS
from citysim.window import Window

__all__ = ["CLOCKS", "MetricsStream"]

CLOCKS = ("resolution", "report_resolution", "detection", "needs_met")
"""Times to an event kept as Kaplan-Meier bins: occurrence to resolution, report to resolution,
occurrence to detection, occurrence to the need met."""

_SMALL_TABLES = ("units", "cells", "daily")


class MetricsStream:
    """A sink that accumulates a run's metrics as its incidents are written (memory flat in run length).

    Args:
        window: the run's warm-up, window and follow-up.
        types: the incident types, in the scenario's order.
        cohorts: the cohorts, in the scenario's order.
        target_min: incident type -> resolution target, minutes (None: no targets).
    """

    def __init__(
        self,
        window: Window,
        types: list[str],
        cohorts: list[str],
        target_min: dict[str, float] | None = None,
    ) -> None:
        self.window = window
        self.horizon = window.horizon_min
        self.types, self.cohorts, self.kinds = list(types), list(cohorts), list(DISTRICT_KINDS)
        self.target_min = dict(target_min or {})
        hours = [h * 60.0 for h in SURVIVAL_HOURS]
        self.bins = TimeBins([*hours, 24 * 60.0, 72 * 60.0, WEEK_MIN, *self.target_min.values()])
        t, c, k = len(self.types), len(self.cohorts), len(self.kinds)
        self.offsets = {"type": 1, "cohort": 1 + t, "district_kind": 1 + t + c}
        self.n_groups = g = 1 + t + c + k
        b = self.bins.n
        self.km = {
            clock: {"events": np.zeros((g, b), np.int64), "censored": np.zeros((g, b), np.int64), "never": np.zeros(g)}
            for clock in CLOCKS
        }
        self.first_start = {"occurred": np.full(g, np.inf), "detected": np.full(g, np.inf)}
        self.incidents = np.zeros(g, np.int64)
        self.gave_up = np.zeros(g, np.int64)  # needs given up (the resident hung up and did not call again)
        self.calls = CallCounts(self.cohorts)
        self.hist = {m: np.zeros((g, b), np.int64) for m in MEASURES}
        self.sums = {m: np.zeros(g) for m in MEASURES}
        z = np.zeros(t, np.int64)
        self.by_type = {
            k: z.copy() for k in ("detected", "hazards", "harmed", "known_hazards", "warned", "averted", "decomposed")
        }
        self.decomposition = np.zeros((t, len(COMPONENTS) + 1))
        self.status = np.zeros(len(STATUSES), np.int64)
        self.detected_by = np.zeros(len(DETECTED_BY), np.int64)
        self.channel = np.zeros(len(CHANNELS), np.int64)
        self.tally = dict.fromkeys((*_COST_KEYS, "handoffs", "open"), 0.0)
        self.chains = {
            name: {"n": 0, "steps": dict.fromkeys(spec["within"], 0), "all": 0} for name, spec in CHAIN_TARGETS.items()
        }
        self.stage_rows = np.zeros(len(STAGES), np.int64)
        km = [self.km[clock] for clock in CLOCKS]
        self._passed = (  # what each write's incident_pass adds to (bar unmet_cell, which grows)
            (self.incidents, self.gave_up),
            (self.first_start["occurred"], self.first_start["detected"]),
            *(tuple(k[part] for k in km) for part in ("events", "censored", "never")),
            *(tuple(d[m] for m in MEASURES) for d in (self.hist, self.sums)),
        )
        self.alerts = {"true": 0, "false": 0, "by_outcome": np.zeros(len(OUTCOMES), np.int64)}
        self.unmet_cell = np.zeros(0)
        self.open_short: list[tuple[np.ndarray, np.ndarray]] = []  # (cell, minutes followed) of open cases < a week
        self.small: dict[str, list] = {name: [] for name in _SMALL_TABLES}
        self._pending: Chunk | None = None
        self.closed = False

    @classmethod
    def for_scenario(cls, scenario, window: Window) -> MetricsStream:
        """The stream for a run of ``scenario`` (its types, cohorts and resolution targets)."""
        return cls(
            window,
            list(scenario.incident_types),
            list(scenario.cohorts),
            {t: it.target_min for t, it in scenario.incident_types.items()},
        )

    @classmethod
    def of_tables(cls, tables, scenario, window: Window) -> MetricsStream:
        """A stream fed with whole tables (DataFrames) at once: the figures of a result built from tables."""
        stream = cls.for_scenario(scenario, window)
        for name in ("incidents", "stages", "alerts", "units", "cells"):
            frame = tables[name]
            stream.write(
                name, {c: frame[c] for c in frame.columns} if name in ("incidents", "stages", "alerts") else frame
            )
        stream.close()
        return stream

    def resolution_curves(self, max_lines: int = 8) -> list[tuple[str, int, np.ndarray, np.ndarray]]:
        """Share resolved against hours since occurrence (Kaplan-Meier, open cases censored), per incident type.

        The ``max_lines - 1`` most frequent types get a curve each, the rest one curve ``other types``.

        Returns:
            ``(label, incidents, hours, share resolved)`` per curve, at the bins' upper edges.
        """
        r = _Reader(self)
        rows = [self.offsets["type"] + i for i in range(len(self.types))]
        order = sorted((g for g in rows if self.incidents[g] > 0), key=lambda g: -self.incidents[g])
        groups = [([g], self.types[g - self.offsets["type"]]) for g in order[: max_lines - 1]]
        if len(order) >= max_lines:
            groups.append((order[max_lines - 1 :], "other types"))
        km = self.km["resolution"]
        out = []
        for members, label in groups:
            followed = max(r.curve("resolution", g).followed for g in members)
            curve = type(r.curve("resolution"))(
                self.bins.edges, km["events"][members].sum(0), km["censored"][members].sum(0), 0, followed
            )
            finite = np.isfinite(curve.edges) & (curve.edges > 0) & (curve.edges <= curve.followed)
            out.append((label, curve.n, curve.edges[finite] / 60.0, 1.0 - curve.survival[finite]))
        return out

    # ------------------------------------------------------------------ the sink
    def write(self, name: str, data) -> None:
        """Add one write of a table's rows (a dict of columns, or an Arrow table)."""
        if name == "incidents":
            self._settle()
            self._pending = Chunk(data) if _rows(data) else None
        elif name == "stages":
            chunk = Chunk(data) if _rows(data) else None
            if chunk is not None:
                self.stage_rows += np.bincount(np.maximum(chunk.codes("stage", STAGES), 0), minlength=len(STAGES))
            self._settle(chunk)
        elif name == "alerts":
            self._settle()
            if _rows(data):
                self._alerts(Chunk(data))
        elif name in self.small:
            self._settle()
            self.small[name].append(data)

    def close(self) -> None:
        self._settle()
        self.closed = True

    def cut(self, window: Window) -> None:
        """The run was cut short (between days): its cases still open are censored at the new horizon.

        Rows counted before the cut that were open when written (incidents never detected are written
        as they occur) were censored at the old horizon: a cut run's metrics are recounted from its
        tables for the shorter window (:func:`citysim.metrics.folder.stream_of_folder`), as a run of
        that window would count them.
        """
        self._settle()
        self.window, self.horizon = window, window.horizon_min

    def metrics(self, scenario=None, regime=None) -> dict:
        """Every metric of the run, as :func:`citysim.metrics.compute_metrics` gives them (``metrics.json``)."""
        self._settle()
        return assemble(self, scenario, regime)

    # ------------------------------------------------------------------ incidents
    def _settle(self, stages: Chunk | None = None) -> None:
        """Count the pending incidents, with their stages (they are written together)."""
        if self._pending is not None:
            self._incidents(self._pending, stages)
            self._pending = None

    def _groups(self, c: Chunk) -> np.ndarray:
        """Per incident, its groups: overall, type, cohort, district kind (``[4, n]``, -1: none)."""
        t = c.codes("type", self.types)
        co = c.codes("cohort", self.cohorts)
        k = c.codes("district_kind", self.kinds)
        o = self.offsets
        return np.stack(
            [
                np.zeros(len(c), np.int64),
                np.where(t >= 0, t + o["type"], -1),
                np.where(co >= 0, co + o["cohort"], -1),
                np.where(k >= 0, k + o["district_kind"], -1),
            ]
        )

    def _incidents(self, c: Chunk, stages: Chunk | None) -> None:
        h = self.horizon
        groups = self._groups(c)
        n = len(c)
        type_code = groups[1] - self.offsets["type"]
        times = np.stack([c.floats(col) for col in TIMES])
        occurred, detected, resolved, dispatched_at, _ = times
        gave_up = c.bools("gave_up") if "gave_up" in c else np.zeros(n, dtype=bool)  # never resolved, never censored
        cell = c.floats("cell").astype(np.int64)
        top = int(cell.max()) + 1
        if top > len(self.unmet_cell):
            self.unmet_cell = np.concatenate([self.unmet_cell, np.zeros(top - len(self.unmet_cell))])
        # counts, firsts, the Kaplan-Meier clocks (as citysim.metrics.survival.clock_survival and met_survival),
        # response times (as response_times) and unmet need per cell (as unmet_need_by_cell), in one pass
        spans = spans_of(times, float(h))
        open_short = np.zeros(n, dtype=bool)
        flags = np.stack([gave_up, c.bools("closed_unmet")])
        inputs = (groups, times, spans, logs(spans), flags, cell, float(h), WEEK_MIN, ENDS, MEASURED, self.bins.tables)
        incident_pass(*inputs, self._passed, self.unmet_cell[:top], open_short)
        if open_short.any():
            self.open_short.append((cell[open_short], spans[2][open_short]))

        status = c.codes("status", STATUSES)
        self.status += np.bincount(status[status >= 0], minlength=len(STATUSES))
        self.tally["open"] += int(np.isnan(resolved).sum())
        detected_ok = status != STATUSES.index("undetected")
        self.by_type["detected"] += np.bincount(type_code[detected_ok & (type_code >= 0)], minlength=len(self.types))
        by = c.codes("detected_by", DETECTED_BY)
        self.detected_by += np.bincount(by[by >= 0], minlength=len(DETECTED_BY))
        channel = c.codes("channel", CHANNELS)
        self.channel += np.bincount(channel[channel >= 0], minlength=len(CHANNELS))
        self._hazards(c, type_code, detected)
        self._cost(c, channel, detected, dispatched_at)
        self._chains(c, type_code, by)
        self._decompose(c, stages, type_code, status, occurred, detected, resolved, dispatched_at)
        self.calls.add(c, stages)

    def _per_type(self, key: str, type_code: np.ndarray, mask: np.ndarray) -> None:
        sel = mask & (type_code >= 0)
        self.by_type[key] += np.bincount(type_code[sel], minlength=len(self.types))

    def _hazards(self, c: Chunk, type_code: np.ndarray, detected: np.ndarray) -> None:
        hazard = c.bools("hazard")
        due = c.floats("harm_due_at")
        harmed = ~np.isnan(c.floats("harmed_at"))
        known = hazard & (due <= self.horizon)
        self._per_type("hazards", type_code, hazard)
        self._per_type("harmed", type_code, hazard & harmed)
        self._per_type("known_hazards", type_code, known)
        self._per_type("warned", type_code, known & (detected < due))
        self._per_type("averted", type_code, known & ~harmed)

    def _cost(self, c: Chunk, channel: np.ndarray, detected: np.ndarray, dispatched_at: np.ndarray) -> None:
        missing = np.full(len(c), np.nan)  # a table written before calls were counted
        calls, hung_up = (c.floats(col) if col in c else missing for col in ("calls", "hung_up"))
        sums = _cost_tally(channel, _HOTLINE, CHANNELS.index("phone"), detected, dispatched_at, calls, hung_up,
                           c.floats("transfers"), c.floats("reopened"))  # fmt: skip
        for key, value in zip(_COST_KEYS, sums.tolist(), strict=True):
            self.tally[key] += value

    def _chains(self, c: Chunk, type_code: np.ndarray, detected_by: np.ndarray) -> None:
        for name, spec in CHAIN_TARGETS.items():
            if spec["type"] not in self.types:
                continue
            mask = type_code == self.types.index(spec["type"])
            for col, value in spec.get("where", {}).items():
                if col != "detected_by":
                    raise ValueError(f"chain {name}: streamed chains filter on detected_by only, not {col}")
                mask &= detected_by == DETECTED_BY.index(value)
            start = c.floats(spec.get("from", "detected_at"))
            mask &= ~np.isnan(start)
            if not mask.any():
                continue
            out = self.chains[name]
            out["n"] += int(mask.sum())
            every = mask.copy()
            for step, (col, limit) in spec["within"].items():
                ok = mask & ((c.floats(col) - start) <= limit)
                out["steps"][step] += int(ok.sum())
                every &= ok
            out["all"] += int(every.sum())

    def _decompose(self, c, stages, type_code, status, occurred, detected, resolved, dispatched_at) -> None:
        """Where the time of resolved, dispatched incidents went (as citysim.metrics.response.stage_minutes)."""
        dispatched = ~np.isnan(dispatched_at)
        keep = (status == STATUSES.index("resolved")) & dispatched
        if stages is not None:
            row = c.rows_of("id", stages.floats("incident_id"))  # each stage row's incident (-1: none)
            handoff = stages.codes("stage", STAGES) == STAGES.index("handoff_wait")
            self.tally["handoffs"] += int((handoff & (row >= 0) & dispatched[row]).sum())
        if not keep.any():
            return
        kept = np.flatnonzero(keep)
        kept = kept[np.argsort(c.floats("id")[kept], kind="stable")]  # in id order
        parts = np.zeros((len(kept), len(COMPONENTS) - 1))
        if stages is not None and len(stages):
            position = np.full(len(c) + 1, -1, dtype=np.int64)  # incident row -> position in kept (last: none)
            position[kept] = np.arange(len(kept))
            key = position[row]
            times = (stages.floats(col) for col in ("queued_at", "started_at", "ended_at"))
            attempt = stages.floats("attempt")
            parts = stage_parts(key, stages.codes("stage", STAGE_NAMES), attempt, *times, resolved[kept])
        tc = type_code[kept]
        _add_rows(self.decomposition, tc, detected[kept] - occurred[kept], parts, resolved[kept] - occurred[kept])
        self.by_type["decomposed"] += np.bincount(tc[tc >= 0], minlength=len(self.types))

    def _alerts(self, c: Chunk) -> None:
        truth = c.bools("true_alarm")
        self.alerts["true"] += int(truth.sum())
        self.alerts["false"] += int((~truth).sum())
        outcome = c.codes("outcome", OUTCOMES)
        self.alerts["by_outcome"] += np.bincount(outcome[outcome >= 0], minlength=len(OUTCOMES))


def _add_rows_numpy(into, at, first, middle, last) -> None:
    """``into[at[i]] += [first[i], *middle[i], last[i]]`` for each row ``i`` with ``at[i] >= 0``, in row order
    (column by column: the same additions)."""
    ok = at >= 0
    np.add.at(into[:, 0], at[ok], first[ok])
    for j in range(middle.shape[1]):
        np.add.at(into[:, 1 + j], at[ok], middle[ok, j])
    np.add.at(into[:, -1], at[ok], last[ok])


_add_rows = compiled_or("add_rows", _add_rows_numpy, module="citysim.metrics._kernels")

_COST_KEYS = (
    "items",
    "items_phone",
    "phone_calls",
    "phone_hung_up",
    "items_dispatched",
    "detected",
    "detected_dispatched",
    "transfers_detected",
    "transfers_dispatched",
    "reopened",
    "dispatched",
)
_HOTLINE = np.array([ch in HOTLINE_CHANNELS for ch in CHANNELS])  # per channel code, whether a hotline counts it


def _cost_tally_numpy(channel, hotline, phone, detected, dispatched_at, calls, hung_up, transfers, reopened):
    """One write's sums of :data:`_COST_KEYS` (hotline items, their calls and hang-ups, dispatches, transfers,
    reopenings; NaN counts as 0). Every value summed is a whole number: the sums are exact in any order."""
    items = (channel >= 0) & hotline[np.maximum(channel, 0)]
    phone = channel == phone
    dispatched = ~np.isnan(dispatched_at)
    seen = ~np.isnan(detected)
    transfers = np.nan_to_num(transfers)
    return np.array(
        [
            items.sum(),
            (items & phone).sum(),
            np.nan_to_num(calls)[phone].sum(),
            np.nan_to_num(hung_up)[phone].sum(),
            (items & dispatched).sum(),
            seen.sum(),
            (seen & dispatched).sum(),
            transfers[seen].sum(),
            transfers[seen & dispatched].sum(),
            (np.nan_to_num(reopened)[seen] > 0).sum(),
            dispatched.sum(),
        ],
        dtype=np.float64,
    )


_cost_tally = compiled_or("cost_tally", _cost_tally_numpy, module="citysim.metrics._kernels")


def _rows(data) -> int:
    """Rows in one write (a dict of columns or an Arrow table)."""
    if hasattr(data, "num_rows"):
        return data.num_rows
    first = next(iter(data.values()), None)
    return 0 if first is None else len(first.codes if isinstance(first, Codes) else first)
