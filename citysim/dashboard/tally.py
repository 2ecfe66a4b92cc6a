"""Hourly tallies: what the dashboard keeps of a live run instead of every incident.

A running :class:`~citysim.model.CityModel` writes each incident out once its
story has ended (see :mod:`citysim.events`). :class:`Tally` is the sink it
writes to: it folds each incident into *hourly bins* of the moments that
happened to it (occurred, detected, resolved, need met, harmed, transferred)
and forgets the rows. Incidents still open are folded afresh at each look
(:meth:`Bins.add_incidents` on the model's live state), so the cumulative sum
of the bins up to an hour is what the city had done by then, whether that
hour is now or was replayed. Memory is the bins (a few floats per simulated
hour), per-cell counts and the stories of the few incidents the page follows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from citysim.events import STAGES, STATUSES

__all__ = ["Bins", "Story", "Tally", "incident_columns", "story_from_rows"]

HOUR_MIN = 60.0
"""A dashboard step: one simulated hour."""

_RESOLVED = STATUSES.index("resolved")
_TRANSFER = STAGES.index("transfer")
_TIMES = ("queued_at", "started_at", "ended_at")
_COUNTS = ("occurred", "detected", "resolved", "resolve_min", "met", "harmed", "transfers")


def incident_columns(rows: dict) -> dict[str, np.ndarray]:
    """The incidents-table columns the tallies need, as plain arrays (codes for names)."""
    codes = {name: rows[name].codes for name in ("type", "cohort", "status")}
    plain = ("id", "cell", "occurred_at", "detected_at", "resolved_at", "harmed_at", "closed_unmet", "severity")
    return {**codes, **{name: np.asarray(rows[name]) for name in plain}}


class Bins:
    """Counts per simulated hour since the dashboard's start (and per cohort where it matters).

    Args:
        start_min: the minute the dashboard starts (the end of the warm-up).
        first_id: the first incident occurring after the start (earlier ones are the warm-up's).
        n_hours: hours the bins cover.
        n_cohorts: resident cohorts.
    """

    def __init__(self, start_min: float, first_id: int, n_hours: int, n_cohorts: int) -> None:
        self.start_min = start_min
        self.first_id = first_id
        self.n_hours = n_hours
        self.count = {name: np.zeros(n_hours) for name in _COUNTS}
        self.occurred_by_cohort = np.zeros((n_hours, n_cohorts))
        self.met_by_cohort = np.zeros((n_hours, n_cohorts))

    def _hour(self, minutes: np.ndarray) -> np.ndarray:
        return np.clip(((minutes - self.start_min) // HOUR_MIN).astype(np.int64), 0, self.n_hours - 1)

    def _add(self, name: str, minutes: np.ndarray, weights: np.ndarray | None = None) -> None:
        ok = ~np.isnan(minutes)
        w = None if weights is None else weights[ok]
        self.count[name] += np.bincount(self._hour(minutes[ok]), weights=w, minlength=self.n_hours)

    def add_incidents(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        """Fold incidents (those occurring since the start) into the bins; returns which were kept."""
        keep = cols["id"] >= self.first_id
        occurred = cols["occurred_at"][keep]
        resolved = cols["resolved_at"][keep]
        cohort = cols["cohort"][keep]
        # a need is met when the case is resolved and not closed prematurely (as citysim.metrics.inclusion.met_mask)
        met = (cols["status"][keep] == _RESOLVED) & ~cols["closed_unmet"][keep].astype(bool)
        self._add("occurred", occurred)
        self._add("detected", cols["detected_at"][keep])
        self._add("resolved", resolved)
        self._add("resolve_min", resolved, resolved - occurred)
        self._add("met", np.where(met, resolved, np.nan))
        self._add("harmed", cols["harmed_at"][keep])
        np.add.at(self.occurred_by_cohort, (self._hour(occurred), cohort), 1.0)
        np.add.at(self.met_by_cohort, (self._hour(resolved[met]), cohort[met]), 1.0)
        return keep

    def add_transfers(self, stages: dict) -> None:
        """Fold the transfers among stage rows (when each was passed on) into the bins."""
        sel = (stages["stage"].codes == _TRANSFER) & (np.asarray(stages["incident_id"]) >= self.first_id)
        self._add("transfers", np.asarray(stages["queued_at"])[sel])


@dataclass
class Story:
    """One incident followed through its stages (as known at a moment)."""

    id: int
    type: str
    cohort: str
    district: str
    street: int
    cell: int
    severity: int
    hazard: bool
    occurred_at: float
    detected_at: float
    detected_by: str | None
    channel: str | None
    intake_at: float
    transfers: int
    dispatched_at: float
    level: str | None
    arrived_at: float
    resolved_at: float
    harm_due_at: float
    harmed_at: float
    status: str
    closed_unmet: bool
    stages: list[tuple[str, str, float, float, float]] = field(
        default_factory=list
    )  # stage, unit, queued, started, ended


def _value(column, i: int):
    if hasattr(column, "codes"):
        code = int(column.codes[i])
        return column.names[code] if code >= 0 else None
    value = column[i]
    return value.item() if hasattr(value, "item") else value


def story_from_rows(incidents: dict, stages: dict, index: int) -> Story:
    """The story of the incident at ``index`` of an incidents-rows dict, with its stage rows."""
    values = {name: _value(incidents[name], index) for name in Story.__dataclass_fields__ if name != "stages"}
    sel = np.flatnonzero(np.asarray(stages["incident_id"]) == values["id"])
    steps = [
        (_value(stages["stage"], i), _value(stages["unit"], i), *(float(stages[c][i]) for c in _TIMES)) for i in sel
    ]
    steps.sort(key=lambda s: (s[2], s[3]))
    return Story(**values, stages=steps)


class Tally:
    """The sink a dashboard's model writes to: bins, per-cell unmet need and watched stories, no rows.

    Args:
        start_min, first_id, n_hours, n_cohorts: as for :class:`Bins`.
        n_cells: the city's grid cells.
    """

    def __init__(self, start_min: float, first_id: int, n_hours: int, n_cohorts: int, n_cells: int) -> None:
        self.bins = Bins(start_min, first_id, n_hours, n_cohorts)
        self.unmet_by_cell = np.zeros(n_cells)
        self.watched: set[int] = set()
        self.stories: dict[int, Story] = {}
        self._incidents: dict | None = None

    def write(self, name: str, data: dict) -> None:
        """Fold a part of a table the model writes out (incidents, then their stages)."""
        if name == "incidents":
            cols = incident_columns(data)
            keep = self.bins.add_incidents(cols)
            met = (cols["status"] == _RESOLVED) & ~cols["closed_unmet"].astype(bool)
            np.add.at(self.unmet_by_cell, cols["cell"][keep & ~met], 1.0)
            self._incidents = data
        elif name == "stages":
            self.bins.add_transfers(data)
            incidents, self._incidents = self._incidents, None
            if incidents is not None and self.watched:
                ids = np.asarray(incidents["id"])
                for i in np.flatnonzero(np.isin(ids, list(self.watched))):
                    self.stories[int(ids[i])] = story_from_rows(incidents, data, int(i))

    def close(self) -> None:
        """Nothing to close: the tallies stay readable."""

    def keep_only(self, ids: set[int]) -> None:
        """Follow only these incidents from now on (and forget the stories of the others)."""
        self.watched &= ids
        self.stories = {i: s for i, s in self.stories.items() if i in ids}
