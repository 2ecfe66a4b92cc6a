"""Calls: how often a resident who phones gets through (接通率), hangs up, redials or gives up.

A *call* is one try on a phone line (the city hotline, a department's own hotline,
an emergency line): the resident's first call about a problem, a call to another
department's hotline it was sent on to, and every redial after hanging up. From
the ``stages`` table: a try whose ``started_at`` is set was answered; one with no
``started_at`` but an ``ended_at`` was hung up on (the resident's patience ran
out first); one with neither is still on hold at the end of the run (left out of
the shares). Every share is over phone items, the incidents first reported by
phone (what a hotline counts), in the measurement window.

* ``connection_rate``: answered calls / calls answered or hung up on;
* ``abandonment_share``: calls hung up on / calls answered or hung up on;
* ``items_hung_up_share``: items whose resident hung up at least once;
* ``redials_per_item``: redials placed / items;
* ``given_up_share``: items whose resident hung up and did not call again: a need
  given up, never met (counted so in coverage and inclusion, never censored).

By line and by hour, calls count where and when each was placed, items by their
first call. Every figure is a ratio of counts: :class:`CallCounts` adds them up one
write of rows at a time, so the figures of a run streamed day by day
(:mod:`citysim.metrics.stream`) are those of its whole tables, exactly.
"""

from __future__ import annotations

import numpy as np

from citysim.events import STAGES
from citysim.metrics.calibration import CHANNELS
from citysim.metrics.chunk import Chunk
from citysim.scenario import DISTRICT_KINDS

__all__ = ["LINE_KINDS", "CallCounts"]

LINE_KINDS = {"city_intake": "unified", "hotline": "department", "emergency_line": "emergency"}
"""Unit kinds that are phone lines, and the name of each kind of line."""

LINES = tuple(LINE_KINDS.values())
_CALL_STAGES = [STAGES.index("intake"), STAGES.index("transfer")]
_REDIAL = STAGES.index("redial_wait")
_CALL_COLS = ("calls", "answered", "hung_up")
_ITEM_COLS = ("items", "items_hung_up", "redials", "gave_up")


class CallCounts:
    """Calls and phone items counted by group: overall, line, cohort, district kind and hour of the day.

    Args:
        cohorts: the cohorts' names (any order: figures are keyed by name).
    """

    def __init__(self, cohorts: list[str]) -> None:
        self.names = {"line": list(LINES), "cohort": list(cohorts), "district_kind": list(DISTRICT_KINDS)}
        self.names["hour"] = list(range(24))
        self.offsets, start = {}, 1
        for by, names in self.names.items():
            self.offsets[by] = start
            start += len(names)
        self.counts = np.zeros((start, len(_CALL_COLS) + len(_ITEM_COLS)), dtype=np.int64)

    def add(self, incidents: Chunk, stages: Chunk | None) -> None:
        """Count one write of incidents with their stages."""
        if not len(incidents) or "calls" not in incidents or stages is None or not len(stages):
            return
        phone = incidents.codes("channel", CHANNELS) == CHANNELS.index("phone")
        items = phone & (np.nan_to_num(incidents.floats("calls")) > 0)
        if not items.any():
            return
        ids = incidents.floats("id").astype(np.int64)[items]
        order = np.argsort(ids)
        ids = ids[order]
        cohort = incidents.codes("cohort", self.names["cohort"])[items][order]
        kind = incidents.codes("district_kind", self.names["district_kind"])[items][order]
        hung_items = (np.nan_to_num(incidents.floats("hung_up")) > 0)[items][order]
        gave_up = incidents.bools("gave_up")[items][order]

        sid = stages.floats("incident_id").astype(np.int64)
        pos = np.minimum(np.searchsorted(ids, sid), len(ids) - 1)
        mine = ids[pos] == sid  # a stage row of a phone item
        stage = stages.codes("stage", STAGES)
        line = _lines(stages)
        q, s, e = (stages.floats(col) for col in ("queued_at", "started_at", "ended_at"))
        call = mine & np.isin(stage, _CALL_STAGES) & (line >= 0)
        answered = call & ~np.isnan(s)
        hung = call & np.isnan(s) & ~np.isnan(e)
        redial = mine & (stage == _REDIAL) & ~np.isnan(e)
        hour = np.where(call, (np.nan_to_num(q) // 60 % 24).astype(np.int64), -1)
        redials = np.bincount(pos[redial], minlength=len(ids))
        first = np.full(len(ids), -1, dtype=np.int64)  # each item's first call (row)
        rows = np.flatnonzero(call)
        _, at = np.unique(pos[rows], return_index=True)
        first[pos[rows[at]]] = rows[at]
        has = first >= 0

        call_values = np.column_stack([call, answered, hung]).astype(np.int64)
        item_values = np.column_stack([np.ones(len(ids)), hung_items, redials, gave_up]).astype(np.int64)
        n_calls = len(_CALL_COLS)
        o = self.offsets
        call_groups = {
            "": np.zeros(len(sid), dtype=np.int64),
            "line": np.where(line >= 0, line + o["line"], -1),
            "cohort": _shift(cohort[pos], o["cohort"]),
            "district_kind": _shift(kind[pos], o["district_kind"]),
            "hour": _shift(hour, o["hour"]),
        }
        item_groups = {
            "": np.zeros(len(ids), dtype=np.int64),
            "line": np.where(has, _shift(line[first], o["line"]), -1),
            "cohort": _shift(cohort, o["cohort"]),
            "district_kind": _shift(kind, o["district_kind"]),
            "hour": np.where(has, _shift(hour[first], o["hour"]), -1),
        }
        for by in call_groups:
            self._add(call_groups[by], call_values, call, 0)
            self._add(item_groups[by], item_values, np.ones(len(ids), dtype=bool), n_calls)

    def _add(self, group: np.ndarray, values: np.ndarray, rows: np.ndarray, col: int) -> None:
        ok = rows & (group >= 0)
        for j in range(values.shape[1]):
            self.counts[:, col + j] += np.bincount(group[ok], weights=values[ok, j], minlength=len(self.counts)).astype(
                np.int64
            )

    def _stats(self, g: int) -> dict:
        calls, answered, hung_up, items, items_hung, redials, gave_up = (int(x) for x in self.counts[g])
        decided = answered + hung_up
        return {
            "calls": calls,
            "answered": answered,
            "hung_up": hung_up,
            "connection_rate": answered / decided if decided else np.nan,
            "abandonment_share": hung_up / decided if decided else np.nan,
            "items": items,
            "items_hung_up_share": items_hung / items if items else np.nan,
            "redials_per_item": redials / items if items else np.nan,
            "given_up_share": gave_up / items if items else np.nan,
        }

    def block(self) -> dict:
        """The ``calls`` block of ``metrics.json``: ``overall`` and ``by_line``, ``by_cohort``,
        ``by_district_kind``, ``by_hour`` (groups with at least one call)."""
        out = {"overall": self._stats(0)}
        for by, names in self.names.items():
            o = self.offsets[by]
            out[f"by_{by}"] = {
                str(name): self._stats(o + i) for i, name in enumerate(names) if self.counts[o + i, 0] > 0
            }
        return out

    def line_rates(self) -> dict[str, float]:
        """Connection rate of each kind of line (NaN for a line the regime does not have)."""
        return {line: self._stats(self.offsets["line"] + i)["connection_rate"] for i, line in enumerate(LINES)}


def _shift(codes: np.ndarray, offset: int) -> np.ndarray:
    return np.where(codes >= 0, codes + offset, -1)


def _lines(stages: Chunk) -> np.ndarray:
    """Per stage row, the kind of phone line that served it (index into ``LINES``; -1: not a line)."""
    names, codes = stages.names_and_codes("unit")
    kinds = [LINES.index(LINE_KINDS[n.split(":")[0].split("@")[0]]) if _is_line(n) else -1 for n in names]
    lut = np.array([*kinds, -1], dtype=np.int64)
    return lut[np.where(codes >= 0, codes, len(lut) - 1)]


def _is_line(name) -> bool:
    return isinstance(name, str) and name.split(":")[0].split("@")[0] in LINE_KINDS
