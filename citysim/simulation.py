"""Running a scenario: :func:`simulate` and its :class:`Result`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from citysim.events import MemorySink, ParquetSink
from citysim.model import CityModel
from citysim.regimes import Regime, apply_overrides
from citysim.scenario import Scenario, load_scenario

__all__ = ["Result", "simulate"]


@dataclass
class Result:
    """What a run produced: its tables, metrics and the inputs that made it.

    Attributes:
        scenario: the scenario as run.
        regime: the lever values as run.
        seed: the run's seed.
        days: simulated days.
        tables: ``incidents``, ``stages``, ``alerts``, ``units`` and ``cells`` DataFrames.
        sample_every: the tables hold every k-th incident only (long runs streamed to Parquet:
            the files hold everything; see :func:`citysim.events.load_tables`).
    """

    scenario: Scenario
    regime: Regime
    seed: int
    days: float
    tables: dict[str, pd.DataFrame]
    sample_every: int = 1
    exact_counts: dict | None = field(default=None, repr=False)
    _metrics: dict | None = field(default=None, repr=False)

    @property
    def incidents(self) -> pd.DataFrame:
        """One row per incident (see ``docs/output-columns.md``)."""
        return self.tables["incidents"]

    @property
    def stages(self) -> pd.DataFrame:
        return self.tables["stages"]

    @property
    def alerts(self) -> pd.DataFrame:
        return self.tables["alerts"]

    @property
    def units(self) -> pd.DataFrame:
        return self.tables["units"]

    @property
    def cells(self) -> pd.DataFrame:
        return self.tables["cells"]

    @property
    def metrics(self) -> dict:
        """Every metric of the run (response time, coverage, inclusion, harm, cost, calibration)."""
        if self._metrics is None:
            from citysim.metrics import compute_metrics

            self._metrics = compute_metrics(
                self.tables, self.days * 1440.0, self.scenario, self.sample_every, self.exact_counts
            )
        return self._metrics

    def save(self, directory: str | Path, figures: bool = True) -> Path:
        """Write tables, ``metrics.json``, ``run.toml`` and figures to a directory."""
        from citysim.report import write_outputs

        return write_outputs(self, Path(directory), figures=figures)


def simulate(
    scenario: Scenario | str | Path,
    regime: str | Regime = "integrated",
    seed: int = 1,
    days: float = 7,
    overrides: list[str] | tuple[str, ...] = (),
    out: str | Path | None = None,
    progress: Callable[[CityModel], None] | None = None,
) -> Result:
    """Simulate a city under a regime.

    Args:
        scenario: a :class:`Scenario` or the path of a scenario file.
        regime: a preset or scenario regime name, or a :class:`Regime`.
        seed: the run's seed.
        days: simulated days.
        overrides: ``lever=value`` strings applied on top of the regime.
        out: stream the tables to this directory's Parquet files instead of memory.
        progress: called after each simulated day with the model.

    Example:
        >>> import citysim
        >>> result = citysim.simulate("scenarios/small.toml", regime="fragmented", days=2)
        >>> result.incidents.status.isin(["resolved", "in_progress", "undetected"]).all()
        True
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not isinstance(regime, Regime):
        regime = scenario.regime_named(regime)
    regime = apply_overrides(regime, list(overrides))
    sink = ParquetSink(out) if out is not None else MemorySink()
    model = CityModel(scenario, regime, seed=seed, horizon_days=days, sink=sink)
    model.run(progress=progress)
    tables, every, counts = sink.sampled_frames()
    result = Result(scenario, regime, seed, days, tables, sample_every=every, exact_counts=counts)
    result.model_counts = dict(model.counts)  # type: ignore[attr-defined]
    return result


def run_record(result: Result) -> dict:
    """The fully resolved inputs of a run (written as ``run.toml``)."""
    from citysim import __version__

    return {
        "citysim_run": {"version": __version__, "seed": result.seed, "days": result.days, "regime": result.regime.name},
        "regime": json.loads(result.regime.model_dump_json()),
        "scenario": json.loads(result.scenario.model_dump_json(exclude_none=True)),
    }
