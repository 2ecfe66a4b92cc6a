"""One run of an experiment, and many runs over local worker processes.

:func:`run_many` simulates a list of :class:`RunSpec` (scenario file, regime,
lever overrides, seed, days), each in a worker process, and returns each
run's metrics in the order given. :func:`run_task` runs one :class:`Task` of a
sweep (a fully resolved scenario and regime, so a remote worker needs no
files) and returns a small record: its headline metrics, never its tables.
Every run is fully determined by its spec (its seed drives every random
draw), so results depend neither on the number of workers nor on the order in
which runs finish.
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from citysim.experiments.headline import cost_of, headline_of, inclusion_of, survival_of
from citysim.experiments.pool import WorkerPool, default_workers

__all__ = ["RunSpec", "Task", "run_many", "run_task", "task_record"]


@dataclass(frozen=True)
class RunSpec:
    """One run: a scenario file, a regime with lever overrides, a seed, a length and a measurement window.

    ``days``, ``warmup_days`` and ``follow_up_days`` of None mean the scenario's own.
    """

    scenario: str
    regime: str = "integrated"
    seed: int = 1
    days: int | None = None
    overrides: tuple[str, ...] = field(default_factory=tuple)
    warmup_days: int | None = None
    follow_up_days: int | None = None


def _run_one(spec: RunSpec) -> dict:
    from citysim.simulation import simulate

    result = simulate(
        spec.scenario,
        spec.regime,
        spec.seed,
        spec.days,
        overrides=spec.overrides,
        warmup_days=spec.warmup_days,
        follow_up_days=spec.follow_up_days,
    )
    metrics = result.metrics
    run = {"scenario": spec.scenario, "regime": result.regime.name, "seed": spec.seed}
    metrics["run"] = {**run, **result.window.as_dict()}
    return metrics


def run_many(
    specs: list[RunSpec], workers: int | None = None, progress: Callable[[int, int], None] | None = None
) -> list[dict]:
    """Simulate every run, ``workers`` processes at a time (default: all CPUs), and return their metrics in order.

    Runs always happen in worker processes, one worker as much as many, so the calling process stays
    small (workers are forked from it) and a sweep's speed on 1 and on N workers compare like with
    like; ``workers=0`` runs them one after another in this process instead (for debugging).

    Raises:
        RuntimeError: a run failed (the worker's traceback in the message).
    """
    out: list[Any] = [None] * len(specs)
    if workers == 0:
        for k, spec in enumerate(specs):
            out[k] = _run_one(spec)
            if progress:
                progress(k + 1, len(specs))
        return out
    with WorkerPool(_run_one, workers or default_workers()) as pool:
        for done, (position, metrics) in enumerate(pool.run(specs), start=1):
            if isinstance(metrics, BaseException):
                raise RuntimeError(f"run {position} ({specs[position]}) failed:\n{metrics}")
            out[position] = metrics
            if progress:
                progress(done, len(specs))
    return out


@dataclass(frozen=True)
class Task:
    """One run of an experiment, fully resolved: what a worker anywhere needs, and nothing of the user's files.

    Attributes:
        index: the run's index in the experiment (its file is ``runs/<index>.json``).
        point: the design point (parameter values) it runs.
        replication: which replication of the point (runs of one replication share a seed under
            common random numbers).
        seed: the run's seed, derived from the experiment's seed and the run's index.
        regime: every lever's value (and the regime's name).
        params: the design point's parameter values, by parameter name.
        scenario: the scenario with the design point's values applied (a plain dict).
        days: simulated days.
        warmup_days: measurement warm-up (None: the scenario's).
        follow_up_days: measurement follow-up (None: the scenario's).
        keep_curves: also return the survival curve and needs met by group (for figures).
        weight: expected relative cost of the run (longest runs are started first).
    """

    index: int
    point: int
    replication: int
    seed: int
    regime: dict[str, Any]
    params: dict[str, Any]
    scenario: dict[str, Any]
    days: int
    warmup_days: int | None = None
    follow_up_days: int | None = None
    keep_curves: bool = False
    weight: float = 1.0

    def identity(self) -> str:
        """A digest of everything that determines the run's results."""
        fields = {k: v for k, v in self.__dict__.items() if k not in ("keep_curves", "weight")}
        return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:16]


_SCENARIOS: dict[str, Any] = {}


def _scenario(data: dict[str, Any]):
    """The validated scenario of a task, validated once per worker process."""
    from citysim.scenario import scenario_from_dict

    key = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    scenario = _SCENARIOS.get(key)
    if scenario is None:  # keep one: a worker runs one design point's replications and regimes in a row
        scenario = scenario_from_dict(data, "<experiment scenario>")
        _SCENARIOS.clear()
        _SCENARIOS[key] = scenario
    return scenario


def task_record(task: Task, error: str | None = None) -> dict[str, Any]:
    """What a run's record says about its task (and, given ``error``, a failed run's record)."""
    record: dict[str, Any] = {
        "index": task.index,
        "point": task.point,
        "replication": task.replication,
        "seed": task.seed,
        "regime": task.regime.get("name", "custom"),
        "levers": {k: v for k, v in task.regime.items() if k != "name"},
        "params": dict(task.params),
        "identity": task.identity(),
    }
    if error is not None:
        record.update(status="failed", error=error, wall_s=0.0)
    return record


def run_task(task: Task) -> dict[str, Any]:
    """Run one task and return its record; an exception in the run is recorded, not raised."""
    from citysim.regimes import Regime
    from citysim.simulation import simulate

    started = time.perf_counter()
    record = task_record(task)
    try:
        scenario = _scenario(task.scenario)
        regime = Regime.model_validate(task.regime)
        window = {"warmup_days": task.warmup_days, "follow_up_days": task.follow_up_days}  # None: the scenario's
        result = simulate(scenario, regime, task.seed, task.days, **window)
        metrics = result.metrics
        headline, _ = headline_of(metrics)
        record.update(status="ok", error=None, headline=headline, cost=cost_of(metrics))
        if task.keep_curves:
            curve = survival_of(metrics)
            record["survival"] = None if curve is None else [curve[0].tolist(), curve[1].tolist()]
            record["inclusion"] = inclusion_of(metrics)
    except Exception as exc:
        record.update(status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(limit=6))
    record["wall_s"] = round(time.perf_counter() - started, 3)
    return record
