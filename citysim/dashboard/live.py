"""One city run live, an hour at a time: the adapter between the model and the page.

:class:`LiveCity` owns a :class:`~citysim.model.CityModel` that writes to a
:class:`~citysim.dashboard.tally.Tally` (hourly bins, no rows), advances its
clock with :meth:`~citysim.model.CityModel.run_to`, and answers
:meth:`LiveCity.look`: everything the page draws at this moment (cumulative
series, counters, open cases per cell, the stories of followed incidents).
The page reads the model only through here; no model logic lives here either,
only reading and adding up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from citysim.dashboard.tally import HOUR_MIN, Bins, Story, Tally, incident_columns, story_from_rows
from citysim.model import CityModel
from citysim.processes.occurrence import DAY_MIN
from citysim.regimes import Regime
from citysim.scenario import Scenario
from citysim.window import Window

__all__ = ["HORIZON_DAYS", "LiveCity", "Look", "warmup_days"]

HORIZON_DAYS = 366
"""How long after its start a dashboard can run (a simulated year)."""

NOTABLE_SEVERITY = 3
"""Incidents at least this severe (hazards, vulnerable residents' needs, unsafe housing) are followed."""


def warmup_days(scenario: Scenario) -> int:
    """Days simulated before the dashboard starts: the scenario's warm-up (the one place it is read)."""
    return scenario.warmup_days


@dataclass
class Look:
    """A city at one moment: all the page draws of it.

    Attributes:
        now_min: the clock, minutes since the run began.
        hours: whole hours since the dashboard's start.
        series: per hour since the start (index 0 = the first hour), cumulative: ``incidents``,
            ``detected``, ``resolved``, ``harmed``, ``transfers``; ``mean_resolve_h`` (occurrence to
            resolution over the cases resolved so far, hours) and ``detected_share`` (coverage).
        met_share: [hour, cohort] share of each cohort's incidents so far whose need was met.
        open_by_cell: incidents occurred and not resolved now, per grid cell.
        unmet_by_cell: incidents since the start whose need went unmet (never found, closed
            unresolved or harmed), per grid cell.
        stories: the followed incidents that have occurred, by id.
    """

    now_min: float
    hours: int
    series: dict[str, np.ndarray]
    met_share: np.ndarray
    open_by_cell: np.ndarray
    unmet_by_cell: np.ndarray
    stories: dict[int, Story]

    def counter(self, name: str) -> float:
        """The latest value of a series (0 before the first hour)."""
        values = self.series[name]
        return float(values[-1]) if len(values) else 0.0


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


class LiveCity:
    """A city under one regime, started after its warm-up and stepped an hour at a time.

    Args:
        scenario: the scenario.
        regime: its lever values.
        seed: the run's seed (the same seed gives the same incidents under every regime).
    """

    def __init__(self, scenario: Scenario, regime: Regime, seed: int) -> None:
        self.start_min = warmup_days(scenario) * DAY_MIN
        n_cohorts, n_hours = len(scenario.cohorts), HORIZON_DAYS * 24
        self.tally = Tally(self.start_min, np.iinfo(np.int64).max, n_hours, n_cohorts, 0)
        # the window is everything after the warm-up, up to a year (no follow-up: nothing is censored early)
        window = Window(days=HORIZON_DAYS, warmup_days=warmup_days(scenario))
        self.model = CityModel(scenario, regime, seed=seed, window=window, sink=self.tally)
        self.model.run_to(self.start_min)
        # count from the first incident after the warm-up on
        self.first_id = self.model.next_id
        self.tally.bins.first_id = self.first_id
        self.tally.unmet_by_cell = np.zeros(self.model.city.n_cells)
        self._days_seen = self.model.day - 1
        self._severity = np.array([t.severity for t in scenario.incident_types.values()])

    @property
    def regime(self) -> Regime:
        return self.model.regime

    @property
    def hours(self) -> int:
        """Whole hours since the start."""
        return int((self.model.now - self.start_min) // HOUR_MIN)

    @property
    def finished(self) -> bool:
        """Whether the clock has reached the end of what a dashboard can run."""
        return self.model.now >= self.model.horizon

    def step(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Run the clock one hour on.

        Returns:
            For each day begun on the way: its notable incidents' ids, severities and occurrence times.
        """
        self.model.run_to(self.model.now + HOUR_MIN)
        begun = []
        for cd in self.model.active:
            inc = cd.incidents
            if getattr(cd, "is_carry", False) or inc.day <= self._days_seen:
                continue
            self._days_seen = inc.day
            severity = self._severity[inc.type]
            notable = severity >= NOTABLE_SEVERITY
            begun.append((inc.ids[notable], severity[notable], inc.occurred_at[notable]))
        return begun

    def watch(self, ids) -> None:
        """Follow these incidents: keep their stories when they are written out."""
        self.tally.watched.update(int(i) for i in ids)

    def look(self) -> Look:
        """Everything the page draws of this city now."""
        model, tally = self.model, self.tally
        now, hours = model.now, self.hours
        live = Bins(self.start_min, self.first_id, hours + 1, tally.bins.occurred_by_cohort.shape[1])
        open_by_cell = np.zeros(model.city.n_cells)
        unmet_by_cell = tally.unmet_by_cell.copy()
        stories = {i: s for i, s in tally.stories.items() if s.occurred_at <= now}
        for incidents, stages in model.live_rows():
            cols = incident_columns(incidents)
            happened = (cols["occurred_at"] <= now) & (cols["id"] >= self.first_id)
            if not happened.any():
                continue
            live.add_incidents({k: v[happened] for k, v in cols.items()})
            live.add_transfers(stages)
            cell = cols["cell"]
            open_by_cell += np.bincount(cell[happened & np.isnan(cols["resolved_at"])], minlength=len(open_by_cell))
            unmet_by_cell += np.bincount(cell[happened & ~np.isnan(cols["harmed_at"])], minlength=len(open_by_cell))
            for i in np.flatnonzero(happened & np.isin(cols["id"], list(tally.watched))):
                stories[int(cols["id"][i])] = story_from_rows(incidents, stages, int(i))
        n = hours + 1
        total = {name: np.cumsum(tally.bins.count[name][:n] + live.count[name]) for name in live.count}
        occurred = np.cumsum(tally.bins.occurred_by_cohort[:n] + live.occurred_by_cohort, axis=0)
        met = np.cumsum(tally.bins.met_by_cohort[:n] + live.met_by_cohort, axis=0)
        series = {
            "incidents": total["occurred"],
            "detected": total["detected"],
            "resolved": total["resolved"],
            "harmed": total["harmed"],
            "transfers": total["transfers"],
            "mean_resolve_h": _ratio(total["resolve_min"], total["resolved"]) / 60.0,
            "detected_share": _ratio(total["detected"], total["occurred"]),
        }
        return Look(now, hours, series, _ratio(met, occurred), open_by_cell, unmet_by_cell, stories)
