"""From a routed case to a team on site: data, dispatch level, coordination, closure.

* **Data wait.** A case needing another department's data (``data_from``)
  gets it at once with chance ``data_sharing``; otherwise after an approval
  delay (exponential, mean ``data_approval_delay_h``). Requests go out
  together, so the wait is the longest of them.
* **Dispatch level.** Who goes out: a department team of the district, or,
  where ``field_force = "grid_tasked"`` and the type is ``grid_capable``, the
  grid worker responsible for the cell. Who issues the order: under ``"lowest_capable"`` the
  centre at the level of whoever goes out (street or district centre), one
  step; a fused sensor's automatic work order needs none, nor does a case whose
  emergency line (or, for a sensor in a silo, the desk that verified it) sends
  the teams itself (``emergency_line`` types, under every regime). Under
  ``"escalation"`` the order passes down the chain, one queue per level: the
  city centre (for cases taken in there), the department's district desk
  (which approves), and the street centre (when grid workers go out).
* **Coordination.** A case needing several departments: ``"joint"``
  dispatches all teams at once (a parallel group: done when all are done);
  ``"sequential"`` hands it from one department to the next at the next
  coordination meeting (every ``coordination_meeting_interval_h``, at a time of
  the receiving desk's own, see :mod:`citysim.phases`), each department's desk
  issuing its own order.
* **Field.** A visit holds the team or grid worker for setup, travel (the
  cell's typical travel time, jittered) and handling.
* **Hand-offs.** After a visit, department X hands the case on to department Y
  with chance ``departments.X.handoff_to.Y`` (Markov routing, cycles allowed,
  at most ``max_handoffs`` times), through Y's desk at the next meeting, or at
  once under joint coordination.
* **Closure.** A department closes a case prematurely with its
  ``premature_closure`` chance. Under ``closure_supervision = "callback"``
  the centre calls every resident back after a delay and catches a premature
  closure with ``callback_detection``: the case is reopened at once.
  Otherwise (or if missed) the need is re-reported after a delay, by a
  resident with chance ``report_propensity × trust`` (sensors and grid workers
  notice it again), and makes a new attempt through intake.
"""

from __future__ import annotations

import numpy as np

from citysim.batch import DELAY
from citysim.processes.intake import ENTRY_FUSED, ENTRY_HOTLINE
from citysim.processes.plan import PlanBuilder

__all__ = ["add_closure", "add_data_wait", "add_dispatch_and_field"]


def add_data_wait(m, b: PlanBuilder, attempt: int, active: np.ndarray) -> None:
    """Wait for other departments' data (first attempt only)."""
    reg = m.regime
    rows = np.flatnonzero(active & (m.data_requests > 0))
    if len(rows) == 0:
        return
    u_share = m.dice.at("data_share", (3,), m.rows[rows])
    u_delay = m.dice.at("data_delay", (3,), m.rows[rows])
    mean = reg.data_approval_delay_h * 60.0
    late = (u_share >= reg.data_sharing) & (np.arange(3)[None, :] < m.data_requests[rows, None])
    waits = np.zeros(late.shape)
    waits[late] = -mean * np.log1p(-u_delay[late])
    wait = waits.max(axis=1)
    b.add_at("data_wait", attempt, rows[wait > 0], DELAY, wait[wait > 0])


def _field(
    m, b: PlanBuilder, attempt: int, rows: np.ndarray, dep: np.ndarray, grid: np.ndarray, group: int, dice: str
) -> None:
    """A visit to the incidents ``rows`` by department ``dep``'s team (or the cell's grid worker, where ``grid``).

    ``dep`` and ``grid`` are given per row of ``rows``.
    """
    units, city = m.units, m.city
    dep = np.maximum(dep, 0)
    cell = m.cell[rows]
    u = m.dice.at(dice, (m.attempts, 3), m.rows[rows], attempt)
    jitter = m.jitter(u[:, 0])
    team_travel = city.team_travel_min[dep, cell] * jitter
    grid_travel = city.grid_travel_min[cell] * jitter
    setup = m.dept_value("setup", dep, u[:, 1])
    handling = m.handling(rows, dep, u[:, 2])
    travel = np.where(grid, grid_travel, setup + team_travel)
    dur = travel + np.where(grid, handling * m.scenario.grid_workers.handling_factor, handling)
    unit = np.where(grid, units.grid[city.cell_worker[cell]], units.team[dep, m.district[rows]])
    b.add_at("field", attempt, rows, unit, dur, travel=travel, group=group)


def _handoff(m, b: PlanBuilder, attempt: int, rows: np.ndarray, dep: np.ndarray, u_dispatch: np.ndarray) -> None:
    """Hand the cases ``rows`` to department ``dep`` (per row).

    At the next meeting, through its desk; at once under joint coordination.
    """
    reg = m.regime
    if reg.coordination == "joint":
        return
    interval = reg.coordination_meeting_interval_h * 60.0
    district = m.district[rows]
    phase = m.desk_phase[dep, district] * interval
    b.add_at("handoff_wait", attempt, rows, DELAY, 0.0, align=interval, phase=phase)
    b.add_at("dispatch", attempt, rows, m.units.desk[dep, district], m.dept_value("dispatch_time", dep, u_dispatch))


def add_dispatch_and_field(m, b: PlanBuilder, attempt: int, active: np.ndarray, entry: np.ndarray) -> np.ndarray:
    """Dispatch chain, coordination, field visits and hand-offs of one attempt.

    Returns:
        Whether grid workers (not a team) went out first.
    """
    reg, units = m.regime, m.units
    centres = m.scenario.centres
    chain = active & ~m.emergency  # an emergency line sends its teams itself
    grid = chain & (reg.field_force == "grid_tasked") & m.grid_capable
    dep0 = np.maximum(m.dep[:, 0], 0)

    def u(rows: np.ndarray, k: int) -> np.ndarray:
        return m.dice.at("dispatch", (m.attempts, 5), m.rows[rows], attempt, k)

    if reg.dispatch_level == "lowest_capable":
        rows = np.flatnonzero(chain & (entry != ENTRY_FUSED))  # the cases needing an order
        on_grid, u0 = grid[rows], u(rows, 0)
        unit = np.where(on_grid, units.street_centre[m.street[rows]], units.district_centre[m.district[rows]])
        dur = np.where(on_grid, centres.street.dispatch_time.ppf(u0), centres.district.dispatch_time.ppf(u0))
        b.add_at("dispatch", attempt, rows, unit, dur)
    else:
        rows = np.flatnonzero(chain & (entry == ENTRY_HOTLINE) & (reg.intake == "unified"))  # from the city centre
        b.add_at("dispatch", attempt, rows, units.city_dispatch, centres.city.dispatch_time.ppf(u(rows, 0)))
        rows = np.flatnonzero(chain)
        dep = dep0[rows]
        dur = m.dept_value("dispatch_time", dep, u(rows, 1))
        b.add_at("dispatch", attempt, rows, units.desk[dep, m.district[rows]], dur)
        rows = np.flatnonzero(grid)
        dur = centres.street.dispatch_time.ppf(u(rows, 2))
        b.add_at("dispatch", attempt, rows, units.street_centre[m.street[rows]], dur)

    joint = reg.coordination == "joint"
    group = b.new_group() if joint else 0
    rows = np.flatnonzero(active)
    _field(m, b, attempt, rows, m.dep[rows, 0], grid[rows], group, "field0")
    last = dep0.copy()
    for j in (1, 2):
        more = np.flatnonzero(active & (m.dep[:, j] >= 0))
        if len(more) == 0:
            continue
        dep = m.dep[more, j]
        _handoff(m, b, attempt, more, dep, u(more, 2 + j))
        _field(m, b, attempt, more, dep, np.zeros(len(more), dtype=bool), group, f"field{j}")
        last[more] = dep
    _add_handoff_chain(m, b, attempt, active, last)
    return grid


def _add_handoff_chain(m, b: PlanBuilder, attempt: int, active: np.ndarray, last: np.ndarray) -> None:
    """Markov hand-offs (``departments.X.handoff_to``) after the planned visits, up to ``max_handoffs``."""
    cum = m.handoff_cum  # [department, department]: cumulative chance of handing to each
    if cum is None:
        return
    hops = m.scenario.behaviour.max_handoffs
    shape = (m.attempts, max(hops, 1))
    n_dep = cum.shape[1]
    going = np.flatnonzero(active)
    cur = last[going]
    for h in range(hops):
        nxt = (m.dice.at("handoff", shape, m.rows[going], attempt, h)[:, None] >= cum[cur]).sum(
            axis=1
        )  # n_dep: no hand-off
        on = nxt < n_dep
        going, cur = going[on], nxt[on]
        if len(going) == 0:
            return
        _handoff(m, b, attempt, going, cur, m.dice.at("handoff_dispatch", shape, m.rows[going], attempt, h))
        _field(m, b, attempt, going, cur, np.zeros(len(going), dtype=bool), 0, f"handoff{h}")


def add_closure(
    m, b: PlanBuilder, attempt: int, closed: np.ndarray, last: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Premature closure, call-back and re-report after one attempt.

    Returns:
        ``(premature, reopened, rereported)``: closed without the need met;
        reopened at once by a call-back; re-reported later (both start the next attempt).
    """
    sc, reg, units = m.scenario, m.regime, m.units
    beh = sc.behaviour
    u = m.dice.at("closure", (m.attempts, 5), m.rows, attempt)
    dep0 = np.maximum(m.dep[:, 0], 0)
    premature = closed & (u[:, 0] < m.premature[dep0])
    reopened = np.zeros(m.n, dtype=bool)
    if reg.closure_supervision == "callback":
        rows = np.flatnonzero(closed)
        b.add_at("callback_wait", attempt, rows, DELAY, beh.callback_delay.ppf(u[rows, 1]))
        b.add_at("callback", attempt, rows, units.city_callback, sc.centres.city.callback_time.ppf(u[rows, 2]))
        reopened = premature & (u[:, 3] < beh.callback_detection)
    rereported = premature & ~reopened & (u[:, 4] < m.rereport_probability)
    if last:
        return premature, np.zeros(m.n, dtype=bool), np.zeros(m.n, dtype=bool)
    rows = np.flatnonzero(rereported)
    u_delay = m.dice.at("rereport_delay", (m.attempts,), m.rows[rows], attempt)
    b.add_at("rereport_wait", attempt, rows, DELAY, beh.rereport_delay.ppf(u_delay))
    return premature, reopened, rereported
