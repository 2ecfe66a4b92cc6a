"""Intake, classification and transfers.

Who takes a report in depends on how it came:

* by phone, web or app: under ``intake = "unified"`` the city centre's
  operators (one hotline, 12345); under ``"per_department"`` the resident
  must pick a department's own hotline, right with a chance that grows with
  digital literacy (``behaviour.channel_choice_accuracy``);
* in person or by a patrolling grid worker: the street centre registers it;
* a sensor alert in a silo: the owning department's desk verifies it by hand;
  fused on the platform: no one, the work order is automatic.

An incident type with ``emergency_line`` (a fire, a gas leak) is reported on
its department's own emergency number (119, the gas company's), whose
call-takers send the teams at once, under every regime: it is never misrouted.

A case can be routed wrongly: by the operator (right with
``classification_accuracy``, or ``aided_classification_accuracy`` for the
share ``staff_digital_skill`` of operators who use the platform's aids), by
street staff, or by a resident picking the wrong hotline. A misrouted case goes
to a department its type is plausibly confused with (the type's
``confused_with`` weights; any other department alike without them), never one
it has already been to (with none left, the right one); it waits
``transfer_delay`` and is reviewed by the wrong unit, which passes it on (right
with that department's ``routing_accuracy``), until it reaches the right one,
or until ``max_transfers``, after which the city centre routes it by hand. Each
such hop is a ``transfer`` step, with its own queue; an urgent case (priority
class 0, when there are several) is transferred warm: at once, through no queue.

Every call (to the city hotline, a department's hotline, an emergency line) and
every report waiting at a street centre is a :meth:`~citysim.processes.plan.PlanBuilder.add_call`:
the resident may hang up when their patience (``queueing.patience`` of the
channel, times the cohort's ``patience_by_cohort``) runs out, and call again
(``redial_probability``, after ``redial_delay``, at most ``max_redials`` times)
or give up. Patience and redials come from the incident's own dice, one slot
per call and try, whatever the regime.
"""

from __future__ import annotations

import numpy as np

from citysim.batch import DELAY
from citysim.processes.detection import APP, GRID_CH, IN_PERSON, ONLINE, PHONE, SENSOR_CH
from citysim.processes.plan import PlanBuilder

__all__ = [
    "ENTRY_FUSED",
    "ENTRY_HOTLINE",
    "ENTRY_LINE",
    "ENTRY_NONE",
    "ENTRY_SENSOR",
    "ENTRY_STREET",
    "add_call",
    "add_intake",
    "entry_kind",
]

ENTRY_NONE, ENTRY_HOTLINE, ENTRY_STREET, ENTRY_SENSOR, ENTRY_FUSED, ENTRY_LINE = range(6)


def entry_kind(channel: np.ndarray, fused: bool, emergency: np.ndarray | None = None) -> np.ndarray:
    """How a case enters, from the channel that found it (and whether its type goes by an emergency line)."""
    kind = np.full(len(channel), ENTRY_NONE)
    kind[np.isin(channel, (PHONE, ONLINE, APP))] = ENTRY_HOTLINE
    kind[np.isin(channel, (IN_PERSON, GRID_CH))] = ENTRY_STREET
    if emergency is not None:
        kind[emergency & np.isin(kind, (ENTRY_HOTLINE, ENTRY_STREET))] = ENTRY_LINE
    kind[channel == SENSOR_CH] = ENTRY_FUSED if fused else ENTRY_SENSOR
    return kind


def _pick_plausible(weights: np.ndarray, right: np.ndarray, been: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A department the case is plausibly confused with, not ``right`` nor one it has ``been`` to.

    Args:
        weights: ``[incident, department]`` confusion weights of each incident's type.
        right: the right department of each incident.
        been: ``[incident, department]`` departments it has already been sent to.
        u: one uniform per incident.

    Returns:
        The department, or ``right`` where no plausible one is left.
    """
    w = np.where(been, 0.0, weights)
    w[np.arange(len(right)), right] = 0.0
    cum = np.cumsum(w, axis=1)
    total = cum[:, -1]
    pick = (u[:, None] * total[:, None] >= cum).sum(axis=1)
    return np.where(total > 0, np.minimum(pick, w.shape[1] - 1), right)


def add_call(m, b: PlanBuilder, role: str, attempt: int, active: np.ndarray, unit, dur, call: int, prio=None) -> None:
    """A service the resident may hang up on (see the module): patience and redials from the incident's dice.

    Args:
        m: the day's compile context.
        b: the plan being built.
        role, attempt, active, unit, dur, prio: as :meth:`~citysim.processes.plan.PlanBuilder.add`.
        call: which call of the attempt (0: the entry, k: the resident's k-th call to another hotline).
    """
    if not m.callers_hang_up:
        b.add(role, attempt, active, unit, dur, prio=prio)
        return
    qu = m.scenario.queueing
    tries = qu.max_redials + 1
    u = m.dice.u("patience", m.attempts, m.calls_per_attempt, tries)[m.rows, attempt, call]
    patience = np.full((m.n, tries), np.inf)
    for channel, dist in m.patience_by_channel.items():
        sel = np.flatnonzero(active & (m.channel == channel))
        if len(sel):
            patience[sel] = dist.ppf(u[sel]) * m.patience_factor[m.cohort[sel], None]
    redials = np.zeros(m.n, dtype=np.int64)
    delay = np.zeros((m.n, max(tries - 1, 1)))
    impatient = np.flatnonzero(np.isfinite(patience[:, 0]))
    if qu.redials_possible and len(impatient):
        p = qu.redial_probability
        u_r = m.dice.u("redial", m.attempts, m.calls_per_attempt, tries - 1)[m.rows[impatient], attempt, call]
        again = u_r < p
        redials[impatient] = np.cumprod(again, axis=1).sum(axis=1)
        delay[impatient] = np.where(again, qu.redial_delay.ppf(np.minimum(u_r / p, np.nextafter(1.0, 0.0))), 0.0)
    b.add_call(role, attempt, active, unit, dur, patience, redials, delay, prio=prio)


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
    line = alive & (entry == ENTRY_LINE)

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

    u_route = dice.u("route", m.attempts, H + 1)[m.rows, attempt]
    u_wrong = dice.u("route_wrong", m.attempts, H + 1)[m.rows, attempt]
    q = np.repeat(right[:, None], H + 1, axis=1)  # department each position sends it to
    ok = np.ones((n, H + 1), dtype=bool)
    been = np.zeros((n, n_dep), dtype=bool)
    acc = acc0
    going = routed.copy()  # not yet at the right department (the rest of the chain is never taken)
    for k in range(H + 1):
        need = np.flatnonzero(going & (u_route[:, k] >= acc))  # sent wrong here, if a plausible one is left
        wrong = _pick_plausible(m.confusion[m.type[need]], right[need], been[need], u_wrong[need, k])
        ok[need, k] = wrong == right[need]
        q[need, k] = wrong
        been[need, wrong] = True
        going &= ~ok[:, k]
        acc = m.routing_accuracy[q[:, k]]
    first_right = np.where(ok.any(axis=1), ok.argmax(axis=1), H + 1)
    first_right = np.where(routed, first_right, 0)
    capped = routed & (first_right > H)
    n_transfers = np.minimum(first_right, H) + capped

    # --- the entry step: a call (or a report waiting at the street centre), not yet classified
    u_in = dice.u("intake", m.attempts)[m.rows, attempt]
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
    if line.any():  # the emergency number knows what it is about: the case's own class
        dep0 = np.maximum(m.dep[:, 0], 0)
        entry_unit = np.where(line, units.emergency_line[dep0], entry_unit)
        entry_dur = np.where(line, m.type_intake(m.dept_value("intake_time", dep0, u_in), u_in), entry_dur)
    prio = np.where(line, m.prio, m.intake_class)
    add_call(m, b, "intake", attempt, hotline | street | line, entry_unit, entry_dur, 0, prio=prio)
    owner = m.sensor_owner
    b.add(
        "verify",
        attempt,
        sensor,
        units.desk[owner, m.district],
        m.dept_value("verify_time", owner, u_in),
    )

    # --- transfers: cold (a wait, then the next unit's queue) or, for urgent cases, warm (at once)
    u_tw = dice.u("transfer_delay", m.attempts, H + 1)[m.rows, attempt]
    u_rv = dice.u("review", m.attempts, H + 1)[m.rows, attempt]
    delay_dist = sc.behaviour.transfer_delay
    warm = routed & m.urgent
    cold = routed & ~m.urgent
    for k in range(1, H + 1):
        active = k <= np.minimum(first_right, H)
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
        b.add("transfer_wait", attempt, cold & active, DELAY, delay_dist.ppf(u_tw[:, k]))
        if per_department:  # the resident calls the next department's hotline
            add_call(m, b, "transfer", attempt, cold & active & hotline, unit, dur, k, prio=m.intake_class)
            b.add("transfer", attempt, cold & active & ~hotline, unit, dur)
        else:
            b.add("transfer", attempt, cold & active, unit, dur)
        b.add("transfer", attempt, warm & active, DELAY, 0.0)
    b.add("transfer_wait", attempt, cold & capped, DELAY, delay_dist.ppf(u_tw[:, 0]))
    b.add("transfer", attempt, cold & capped, units.city_dispatch, city.dispatch_time.ppf(u_rv[:, 0]))
    b.add("transfer", attempt, warm & capped, DELAY, 0.0)
    return n_transfers
