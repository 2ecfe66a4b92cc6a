"""Experiment files: what to vary, how to sample it, how often to run it and what to measure.

An experiment is a TOML file (``experiments/*.toml``)::

    name = "digital_divide"
    scenario = "../scenarios/chengdu.toml"   # relative to this file, or a shipped scenario's name
    regimes = ["fragmented", "integrated"]   # every design point runs under each
    replications = 3                          # runs of each point under each regime
    days = 7
    seed = 2026                               # every run's seed derives from it and the run's index
    metrics = ["needs_met_worst_best_cohort", "needs_met_share"]

    [levers]                                  # fixed lever settings, on top of each regime
    elderly_friendly_design = false

    [design]
    kind = "lhs"                              # grid | lhs | sobol | morris
    samples = 16

    [[parameters]]                            # an uncertain parameter: a lever ...
    lever = "offline_channels"
    values = [true, false]

    [[parameters]]                            # ... or any scenario field, by its path
    name = "elderly_share"
    field = ["cohort_shares.rural.rural_elderly", "cohort_shares.mountain.rural_elderly"]
    rescale_siblings = true                   # the other cohorts' shares shrink to keep the sum 1
    dist = "uniform"
    low = 0.15
    high = 0.45

A file is validated like a scenario: a mistake is one error naming the file,
the field and what is allowed.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from citysim.errors import CitysimError, ScenarioError

__all__ = ["Design", "Experiment", "Parameter", "load_experiment"]

Value = float | bool | str


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Parameter(_Model):
    """An uncertain parameter: a lever or scenario field(s), with a range and a distribution."""

    name: str | None = Field(default=None, description="column name [default: the lever or the first field]")
    lever: str | None = Field(default=None, description="a lever (see `citysim regimes`)")
    field: str | list[str] | None = Field(
        default=None,
        description="dotted path(s) of scenario fields set to the same value, e.g. 'city.rate_scale' or "
        "'sensors.*.density_per_km2.rural' ('*' matches every key at that level)",
    )
    dist: Literal["uniform", "loguniform", "triangular", "normal", "choice"] = Field(
        default="uniform", description="distribution of the value (choice: one of `values`, equally likely)"
    )
    low: float | None = Field(default=None, description="lower bound (uniform, loguniform, triangular)")
    high: float | None = Field(default=None, description="upper bound (uniform, loguniform, triangular)")
    mode: float | None = Field(default=None, description="most likely value (triangular)")
    mean: float | None = Field(default=None, description="mean (normal)")
    sd: float | None = Field(default=None, gt=0, description="standard deviation (normal)")
    values: list[Value] | None = Field(default=None, description="the values (choice; a grid's levels)")
    levels: int = Field(default=3, ge=2, le=50, description="grid levels between low and high when no values")
    scale: bool = Field(default=False, description="the value multiplies each field's own value")
    rescale_siblings: bool = Field(
        default=False, description="a share among siblings summing to 1: the others rescale to keep the sum"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Parameter:
        if (self.lever is None) == (self.field is None):
            raise ValueError("give exactly one of lever = '...' or field = '...'")
        if self.dist == "choice":
            if not self.values:
                raise ValueError("dist = 'choice' needs values = [...]")
        elif self.dist == "normal":
            if self.mean is None or self.sd is None:
                raise ValueError("dist = 'normal' needs mean and sd (or values = [...] with dist = 'choice')")
        elif self.values is None:
            if self.low is None or self.high is None or not self.low < self.high:
                raise ValueError(f"dist = '{self.dist}' needs low < high (or values = [...] with dist = 'choice')")
            if self.dist == "loguniform" and self.low <= 0:
                raise ValueError("dist = 'loguniform' needs low > 0")
            if self.dist == "triangular" and (self.mode is None or not self.low <= self.mode <= self.high):
                raise ValueError("dist = 'triangular' needs low <= mode <= high")
        return self

    @property
    def label(self) -> str:
        """The parameter's column name."""
        return self.name or self.lever or self.fields[0]

    @property
    def fields(self) -> list[str]:
        """The scenario field paths it sets (empty for a lever)."""
        if self.field is None:
            return []
        return [self.field] if isinstance(self.field, str) else list(self.field)


class Design(_Model):
    """How parameter values are chosen."""

    kind: Literal["grid", "lhs", "sobol", "morris"] = Field(
        default="grid",
        description="grid: full factorial of each parameter's values; lhs: Latin hypercube of `samples` "
        "points; sobol: Saltelli's scheme for Sobol indices (samples x (k + 2) points, or x (2k + 2) "
        "with second_order); morris: `samples` trajectories of k + 1 points",
    )
    samples: int = Field(
        default=16, ge=1, description="lhs points; sobol base samples (a power of 2); morris trajectories"
    )
    levels: int = Field(default=4, ge=2, le=20, description="morris grid levels")
    second_order: bool = Field(default=False, description="sobol: also second-order indices")


class Experiment(_Model):
    """An experiment file."""

    name: str = Field(description="experiment name")
    description: str = Field(default="")
    scenario: str = Field(description="scenario file (relative to the experiment file) or shipped scenario name")
    regimes: list[str] | None = Field(default=None, min_length=1, description="regimes [default: the scenario's]")
    levers: dict[str, Value] = Field(default_factory=dict, description="fixed lever settings for every run")
    replications: int = Field(default=1, ge=1, description="runs of each design point under each regime")
    days: int | None = Field(default=None, ge=1, description="measurement window, whole days [default: scenario's]")
    warmup_days: int | None = Field(default=None, ge=0, description="warm-up before it, days [default: scenario's]")
    follow_up_days: int | None = Field(default=None, ge=0, description="follow-up after it, days [default: scenario's]")
    seed: int | None = Field(default=None, ge=0, description="experiment seed [default: the scenario's]")
    common_random_numbers: bool = Field(
        default=True, description="replication r of every point and regime uses the same seed"
    )
    metrics: list[str] | None = Field(default=None, description="headline metrics of interest [default: all]")
    design: Design = Field(default_factory=Design)
    parameters: list[Parameter] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_labels(self) -> Experiment:
        labels = [p.label for p in self.parameters]
        repeated = sorted({x for x in labels if labels.count(x) > 1})
        if repeated:
            raise ValueError(f"parameter names must be unique; repeated: {', '.join(repeated)} (give name = '...')")
        if self.design.kind != "grid" and not self.parameters:
            raise ValueError(f"design.kind = '{self.design.kind}' needs at least one [[parameters]]")
        return self


def load_experiment(path: str | Path) -> tuple[Experiment, str]:
    """Read and validate an experiment file; return it and the digest of its text.

    Raises:
        CitysimError: naming the file, the field and what is allowed.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError):
        raise CitysimError(f"{path}: no such experiment file") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML: {exc}") from None
    try:
        experiment = Experiment.model_validate(data)
    except ValidationError as exc:
        from citysim.errors import format_validation_error

        raise format_validation_error(str(path), exc) from None
    _check_names(experiment, str(path))
    return experiment, hashlib.sha256(text.encode()).hexdigest()


def _check_names(experiment: Experiment, source: str) -> None:
    """Levers and metrics must be known ones."""
    from citysim.experiments.headline import headline_kinds
    from citysim.regimes import LEVERS

    known_metrics = headline_kinds()
    for i, name in enumerate(experiment.metrics or []):
        if name not in known_metrics:
            raise ScenarioError(source, f"metrics[{i}]", f"{name!r} is not one of {', '.join(known_metrics)}")
    for lever in experiment.levers:
        if lever not in LEVERS:
            raise ScenarioError(source, f"levers.{lever}", f"unknown lever; known levers: {', '.join(LEVERS)}")
    for i, p in enumerate(experiment.parameters):
        if p.lever is not None and p.lever not in LEVERS:
            raise ScenarioError(source, f"parameters[{i}].lever", f"{p.lever!r} is not one of {', '.join(LEVERS)}")
