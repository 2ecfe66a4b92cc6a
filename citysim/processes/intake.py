"""Intake, classification and transfers.

Who takes a report in depends on how it came:

* by phone, web or app: under ``intake = "unified"`` the city centre's
  operators (one hotline, 12345); under ``"per_department"`` the resident
  must pick a department's own hotline, right with a chance that grows with
  digital literacy (``behaviour.channel_choice_accuracy``);
* in person or by a patrolling grid worker: the street centre registers it;
* a sensor alert in a silo: the owning department's desk verifies it by hand;
  fused on the platform: no one, the work order is automatic.

A case can be routed wrongly: by the operator (right with
``classification_accuracy``, or ``aided_classification_accuracy`` for the
share ``staff_digital_skill`` of operators who use the platform's aids), by
street staff, or by a resident picking the wrong hotline. A misrouted case
waits ``transfer_delay`` and is reviewed by the wrong unit, which passes it
on (right with that department's ``routing_accuracy``), until it reaches the
right one, or until ``max_transfers``, after which the city centre routes it
by hand. Each such hop is a ``transfer`` step, with its own queue.
"""

from __future__ import annotations

import numpy as np

from citysim.engine import DELAY
from citysim.processes.detection import APP, GRID_CH, IN_PERSON, ONLINE, PHONE, SENSOR_CH
from citysim.processes.plan import PlanBuilder

__all__ = ["ENTRY_FUSED", "ENTRY_HOTLINE", "ENTRY_NONE", "ENTRY_SENSOR", "ENTRY_STREET", "entry_kind", "add_intake"]

ENTRY_NONE, ENTRY_HOTLINE, ENTRY_STREET, ENTRY_SENSOR, ENTRY_FUSED = range(5)


def entry_kind(channel: np.ndarray, fused: bool) -> np.ndarray:
    """How a case enters, from the channel that found it."""
    kind = np.full(len(channel), ENTRY_NONE)
    kind[np.isin(channel, (PHONE, ONLINE, APP))] = ENTRY_HOTLINE
    kind[np.isin(channel, (IN_PERSON, GRID_CH))] = ENTRY_STREET
    kind[channel == SENSOR_CH] = ENTRY_FUSED if fused else ENTRY_SENSOR
    return kind


def _pick_other(right: np.ndarray, u: np.ndarray, n_choices: int) -> np.ndarray:
    """A department other than ``right``, uniformly (one uniform per row)."""
    if n_choices < 2:
        return right.copy()
    k = np.minimum((u * (n_choices - 1)).astype(np.int64), n_choices - 2)
    return k + (k >= right)


def add_intake(m, b: PlanBuilder, attempt: int, alive: np.ndarray, entry: np.ndarray) -> np.ndarray:
    """Add the entry and transfer slots of one attempt.

    Args:
        m: the day's compile context (:class:`citysim.processes.incident.DayCompiler`).
        b: the plan being built.
        attempt: attempt number.
        alive: incidents making this attempt.
        entry: how each enters (``ENTRY_*``).

    Returns:
        Number of transfers per incident in this attempt.
    """
    sc, reg, units = m.scenario, m.regime, m.units
    n, n_dep = m.n, m.n_departments
    dice = m.dice
    H = sc.behaviour.max_transfers
    per_department = reg.intake == "per_department"
    hotline = alive & (entry == ENTRY_HOTLINE)
    street = alive & (entry == ENTRY_STREET)
    sensor = alive & (entry == ENTRY_SENSOR)

    # --- whose problem it is, and the chance the entry routes it right
    right = np.where(m.consult, m.consult_dep, m.dep[:, 0])
    city = sc.centres.city
    acc_city = (
        reg.staff_digital_skill * city.aided_classification_accuracy
        + (1 - reg.staff_digital_skill) * city.classification_accuracy
    )
    a0, a1 = sc.behaviour.channel_choice_accuracy
    acc_pick = a0 + (a1 - a0) * m.literacy[m.cohort]
    if per_department:
        acc0 = np.where(hotline, acc_pick, sc.centres.street.classification_accuracy)
    else:
        acc0 = np.where(hotline, acc_city, sc.centres.street.classification_accuracy)
    # consultations are answered where they are taken in, except at the wrong department's hotline
    routed = (hotline | street) & ~(m.consult & ~(per_department & hotline))

    u_route = dice.u("route", m.attempts, H + 1)[:, attempt]
    u_wrong = dice.u("route_wrong", m.attempts, H + 1)[:, attempt]
    q = np.zeros((n, H + 1), dtype=np.int64)  # department each position sends it to
    ok = np.zeros((n, H + 1), dtype=bool)
    acc = acc0
    for k in range(H + 1):
        ok[:, k] = u_route[:, k] < acc
        q[:, k] = np.where(ok[:, k], right, _pick_other(right, u_wrong[:, k], n_dep))
        acc = m.routing_accuracy[q[:, k]]
    first_right = np.where(ok.any(axis=1), ok.argmax(axis=1), H + 1)
    first_right = np.where(routed, first_right, 0)
    capped = routed & (first_right > H)
    n_transfers = np.minimum(first_right, H) + capped

    # --- the entry step
    u_in = dice.u("intake", m.attempts)[:, attempt]
    entry_unit = np.full(n, DELAY)
    entry_dur = np.zeros(n)
    if per_department:
        entry_unit = np.where(hotline, units.hotline[q[:, 0]], entry_unit)
        entry_dur = np.where(hotline, m.type_intake(m.dept_value("intake_time", q[:, 0], u_in), u_in), entry_dur)
    else:
        entry_unit = np.where(hotline, units.city_intake, entry_unit)
        entry_dur = np.where(hotline, m.type_intake(city.intake_time.ppf(u_in), u_in), entry_dur)
    entry_unit = np.where(street, units.street_centre[m.street], entry_unit)
    entry_dur = np.where(street, m.type_intake(sc.centres.street.intake_time.ppf(u_in), u_in), entry_dur)
    b.add("intake", attempt, hotline | street, entry_unit, entry_dur)
    owner = m.sensor_owner
    b.add(
        "verify",
        attempt,
        sensor,
        units.desk[owner, m.district],
        m.dept_value("verify_time", owner, u_in),
    )

    # --- transfers
    u_tw = dice.u("transfer_delay", m.attempts, H + 1)[:, attempt]
    u_rv = dice.u("review", m.attempts, H + 1)[:, attempt]
    delay_dist = sc.behaviour.transfer_delay
    for k in range(1, H + 1):
        active = routed & (k <= np.minimum(first_right, H))
        if per_department:
            unit = np.where(hotline, units.hotline[q[:, k]], units.desk[q[:, k - 1], m.district])
            dur = np.where(
                hotline,
                m.type_intake(m.dept_value("intake_time", q[:, k], u_rv[:, k]), u_rv[:, k]),
                m.dept_value("review_time", q[:, k - 1], u_rv[:, k]),
            )
        else:
            unit = units.desk[q[:, k - 1], m.district]
            dur = m.dept_value("review_time", q[:, k - 1], u_rv[:, k])
        b.add("transfer_wait", attempt, active, DELAY, delay_dist.ppf(u_tw[:, k]))
        b.add("transfer", attempt, active, unit, dur)
    b.add("transfer_wait", attempt, capped, DELAY, delay_dist.ppf(u_tw[:, 0]))
    b.add("transfer", attempt, capped, units.city_dispatch, city.dispatch_time.ppf(u_rv[:, 0]))
    return n_transfers
