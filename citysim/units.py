"""The staffed units of a city and their shifts.

Every place where work waits for a person is a unit of the engine's
:class:`~citysim.engine.Network`: the city centre's hotline operators,
dispatchers and call-back staff; each department's own hotline, and its desk
and field teams in every district; each district and street centre; and the
grid workers (each taking the tasks of the cells they are responsible for). A
unit has a number of servers on duty by day and by night; :class:`Units`
numbers them and knows, for any minute, how many are on duty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from citysim.city import City
from citysim.scenario import DISTRICT_KINDS, Scenario

__all__ = ["UNIT_KINDS", "Units", "build_units"]

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
}


@dataclass
class Units:
    """Unit numbering, names and shifts (one entry per unit in each array)."""

    kind: np.ndarray  # index into UNIT_KINDS
    department: np.ndarray  # index into city.department_names, -1 none
    district: np.ndarray  # -1 for city-wide units
    street: np.ndarray  # -1 unless a street unit
    day_servers: np.ndarray
    night_servers: np.ndarray
    on_min: np.ndarray  # minute of the day the day shift starts
    off_min: np.ndarray  # minute of the day it ends
    city_intake: int
    city_dispatch: int
    city_callback: int
    hotline: np.ndarray  # [department]
    desk: np.ndarray  # [department, district]
    team: np.ndarray  # [department, district]
    district_centre: np.ndarray  # [district]
    street_centre: np.ndarray  # [street]
    grid: np.ndarray  # [grid worker]

    def __len__(self) -> int:
        return len(self.kind)

    def servers_at(self, minute: float) -> np.ndarray:
        """Servers the shift plan puts on duty at a simulated minute."""
        tod = minute % 1440.0
        on = (tod >= self.on_min) & (tod < self.off_min)
        return np.where(on, self.day_servers, self.night_servers).astype(np.int64)

    def shift_change_minutes(self) -> np.ndarray:
        """Minutes of the day at which some unit's staffing changes."""
        varies = self.day_servers != self.night_servers
        return np.unique(np.concatenate([self.on_min[varies], self.off_min[varies]]) % 1440.0)

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


def build_units(scenario: Scenario, city: City) -> Units:
    """Number every staffed unit of the city and set its day and night staffing."""
    rows: list[tuple] = []  # kind, dept, district, street, day, night, on, off

    day_on, day_off = (h * 60.0 for h in scenario.city.day_hours)
    full = (0.0, 1440.0)

    def add(kind: str, dept: int, dis: int, st: int, day: float, night: float, window=full) -> int:
        rows.append((UNIT_KINDS.index(kind), dept, dis, st, day, night, window[0], window[1]))
        return len(rows) - 1

    c = scenario.centres
    millions = city.population / 1e6
    pop_100k = city.district_population / 1e5

    scale = scenario.city.staffing_scale

    def staffed(rate: float, per: float) -> int:
        return max(1, round(rate * scale * per))

    for kind, rate in (
        ("city_intake", c.city.intake_staff_per_1m),
        ("city_dispatch", c.city.dispatch_staff_per_1m),
        ("city_callback", c.city.callback_staff_per_1m),
    ):
        n = staffed(rate, millions)
        add(kind, -1, -1, -1, n, n)
    city_intake, city_dispatch, city_callback = 0, 1, 2

    n_dep, n_dis = len(city.department_names), city.n_districts
    kinds = [DISTRICT_KINDS[k] for k in city.district_kind]
    hotline = np.zeros(n_dep, dtype=np.int64)
    desk = np.zeros((n_dep, n_dis), dtype=np.int64)
    team = np.zeros((n_dep, n_dis), dtype=np.int64)
    for j, name in enumerate(city.department_names):
        dep = scenario.departments[name]
        day_only = dep.desk_hours == "day"
        window = (day_on, day_off) if day_only else full

        def night(n: float, dep=dep, day_only=day_only) -> float:
            return round(n * dep.night_staff_share) if day_only else n

        hotline_staff = staffed(dep.hotline_staff_per_1m, millions)
        hotline[j] = add("hotline", j, -1, -1, hotline_staff, night(hotline_staff), window)
        for d in range(n_dis):
            staff = staffed(dep.desk_staff_per_100k.of(kinds[d]), pop_100k[d])
            desk[j, d] = add("desk", j, d, -1, staff, night(staff), window)
            teams = staffed(dep.teams_per_100k.of(kinds[d]), pop_100k[d])
            team[j, d] = add("team", j, d, -1, teams, teams)
    district_centre = np.zeros(n_dis, dtype=np.int64)
    for d in range(n_dis):
        staff = staffed(c.district.staff_per_100k.of(kinds[d]), pop_100k[d])
        district_centre[d] = add("district_centre", -1, d, -1, staff, staff)
    sc = c.street
    street_centre = np.zeros(city.n_streets, dtype=np.int64)
    grid = np.zeros(len(city.worker_street), dtype=np.int64)
    gw_window = (day_on, min(day_on + scenario.grid_workers.shift_hours * 60.0, 1440.0))
    for s in range(city.n_streets):
        d = int(city.street_district[s])
        staff = staffed(sc.staff.of(kinds[d]), 1.0)
        street_window = (day_on, day_off) if sc.hours == "day" else full
        night_staff = round(staff * sc.night_staff_share) if sc.hours == "day" else staff
        street_centre[s] = add("street_centre", -1, d, s, staff, night_staff, street_window)
    for w, s in enumerate(city.worker_street.tolist()):
        grid[w] = add("grid", -1, int(city.street_district[s]), s, 1, 0, gw_window)

    a = np.array(rows, dtype=float)
    return Units(
        kind=a[:, 0].astype(np.int64),
        department=a[:, 1].astype(np.int64),
        district=a[:, 2].astype(np.int64),
        street=a[:, 3].astype(np.int64),
        day_servers=a[:, 4].astype(np.int64),
        night_servers=a[:, 5].astype(np.int64),
        on_min=a[:, 6],
        off_min=a[:, 7],
        city_intake=city_intake,
        city_dispatch=city_dispatch,
        city_callback=city_callback,
        hotline=hotline,
        desk=desk,
        team=team,
        district_centre=district_centre,
        street_centre=street_centre,
        grid=grid,
    )
