"""What a scenario asks of the machine, worked out from the file alone.

:func:`footprint` counts what a scenario implies — grid cells, staffed units,
expected incidents and false alarms a day — by arithmetic on its tables,
before any array is built, so that a mistyped number (a population of a
trillion, a ``rate_scale`` of a million) is refused by :func:`check_footprint`
with a message naming the field instead of filling the machine's memory, and
so that ``citysim check`` can say how big a run will be. The counting rules
(:func:`cells_per_street`, :func:`workers_per_street`) are the ones
:func:`citysim.city.build_city` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from citysim.errors import FieldError
from citysim.limits import (
    MAX_CELL_RATES,
    MAX_CELLS,
    MAX_FALSE_ALARMS_PER_DAY,
    MAX_INCIDENTS_PER_DAY,
    MAX_UNITS,
)

if TYPE_CHECKING:
    from citysim.schema import City, District, GridWorkers

__all__ = ["Footprint", "cells_per_street", "check_footprint", "footprint", "workers_per_street"]

# A run's memory, measured with `citysim run` (Parquet output) on Chongqing at 1x and 4x its volume
# and at 4x its grid cells, 1 and 7 days (within 5% of each, and of the benchmark's year):
_BASE_BYTES = 400e6  # Python, numpy, pandas, numba, pyarrow and a tiny city
_CELL_BYTES = 1900.0  # per grid cell (and its grid worker), besides its occurrence rates
_RATE_BYTES = 16.0  # per occurrence rate (cell x cohort x incident type) and its running sum
_FIRST_DAY_BYTES = 2200.0  # per incident of a day, while it is being compiled and run
# per incident of each earlier day still held (up to _HELD_DAYS); refitted at 17baf49 (a day's plan held once,
# in the engine's arena): Chongqing peaked at 987 MiB over its 35 days (estimate 998), 1,085 MiB over a year
_HELD_DAY_BYTES = 420.0
_HELD_DAYS = 13  # days of unfinished incidents held before they are carried in compact form
_STARTUP_S = 3.0  # imports and building the city
_INCIDENTS_PER_S = 100_000.0  # the compiled (numba) engine on a 2-core machine


class Tables(Protocol):
    """What counting needs of a :class:`~citysim.scenario.Scenario` (which this module does not import)."""

    city: City
    cohorts: dict[str, Any]
    cohort_shares: dict[str, dict[str, float]]
    sensors: dict[str, Any]
    grid_workers: GridWorkers
    departments: dict[str, Any]
    incident_types: dict[str, Any]
    shocks: list[Any]


def cells_per_street(district: District, city: City) -> int:
    """Grid cells of each street of a district: as given, or households / households_per_cell / streets."""
    if district.cells_per_street is not None:
        return district.cells_per_street
    households = district.population / city.household_size
    return max(1, round(households / city.households_per_cell / district.streets))


def workers_per_street(cells_in_street, cells_per_worker: float):
    """Grid workers of a street: one per ``cells_per_worker`` of its cells, at least one."""
    return np.maximum(1, np.round(np.asarray(cells_in_street) / cells_per_worker)).astype(np.int64)


@dataclass(frozen=True)
class Footprint:
    """The size of a scenario's city and of its daily work."""

    residents: int
    districts: int
    streets: int
    cells: int
    grid_workers: int
    units: int
    cell_rates: int
    """Grid cells x cohorts x incident types: the occurrence rates a run keeps."""
    incidents_per_day: float
    """Expected incidents on a day without shocks."""
    busiest_day_incidents: float
    """Expected incidents on a day with every storm and public event at once (an upper bound)."""
    false_alarms_per_day: float
    sensors: float
    """Expected sensors (a Poisson count per cell)."""

    def memory_bytes(self, days: int) -> float:
        """Rough peak memory of ``citysim run`` over ``days`` days (within about 20% on the shipped cities)."""
        per_day = self.busiest_day_incidents + self.false_alarms_per_day
        held = min(max(days - 1, 0), _HELD_DAYS)
        return (
            _BASE_BYTES
            + self.cells * _CELL_BYTES
            + self.cell_rates * _RATE_BYTES
            + per_day * (_FIRST_DAY_BYTES + held * _HELD_DAY_BYTES)
        )

    def seconds(self, days: int) -> float:
        """Rough wall time of ``citysim run`` over ``days`` days with the compiled engine."""
        return _STARTUP_S + days * (self.incidents_per_day + self.false_alarms_per_day) / _INCIDENTS_PER_S

    def summary_lines(self, days: int, incident_types: int) -> list[str]:
        """What ``citysim check`` says of the scenario: its size, its daily work, a run's memory and time."""
        busiest = self.busiest_day_incidents
        per_resident_year = self.incidents_per_day * 365 / self.residents
        lines = [
            f"{_count(self.districts, 'district')}, {_count(self.streets, 'street')}, "
            f"{_count(self.cells, 'grid cell')}, {self.residents:,} residents, about {self.sensors:,.0f} sensors, "
            f"{_count(self.grid_workers, 'grid worker')}, {_count(self.units, 'staffed unit')}",
            f"{_count(incident_types, 'incident type')}: about {self.incidents_per_day:,.0f} incidents a day"
            + (f" ({busiest:,.0f} on the busiest day)" if busiest > self.incidents_per_day else "")
            + f"; false alarms a day: about {self.false_alarms_per_day:,.0f}",
            f"a run of {_count(days, 'simulated day')} (the scenario's): about {self.memory_bytes(days) / 1e9:,.1f} GB "
            f"of memory and {self.seconds(days):,.0f} s with numba (rough estimates; longer without numba)",
        ]
        if per_resident_year > 10:
            lines.append(
                f"note: {per_resident_year:,.0f} incidents per resident a year (the shipped cities: 0.3 to 0.5); "
                "if that is not intended, check city.rate_scale and the rate_per_1000_day"
            )
        return lines

    def problems(self) -> list[tuple[str, str]]:
        """``(field, message)`` for every limit of :mod:`citysim.limits` the scenario goes beyond."""
        checks = (  # figure, limit, field, what it counts, what to look at
            (self.cells, MAX_CELLS, "city.districts", "grid cells", "the districts' population and cells_per_street, "
             "and city.households_per_cell"),
            (self.units, MAX_UNITS, "city.districts", "staffed units", "grid_workers.cells_per_worker, the number "
             "of departments and of streets"),
            (self.cell_rates, MAX_CELL_RATES, "incident_types", "grid cells x cohorts x incident types",
             "fewer cells, cohorts or incident types"),
            (self.busiest_day_incidents, MAX_INCIDENTS_PER_DAY, "incident_types", "incidents expected on the "
             "busiest day", "rate_per_1000_day and its multipliers, the shocks' multipliers, city.rate_scale and "
             "the districts' population"),
            (self.false_alarms_per_day, MAX_FALSE_ALARMS_PER_DAY, "sensors", "false alarms expected a day",
             "density_per_km2, false_alarms_per_sensor_day and the districts' area_km2"),
        )  # fmt: skip
        return [
            (field, f"{what}: {figure:,.0f}; at most {limit:,} (check {hint})")
            for figure, limit, field, what, hint in checks
            if figure > limit
        ]


def _count(n: int, thing: str) -> str:
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def footprint(scenario: Tables) -> Footprint:
    """Count what a validated scenario implies, without building the city."""
    city = scenario.city
    cohorts = list(scenario.cohorts)
    streets = cells = workers = 0
    by_type = np.zeros(len(scenario.incident_types))  # expected incidents a day
    sensors = false_alarms = 0.0
    for d in city.districts:
        per_street = cells_per_street(d, city)
        streets += d.streets
        cells += per_street * d.streets
        workers += int(workers_per_street(per_street, scenario.grid_workers.cells_per_worker)) * d.streets
        shares = d.cohort_shares or scenario.cohort_shares[d.kind]
        share = np.array([shares.get(c, 0.0) for c in cohorts])
        people = d.population * share / share.sum()
        for t, kind in enumerate(scenario.incident_types.values()):
            by_kind = kind.rate_by_kind.of(d.kind) if kind.rate_by_kind is not None else 1.0
            by_cohort = np.array([kind.rate_by_cohort.get(c, 1.0) for c in cohorts])
            by_type[t] += float(people @ by_cohort) * by_kind * kind.rate_per_1000_day / 1000.0 * city.rate_scale
        for sensor in scenario.sensors.values():
            n = sensor.density_per_km2.of(d.kind) * d.area_km2
            sensors += n
            false_alarms += n * (1 - sensor.out_of_service_share) * sensor.false_alarms_per_sensor_day
    rate = float(by_type.sum())
    names = list(scenario.incident_types)
    extra = 0.0
    for shock in scenario.shocks:
        if getattr(shock, "multiplier", 1.0) > 1:
            extra += (shock.multiplier - 1) * sum(by_type[names.index(n)] for n in shock.incident_types)
    n_dep, n_dis = len(scenario.departments), len(city.districts)
    return Footprint(
        residents=sum(d.population for d in city.districts),
        districts=n_dis,
        streets=streets,
        cells=cells,
        grid_workers=workers,
        units=3 + n_dep * (1 + 2 * n_dis) + n_dis + streets + workers,
        cell_rates=cells * len(cohorts) * len(names),
        incidents_per_day=rate,
        busiest_day_incidents=rate + extra,
        false_alarms_per_day=false_alarms,
        sensors=sensors,
    )


def check_footprint(scenario: Tables) -> None:
    """Refuse a scenario beyond the limits of :mod:`citysim.limits`.

    Raises:
        FieldError: naming the field to look at, the figure and the limit.
    """
    problems = footprint(scenario).problems()
    if problems:
        raise FieldError(*problems[0])
