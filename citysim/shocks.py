"""Shocks that change who is on duty and which sensors work: staff off sick, sensor outages.

(Storms and public events change what occurs: see :mod:`citysim.processes.occurrence`.)
Shock days count from the start of the measurement window (see :mod:`citysim.window`).
"""

from __future__ import annotations

import numpy as np

from citysim.city import City
from citysim.rng import Streams
from citysim.scenario import DISTRICT_KINDS, Scenario, SensorOutage, StaffAbsence
from citysim.units import UNIT_KINDS, Units
from citysim.window import DAY_MIN

__all__ = ["Shocks"]


class Shocks:
    """The scenario's staff absences and sensor outages, for one city.

    Args:
        scenario, city, units, streams: the run's parts.
        offset_min: the start of the measurement window (shock days count from it).
    """

    def __init__(self, scenario: Scenario, city: City, units: Units, streams: Streams, offset_min: float) -> None:
        self.scenario, self.city, self.units, self.streams = scenario, city, units, streams
        self.offset = offset_min

    def servers_at(self, minute: float) -> np.ndarray:
        """Servers on duty at a minute: the shift's staffing, less staff off sick.

        Under a staff_absence shock each staff member of an affected unit is
        absent with the shock's share, independently: the number present is
        binomial, drawn once per unit and day from the ``absence`` stream.
        """
        servers = self.units.servers_at(minute)
        day = int(minute // DAY_MIN)
        for i, sh in enumerate(self.scenario.shocks):
            if not isinstance(sh, StaffAbsence):
                continue
            lo, hi = sh.minutes(self.offset)
            if not lo <= minute < hi:
                continue
            hit = self._units_matching(sh.units) & self._units_in(sh.districts)
            u = self.streams.generator("absence", i, day).random(len(servers))
            from scipy import stats  # here: scipy.stats takes half a second to import

            present = stats.binom.ppf(u, servers, 1.0 - sh.share).astype(np.int64)
            servers = np.where(hit, np.minimum(present, servers), servers)
        return servers

    def change_minutes(self, day: int) -> set[float]:
        """Minutes of a day at which who is on duty changes: shift changes and absences starting or ending."""
        minutes = set((day * DAY_MIN + self.units.shift_change_minutes()).tolist())
        for sh in self.scenario.shocks:
            if isinstance(sh, StaffAbsence):
                lo, hi = sh.minutes(self.offset)
                for t in (lo, hi):
                    if day * DAY_MIN <= t < (day + 1) * DAY_MIN:
                        minutes.add(t)
                if lo < day * DAY_MIN < hi:
                    minutes.add(day * DAY_MIN)  # who is off sick is drawn afresh each day
        return minutes

    def _units_matching(self, names: list[str]) -> np.ndarray:
        u = self.units
        if not names:
            return np.ones(len(u), dtype=bool)
        kind = np.array(UNIT_KINDS)[u.kind]
        hit = np.zeros(len(u), dtype=bool)
        deps = self.city.department_names
        for name in names:
            if name in deps:
                hit |= u.department == deps.index(name)
            elif name == "city_centre":
                hit |= np.isin(kind, ("city_intake", "city_dispatch", "city_callback"))
            elif name == "district_centres":
                hit |= kind == "district_centre"
            elif name == "street_centres":
                hit |= kind == "street_centre"
            elif name == "grid_workers":
                hit |= kind == "grid"
        return hit

    def _district_mask(self, places: list[str]) -> np.ndarray:
        """Districts named, or of a kind named (all if none named)."""
        if not places:
            return np.ones(self.city.n_districts, dtype=bool)
        names, kinds = self.city.district_names, self.city.district_kind
        return np.array([n in places or DISTRICT_KINDS[k] in places for n, k in zip(names, kinds, strict=True)])

    def _units_in(self, places: list[str]) -> np.ndarray:
        u = self.units
        ok = self._district_mask(places)
        return np.where(u.district >= 0, ok[np.maximum(u.district, 0)], True)

    def sensor_working(self, j: int, cells: np.ndarray, times: np.ndarray) -> np.ndarray:
        """Share of sensors of type j working in cells at times (0 under an outage)."""
        working = np.ones(len(cells))
        name = self.city.sensor_names[j]
        for sh in self.scenario.shocks:
            if isinstance(sh, SensorOutage) and (not sh.sensor_types or name in sh.sensor_types):
                in_place = self._district_mask(sh.districts)[self.city.cell_district[cells]]
                lo, hi = sh.minutes(self.offset)
                during = (times >= lo) & (times < hi)
                working = np.where(in_place & during, 0.0, working)
        return working
