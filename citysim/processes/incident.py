"""An incident's life, compiled: from detection to closure, for a day at once.

:class:`DayCompiler` turns one day's detected incidents into plans for the
engine. The life of an incident is laid out attempt by attempt (a reopened or
re-reported case is the same incident making another attempt)::

    intake or verify → transfers → data wait → dispatch chain →
    field visit(s) (joint or handed off) → call-back → [re-report → next attempt]

What each step is, where, and for how long is decided here with numpy from
the regime's levers (see :mod:`~citysim.processes.intake` and
:mod:`~citysim.processes.dispatch`); how long a case waits in queues is left
to the engine. Trust enters through the chance of a re-report, taken at the
day the incident occurs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from citysim.city import City
from citysim.distributions import Lognormal, Mixture
from citysim.lookup import one_of
from citysim.processes.detection import AFTER_HARM, RESIDENT, Detection
from citysim.processes.dice import Dice
from citysim.processes.dispatch import add_closure, add_data_wait, add_dispatch_and_field
from citysim.processes.intake import ENTRY_NONE, add_intake, entry_kind
from citysim.processes.occurrence import DayIncidents
from citysim.processes.plan import Plan, PlanBuilder
from citysim.regimes import Regime
from citysim.rng import Streams
from citysim.scenario import CHANNELS, Scenario
from citysim.units import Units

__all__ = ["CompiledDay", "DayCompiler"]

_PER_INCIDENT = (
    "rows",
    "type",
    "cell",
    "cohort",
    "district",
    "street",
    "dep",
    "consult",
    "consult_dep",
    "grid_capable",
    "data_requests",
    "sensor_owner",
    "channel",
    "prio",
    "urgent",
    "emergency",
    "rereport_probability",
)
"""The compile context's per-incident columns (``rows``: each row's incident in the day, for its dice)."""


@dataclass
class CompiledDay:
    """A day's incidents, how they were found, and their plans."""

    incidents: DayIncidents
    detection: Detection
    plan: Plan
    attempts_planned: np.ndarray  # per incident
    closed_unmet: np.ndarray  # closed prematurely on the last planned attempt
    dispatched: np.ndarray  # needs a field visit (not closed at intake)
    grid_first: np.ndarray  # grid workers went out on the first attempt


class DayCompiler:
    """Compiles each day's incidents under one regime.

    Args:
        scenario, city, units, regime, streams: the run's parts.
        desk_phase: each district desk's phase, a fraction of its cycles (see :mod:`citysim.phases`).
    """

    def __init__(
        self,
        scenario: Scenario,
        city: City,
        units: Units,
        regime: Regime,
        streams: Streams,
        desk_phase: np.ndarray | None = None,
    ) -> None:
        self.scenario = scenario
        self.desk_phase = np.zeros(units.desk.shape) if desk_phase is None else desk_phase
        self.city = city
        self.units = units
        self.regime = regime
        self.streams = streams
        types = list(scenario.incident_types.values())
        self.type_list = types
        deps = city.department_names
        self.n_departments = len(deps)
        self.attempts = scenario.behaviour.max_attempts
        self.t_dep = np.full((len(types), 3), -1, dtype=np.int64)
        for i, t in enumerate(types):
            for j, d in enumerate(t.departments):
                self.t_dep[i, j] = deps.index(d)
        self.t_consult_dep = np.array(
            [deps.index(t.consult_department) if t.consult_department else 0 for t in types], dtype=np.int64
        )
        self.t_grid_capable = np.array([t.grid_capable for t in types])
        self.t_data_requests = np.array([len(t.data_from) for t in types], dtype=np.int64)
        self.t_propensity = np.array([t.report_propensity for t in types])
        self.literacy = np.array([c.digital_literacy for c in scenario.cohorts.values()])
        depts = list(scenario.departments.values())
        self.routing_accuracy = np.array([d.routing_accuracy for d in depts])
        self.premature = np.array([d.premature_closure for d in depts])
        self._depts = depts
        owners = [deps.index(s.owner) for s in scenario.sensors.values()]
        self.sensor_owner_of_type = np.array(owners + [0], dtype=np.int64)  # index -1 -> 0 (unused)
        self._type_intake = [(i, t.intake_time) for i, t in enumerate(types) if t.intake_time is not None]
        self._handling = {}
        for i, t in enumerate(types):
            for j, d in enumerate(deps):
                dist = t.handling.get(d) or scenario.departments[d].handling
                if dist is not None:
                    self._handling[(i, j)] = dist
        self._handling_mixture = Mixture(
            [self._handling.get((i, j)) for i in range(len(types)) for j in range(len(deps))]
        )
        self._dept_mixtures: dict[str, Mixture] = {}  # by attribute (``verify_time`` ...), made on first use
        self._queueing_parts(scenario, types, deps)
        handoff = np.array([[dep.handoff_to.get(d, 0.0) for d in deps] for dep in depts])
        self.handoff_cum = np.cumsum(handoff, axis=1) if handoff.any() else None
        self._jitter = (
            Lognormal(mean=1.0, cv=scenario.behaviour.travel_jitter_cv)
            if scenario.behaviour.travel_jitter_cv > 0
            else None
        )

    def _queueing_parts(self, scenario: Scenario, types: list, deps: list[str]) -> None:
        """Priority classes, emergency lines, confusion tables and callers' patience, per type, cohort, channel."""
        qu = scenario.queueing
        self.t_class = np.array([qu.priority_by_severity[t.severity - 1] for t in types], dtype=np.int64)
        self.intake_class = qu.intake_class
        self.urgent_class = 0 if qu.classes > 1 else -1  # with one class nothing is urgent
        self.t_emergency = np.array([t.emergency_line for t in types], dtype=bool)
        self.confusion = np.array(
            [[t.confused_with.get(d, 0.0) for d in deps] if t.confused_with else [1.0] * len(deps) for t in types]
        )
        sensor_class = [
            min((self.t_class[i] for i, t in enumerate(types) if name in t.sensors), default=qu.intake_class)
            for name in scenario.sensors
        ]
        self.sensor_class = np.array(sensor_class + [qu.intake_class], dtype=np.int64)  # an alarm: what it may be
        by_channel = {k: qu.patience.of(name) for k, name in enumerate(CHANNELS)}  # a resident's channels, by code
        self.patience_by_channel = {k: d for k, d in by_channel.items() if d is not None}
        self.patience_factor = np.array([qu.patience_by_cohort.get(c, 1.0) for c in scenario.cohorts])
        self.callers_hang_up = bool(self.patience_by_channel)
        self.calls_per_attempt = scenario.behaviour.max_transfers + 1  # the entry, and calls to other hotlines

    # ---------------------------------------------------------- per-row helpers
    def dept_value(self, attr: str, dep: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Sample a department distribution (``verify_time`` ...) per row's department."""
        mixture = self._dept_mixtures.get(attr)
        if mixture is None:
            mixture = self._dept_mixtures[attr] = Mixture([getattr(d, attr) for d in self._depts])
        return mixture.ppf(dep, u)

    def type_intake(self, rows: np.ndarray, default: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Intake time of the incidents ``rows``: the type's own where it has one, else ``default`` (per row)."""
        out = default
        types = self.type[rows]
        for i, dist in self._type_intake:
            sel = types == i
            if sel.any():
                out = out.copy() if out is default else out
                out[sel] = dist.ppf(u[sel])
        return out

    def handling(self, rows: np.ndarray, dep: np.ndarray, u: np.ndarray) -> np.ndarray:
        """On-site handling time of a visit to the incidents ``rows`` by department ``dep`` (per row).

        The type's own, else the department's.
        """
        n_dep = self.n_departments
        return self._handling_mixture.ppf(self.type[rows] * n_dep + dep, u)

    def jitter(self, u: np.ndarray) -> np.ndarray:
        """Factor on a cell's typical travel time for one trip."""
        return np.ones(len(u)) if self._jitter is None else self._jitter.ppf(u)

    def _taking(self, rows: np.ndarray) -> DayCompiler:
        """The day's context for the incidents ``rows`` (ascending) alone: its row ``i`` is incident ``rows[i]``."""
        sub = copy.copy(self)
        for name in _PER_INCIDENT:
            setattr(sub, name, getattr(self, name)[rows])
        sub.n = len(rows)
        return sub

    # ------------------------------------------------------------------ compile
    def compile(self, inc: DayIncidents, det: Detection, trust: np.ndarray) -> CompiledDay:
        """Plans for one day's incidents."""
        n = len(inc)
        self.n = n
        self.type = inc.type
        self.cell = inc.cell
        self.cohort = inc.cohort
        self.district = self.city.cell_district[inc.cell]
        self.street = self.city.cell_street[inc.cell]
        self.dep = self.t_dep[inc.type]
        self.consult = self.dep[:, 0] < 0
        self.consult_dep = self.t_consult_dep[inc.type]
        self.grid_capable = self.t_grid_capable[inc.type]
        self.data_requests = self.t_data_requests[inc.type]
        self.sensor_owner = self.sensor_owner_of_type[det.sensor_type]
        self.channel = det.channel
        self.prio = self.t_class[inc.type]
        self.urgent = self.prio == self.urgent_class
        self.emergency = self.t_emergency[inc.type]
        resident = one_of(det.detected_by, (RESIDENT, AFTER_HARM))
        self.rereport_probability = np.where(
            resident, self.t_propensity[inc.type] * trust[inc.cohort, self.district], 1.0
        )
        self.rows = np.arange(n)
        self.dice = Dice(self.streams, "incident", inc.day, n)

        b = PlanBuilder(n, prio=self.prio)
        detected = np.isfinite(det.detected_at)
        dispatched = detected & ~self.consult
        first_entry = entry_kind(det.channel, self.regime.sensor_fusion == "fused", self.emergency)
        alive = detected
        entry = first_entry
        attempts = np.zeros(n, dtype=np.int64)
        closed_unmet = np.zeros(n, dtype=bool)
        grid_first = np.zeros(n, dtype=bool)
        for k in range(self.attempts):
            rows = np.flatnonzero(alive)
            if len(rows) == 0:
                break
            attempts[rows] += 1
            m, bk = self._taking(rows), b.subset(rows)  # the incidents making this attempt, alone
            every = np.ones(len(rows), dtype=bool)
            add_intake(m, bk, k, every, entry[rows])
            go = ~m.consult
            if k == 0:
                add_data_wait(m, bk, k, go)
            grid = add_dispatch_and_field(m, bk, k, go, entry[rows])
            if k == 0:
                grid_first[rows] = grid
            last = k == self.attempts - 1
            premature, reopened, rereported = add_closure(m, bk, k, go, last)
            closed_unmet[rows] |= premature & ~reopened & ~rereported
            alive = np.zeros(n, dtype=bool)
            alive[rows] = reopened | rereported
            entry = first_entry.copy()
            entry[rows[reopened]] = ENTRY_NONE
        plan = b.build(det.detected_at, tag=inc.day)
        return CompiledDay(
            incidents=inc,
            detection=det,
            plan=plan,
            attempts_planned=attempts,
            closed_unmet=closed_unmet,
            dispatched=dispatched,
            grid_first=grid_first,
        )
