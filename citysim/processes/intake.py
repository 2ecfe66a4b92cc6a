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
from citysim.lookup import mapped
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
    by_channel = {PHONE: ENTRY_HOTLINE, ONLINE: ENTRY_HOTLINE, APP: ENTRY_HOTLINE, IN_PERSON: ENTRY_STREET}
    by_channel |= {GRID_CH: ENTRY_STREET, SENSOR_CH: ENTRY_FUSED if fused else ENTRY_SENSOR}
    kind = mapped(channel, by_channel, ENTRY_NONE)
    if emergency is not None:
        kind[emergency & ((kind == ENTRY_HOTLINE) | (kind == ENTRY_STREET))] = ENTRY_LINE
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


def add_call(m, b: PlanBuilder, role: str, attempt: int, rows: np.ndarray, unit, dur, call: int, prio=None) -> None:
    """A service the resident may hang up on (see the module): patience and redials from the incident's dice.

    Args:
        m: the day's compile context.
        b: the plan being built.
        role, attempt, rows, unit, dur, prio: as :meth:`~citysim.processes.plan.PlanBuilder.add_at`.
        call: which call of the attempt (0: the entry, k: the resident's k-th call to another hotline).
    """
    if not m.callers_hang_up:
        b.add_at(role, attempt, rows, unit, dur, prio=prio)
        return
    qu = m.scenario.queueing
    tries = qu.max_redials + 1
    u = m.dice.at("patience", (m.attempts, m.calls_per_attempt, tries), m.rows[rows], attempt, call)
    patience = np.full((len(rows), tries), np.inf)
    channel = m.channel[rows]
    for ch, dist in m.patience_by_channel.items():
        sel = np.flatnonzero(channel == ch)
        if len(sel):
            patience[sel] = dist.ppf(u[sel]) * m.patience_factor[m.cohort[rows[sel]], None]
    redials = np.zeros(len(rows), dtype=np.int64)
    delay = np.zeros((len(rows), max(tries - 1, 1)))
    impatient = np.flatnonzero(np.isfinite(patience[:, 0]))
    if qu.redials_possible and len(impatient):
        p = qu.redial_probability
        u_r = m.dice.at("redial", (m.attempts, m.calls_per_attempt, tries - 1), m.rows[rows[impatient]], attempt, call)
        again = u_r < p
        redials[impatient] = np.cumprod(again, axis=1).sum(axis=1)
        delay[impatient] = np.where(again, qu.redial_delay.ppf(np.minimum(u_r / p, np.nextafter(1.0, 0.0))), 0.0)
    b.add_call(role, attempt, rows, unit, dur, patience, redials, delay, prio=prio)


def _route(m, routed: np.ndarray, right: np.ndarray, acc: np.ndarray, attempt: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each routed case is sent, position by position, until it reaches the right department.

    Args:
        m: the day's compile context.
        routed: the cases routed at the entry (indices).
        right: the right department of every case.
        acc: each routed case's chance of being routed right at the entry.
        attempt: attempt number.

    Returns:
        ``(q, first_right)``: ``[incident, position]`` the department each position sends it to (the
        right one where the chain is never taken), and the first position sending it right
        (``max_transfers + 1``: none; 0 for cases not routed).
    """
    H = m.scenario.behaviour.max_transfers
    shape = (m.attempts, H + 1)
    q = np.repeat(right[:, None], H + 1, axis=1)
    first_right = np.zeros(m.n, dtype=np.int64)
    been = np.zeros((len(routed), m.n_departments), dtype=bool)  # per routed case: departments sent to
    going, pos = routed, np.arange(len(routed))  # not yet at the right department; their rows in ``been``
    for k in range(H + 1):
        u = m.dice.at("route", shape, m.rows[going], attempt, k)
        sent = u >= acc  # sent wrong here, if a plausible one is left
        first_right[going[~sent]] = k
        going, pos = going[sent], pos[sent]
        wrong = _pick_plausible(
            m.confusion[m.type[going]],
            right[going],
            been[pos],
            m.dice.at("route_wrong", shape, m.rows[going], attempt, k),
        )
        q[going, k] = wrong
        been[pos, wrong] = True
        still = wrong != right[going]
        first_right[going[~still]] = k
        going, pos = going[still], pos[still]
        acc = m.routing_accuracy[wrong[still]]
    first_right[going] = H + 1
    return q, first_right


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
    dice = m.dice
    H = sc.behaviour.max_transfers
    per_department = reg.intake == "per_department"
    hotline = alive & (entry == ENTRY_HOTLINE)
    street = alive & (entry == ENTRY_STREET)
    line = alive & (entry == ENTRY_LINE)

    # --- whose problem it is, and the chance the entry routes it right
    right = np.where(m.consult, m.consult_dep, m.dep[:, 0])
    city = sc.centres.city
    # consultations are answered where they are taken in, except at the wrong department's hotline
    routed = np.flatnonzero((hotline | street) & ~(m.consult & ~(per_department & hotline)))
    if per_department:
        a0, a1 = sc.behaviour.channel_choice_accuracy
        acc_hotline = a0 + (a1 - a0) * m.literacy[m.cohort[routed]]
    else:
        acc_hotline = (
            reg.staff_digital_skill * city.aided_classification_accuracy
            + (1 - reg.staff_digital_skill) * city.classification_accuracy
        )
    acc0 = np.where(hotline[routed], acc_hotline, sc.centres.street.classification_accuracy)
    q, first_right = _route(m, routed, right, acc0, attempt)
    capped = first_right > H
    n_transfers = np.minimum(first_right, H) + capped

    # --- the entry step: a call (or a report waiting at the street centre), not yet classified
    u_in = dice.at("intake", (m.attempts,), m.rows, attempt)
    calls = np.flatnonzero(hotline | street | line)
    entry_unit = np.full(len(calls), DELAY)
    entry_dur = np.zeros(len(calls))

    hot, on_street, on_line = hotline[calls], street[calls], line[calls]
    rows = calls[hot]
    if per_department:
        entry_unit[hot] = units.hotline[q[rows, 0]]
        default = m.dept_value("intake_time", q[rows, 0], u_in[rows])
    else:
        entry_unit[hot] = units.city_intake
        default = city.intake_time.ppf(u_in[rows])
    entry_dur[hot] = m.type_intake(rows, default, u_in[rows])
    rows = calls[on_street]
    entry_unit[on_street] = units.street_centre[m.street[rows]]
    entry_dur[on_street] = m.type_intake(rows, sc.centres.street.intake_time.ppf(u_in[rows]), u_in[rows])
    if on_line.any():  # the emergency number knows what it is about: the case's own class
        rows = calls[on_line]
        dep0 = np.maximum(m.dep[rows, 0], 0)
        entry_unit[on_line] = units.emergency_line[dep0]
        entry_dur[on_line] = m.type_intake(rows, m.dept_value("intake_time", dep0, u_in[rows]), u_in[rows])
    prio = np.where(on_line, m.prio[calls], m.intake_class)
    add_call(m, b, "intake", attempt, calls, entry_unit, entry_dur, 0, prio=prio)
    sensor = np.flatnonzero(alive & (entry == ENTRY_SENSOR))
    owner = m.sensor_owner[sensor]
    b.add_at(
        "verify",
        attempt,
        sensor,
        units.desk[owner, m.district[sensor]],
        m.dept_value("verify_time", owner, u_in[sensor]),
    )

    # --- transfers: cold (a wait, then the next unit's queue) or, for urgent cases, warm (at once)
    shape = (m.attempts, H + 1)
    delay_dist = sc.behaviour.transfer_delay
    for k in range(1, H + 1):
        on = np.flatnonzero(first_right >= k)  # transferred a k-th time
        u = dice.at("review", shape, m.rows[on], attempt, k)
        sent_from, sent_to = q[on, k - 1], q[on, k]
        unit = units.desk[sent_from, m.district[on]]
        dur = m.dept_value("review_time", sent_from, u)
        cold = ~m.urgent[on]
        b.add_at(
            "transfer_wait",
            attempt,
            on[cold],
            DELAY,
            delay_dist.ppf(dice.at("transfer_delay", shape, m.rows[on[cold]], attempt, k)),
        )
        if per_department:  # the resident calls the next department's hotline
            hot = hotline[on]
            unit = np.where(hot, units.hotline[sent_to], unit)
            dur = np.where(hot, m.type_intake(on, m.dept_value("intake_time", sent_to, u), u), dur)
            call = cold & hot
            add_call(m, b, "transfer", attempt, on[call], unit[call], dur[call], k, prio=m.intake_class)
            cold = cold & ~hot
        b.add_at("transfer", attempt, on[cold], unit[cold], dur[cold])
        b.add_at("transfer", attempt, on[m.urgent[on]], DELAY, 0.0)
    cap = np.flatnonzero(capped)
    cold = cap[~m.urgent[cap]]
    b.add_at(
        "transfer_wait",
        attempt,
        cold,
        DELAY,
        delay_dist.ppf(dice.at("transfer_delay", shape, m.rows[cold], attempt, 0)),
    )
    b.add_at(
        "transfer",
        attempt,
        cold,
        units.city_dispatch,
        city.dispatch_time.ppf(dice.at("review", shape, m.rows[cold], attempt, 0)),
    )
    b.add_at("transfer", attempt, cap[m.urgent[cap]], DELAY, 0.0)
    return n_transfers
