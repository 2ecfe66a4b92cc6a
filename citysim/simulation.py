"""Running a scenario: :func:`simulate` and its :class:`Result`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from citysim.errors import CitysimError
from citysim.events import MemorySink, ParquetSink
from citysim.model import CityModel
from citysim.regimes import Regime, apply_overrides
from citysim.report import write_outputs
from citysim.result import RunResult, run_record
from citysim.scenario import Scenario, load_scenario
from citysim.window import Window

__all__ = ["Result", "run_record", "simulate", "window_of"]


def window_of(
    scenario: Scenario, days: int | None = None, warmup_days: int | None = None, follow_up_days: int | None = None
) -> Window:
    """The run's window: the lengths given, else the scenario's defaults."""
    try:
        return Window(
            days=scenario.days if days is None else days,
            warmup_days=scenario.warmup_days if warmup_days is None else warmup_days,
            follow_up_days=scenario.follow_up_days if follow_up_days is None else follow_up_days,
        )
    except ValueError as exc:
        raise CitysimError(str(exc)) from None


class Result(RunResult):
    """What a run produced (see :class:`citysim.result.RunResult`), and :meth:`save` to write it out."""

    def save(self, directory: str | Path, figures: bool = True) -> Path:
        """Write tables, ``metrics.json``, ``run.toml`` and figures to a directory."""
        return write_outputs(self, Path(directory), figures=figures)


def simulate(
    scenario: Scenario | str | Path,
    regime: str | Regime = "integrated",
    seed: int = 1,
    days: int | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    out: str | Path | None = None,
    progress: Callable[[CityModel], None] | None = None,
    warmup_days: int | None = None,
    follow_up_days: int | None = None,
) -> Result:
    """Simulate a city under a regime.

    Args:
        scenario: a :class:`Scenario` or the path of a scenario file.
        regime: a preset or scenario regime name, or a :class:`Regime`.
        seed: the run's seed.
        days: the measurement window, whole days (default: the scenario's ``days``).
        overrides: ``lever=value`` strings applied on top of the regime.
        out: stream the tables to this directory's Parquet files instead of memory.
        progress: called after each simulated day with the model.
        warmup_days: simulated before the window, not counted (default: the scenario's).
        follow_up_days: simulated after it so the window's incidents can end (default: the scenario's).

    Example:
        >>> import citysim
        >>> result = citysim.simulate("scenarios/small.toml", regime="fragmented", days=2, warmup_days=0)
        >>> result.incidents.status.isin(["resolved", "in_progress", "undetected"]).all()
        True
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not isinstance(regime, Regime):
        regime = scenario.regime_named(regime)
    regime = apply_overrides(regime, list(overrides))
    window = window_of(scenario, days, warmup_days, follow_up_days)
    sink = ParquetSink(out) if out is not None else MemorySink()
    model = CityModel(scenario, regime, seed=seed, window=window, sink=sink)
    model.run(progress=progress)
    tables, every, counts = sink.sampled_frames()
    result = Result(scenario, regime, seed, window, tables, sample_every=every, exact_counts=counts)
    result.model_counts = dict(model.counts)  # type: ignore[attr-defined]
    return result
