"""Running a scenario: :func:`simulate` and its :class:`Result`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from citysim.events import MemorySink, ParquetSink
from citysim.model import CityModel
from citysim.regimes import Regime, apply_overrides
from citysim.report import write_outputs
from citysim.result import RunResult, run_record
from citysim.scenario import Scenario, load_scenario

__all__ = ["Result", "run_record", "simulate"]


class Result(RunResult):
    """What a run produced (see :class:`citysim.result.RunResult`), and :meth:`save` to write it out."""

    def save(self, directory: str | Path, figures: bool = True) -> Path:
        """Write tables, ``metrics.json``, ``run.toml`` and figures to a directory."""
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
