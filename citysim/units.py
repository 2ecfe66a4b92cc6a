"""The staffed units of a city and who is on duty in each hour.

Every place where work waits for a person is a unit of the engine's
:class:`~citysim.engine.Network`: the city centre's hotline operators,
dispatchers and call-back staff; each department's own hotline, and its desk
and field teams in every district; each district and street centre; and the
grid workers (each taking the tasks of the cells they are responsible for).
Each unit has a number of servers on duty in each hour of the day, placed from
the scenario's staffing budgets by the regime (see :mod:`citysim.staffing`);
:class:`Units` numbers them and knows, for any minute, how many are on duty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from citysim.city import City
from citysim.errors import ScenarioError
from citysim.processes.occurrence import OccurrenceSampler
from citysim.regimes import Regime
from citysim.rng import Streams
from citysim.scenario import DISTRICT_KINDS, Scenario
from citysim.staffing import FUNCTIONS, hours_mask, place, round_with_minimum

__all__ = ["UNIT_KINDS", "UNIT_LEVEL", "Units", "build_units", "routed_work", "unstaffed"]

UNIT_KINDS = (
    "city_intake",
    "city_dispatch",
    "city_callback",
    "hotline",
    "desk",
    "team",
    "district_centre",
    "street_centre",
    "grid",
    "emergency_line",
)
UNIT_LEVEL = {
    "city_intake": "city",
    "city_dispatch": "city",
    "city_callback": "city",
    "hotline": "city",
    "desk": "district",
    "team": "district",
    "district_centre": "district",
    "street_centre": "street",
    "grid": "street",
    "emergency_line": "city",
}
UNIT_FUNCTION = {
    "city_intake": "call_centre",
    "city_callback": "call_centre",
    "hotline": "call_centre",
    "city_dispatch": "city_dispatch",
    "desk": "district_offices",
    "district_centre": "district_offices",
    "street_centre": "street_centres",
    "team": "field_teams",
    "grid": "grid_workers",
    "emergency_line": "emergency_lines",
}
"""The staffing function (budget) each kind of unit draws on."""


@dataclass
class Units:
    """Unit numbering, names and who is on duty (one entry per unit in each array)."""

    kind: np.ndarray  # index into UNIT_KINDS
    department: np.ndarray  # index into city.department_names, -1 none
    district: np.ndarray  # -1 for city-wide units
    street: np.ndarray  # -1 unless a street unit
    servers_by_hour: np.ndarray  # [unit, hour of the day]: staff on duty
    city_intake: int
    city_dispatch: int
    city_callback: int
    hotline: np.ndarray  # [department]
    desk: np.ndarray  # [department, district]
    team: np.ndarray  # [department, district]
    district_centre: np.ndarray  # [district]
    street_centre: np.ndarray  # [street]
    grid: np.ndarray  # [grid worker]
    emergency_line: np.ndarray  # [department]: its emergency line (119 ...), -1 none

    def __len__(self) -> int:
        return len(self.kind)

    @property
    def function(self) -> np.ndarray:
        """Index into :data:`citysim.staffing.FUNCTIONS` of each unit."""
        return np.array([FUNCTIONS.index(UNIT_FUNCTION[k]) for k in UNIT_KINDS])[self.kind]

    @property
    def staff_hours(self) -> np.ndarray:
        """Staff-hours on duty a day, per unit."""
        return self.servers_by_hour.sum(axis=1)

    def servers_at(self, minute: float) -> np.ndarray:
        """Servers on duty at a simulated minute (staffing changes on the hour): a read-only view, not a copy
        (asked at every shift change)."""
        view = self._by_hour()[0][int(minute % 1440.0 // 60)].view()
        view.flags.writeable = False
        return view

    def shift_change_minutes(self) -> np.ndarray:
        """Minutes of the day at which some unit's staffing changes."""
        return self._by_hour()[1].copy()

    def _by_hour(self) -> tuple[np.ndarray, np.ndarray]:
        """Staffing hour by hour (``[hour, unit]``, contiguous) and the minutes it changes, worked out once."""
        cached = self.__dict__.get("_by_hour_cache")
        if cached is None or cached[0] is not self.servers_by_hour:
            s = self.servers_by_hour
            changes = np.flatnonzero((s != np.roll(s, 1, axis=1)).any(axis=0)) * 60.0
            cached = self._by_hour_cache = (s, np.ascontiguousarray(s.T, dtype=np.int64), changes)
        return cached[1], cached[2]

    def level(self, unit: np.ndarray) -> np.ndarray:
        """Level name (street, district, city) of units."""
        names = np.array([UNIT_LEVEL[k] for k in UNIT_KINDS])
        return names[self.kind[unit]]

    def names(self, city: City) -> list[str]:
        """Readable unit names, e.g. ``desk:gas@Yuzhong``, ``street_centre:Yuzhong/3``, ``grid:Yuzhong/3#12``."""
        out = []
        first_street = {d: int(np.flatnonzero(city.street_district == d)[0]) for d in range(city.n_districts)}
        worker_no: dict[int, int] = {}
        for k, dep, dis, st in zip(
            self.kind.tolist(), self.department.tolist(), self.district.tolist(), self.street.tolist(), strict=True
        ):
            kind = UNIT_KINDS[k]
            name = kind
            if dep >= 0:
                name += f":{city.department_names[dep]}"
            if st >= 0:
                name += f"{':' if dep < 0 else '@'}{city.district_names[dis]}/{st - first_street[dis] + 1}"
                if kind == "grid":
                    worker_no[st] = worker_no.get(st, 0) + 1
                    name += f"#{worker_no[st]}"
            elif dis >= 0:
                name += f"{':' if dep < 0 else '@'}{city.district_names[dis]}"
            out.append(name)
        return out


def _mean(dist, default: float = 0.0) -> float:
    return float(dist.mean_min) if dist is not None else default


def _demand(scenario: Scenario, city: City) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Regime-neutral weights from the scenario's own expected incidents.

    Returns:
        ``(hour_shape, call_shape, calls, orders)``: the share of a day's occurrences in each hour (mean 1); the
        share of a day's calls in each hour (mean 1: occurrences shifted by each type's report delay); each
        department's expected minutes of calls a day on its own line (consultations to their
        consult_department, the rest to their first department, plus the calls residents place on the
        wrong line, by their cohorts' chance of picking the right one); each department's expected
        minutes of work orders a day, per district.
    """
    sampler = OccurrenceSampler(scenario, city, Streams(0))
    by_district = sampler.expected_by_type_district()
    by_hour = sampler.expected_by_type_hour().sum(axis=0)
    hour_shape = by_hour / by_hour.mean() if by_hour.sum() > 0 else np.ones(24)
    call_shape = _call_hours(scenario, sampler.expected_by_type_hour())
    deps = city.department_names
    calls = np.zeros(len(deps))
    orders = np.zeros((len(deps), city.n_districts))
    for i, t in enumerate(scenario.incident_types.values()):
        j = deps.index(t.consult_department if not t.departments else t.departments[0])
        dep = scenario.departments[deps[j]]
        intake = _mean(t.intake_time, _mean(dep.intake_time))
        calls[j] += by_district[i].sum() * intake
        if t.departments:
            orders[j] += by_district[i] * _mean(dep.dispatch_time)
    a0, a1 = scenario.behaviour.channel_choice_accuracy
    literacy = np.array([c.digital_literacy for c in scenario.cohorts.values()])
    residents = city.cohort_count.sum(axis=0)
    right = float(np.average(a0 + (a1 - a0) * literacy, weights=residents)) if residents.sum() > 0 else 1.0
    if len(deps) > 1:
        calls = calls + (1 - right) * (calls.sum() - calls) / (len(deps) - 1)
    return hour_shape, call_shape, calls, orders


def _call_hours(scenario: Scenario, by_type_hour: np.ndarray) -> np.ndarray:
    """When in the day residents' reports come (mean 1): each type's occurrences, reported after its report delay.

    A report comes ``report_delay`` after the occurrence: the hourly occurrences are spread over the hours that
    follow by the delay's distribution (hour bins, around the clock), weighted by the type's report propensity and
    intake time.
    """
    from citysim.theory import cdf

    out = np.zeros(24)
    edges = np.arange(0, 24 * 60 + 1) * 60.0  # two months of hourly bins: the longest delays wrap around
    for occ, t in zip(by_type_hour, scenario.incident_types.values(), strict=True):
        p = np.diff(cdf(t.report_delay, edges))
        spread = np.bincount(np.arange(len(p)) % 24, weights=p, minlength=24)  # delay's hour of the day, mod 24
        weight = t.report_propensity * _mean(t.intake_time, 6.0)
        out += weight * np.array([occ @ np.roll(spread[::-1], h + 1) for h in range(24)])
    return out / out.mean() if out.sum() > 0 else np.ones(24)


def build_units(scenario: Scenario, city: City, regime: Regime) -> Units:
    """Number every staffed unit of the city and place the staffing budgets as the regime organises them."""
    c = scenario.centres
    scale = scenario.city.staffing_scale
    millions = city.population / 1e6
    pop_100k = city.district_population / 1e5
    kinds = [DISTRICT_KINDS[k] for k in city.district_kind]
    deps = city.department_names
    n_dep, n_dis = len(deps), city.n_districts
    day = hours_mask(*scenario.city.day_hours)
    hour_shape, call_shape, calls, orders = _demand(scenario, city)

    def office(hours: str, night_share: float) -> np.ndarray:
        """Relative staffing by hour: 1 by day, the night share at night (or 1 round the clock)."""
        return np.where(day | (hours == "24h"), 1.0, night_share)

    rows: list[tuple] = []  # kind, department, district, street
    servers: list[np.ndarray] = []

    def add(kind: str, dep: int, dis: int, st: int, on_duty: np.ndarray) -> int:
        rows.append((UNIT_KINDS.index(kind), dep, dis, st))
        servers.append(np.asarray(on_duty, dtype=np.int64))
        return len(rows) - 1

    # --- the city centre and the departments' hotlines: the call centre's budget, and the dispatchers
    unified, callback = regime.intake == "unified", regime.closure_supervision == "callback"
    intake_h = c.city.intake_staff_per_1m * scale * millions * 24
    callback_h = c.city.callback_staff_per_1m * scale * millions * 24
    calls_h = intake_h + (0.0 if callback else callback_h)
    lines = np.array(
        [office(scenario.departments[d].desk_hours, scenario.departments[d].night_staff_share) for d in deps]
    )
    share = calls / calls.sum() if calls.sum() > 0 else np.full(n_dep, 1 / n_dep)
    target = np.zeros((2 + n_dep, 24))  # city intake, city call-back, department hotlines
    pool, split = calls_h * call_shape / 24, calls_h * share[:, None] * lines / lines.sum(axis=1, keepdims=True)
    if unified:
        target[0] = pool
    else:
        target[2:] = split
    if callback:
        target[1] = callback_h / 24
    minimum = np.concatenate([[c.city.min_on_duty] * 2, [scenario.departments[d].min_on_duty for d in deps]])[:, None]
    # the budget keeps every organisation's minimum on duty: a city with few calls still staffs each line it has
    floor = max(24 * c.city.min_on_duty, int(((split > 0) * minimum[2:]).sum())) + 24 * c.city.min_on_duty * (
        callback_h > 0
    )
    call_centre = place(max(round(intake_h + callback_h), floor), target, minimum, "call_centre")
    city_intake = add("city_intake", -1, -1, -1, call_centre[0])
    city_dispatch = add(
        "city_dispatch",
        -1,
        -1,
        -1,
        round_with_minimum(np.full(24, c.city.dispatch_staff_per_1m * scale * millions), c.city.min_on_duty),
    )
    city_callback = add("city_callback", -1, -1, -1, call_centre[1])
    hotline = np.array([add("hotline", j, -1, -1, call_centre[2 + j]) for j in range(n_dep)], dtype=np.int64)

    # --- district offices: desk clerks at every regime's desks, the dispatchers at desks or in the centre
    desk = np.zeros((n_dep, n_dis), dtype=np.int64)
    district_centre = np.zeros(n_dis, dtype=np.int64)
    escalation = regime.dispatch_level == "escalation"
    dept_min = np.array([scenario.departments[n].min_on_duty for n in deps])
    for d in range(n_dis):
        clerks = np.array(
            [scenario.departments[n].desk_staff_per_100k.of(kinds[d]) * scale * pop_100k[d] for n in deps]
        )
        # each desk's clerks, its own under every regime (at least its minimum in every hour it is staffed)
        own = np.array([round_with_minimum(clerks[j] * lines[j], dept_min[j]) for j in range(n_dep)])
        dispatch_h = c.district.staff_per_100k.of(kinds[d]) * scale * pop_100k[d] * 24
        dispatchers = max(round(dispatch_h), 24 * c.district.min_on_duty) if dispatch_h > 0 else 0
        centre = np.zeros(24, dtype=np.int64)
        o = orders[:, d]
        if escalation:  # the district's dispatchers join the desks, by each department's expected work orders
            weight = o / o.sum() if o.sum() > 0 else np.full(n_dep, 1 / n_dep)
            share = weight[:, None] * lines / lines.sum(axis=1, keepdims=True)
            own = own + place(dispatchers, share, np.zeros_like(own), f"district_offices ({city.district_names[d]})")
        else:
            centre = place(dispatchers, hour_shape[None, :], np.array([[c.district.min_on_duty]]), "district_offices")[
                0
            ]
        for j in range(n_dep):
            desk[j, d] = add("desk", j, d, -1, own[j])
        district_centre[d] = add("district_centre", -1, d, -1, centre)

    # --- field teams, street centres and grid workers: placed alike under every regime
    team = np.zeros((n_dep, n_dis), dtype=np.int64)
    for j, name in enumerate(deps):
        dep = scenario.departments[name]
        # crews on duty as the work comes in; emergency crews (departments staffed round the clock) at all hours alike
        shape = np.ones(24) if dep.desk_hours == "24h" else hour_shape
        for d in range(n_dis):
            crews = dep.teams_per_100k.of(kinds[d]) * scale * pop_100k[d] * shape
            team[j, d] = add("team", j, d, -1, round_with_minimum(crews, 1))
    sc = c.street
    street_centre = np.zeros(city.n_streets, dtype=np.int64)
    for s in range(city.n_streets):
        d = int(city.street_district[s])
        staff = sc.staff.of(kinds[d]) * scale * office(sc.hours, sc.night_staff_share)
        street_centre[s] = add("street_centre", -1, d, s, round_with_minimum(staff, sc.min_on_duty))
    start = scenario.city.day_hours[0]
    shift = hours_mask(start, min(start + scenario.grid_workers.shift_hours, 24)).astype(np.int64)
    grid = np.array(
        [add("grid", -1, int(city.street_district[s]), s, shift) for s in city.worker_street.tolist()], dtype=np.int64
    )
    # --- emergency lines (119, the gas company's number): round the clock, alike under every regime
    emergency_line = np.full(n_dep, -1, dtype=np.int64)
    for j, name in enumerate(deps):
        dep = scenario.departments[name]
        if dep.emergency_line_staff_per_1m > 0:
            staff = np.full(24, dep.emergency_line_staff_per_1m * scale * millions)
            emergency_line[j] = add("emergency_line", j, -1, -1, round_with_minimum(staff, max(dep.min_on_duty, 1)))
    a = np.array(rows, dtype=np.int64).reshape(-1, 4)
    units = Units(
        kind=a[:, 0],
        department=a[:, 1],
        district=a[:, 2],
        street=a[:, 3],
        servers_by_hour=np.array(servers, dtype=np.int64).reshape(-1, 24),
        city_intake=city_intake,
        city_dispatch=city_dispatch,
        city_callback=city_callback,
        hotline=hotline,
        desk=desk,
        team=team,
        district_centre=district_centre,
        street_centre=street_centre,
        grid=grid,
        emergency_line=emergency_line,
    )
    unstaffed(scenario, city, regime, units)  # refuses a unit with work and nobody ever on duty
    return units


def _field_of(kind: str, department: str | None, district_kind: str | None) -> str:
    """The scenario field whose staffing a unit of this kind draws on."""
    return {
        "city_intake": "centres.city.intake_staff_per_1m",
        "city_callback": "centres.city.callback_staff_per_1m",
        "city_dispatch": "centres.city.dispatch_staff_per_1m",
        "hotline": "centres.city.intake_staff_per_1m",
        "desk": f"departments.{department}.desk_staff_per_100k.{district_kind}",
        "team": f"departments.{department}.teams_per_100k.{district_kind}",
        "district_centre": f"centres.district.staff_per_100k.{district_kind}",
        "street_centre": f"centres.street.staff.{district_kind}",
        "grid": "grid_workers.cells_per_worker",
        "emergency_line": f"departments.{department}.emergency_line_staff_per_1m",
    }[kind]


def routed_work(scenario: Scenario, city: City, regime: Regime, units: Units) -> np.ndarray:
    """Which units the regime can send work to (a misrouted case can reach any department's desk or line)."""
    kind = np.array(UNIT_KINDS)[units.kind]
    deps = city.department_names
    needed = set()
    for t in scenario.incident_types.values():
        needed.update(t.departments)
    for d in scenario.departments.values():
        needed.update(d.handoff_to)
    if regime.field_force == "own_teams" or regime.sensor_fusion == "fused":
        needed.update(s.owner for s in scenario.sensors.values())  # false alarms checked on site
    team_needed = np.array([deps[j] in needed if j >= 0 else False for j in units.department])
    lines = {t.departments[0] for t in scenario.incident_types.values() if t.emergency_line}
    line_needed = np.array([deps[j] in lines if j >= 0 else False for j in units.department])
    return np.select(
        [
            kind == "city_intake",
            kind == "city_callback",
            kind == "hotline",
            kind == "district_centre",
            kind == "team",
            kind == "emergency_line",
        ],
        [
            regime.intake == "unified",
            regime.closure_supervision == "callback",
            regime.intake == "per_department",
            regime.dispatch_level == "lowest_capable",
            team_needed,
            line_needed,
        ],
        True,
    )


def unstaffed(scenario: Scenario, city: City, regime: Regime, units: Units) -> list[tuple[str, str, list[int], int]]:
    """Units that receive work under the regime with nobody on duty in some hours.

    Returns:
        ``(kind, field, hours with nobody on duty, number of such units)``, grouped by kind, field and hours.

    Raises:
        ScenarioError: for a unit that receives work and has nobody on duty at any hour (naming the field).
    """
    work = routed_work(scenario, city, regime, units)
    kinds = [DISTRICT_KINDS[k] for k in city.district_kind]
    deps = city.department_names
    groups: dict[tuple, int] = {}
    for u in np.flatnonzero(work & (units.servers_by_hour == 0).any(axis=1)):
        kind = UNIT_KINDS[units.kind[u]]
        dep = deps[units.department[u]] if units.department[u] >= 0 else None
        dis = kinds[units.district[u]] if units.district[u] >= 0 else None
        field = _field_of(kind, dep, dis)
        idle = np.flatnonzero(units.servers_by_hour[u] == 0).tolist()
        if len(idle) == 24:
            raise ScenarioError(
                f"scenario {scenario.name!r}",
                field,
                f"nobody on duty at {kind} units, yet {regime.name} sends them work: staff them (a positive number)",
            )
        key = (kind, field, tuple(idle))
        groups[key] = groups.get(key, 0) + 1
    return [(k, f, list(h), n) for (k, f, h), n in groups.items()]
