"""A plan: every run of an experiment, fully resolved, numbered and seeded.

A :class:`Plan` holds the resolved scenario (a plain dict: remote workers
have no files), the regimes' lever values, the design points and the number
of replications. Runs are numbered replication-major: run ``index`` is
replication ``index // (regimes x points)``, so more replications only add
runs, never renumber them. Each run's seed derives from the experiment's seed
and, under common random numbers, the run's replication (every regime and
point of a replication sees the same incidents), otherwise the run's index;
never from a worker or the order in which runs finish.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from citysim.errors import CitysimError, ScenarioError
from citysim.experiments.design import apply_point, design_points
from citysim.experiments.headline import headline_kinds
from citysim.experiments.runner import Task
from citysim.experiments.spec import Experiment, Parameter
from citysim.rng import Streams
from citysim.shipped import resolve_scenario_path

__all__ = ["Plan", "plan_for_regimes", "plan_from_experiment", "resolve_scenario", "run_seed"]


def run_seed(seed: int, purpose: str, key: int) -> int:
    """A run's seed: a 32-bit number derived from the experiment's seed, a purpose and a key."""
    return int(Streams(seed).seed_sequence(purpose, key).generate_state(1)[0])


@dataclass
class Plan:
    """Every run of an experiment (see the module docstring for numbering and seeds)."""

    kind: str
    name: str
    source: str
    scenario_name: str
    scenario: dict[str, Any] = field(repr=False)
    regimes: list[dict[str, Any]]
    parameters: list[Parameter]
    points: list[dict[str, Any]]
    replications: int
    days: int
    seed: int
    metrics: list[str]
    unit: np.ndarray | None = None
    design: dict[str, Any] = field(default_factory=lambda: {"kind": "grid"})
    crn: bool = True
    warmup_days: int | None = None
    follow_up_days: int | None = None
    keep_curves: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def runs_per_replication(self) -> int:
        return len(self.regimes) * len(self.points)

    @property
    def n_runs(self) -> int:
        return self.replications * self.runs_per_replication

    def locate(self, index: int) -> tuple[int, int, int]:
        """Replication, regime number and point number of run ``index``."""
        replication, rest = divmod(index, self.runs_per_replication)
        regime, point = divmod(rest, len(self.points))
        return replication, regime, point

    def describe(self) -> dict[str, Any]:
        """Everything but the scenario dict, as JSON (the manifest's ``plan``)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "source": self.source,
            "scenario_name": self.scenario_name,
            "regimes": self.regimes,
            "parameters": [p.model_dump(exclude_none=True) for p in self.parameters],
            "points": self.points,
            "unit": None if self.unit is None else np.asarray(self.unit).tolist(),
            "design": self.design,
            "days": self.days,
            "warmup_days": self.warmup_days,
            "follow_up_days": self.follow_up_days,
            "seed": self.seed,
            "crn": self.crn,
            "metrics": self.metrics,
            "extra": self.extra,
        }

    def fingerprint(self) -> str:
        """A digest of what determines every run's results, replications aside."""
        text = json.dumps([self.describe(), self.scenario], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def simulated_days(self, scenario: dict[str, Any] | None = None) -> int:
        """Days a run simulates: warm-up, window and follow-up."""
        scenario = self.scenario if scenario is None else scenario
        warmup = scenario.get("warmup_days", 0) if self.warmup_days is None else self.warmup_days
        follow_up = scenario.get("follow_up_days", 0) if self.follow_up_days is None else self.follow_up_days
        return warmup + self.days + follow_up

    def task(self, index: int) -> Task:
        """Run ``index``, fully resolved."""
        replication, r, p = self.locate(index)
        regime = self.regimes[r]
        scenario, levers = apply_point(self.scenario, regime, self.parameters, self.points[p], self.source)
        seed = run_seed(self.seed, "replication", replication) if self.crn else run_seed(self.seed, "run", index)
        city = scenario["city"]
        population = sum(d["population"] for d in city["districts"])
        return Task(
            index=index,
            point=p,
            replication=replication,
            seed=seed,
            regime=levers,
            params=dict(self.points[p]),
            scenario=scenario,
            days=self.days,
            warmup_days=self.warmup_days,
            follow_up_days=self.follow_up_days,
            keep_curves=self.keep_curves,
            weight=self.simulated_days(scenario) * city.get("rate_scale", 1.0) * population,
        )

    def check(self) -> None:
        """Validate every point's lever values and each field parameter's extreme values, up front.

        Raises:
            ScenarioError: naming the experiment file, the parameter and what is wrong.
        """
        from citysim.errors import format_validation_error
        from citysim.regimes import Regime
        from citysim.scenario import scenario_from_dict

        for regime in self.regimes:
            for point in self.points:
                _, levers = apply_point(self.scenario, regime, self.parameters, point, self.source)
                try:
                    Regime.model_validate(levers)
                except ValidationError as exc:
                    err = format_validation_error(self.source, exc)
                    raise ScenarioError(self.source, f"levers.{err.field}", err.message) from None
        for i, p in enumerate(self.parameters):
            if p.lever is not None:
                continue
            values = {repr(point[p.label]): point[p.label] for point in self.points}
            for value in values.values():
                scenario, _ = apply_point(self.scenario, {}, [p], {p.label: value}, self.source)
                try:
                    scenario_from_dict(scenario, f"{self.source}: parameters[{i}] {p.label} = {value!r}")
                except ScenarioError:
                    raise
                except ValidationError as exc:  # pragma: no cover - scenario_from_dict formats its own
                    raise format_validation_error(self.source, exc) from None


def resolve_scenario(text: str, relative_to: Path | None = None, source: str = "scenario") -> Path:
    """A scenario file: relative to an experiment file, as given, or a shipped scenario's name."""
    if relative_to is not None and (relative_to.parent / text).is_file():
        return relative_to.parent / text
    try:
        return resolve_scenario_path(text)
    except CitysimError as exc:
        if relative_to is None:
            raise
        raise ScenarioError(str(relative_to), source, f"{text!r}: no such file next to it; {exc}") from None


def _base(scenario_path: Path, regimes: list[str] | None, levers: dict[str, Any], source: str):
    from citysim.regimes import apply_overrides
    from citysim.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    names = regimes or [scenario.regime]
    resolved = []
    for i, name in enumerate(names):
        try:
            regime = scenario.regime_named(name)
        except ScenarioError as exc:
            raise ScenarioError(source, f"regimes[{i}]", exc.message) from None
        regime = apply_overrides(regime, [f"{k}={v}" for k, v in levers.items()]) if levers else regime
        resolved.append({**regime.model_dump(mode="json"), "name": name})
    return scenario, resolved


def plan_from_experiment(experiment: Experiment, path: Path) -> Plan:
    """The plan of an experiment file (its design drawn from the experiment's seed)."""
    scenario_path = resolve_scenario(experiment.scenario, path)
    scenario, regimes = _base(scenario_path, experiment.regimes, dict(experiment.levers), str(path))
    seed = scenario.seed if experiment.seed is None else experiment.seed
    points, unit = design_points(experiment.design, experiment.parameters, Streams(seed).generator("design"))
    plan = Plan(
        kind="sweep",
        name=experiment.name,
        source=str(path),
        scenario_name=scenario.name,
        scenario=scenario.model_dump(mode="json", exclude_none=True),
        regimes=regimes,
        parameters=list(experiment.parameters),
        points=points,
        unit=unit,
        design=experiment.design.model_dump(),
        replications=experiment.replications,
        days=scenario.days if experiment.days is None else experiment.days,
        seed=seed,
        metrics=list(experiment.metrics or headline_kinds()),
        crn=experiment.common_random_numbers,
        warmup_days=experiment.warmup_days,
        follow_up_days=experiment.follow_up_days,
        keep_curves=not experiment.parameters,  # a comparison of regimes: survival and inclusion figures
    )
    plan.check()
    return plan


def plan_for_regimes(
    scenario: str,
    regimes: list[str],
    replications: int,
    days: int | None = None,
    seed: int | None = None,
    warmup_days: int | None = None,
    follow_up_days: int | None = None,
    kind: str = "compare",
) -> Plan:
    """The plan of a comparison: each regime on the same seeds, one design point."""
    for name, value in (("days", days), ("warmup_days", warmup_days), ("follow_up_days", follow_up_days)):
        if value is not None and (value != int(value) or value < (1 if name == "days" else 0)):
            raise CitysimError(
                f"{name}: {value!r} is not a whole number of days ({'1' if name == 'days' else '0'} or more)"
            )
    scenario_path = resolve_scenario(scenario)
    sc, resolved = _base(scenario_path, regimes, {}, "--regimes")
    return Plan(
        kind=kind,
        name=f"{sc.name}: {', '.join(regimes)}",
        source=str(scenario_path),
        scenario_name=sc.name,
        scenario=sc.model_dump(mode="json", exclude_none=True),
        regimes=resolved,
        parameters=[],
        points=[{}],
        replications=replications,
        days=sc.days if days is None else int(days),
        seed=sc.seed if seed is None else seed,
        metrics=list(headline_kinds()),
        warmup_days=None if warmup_days is None else int(warmup_days),
        follow_up_days=None if follow_up_days is None else int(follow_up_days),
        keep_curves=True,
    )
