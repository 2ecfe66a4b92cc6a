"""The theory of a ``citysim validate`` case, read from its own scenario file (see :mod:`citysim.validate`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from citysim.distributions import Exponential
from citysim.scenario import Scenario
from citysim.theory import cobham, erlang_a, fork_join_means, jackson, pollaczek_khinchine, second_moment

__all__ = ["Node", "theory_of"]


@dataclass
class Node:
    """One department's teams as a queue, with its theoretical values."""

    unit: str
    lam: float  # total arrival rate per minute
    servers: int
    service: object  # distribution
    theory: dict[str, float]
    tail_t: tuple[float, ...] = ()
    line: bool = False  # a phone line whose callers hang up (measured on intake waits)
    label: str = ""  # how checks name the node (default: the unit)


def theory_of(scenario: Scenario) -> dict:
    """Queueing model and theoretical values of a validation scenario, from its own parameters."""
    pop = sum(d.population for d in scenario.city.districts)
    district = scenario.city.districts[0]
    deps = list(scenario.departments)
    per_min = {
        name: t.rate_per_1000_day * scenario.city.rate_scale * pop / 1000 / 1440
        for name, t in scenario.incident_types.items()
        if t.rate_per_1000_day > 0
    }
    qu = scenario.queueing
    if qu.patience.phone is not None:
        return _erlang_a_theory(scenario, per_min, pop)
    forks = {n: t for n, t in scenario.incident_types.items() if n in per_min and len(t.departments) > 1}
    if forks:
        ((name, t),) = forks.items()
        a, b = (scenario.departments[d].handling for d in t.departments[:2])
        joint, seq = fork_join_means(a, b)
        parallel = scenario.regime_named(scenario.regime).coordination == "joint"
        return {"kind": "fork", "response": joint if parallel else seq, "parallel": parallel}
    gamma = np.zeros(len(deps))
    for name, rate in per_min.items():
        gamma[deps.index(scenario.incident_types[name].departments[0])] += rate
    routing = np.array([[scenario.departments[i].handoff_to.get(j, 0.0) for j in deps] for i in deps])
    lam = np.linalg.solve(np.eye(len(deps)) - routing.T, gamma)
    nodes = []
    active = [k for k, d in enumerate(deps) if lam[k] > 0]
    services = [scenario.departments[deps[k]].handling for k in active]
    servers = [
        max(
            1,
            round(
                scenario.departments[deps[k]].teams_per_100k.of(district.kind)
                * scenario.city.staffing_scale
                * pop
                / 1e5
            ),
        )
        for k in active
    ]
    exponential = all(isinstance(d, Exponential) for d in services)
    if qu.classes > 1:
        return _priority_theory(scenario, per_min, deps, active, services, servers, district.name)
    if exponential:
        solved = jackson(
            gamma[active], routing[np.ix_(active, active)], 1 / np.array([d.mean for d in services]), np.array(servers)
        )
    for i, k in enumerate(active):
        unit, service, c = f"team:{deps[k]}@{district.name}", services[i], servers[i]
        if exponential:
            q = solved[i].queue
            decay = q.c * q.mu - q.lam
            tails = (0.5 / decay, 1.5 / decay)
            th = {"wq": q.wq, "p_wait": q.p_wait, "w": q.w, "l": q.l, "little": 1.0, "decay": decay}
            th.update({f"tail_{j}": float(q.wait_tail(t)) for j, t in enumerate(tails)})
            nodes.append(Node(unit, q.lam, c, service, th, tails))
            continue
        if c != 1:
            raise ValueError(f"{deps[k]}: general service needs a single server (Pollaczek-Khinchine)")
        wq = pollaczek_khinchine(float(lam[k]), service.mean_min, second_moment(service))
        w = wq + service.mean_min
        nodes.append(Node(unit, float(lam[k]), 1, service, {"wq": wq, "w": w, "l": float(lam[k]) * w, "little": 1.0}))
    return {"kind": "network", "nodes": nodes, "exponential": exponential}


def _erlang_a_theory(scenario: Scenario, per_min: dict[str, float], pop: float) -> dict:
    """The unified hotline as an M/M/c+M queue: every call reported at once by phone, exponential intake and
    patience, no redial."""
    qu = scenario.queueing
    city = scenario.centres.city
    times = {scenario.incident_types[n].intake_time for n in per_min}
    patience = qu.patience.phone
    if len(times) != 1 or not all(isinstance(d, Exponential) for d in (*times, patience)) or qu.redials_possible:
        raise ValueError("Erlang-A: one exponential intake time, exponential phone patience and no redials")
    (intake,) = times
    c = max(1, round(city.intake_staff_per_1m * scenario.city.staffing_scale * pop / 1e6))
    lam = sum(per_min.values())
    q = erlang_a(lam, 1 / intake.mean, c, 1 / patience.mean)
    th = {"p_abandon": q.p_abandon, "wq_served": q.wq_served, "wq_all": q.wq_all}
    return {"kind": "network", "nodes": [Node("city_intake", lam, c, intake, th, line=True)], "exponential": True}


def _priority_theory(scenario, per_min, deps, active, services, servers, district: str) -> dict:
    """One department's teams serving priority classes, non-preemptive, one exponential service (Cobham)."""
    qu = scenario.queueing
    if len(active) != 1 or not isinstance(services[0], Exponential):
        raise ValueError("priority classes: one department with exponential service (Cobham's formula)")
    (k,) = active
    mu, c = 1 / services[0].mean, servers[0]
    cls = {n: qu.priority_by_severity[scenario.incident_types[n].severity - 1] for n in per_min}
    lams = np.array([sum(r for n, r in per_min.items() if cls[n] == j) for j in range(qu.classes)])
    waits = cobham(lams, mu, c)
    unit = f"team:{deps[k]}@{district}"
    nodes = [
        Node(
            f"{unit}|{n}",
            rate,
            c,
            services[0],
            {"wq": float(waits[cls[n]]), "w": float(waits[cls[n]]) + 1 / mu},
            label=f"class {cls[n]} ({n})",
        )
        for n, rate in sorted(per_min.items(), key=lambda item: cls[item[0]])
    ]
    return {"kind": "network", "nodes": nodes, "exponential": True}
