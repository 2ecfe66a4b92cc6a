"""The city's actors as Mesa agents: centres, departments, grid workers, cohorts, sensors.

Agents hold identity and state; the work they do flows through the engine's
units, which they own (see :mod:`citysim.units`). They number in the
thousands to tens of thousands, never one per resident.
"""

from __future__ import annotations

import itertools
import weakref

import mesa

from citysim.agents.centres import OperationsCentre
from citysim.agents.departments import Department
from citysim.agents.grid_workers import GridWorker
from citysim.agents.residents import ResidentCohort
from citysim.agents.sensors import SensorNetwork

__all__ = ["Department", "GridWorker", "OperationsCentre", "ResidentCohort", "SensorNetwork", "build_agents"]


class _IdsPerModel(weakref.WeakKeyDictionary):
    """Mesa's agent id counters, one per model, that do not keep a finished model alive.

    Mesa 3.3.1 counts ``unique_id`` in ``Agent._ids``, a class-level dict holding every
    model ever made, so no model (and none of its arrays) is ever freed: a process that
    runs many models grows without bound (mesa#3179, fixed in later Mesa releases).
    """

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            self[model] = counter = itertools.count(1)
            return counter


if not isinstance(mesa.Agent._ids, _IdsPerModel):
    mesa.Agent._ids = _IdsPerModel()


def build_agents(model) -> None:
    """Create every agent of a :class:`~citysim.model.CityModel`."""
    city, units = model.city, model.units
    OperationsCentre(model, "city", None, None, [units.city_intake, units.city_dispatch, units.city_callback])
    for d in range(city.n_districts):
        OperationsCentre(model, "district", d, None, [int(units.district_centre[d])])
    for s in range(city.n_streets):
        OperationsCentre(model, "street", int(city.street_district[s]), s, [int(units.street_centre[s])])
    for j, name in enumerate(city.department_names):
        Department(model, name, j)
    cells_of = {}
    for cell, worker in enumerate(city.cell_worker.tolist()):
        cells_of.setdefault(worker, []).append(cell)
    GridWorker.create_agents(
        model,
        len(city.worker_street),
        street=city.worker_street.tolist(),
        cells=[cells_of.get(w, []) for w in range(len(city.worker_street))],
        unit=units.grid.tolist(),
    )
    for c, name in enumerate(city.cohort_names):
        for d in range(city.n_districts):
            ResidentCohort(model, name, c, d)
    for j, name in enumerate(city.sensor_names):
        SensorNetwork(model, name, j)
