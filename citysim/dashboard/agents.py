"""What the city's Mesa agents say now: a street centre's queue, its grid workers, departments' backlogs.

The page lets a user click a street and read its
:class:`~citysim.agents.OperationsCentre` and
:class:`~citysim.agents.GridWorker` agents, and lists every
:class:`~citysim.agents.Department`. These functions only read the agents'
own properties.
"""

from __future__ import annotations

import numpy as np

from citysim.agents import Department, GridWorker, OperationsCentre
from citysim.model import CityModel

__all__ = ["department_rows", "street_rows", "worker_backlog"]


def street_rows(model: CityModel, street: int) -> list[list[object]]:
    """Rows (who, staff on duty, waiting) for a street's centre and its grid workers."""
    rows: list[list[object]] = []
    for centre in model.agents_by_type.get(OperationsCentre, []):
        if centre.level == "street" and centre.street == street:
            rows.append(["street centre", centre.staff_on_duty, centre.queue_length])
    workers = [w for w in model.agents_by_type.get(GridWorker, []) if w.street == street]
    for w in sorted(workers, key=lambda w: w.unit):
        rows.append([f"grid worker {w.unit} ({len(w.cells)} cells)", w.on_duty, w.backlog])
    return rows


def department_rows(model: CityModel) -> list[list[object]]:
    """Rows (department, teams out on a job, cases waiting) for every department."""
    deps = sorted(model.agents_by_type.get(Department, []), key=lambda d: d.index)
    return [[d.name, d.teams_busy, d.backlog] for d in deps]


def worker_backlog(model: CityModel) -> np.ndarray:
    """Tasks waiting per grid worker (in the city's worker order)."""
    workers = list(model.agents_by_type.get(GridWorker, []))
    out = np.zeros(len(model.city.worker_street))
    for k, w in enumerate(workers):
        out[k] = w.backlog
    return out
