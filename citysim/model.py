"""The city model: a Mesa model whose clock is a SimPy environment.

:class:`CityModel` holds the city (arrays), its actors as Mesa agents
(operations centres, departments, grid workers, resident cohorts, sensor
networks), the engine's :class:`~citysim.engine.Network` of staffed units on a
:class:`simpy.Environment`, and the run's state that moves with experience
(trust per cohort and district, grid workers' patrol time). One Mesa
:meth:`~CityModel.step` is one simulated day:

1. sample the day's incidents (the same under every regime);
2. find out how each is detected, given today's trust and patrols;
3. compile their plans and the day's false alarms, and hand them to the engine;
4. run the clock to the end of the day (staff change shifts on the way);
5. account busy time, update trust and patrol time, and write out every
   incident whose story has ended.
"""

from __future__ import annotations

import mesa
import numpy as np
import simpy

from citysim.accounting import BUSY_ROLES, DutyClock, day_use
from citysim.agents import build_agents
from citysim.carry import CARRY_AFTER_DAYS, MAX_CARRIES, carry_forward
from citysim.city import City, build_city
from citysim.daily import DailyBook
from citysim.derive import concat_rows, false_alarm_rows, incident_and_stage_rows
from citysim.events import LEVELS, MemorySink
from citysim.heap import gc_paused, settle
from citysim.network import make_network
from citysim.outputs import cells_rows, daily_rows, units_rows
from citysim.phases import unit_phases
from citysim.processes.alerts import FalseAlarmCompiler
from citysim.processes.detection import Detector
from citysim.processes.incident import CompiledDay, DayCompiler
from citysim.processes.occurrence import DAY_MIN, OccurrenceSampler
from citysim.regimes import Regime
from citysim.rng import Streams
from citysim.scenario import DISTRICT_KINDS, Scenario
from citysim.shocks import Shocks
from citysim.trust import day_scores, moved_trust
from citysim.units import UNIT_KINDS, UNIT_LEVEL, build_units
from citysim.window import Window

__all__ = ["CityModel"]

SMALL_WRITE = 20_000
"""Incidents written from a carried day or carry below which a merge's writes are joined into one: each
write costs the tables' fixed work (a row group per table, its dictionaries; the metrics stream's pass)."""


def _settle(cd: CompiledDay) -> None:
    """A compiled day's arrays, kept until it is written out, in a block of their own (see :func:`settle`)."""
    settle(cd, cd.incidents, cd.detection, cd.plan, cd.plan.batch)


def _whole(days: float) -> int:
    """A number of days that must be whole (plans are compiled a day at a time)."""
    if float(days) != int(days):
        raise ValueError(f"days must be a whole number, not {days}")
    return int(days)


class CityModel(mesa.Model):
    """A city under one regime, simulated day by day.

    Args:
        scenario: the validated scenario.
        regime: the lever values.
        seed: the run's seed (all randomness derives from it).
        window: warm-up, measurement window and follow-up (see :mod:`citysim.window`); only
            incidents occurring in the window are written out, and units' time is accounted over it.
        sink: where output tables go (default: kept in memory).
        carry: carry old days' unfinished incidents forward (bounded memory; same results).
        horizon_days: shorthand for ``window=Window(days=horizon_days)`` (no warm-up, no follow-up).
    """

    @gc_paused()  # its 300,000 objects built without full collections that would find nothing to free
    def __init__(
        self,
        scenario: Scenario,
        regime: Regime,
        seed: int = 1,
        window: Window | None = None,
        sink=None,
        carry: bool = True,
        horizon_days: int | None = None,
    ) -> None:
        self.streams = Streams(seed)
        super().__init__(rng=self.streams.generator("mesa"))
        self.scenario = scenario
        self.regime = regime
        self.seed = seed
        if window is None:
            window = Window(days=7 if horizon_days is None else _whole(horizon_days))
        self.window = window
        self.horizon = window.horizon_min
        self.sink = sink if sink is not None else MemorySink()
        self.carry = carry
        self.city: City = build_city(scenario, self.streams)
        self.units = build_units(scenario, self.city, regime)
        self.env = simpy.Environment()
        self.shocks = Shocks(scenario, self.city, self.units, self.streams, window.start_min)
        self.network = make_network(self.env, self.shocks.servers_at(0.0), classes=scenario.queueing.classes)
        self.unit_names = self.units.names(self.city)
        self.desk_phase = unit_phases(self.streams, [self.unit_names[u] for u in self.units.desk.ravel()]).reshape(
            self.units.desk.shape
        )
        self.sampler = OccurrenceSampler(scenario, self.city, self.streams, shock_offset_min=window.start_min)
        self.detector = Detector(
            scenario, self.city, regime, self.streams, shock_offset_min=window.start_min, desk_phase=self.desk_phase
        )
        self.compiler = DayCompiler(scenario, self.city, self.units, regime, self.streams, self.desk_phase)
        self.alarm_compiler = FalseAlarmCompiler(scenario, self.city, self.units, regime, self.streams, self.desk_phase)
        self.day = 0
        self.next_id = 0
        self.trust = np.array([[c.trust] * self.city.n_districts for c in scenario.cohorts.values()], dtype=float)
        n_units = len(self.units)
        self.busy = {r: np.zeros(n_units) for r in BUSY_ROLES}  # over the window
        self.on_duty = np.zeros(n_units)  # server-minutes on duty over the window, overtime included
        self._duty = DutyClock(self.network.servers)  # since the run began, overtime excluded
        self._duty_at_day_start = np.zeros(n_units)
        self._overtime_at_day_start = np.zeros(n_units)
        self.grid_task_yesterday = np.zeros(len(self.units.grid))  # per grid worker, minutes of tasks
        self.patrol_cycle_sum = np.zeros(self.city.n_cells)
        self.patrol_days = 0
        self.active: list[CompiledDay] = []
        self.active_alarms: list = []
        self.counts = {"incidents": 0, "false_alarms": 0, "measured": 0}
        self._window_ids = [-1, -1]  # first id of the window's incidents, first id after (-1: not yet known)
        self._day_started: int | None = None
        self._names = self._lookups()
        self.book = DailyBook(self.units.kind, self.unit_names, window)
        self._occurred_today = 0
        build_agents(self)

    # ------------------------------------------------------------------ state
    def _lookups(self) -> dict:
        sc, city, units = self.scenario, self.city, self.units
        return {
            "type": np.array(list(sc.incident_types), dtype=object),
            "cohort": np.array(city.cohort_names, dtype=object),
            "district": np.array(city.district_names, dtype=object),
            "unit": np.array(self.unit_names, dtype=object),
            "unit_level": np.array([UNIT_LEVEL[UNIT_KINDS[k]] for k in units.kind], dtype=object),
            "unit_level_code": np.array([LEVELS.index(UNIT_LEVEL[UNIT_KINDS[k]]) for k in units.kind]),
            "sensor": np.array(city.sensor_names, dtype=object),
            "district_of_cell": city.cell_district,
            "kind_of_cell": city.cell_kind,
            "street_of_cell": city.cell_street,
            "severity": np.array([t.severity for t in sc.incident_types.values()]),
            "hazard": np.array([t.hazard for t in sc.incident_types.values()]),
        }

    def _capacity_tick(self, _event=None) -> None:
        target = self.shocks.servers_at(self.env.now)
        self._duty.change(target, self.env.now)
        self.network.set_all_servers(target)

    def _schedule_capacity_changes(self, day: int) -> None:
        for t in sorted(self.shocks.change_minutes(day)):
            if t > self.env.now and t < self.horizon:
                # a shift change comes before any other event at the same minute (URGENT)
                ev = simpy.Event(self.env)
                ev._ok, ev._value = True, None
                ev.callbacks.append(self._capacity_tick)
                self.env.schedule(ev, simpy.events.URGENT, t - self.env.now)

    def _patrol_cycles(self) -> tuple[np.ndarray, np.ndarray]:
        """Minutes between a grid worker's passes, and between proactive visits, per cell."""
        sc, reg, city = self.scenario, self.regime, self.city
        gw = sc.grid_workers
        available_h = gw.shift_hours * (1 - reg.paperwork_share)
        tasks_h = self.grid_task_yesterday / 60.0  # each worker's own tasks yesterday
        proactive_h = reg.proactive_share * available_h
        patrol_h = np.maximum(available_h - proactive_h - tasks_h, 0.0)[city.cell_worker]
        sweep = np.array([gw.sweep_hours.of(k) for k in DISTRICT_KINDS])[city.cell_kind]
        with np.errstate(divide="ignore"):
            cycle = np.where(patrol_h > 0, gw.cells_per_worker * sweep / patrol_h * DAY_MIN, np.inf)
        vulnerable = np.array([c.vulnerable for c in sc.cohorts.values()])
        vul_households = city.cohort_count[:, vulnerable].sum(axis=1) / sc.city.household_size
        visit_h = vul_households * gw.cells_per_worker * gw.visit_minutes / 60.0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            pro = np.where(proactive_h > 0, visit_h / proactive_h * DAY_MIN, np.inf) * np.ones(city.n_cells)
        return cycle, pro

    # ------------------------------------------------------------------- step
    def step(self) -> None:
        """Simulate one day (or the rest of the day already begun by :meth:`run_to`)."""
        self.run_to(min((self.day + 1) * DAY_MIN, self.horizon))

    @property
    def now(self) -> float:
        """The clock, minutes since the run began."""
        return self.env.now

    def run_to(self, minute: float) -> None:
        """Run the clock to ``minute`` (at most the horizon), beginning and ending days on the way.

        A day's incidents are sampled and compiled when the day begins; the clock can then stop at
        any minute within it (a dashboard steps an hour at a time) with the same results as running
        whole days.
        """
        minute = min(float(minute), self.horizon)
        while True:
            if self._day_started is None:
                if self.day * DAY_MIN >= minute or self.day * DAY_MIN >= self.horizon:
                    return
                self._begin_day()
            end = min((self.day + 1) * DAY_MIN, self.horizon)
            self.network.run(min(minute, end))
            if self.env.now < end and minute < end:
                return
            self._end_day()

    def _begin_day(self) -> None:
        """Sample, detect and compile the day's incidents and false alarms and hand them to the engine."""
        day = self.day
        self._day_started = day
        period = self.window.period_of_day(day)
        if period == "window" and self._window_ids[0] < 0:
            self._window_ids[0] = self.next_id
        if period == "follow_up" and self._window_ids[1] < 0:
            self._window_ids[1] = self.next_id
        inc = self.sampler.sample(day, self.next_id)
        self.next_id += len(inc)
        self._occurred_today = len(inc)
        patrol_cycle, proactive_cycle = self._patrol_cycles()
        if period == "window":
            self.patrol_cycle_sum += np.where(np.isfinite(patrol_cycle), patrol_cycle, 0)
            self.patrol_days += 1
            self.counts["measured"] += len(inc)
        det = self.detector.detect(inc, self.trust, patrol_cycle, proactive_cycle)
        cd = self.compiler.compile(inc, det, self.trust)
        self.network.add(cd.plan.batch)
        _settle(cd)
        self.active.append(cd)
        fa = self.alarm_compiler.sample(day, self.shocks.sensor_working)
        if fa.plan is not None:
            self.network.add(fa.plan.batch)
        self.active_alarms.append(fa)
        self.counts["incidents"] += len(inc)
        self.counts["false_alarms"] += len(fa.raised_at)
        self._schedule_capacity_changes(day)

    def _end_day(self) -> None:
        """Account the day's use of every unit, move trust, and write out what has ended."""
        day = self.day
        start, end = day * DAY_MIN, min((day + 1) * DAY_MIN, self.horizon)
        use = day_use(self._plans(), len(self.units), start, end, track=True)
        self.grid_task_yesterday = use.busy["field"][self.units.grid]
        # overtime is counted when the job ends, possibly the next day: a day on duty is never less than busy
        on_duty = np.maximum(self._close_duty(end), use.busy_total)
        if self.window.period_of_day(day) == "window":
            for r in BUSY_ROLES:
                self.busy[r] += use.busy[r]
            self.on_duty += on_duty
        self.book.add_day(day, use, on_duty, self.network.queue_lengths(), self._day_counts(start, end))
        self._update_trust(start, end)
        self._day_started = None
        self.day += 1
        self._flush()
        if self.env.now >= self.horizon:
            self._flush(final=True)  # in two steps, as when a stopped run is cut here: the same rows in the same order

    def _day_counts(self, start: float, end: float) -> dict[str, int]:
        """Incidents that occurred, were first detected and ended within the day (for the daily table)."""
        detected = ended = 0
        for cd in self.active:
            at = cd.detection.detected_at
            detected += int(np.count_nonzero((at >= start) & (at < end)))
            fin = cd.plan.batch.finished_at()
            ended += int(np.count_nonzero((fin >= start) & (fin < end)))
        return {"incidents": self._occurred_today, "detected": detected, "ended": ended}

    def live_rows(self) -> list[tuple[dict, dict]]:
        """Rows of the incidents and stages tables, as they stand now, of the incidents not yet written out.

        Each compiled day still open gives its rows as :meth:`_write` would, with the clock as the
        horizon (what has not happened yet is blank); incidents of today that have not yet occurred
        are among them (``occurred_at`` after :attr:`now`). A live view reads these beside what was written.
        """
        return [incident_and_stage_rows(cd, self.now, self._names)[:2] for cd in self.active]

    def _close_duty(self, end: float) -> np.ndarray:
        """Server-minutes each unit was on duty since the day began (overtime included)."""
        duty = self._duty.close(end)
        overtime = np.array(self.network.overtime, dtype=float)
        day = duty - self._duty_at_day_start + overtime - self._overtime_at_day_start
        self._duty_at_day_start = duty.copy()
        self._overtime_at_day_start = overtime
        return day

    def cut(self) -> None:
        """End the run where the clock stands (between days): the window shrinks to what was simulated.

        Interrupted in the window, the window ends here and its open cases are censored now; in the
        follow-up, the follow-up ends here; in the warm-up, nothing was measured (``window`` becomes None
        and nothing is written). The tables are then those of a run asked for the shorter window
        (:meth:`citysim.window.Window.cut`), row for row.
        """
        if self._day_started is not None:
            raise RuntimeError("a run can only be cut between days")
        self.window = self.window.cut(self.day)
        if self.window is None:
            return
        self.horizon = self.window.horizon_min
        self.book.cut(self.window)
        if hasattr(self.sink, "cut"):  # a sink that counts as it goes (metrics) censors at the new horizon
            self.sink.cut(self.window)
        self.finish()

    def run(self, days: float | None = None, progress=None) -> None:
        """Run to the horizon (or ``days`` more days), then close the log."""
        last_day = int(np.ceil(self.horizon / DAY_MIN))
        stop = last_day if days is None else min(last_day, self.day + int(np.ceil(days)))
        while self.day < stop:
            self.step()
            if progress is not None:
                progress(self)
        if self.day >= last_day:
            self.finish()

    # ------------------------------------------------------------- bookkeeping
    def _plans(self):
        for cd in self.active:
            yield cd.plan
        for fa in self.active_alarms:
            if fa.plan is not None:
                yield fa.plan

    def _update_trust(self, start: float, end: float) -> None:
        """Move each cohort's trust, district by district, with the day's closed cases (see :mod:`citysim.trust`)."""
        beh = self.scenario.behaviour
        if beh.trust_learning_rate == 0:
            return
        target = np.array([t.target_min for t in self.scenario.incident_types.values()])
        total, count = day_scores(self.active, start, end, self.trust.shape, self.city.cell_district, target)
        warmup = self.window.period_of_day(self.day) == "warmup"
        self.trust = moved_trust(self.trust, total, count, beh, warmup)

    def _flush(self, final: bool = False) -> None:
        """Write out days whose incidents have all ended (all of them at the end).

        A day still open after ``CARRY_AFTER_DAYS`` has its finished incidents written
        out and the rest carried forward in a compact batch (see :mod:`citysim.carry`).
        """
        keep, aging = [], []
        for cd in self.active:
            b = cd.plan.batch
            if final or b.done:
                self._write(cd)
                self.network.forget(b)
            elif not self.carry:
                keep.append(cd)
            elif getattr(cd, "is_carry", False):
                (aging if b.unfinished <= b.n_jobs // 2 else keep).append(cd)  # compact it again
            elif self.day - cd.incidents.day >= CARRY_AFTER_DAYS:
                aging.append(cd)
            else:
                keep.append(cd)
        # each aging day (or carry to compact) becomes a carry of its own; too many carries: merge the small ones
        groups = [[cd] for cd in aging]
        carries = sorted((cd for cd in keep if getattr(cd, "is_carry", False)), key=lambda cd: cd.plan.batch.n_steps)
        if len(carries) + len(groups) > MAX_CARRIES:
            merged = [cd for g in groups for cd in g] + carries[: MAX_CARRIES // 2]
            for cd in carries[: MAX_CARRIES // 2]:
                keep.remove(cd)
            groups = [merged]
        for group in groups:
            new = self._carry(group)
            if new is not None:
                keep.append(new)
        self.active = keep
        keep_fa = []
        for fa in self.active_alarms:
            if final or fa.plan is None or fa.plan.batch.done:
                if self.window.period_of_day(fa.day) == "window":
                    self.sink.write("alerts", false_alarm_rows(fa, self.horizon, self._names))
                if fa.plan is not None:
                    self.network.forget(fa.plan.batch)
            else:
                keep_fa.append(fa)
        self.active_alarms = keep_fa

    def _measured(self, ids: np.ndarray) -> np.ndarray:
        """Which incident ids occurred in the measurement window."""
        lo, hi = self._window_ids
        ids = np.asarray(ids, dtype=np.int64)
        return (lo >= 0) & (ids >= lo) & ((hi < 0) | (ids < hi))

    def _write(self, cd: CompiledDay, leave_out: np.ndarray | None = None) -> None:
        """Write a day's incidents, stages and true alerts: those of the window, less the ids in ``leave_out``."""
        rows = self._rows(cd, leave_out)
        if rows is not None:
            self._put(rows)

    def _put(self, rows: tuple[dict, dict, dict]) -> None:
        for name, data in zip(("incidents", "stages", "alerts"), rows, strict=True):
            self.sink.write(name, data)

    def _rows(self, cd: CompiledDay, leave_out: np.ndarray | None = None) -> tuple[dict, dict, dict] | None:
        """:meth:`_write`'s rows (None: nothing of the window, a warm-up or follow-up day)."""
        ids = cd.incidents.ids
        measured = self._measured(ids)
        if not measured.any():
            return None
        keep = None
        if not measured.all() or (leave_out is not None and len(leave_out)):
            keep = measured
            if leave_out is not None and len(leave_out):  # marked by offset: those in the day's range of ids
                low, high = int(ids.min()), int(ids.max())
                drop = np.zeros(high - low + 1, dtype=bool)
                leave_out = np.asarray(leave_out, dtype=np.int64)
                drop[leave_out[(leave_out >= low) & (leave_out <= high)] - low] = True
                keep &= ~drop[np.asarray(ids, dtype=np.int64) - low]
        return incident_and_stage_rows(cd, self.horizon, self._names, keep)

    def _carry(self, days: list[CompiledDay]) -> CompiledDay | None:
        """Write old days' finished incidents; carry all their unfinished ones forward in one batch."""
        parts = []
        for cd in days:
            b = cd.plan.batch
            unfinished = np.flatnonzero(np.isnan(b.finished_at()) & np.isfinite(b.release_np))
            parts.append((cd, unfinished, self.network.released(b)))
        if sum(len(p[1]) for p in parts) == 0:
            for cd in days:
                self._write(cd)
                self.network.forget(cd.plan.batch)
            return None
        new, step_maps = carry_forward(parts)
        small = []  # written before their space is given to others; the small writes of a merge as one
        for cd in days:
            rows = self._rows(cd, leave_out=new.incidents.ids)
            if rows is not None:
                (small.append if len(rows[0]["id"]) < SMALL_WRITE else self._put)(rows)
        if small:
            self._put(concat_rows(small))
        self.network.replace([(cd.plan.batch, m) for cd, m in zip(days, step_maps, strict=True)], new.plan.batch)
        _settle(new)
        return new

    def finish(self) -> None:
        """Write the units and cells tables and close the sink."""
        if getattr(self, "_finished", False):
            return
        self._finished = True
        self._flush(final=True)
        units = units_rows(self)
        self.sink.write("units", units)
        self.sink.write("daily", daily_rows(self, units))
        self.sink.write("cells", cells_rows(self))
        self.sink.close()
