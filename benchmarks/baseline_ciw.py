"""The same open Jackson network in Ciw, the way Ciw's documentation sets one up.

The network is read from ``scenarios/validation/jackson.toml`` (departments'
teams as nodes, external Poisson arrivals, exponential service, Markov
hand-offs), built with ``ciw.create_network`` and run with
``Simulation.simulate_until_max_time``; results come from
``get_all_records()``. Ciw draws from its own global seed (``ciw.seed``).
"""

from __future__ import annotations

import time
from pathlib import Path

import ciw
import numpy as np

from citysim.scenario import load_scenario

JACKSON = Path(__file__).resolve().parents[1] / "scenarios" / "validation" / "jackson.toml"


def jackson_spec(path: Path = JACKSON) -> dict:
    """External arrival rates, service rates, servers and routing of the scenario's departments (per minute)."""
    sc = load_scenario(path)
    deps = list(sc.departments)
    pop = sum(d.population for d in sc.city.districts)
    kind = sc.city.districts[0].kind
    gamma = np.zeros(len(deps))
    for t in sc.incident_types.values():
        if t.rate_per_1000_day > 0:
            gamma[deps.index(t.departments[0])] += t.rate_per_1000_day * sc.city.rate_scale * pop / 1000 / 1440
    mu = np.array([1 / sc.departments[d].handling.mean for d in deps])
    c = [max(1, round(sc.departments[d].teams_per_100k.of(kind) * pop / 1e5)) for d in deps]
    routing = [[sc.departments[i].handoff_to.get(j, 0.0) for j in deps] for i in deps]
    return {"departments": deps, "gamma": gamma, "mu": mu, "servers": c, "routing": routing}


def run_ciw(spec: dict, minutes: float, warmup: float, seed: int) -> dict:
    """One Ciw run: wall time, customers, and each node's mean time per visit after the warm-up."""
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=float(g)) for g in spec["gamma"]],
        service_distributions=[ciw.dists.Exponential(rate=float(m)) for m in spec["mu"]],
        routing=spec["routing"],
        number_of_servers=spec["servers"],
    )
    ciw.seed(seed)
    started = time.perf_counter()
    q = ciw.Simulation(network)
    q.simulate_until_max_time(minutes)
    records = q.get_all_records()
    wall = time.perf_counter() - started
    n = len(spec["departments"])
    sums, counts = np.zeros(n), np.zeros(n)
    customers = set()
    for r in records:
        customers.add(r.id_number)
        if r.arrival_date >= warmup and r.record_type == "service":
            sums[r.node - 1] += r.waiting_time + r.service_time
            counts[r.node - 1] += 1
    return {"wall_s": wall, "customers": len(customers), "w": sums / np.maximum(counts, 1)}
