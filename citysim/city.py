"""The city as arrays: districts, streets, grid cells, cohorts, sensors, travel.

:func:`build_city` turns a :class:`~citysim.scenario.Scenario` into a
:class:`City`: every district is split into its streets, every street into
grid cells of a few hundred households; residents are *counts* of each cohort
in each cell (32 million people cost what 40,000 cells × 8 cohorts cost);
sensors are counts per cell and type; travel times from each department's
nearest station and from the street's grid workers are fixed per cell.

Geometry is statistical, not a map: a district's area is shared evenly by its
cells; a department's stations split the district into equal service areas and
a cell lies uniformly in one of them, so its distance to the station is
``r·sqrt(U)`` with ``r`` the service area's radius. Travel time is that
distance, times a detour factor, over the team's speed in that kind of
district. This is what makes a mountain county slow to reach and the core fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from citysim.footprint import cells_per_street, workers_per_street
from citysim.rng import Streams
from citysim.scenario import DISTRICT_KINDS, Scenario

__all__ = ["City", "build_city"]

DETOUR_FACTOR = 1.3
"""Road distance over straight-line distance (a common planning assumption)."""


@dataclass
class City:
    """A city as columnar arrays (one entry per district, street, cell or grid worker)."""

    district_names: list[str]
    district_kind: np.ndarray  # int index into DISTRICT_KINDS, per district
    district_population: np.ndarray
    street_district: np.ndarray  # per street
    cell_street: np.ndarray  # per cell
    cell_district: np.ndarray
    cell_kind: np.ndarray
    cell_population: np.ndarray  # float persons
    cell_area_km2: np.ndarray
    cohort_names: list[str]
    cohort_count: np.ndarray  # [cell, cohort] persons (float)
    sensor_names: list[str]
    sensor_count: np.ndarray  # [cell, sensor type] devices
    department_names: list[str]
    team_travel_min: np.ndarray  # [department, cell] typical team travel, minutes
    grid_travel_min: np.ndarray  # [cell] typical grid-worker travel, minutes
    worker_street: np.ndarray  # per grid worker
    cell_worker: np.ndarray  # per cell: responsible grid worker
    street_workers: np.ndarray  # per street: number of grid workers

    @property
    def n_cells(self) -> int:
        return len(self.cell_street)

    @property
    def n_streets(self) -> int:
        return len(self.street_district)

    @property
    def n_districts(self) -> int:
        return len(self.district_names)

    @property
    def population(self) -> float:
        return float(self.cell_population.sum())


def _split_evenly(total: int, parts: int) -> np.ndarray:
    """Integers summing to ``total``, as equal as possible."""
    base, extra = divmod(int(total), int(parts))
    out = np.full(parts, base, dtype=np.int64)
    out[:extra] += 1
    return out


def build_city(scenario: Scenario, streams: Streams) -> City:
    """Build the city's arrays from a scenario (random parts from the ``city`` stream)."""
    rng = streams.generator("city")
    city = scenario.city
    cohort_names = list(scenario.cohorts)
    kind_index = {k: i for i, k in enumerate(DISTRICT_KINDS)}

    street_district, cell_street, cell_pop, cell_area, cohort_rows = [], [], [], [], []
    street_id = 0
    for d_idx, d in enumerate(city.districts):
        per_street = cells_per_street(d, city)
        n_cells = per_street * d.streets
        pops = _split_evenly(d.population, n_cells).astype(float)
        shares = d.cohort_shares or scenario.cohort_shares[d.kind]
        share_vec = np.array([shares.get(c, 0.0) for c in cohort_names])
        share_vec = share_vec / share_vec.sum()
        for _ in range(d.streets):
            street_district.append(d_idx)
            cell_street.extend([street_id] * per_street)
            street_id += 1
        cell_pop.append(pops)
        cell_area.append(np.full(n_cells, d.area_km2 / n_cells))
        cohort_rows.append(np.outer(pops, share_vec))

    street_district_a = np.array(street_district, dtype=np.int64)
    cell_street_a = np.array(cell_street, dtype=np.int64)
    cell_district = street_district_a[cell_street_a]
    district_kind = np.array([kind_index[d.kind] for d in city.districts], dtype=np.int64)
    cell_kind = district_kind[cell_district]
    cell_population = np.concatenate(cell_pop)
    cell_area_km2 = np.concatenate(cell_area)
    cohort_count = np.vstack(cohort_rows)
    n_cells = len(cell_street_a)

    # sensors: Poisson counts around density x area
    sensor_names = list(scenario.sensors)
    sensor_count = np.zeros((n_cells, len(sensor_names)), dtype=np.int64)
    for j, name in enumerate(sensor_names):
        density = np.array([scenario.sensors[name].density_per_km2.of(k) for k in DISTRICT_KINDS])
        sensor_count[:, j] = rng.poisson(density[cell_kind] * cell_area_km2)

    # team travel: distance from the nearest station, uniform in its service area
    department_names = list(scenario.departments)
    team_travel = np.zeros((len(department_names), n_cells))
    district_area = np.array([d.area_km2 for d in city.districts])
    for j, name in enumerate(department_names):
        dept = scenario.departments[name]
        station_area = np.array([dept.station_area_km2.of(k) for k in DISTRICT_KINDS])[cell_kind]
        speed = np.array([dept.speed_kmh.of(k) for k in DISTRICT_KINDS])
        # a district smaller than one station's area is served by one station; area 0: teams on the spot
        radius = np.sqrt(np.minimum(district_area[cell_district], station_area) / np.pi)
        dist_km = radius * np.sqrt(rng.random(n_cells)) * DETOUR_FACTOR
        team_travel[j] = dist_km / np.maximum(speed[cell_kind], 1e-9) * 60.0

    # grid workers: one per cells_per_worker cells of each street
    gw = scenario.grid_workers
    n_streets = len(street_district_a)
    cells_in_street = np.bincount(cell_street_a, minlength=n_streets)
    street_workers = workers_per_street(cells_in_street, gw.cells_per_worker)
    worker_street = np.repeat(np.arange(n_streets), street_workers)
    worker_offset = np.concatenate([[0], np.cumsum(street_workers)[:-1]])
    rank_in_street = np.arange(n_cells) - np.concatenate([[0], np.cumsum(cells_in_street)[:-1]])[cell_street_a]
    cell_worker = worker_offset[cell_street_a] + (
        rank_in_street * street_workers[cell_street_a] // cells_in_street[cell_street_a]
    )
    gw_speed = np.array([gw.speed_kmh.of(k) for k in DISTRICT_KINDS])
    cell_radius = np.sqrt(cell_area_km2 * gw.cells_per_worker / np.pi)
    grid_travel = cell_radius * 0.5 * DETOUR_FACTOR / np.maximum(gw_speed[cell_kind], 1e-9) * 60.0

    return City(
        district_names=[d.name for d in city.districts],
        district_kind=district_kind,
        district_population=np.array([d.population for d in city.districts], dtype=np.int64),
        street_district=street_district_a,
        cell_street=cell_street_a,
        cell_district=cell_district,
        cell_kind=cell_kind,
        cell_population=cell_population,
        cell_area_km2=cell_area_km2,
        cohort_names=cohort_names,
        cohort_count=cohort_count,
        sensor_names=sensor_names,
        sensor_count=sensor_count,
        department_names=department_names,
        team_travel_min=team_travel,
        grid_travel_min=grid_travel,
        worker_street=worker_street,
        cell_worker=cell_worker,
        street_workers=street_workers,
    )
