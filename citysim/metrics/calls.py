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

from citysim.compiled import compiled_or
from citysim.events import STAGES
from citysim.lookup import one_of
from citysim.metrics.calibration import CHANNELS
from citysim.metrics.chunk import Chunk
from citysim.scenario import DISTRICT_KINDS

__all__ = ["LINE_KINDS", "CallCounts"]

LINE_KINDS = {"city_intake": "unified", "hotline": "department", "emergency_line": "emergency"}
"""Unit kinds that are phone lines, and the name of each kind of line."""

LINES = tuple(LINE_KINDS.values())
_CALL_STAGES = np.array([STAGES.index("intake"), STAGES.index("transfer")], dtype=np.int64)
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
        self._lines: tuple[object, np.ndarray] | None = None  # (unit names, line of each name)

    def add(self, incidents: Chunk, stages: Chunk | None) -> None:
        """Count one write of incidents with their stages."""
        if not len(incidents) or "calls" not in incidents or stages is None or not len(stages):
            return
        phone = incidents.codes("channel", CHANNELS) == CHANNELS.index("phone")
        items = np.flatnonzero(phone & (np.nan_to_num(incidents.floats("calls")) > 0))  # their incident rows
        if not len(items):
            return
        facts = np.stack(
            [
                incidents.codes("cohort", self.names["cohort"])[items],
                incidents.codes("district_kind", self.names["district_kind"])[items],
                (np.nan_to_num(incidents.floats("hung_up")) > 0)[items],
                incidents.bools("gave_up")[items],
            ]
        )
        item_of = np.full(len(incidents) + 1, -1, dtype=np.int64)  # incident row -> item (last: no incident)
        item_of[items] = np.arange(len(items))
        row = incidents.rows_of("id", stages.floats("incident_id"))  # each stage row's incident (-1: none)
        times = (stages.floats(col) for col in ("queued_at", "started_at", "ended_at"))
        unit, lines = self._unit_lines(stages)
        stage = stages.codes("stage", STAGES)
        o = self.offsets
        offsets = np.array([o["line"], o["cohort"], o["district_kind"], o["hour"]], dtype=np.int64)
        _count_calls(self.counts, offsets, row, item_of, stage, unit, lines, *times, facts, _CALL_STAGES, _REDIAL)

    def _unit_lines(self, stages: Chunk) -> tuple[np.ndarray, np.ndarray]:
        """Per stage row, its unit's code, and per unit code the kind of phone line it is (index into ``LINES``;
        -1: not a line; the last entry: no unit).

        A run's stages share one list of unit names: each name is looked at once, not once per write.
        """
        names, codes = stages.names_and_codes("unit")
        if self._lines is None or self._lines[0] is not names:
            kinds = [LINES.index(LINE_KINDS[kind]) if (kind := _unit_kind(n)) in LINE_KINDS else -1 for n in names]
            self._lines = (names, np.array([*kinds, -1], dtype=np.int64))
        return codes, self._lines[1]

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


def _count_calls_numpy(
    counts, offsets, row, item_of, stage, unit, lines, queued, started, ended, facts, call_stages, redial
) -> None:
    """Add calls and items to ``counts`` (columns: calls, answered, hung up; items, items hung up, redials, gave up).

    Args:
        offsets: the first group of lines, cohorts, district kinds and hours.
        row, item_of: per stage row, its incident row (-1: none); per incident row, its phone item (-1: none; the
            last: no incident).
        stage, unit: per stage row, its stage (index into ``STAGES``) and unit code.
        lines: per unit code, its kind of line (-1: not a line; the last: no unit).
        queued, started, ended: per stage row, its times.
        facts: per item, its cohort, district kind (-1: none), whether it hung up, whether it gave up.
        call_stages, redial: the stages that are calls (intake, transfer) and a wait to redial.

    An item's line and hour are its first call's (in row order). The counts are integers: any order of
    additions gives them (``citysim.metrics._kernels.count_calls`` adds them in one pass).
    """
    item = item_of[row]
    mine = np.flatnonzero(item >= 0)  # the stage rows of phone items
    item, stage = item[mine], stage[mine]
    codes = unit[mine]
    line = lines[np.where(codes >= 0, codes, len(lines) - 1)]
    q, s, e = queued[mine], started[mine], ended[mine]
    cohort, kind, hung_items, gave_up = facts
    call = one_of(stage, call_stages) & (line >= 0)
    redials = np.bincount(item[(stage == redial) & ~np.isnan(e)], minlength=len(cohort))
    calls = np.flatnonzero(call)
    answered, hung = ~np.isnan(s[calls]), np.isnan(s[calls]) & ~np.isnan(e[calls])
    item, line = item[calls], line[calls]
    hour = (np.nan_to_num(q[calls]) // 60 % 24).astype(np.int64)
    first = np.full(len(cohort), -1, dtype=np.int64)  # each item's first call (in calls)
    _, at = np.unique(item, return_index=True)
    first[item[at]] = at
    has = first >= 0

    o_line, o_cohort, o_kind, o_hour = offsets
    call_groups = [
        np.zeros(len(calls), dtype=np.int64),
        line + o_line,
        _shift(cohort[item], o_cohort),
        _shift(kind[item], o_kind),
        _shift(hour, o_hour),
    ]
    item_groups = [
        np.zeros(len(cohort), dtype=np.int64),
        np.where(has, _shift(line[first], o_line), -1),
        _shift(cohort, o_cohort),
        _shift(kind, o_kind),
        np.where(has, _shift(hour[first], o_hour), -1),
    ]
    _add_counts(counts, 0, call_groups, [np.ones(len(calls), dtype=bool), answered, hung])
    _add_counts(counts, len(_CALL_COLS), item_groups, [np.ones(len(cohort), dtype=bool), hung_items, redials, gave_up])


_count_calls = compiled_or("count_calls", _count_calls_numpy, module="citysim.metrics._kernels")


def _add_counts(counts: np.ndarray, col: int, groups: list[np.ndarray], values: list[np.ndarray]) -> None:
    """``counts[g, col + j] += values[j][r]`` for each row ``r`` and each of its ``groups[:][r]`` >= 0."""
    g = np.concatenate(groups)
    ok = g >= 0
    for j, v in enumerate(values):
        weights = np.tile(np.asarray(v, dtype=np.int64), len(groups))[ok]
        counts[:, col + j] += np.bincount(g[ok], weights=weights, minlength=len(counts)).astype(np.int64)


def _shift(codes: np.ndarray, offset: int) -> np.ndarray:
    return np.where(codes >= 0, codes + offset, -1)


def _unit_kind(name) -> str | None:
    """The kind of unit a unit's name starts with (``hotline:water@Yubei``: hotline; None: not a name)."""
    return name.split(":")[0].split("@")[0] if isinstance(name, str) else None
