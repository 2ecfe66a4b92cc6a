"""Running a scenario: :func:`simulate` and its :class:`Result`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from citysim.events import FolderTables, MemorySink, ParquetSink, TeeSink
from citysim.metrics.stream import MetricsStream
from citysim.model import CityModel
from citysim.options import seed as _seed
from citysim.options import whole_days
from citysim.regimes import Regime, apply_overrides
from citysim.report import write_outputs
from citysim.result import RunResult, run_record
from citysim.scenario import Scenario, load_scenario
from citysim.window import Window

__all__ = ["Result", "run_record", "simulate", "window_of"]


def window_of(
    scenario: Scenario, days: int | None = None, warmup_days: int | None = None, follow_up_days: int | None = None
) -> Window:
    """The run's window: the lengths given, else the scenario's defaults.

    Raises:
        OptionError: for a length that is not whole days (``days`` at least 1) up to 3650.
    """
    return Window(
        days=whole_days(scenario.days if days is None else days, "days"),
        warmup_days=whole_days(scenario.warmup_days if warmup_days is None else warmup_days, "warmup_days", 0),
        follow_up_days=whole_days(
            scenario.follow_up_days if follow_up_days is None else follow_up_days, "follow_up_days", 0
        ),
    )


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
    keep_tables: bool = True,
) -> Result:
    """Simulate a city under a regime.

    Args:
        scenario: a :class:`Scenario` or the path of a scenario file.
        regime: a preset or scenario regime name, or a :class:`Regime`.
        seed: the run's seed, 0 to 2**32 - 1.
        days: the measurement window, whole days, 1 to 3650 (default: the scenario's ``days``).
        overrides: ``lever=value`` strings applied on top of the regime.
        out: stream the tables to this directory's Parquet files instead of memory (``result.tables``
            then reads them back, whole, when first asked for).
        progress: called after each simulated day with the model.
        warmup_days: simulated before the window, not counted (default: the scenario's).
        follow_up_days: simulated after it so the window's incidents can end (default: the scenario's).
        keep_tables: keep the tables in memory (without ``out``); False keeps only the metrics, which are
            accumulated as the run goes whatever this says (memory flat in the run's length).

    Raises:
        CitysimError: for a scenario, regime, lever value, seed or number of days that cannot be used,
            naming it and what is allowed.

    Example:
        >>> import citysim
        >>> result = citysim.simulate("scenarios/small.toml", regime="fragmented", days=2, warmup_days=0)
        >>> result.incidents.status.isin(["resolved", "in_progress", "undetected"]).all()
        True
    """
    seed = _seed(seed)
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not isinstance(regime, Regime):
        regime = scenario.regime_named(regime)
    regime = apply_overrides(regime, list(overrides))
    window = window_of(scenario, days, warmup_days, follow_up_days)
    stream = MetricsStream.for_scenario(scenario, window)
    if out is not None:
        tables, sink = FolderTables(out), TeeSink(ParquetSink(out), stream)
    elif keep_tables:
        memory = MemorySink()
        tables, sink = None, TeeSink(memory, stream)
    else:
        tables, sink = None, stream
    model = CityModel(scenario, regime, seed=seed, window=window, sink=sink)
    model.run(progress=progress)
    if out is None and keep_tables:
        tables = memory.frames()
    result = Result(scenario, regime, seed, window, tables, stream=stream)
    result.model_counts = dict(model.counts)  # type: ignore[attr-defined]
    return result
