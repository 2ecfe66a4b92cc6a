"""False alarms: sensor alerts with nothing behind them, and what they cost.

Every working sensor raises false alerts at ``false_alarms_per_sensor_day``.
In a *silo* the owning department finds them at its next poll and verifies
each by hand at its district desk, in the same queue as true alerts, so a
noisy network can delay real warnings. *Fused* on the platform, a share
``cross_check_filter`` is dismissed automatically by cross-checking other
sources; the rest become automatic work orders, and someone goes out to find
nothing (a grid worker where grid workers are tasked, else the owner's team).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from citysim.phases import next_cycle
from citysim.processes.dice import Dice
from citysim.processes.dispatch import add_dispatch_and_field
from citysim.processes.incident import DayCompiler
from citysim.processes.intake import ENTRY_FUSED
from citysim.processes.occurrence import pick_cumulative
from citysim.processes.plan import Plan, PlanBuilder
from citysim.sorting import stable_argsort

__all__ = ["FalseAlarms", "FalseAlarmCompiler"]


@dataclass
class FalseAlarms:
    """One day's false alarms and their plans."""

    day: int
    sensor_type: np.ndarray
    cell: np.ndarray
    raised_at: np.ndarray
    filtered: np.ndarray  # dismissed by the platform's cross-check
    plan: Plan | None


class FalseAlarmCompiler(DayCompiler):
    """Samples and compiles false alarms (the alarm's owner department is its 'department')."""

    def handling(self, rows: np.ndarray, dep: np.ndarray, u: np.ndarray) -> np.ndarray:
        return self.scenario.behaviour.false_alarm_verify_time.ppf(u)

    def sample(self, day: int, outage_working) -> FalseAlarms:
        """The false alarms raised on ``day``.

        Args:
            day: the simulated day.
            outage_working: function (sensor index, cells, times) -> share of sensors working.
        """
        rng = self.streams.generator("false_alarms", day)
        city = self.city
        types, cells, times = [], [], []
        for j, st in enumerate(self.scenario.sensors.values()):
            rate = city.sensor_count[:, j] * (1 - st.out_of_service_share) * st.false_alarms_per_sensor_day
            cum = np.cumsum(rate)
            if len(cum) == 0 or cum[-1] <= 0:
                continue
            n = rng.poisson(cum[-1])
            c = np.minimum(pick_cumulative(cum, rng.random(n) * cum[-1]), len(cum) - 1)
            t = (day + rng.random(n)) * 1440.0
            keep = rng.random(n) < outage_working(j, c, t)
            types.append(np.full(keep.sum(), j)), cells.append(c[keep]), times.append(t[keep])
        if types:
            sensor_type = np.concatenate(types).astype(np.int64)
            cell = np.concatenate(cells).astype(np.int64)
            raised = np.concatenate(times)
        else:
            sensor_type = cell = np.zeros(0, dtype=np.int64)
            raised = np.zeros(0)
        order = stable_argsort(raised)
        return self._compile(day, sensor_type[order], cell[order], raised[order])

    def _compile(self, day: int, sensor_type: np.ndarray, cell: np.ndarray, raised: np.ndarray) -> FalseAlarms:
        n = len(raised)
        self.n = n
        self.type = np.full(n, -1)
        self.cell = cell
        self.district = self.city.cell_district[cell]
        self.street = self.city.cell_street[cell]
        owner = self.sensor_owner_of_type[sensor_type]
        self.dep = np.full((n, 3), -1, dtype=np.int64)
        self.dep[:, 0] = owner
        self.grid_capable = np.ones(n, dtype=bool)
        self.emergency = np.zeros(n, dtype=bool)
        self.prio = self.sensor_class[sensor_type]  # treated as what it may be until found false
        self.handoff_cum = None  # nothing to hand on: there was nothing there
        self.rows = np.arange(n)
        self.dice = Dice(self.streams, "false_alarm", day, n)
        u = self.dice.u("alarm", 3)
        fused = self.regime.sensor_fusion == "fused"
        filtered = fused & (u[:, 0] < self.scenario.behaviour.cross_check_filter)
        if n == 0:
            return FalseAlarms(day, sensor_type, cell, raised, filtered, None)
        b = PlanBuilder(n, prio=self.prio)
        if fused:
            release = raised + self.scenario.behaviour.platform_latency.ppf(u[:, 1])
            add_dispatch_and_field(self, b, 0, ~filtered, np.full(n, ENTRY_FUSED))
        else:
            poll = np.array(
                [
                    self.scenario.departments[self.city.department_names[o]].poll_interval_min
                    for o in range(self.n_departments)
                ]
            )[owner]
            release = next_cycle(raised, poll, self.desk_phase[owner, self.district])
            b.add(
                "verify",
                0,
                np.ones(n, dtype=bool),
                self.units.desk[owner, self.district],
                self.dept_value("verify_time", owner, u[:, 2]),
            )
        plan = b.build(np.where(filtered, np.inf, release), tag=("false_alarms", day)) if (~filtered).any() else None
        return FalseAlarms(day, sensor_type, cell, raised, filtered, plan)
