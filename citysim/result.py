"""What a run produced: :class:`RunResult`, its tables, metrics and the inputs that made it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from citysim.regimes import Regime
from citysim.scenario import Scenario
from citysim.window import Stop, Window

__all__ = ["RunResult", "record_of", "run_block", "run_record"]


@dataclass
class RunResult:
    """What a run produced: its metrics, its tables and the inputs that made it.

    Attributes:
        scenario: the scenario as run.
        regime: the lever values as run.
        seed: the run's seed.
        window: warm-up, measurement window and follow-up (whole days); the tables hold the
            incidents that occurred in the window.
        tables: ``incidents``, ``stages``, ``alerts``, ``units``, ``cells`` and ``daily`` DataFrames:
            kept in memory, or read whole from the run's Parquet files when first asked for
            (:class:`~citysim.events.FolderTables`); None when the run kept no tables.
        stream: the metrics accumulated as the run went (:class:`~citysim.metrics.stream.MetricsStream`);
            without it, metrics are computed from the tables.
        stopped: the run was stopped early (a signal): where and why; ``window`` is then what
            was measured (:meth:`citysim.window.Window.cut`). None for a run that ran to its end.
    """

    scenario: Scenario
    regime: Regime
    seed: int
    window: Window
    tables: Mapping[str, pd.DataFrame] | None = None
    stream: object | None = field(default=None, repr=False)
    stopped: Stop | None = None
    _metrics: dict | None = field(default=None, repr=False)

    @property
    def days(self) -> int:
        """Days of the measurement window."""
        return self.window.days

    def _table(self, name: str) -> pd.DataFrame:
        if self.tables is None:
            raise ValueError(
                "this run kept no tables (simulate(..., keep_tables=False)): its metrics are in result.metrics"
            )
        return self.tables[name]

    @property
    def incidents(self) -> pd.DataFrame:
        """One row per incident (see ``docs/output-columns.md``)."""
        return self._table("incidents")

    @property
    def stages(self) -> pd.DataFrame:
        return self._table("stages")

    @property
    def alerts(self) -> pd.DataFrame:
        return self._table("alerts")

    @property
    def units(self) -> pd.DataFrame:
        return self._table("units")

    @property
    def cells(self) -> pd.DataFrame:
        return self._table("cells")

    @property
    def metrics(self) -> dict:
        """Every metric of the run (response time, coverage, inclusion, harm, cost, calibration).

        Accumulated as the run went (binned times: see :mod:`citysim.metrics.bins`), or computed
        from the tables when the run has no stream. Opens with the ``run`` block (:func:`run_block`).
        """
        if self._metrics is None:
            if self.stream is not None:
                computed = self.stream.metrics(self.scenario, self.regime)
            else:
                from citysim.metrics import compute_metrics

                computed = compute_metrics(self._all_tables(), self.window, self.scenario, regime=self.regime)
            self._metrics = {"run": run_block(self.scenario, self.regime, self.seed, self.window, self.stopped)}
            self._metrics.update(computed)
        return self._metrics

    def _all_tables(self) -> Mapping[str, pd.DataFrame]:
        self._table("incidents")
        return self.tables


def run_block(scenario: Scenario, regime: Regime, seed: int, window: Window, stopped: Stop | None = None) -> dict:
    """The ``run`` block of ``metrics.json``: what was run, whether it ran to its end, and if not why.

    ``complete`` is False for a run stopped early; ``stopped`` (``interrupted (SIGINT)``), ``stopped_in``
    (``warmup``, ``window`` or ``follow_up``), ``note`` (one line) and ``requested`` (the window asked
    for) then say where, and ``window`` what was measured (None: nothing).
    """
    block: dict = {"scenario": scenario.name, "regime": regime.name, "seed": seed, "complete": stopped is None}
    if stopped is None:
        return {**block, "simulated_days": window.total_days, "requested": window.as_dict(), "window": window.as_dict()}
    measured = stopped.window
    return {
        **block,
        "stopped": stopped.stopped,
        "stopped_in": stopped.period,
        "note": stopped.describe(),
        "simulated_days": stopped.simulated_days,
        "requested": stopped.requested.as_dict(),
        "window": None if measured is None else measured.as_dict(),
    }


def record_of(scenario: Scenario, regime: Regime, seed: int, window: Window, stopped: Stop | None = None) -> dict:
    """The fully resolved inputs of a run (written as ``run.toml``), ``window`` the one measured.

    A stopped run's ``[citysim_run]`` table adds where and why it stopped and the window asked for
    (:meth:`citysim.window.Stop.record`); its window is the one measured, so ``citysim run OUT/run.toml``
    reproduces what was written. Stopped in the warm-up, nothing was measured: ``window`` is the one
    asked for, and rerunning the file runs it.
    """
    from citysim import __version__

    return {
        "citysim_run": {
            "version": __version__,
            "seed": seed,
            **window.as_dict(),
            "regime": regime.name,
            **(stopped.record() if stopped is not None else {}),
        },
        "regime": json.loads(regime.model_dump_json()),
        "scenario": json.loads(scenario.model_dump_json(exclude_none=True)),
    }


def run_record(result: RunResult) -> dict:
    """The fully resolved inputs of a run (written as ``run.toml``)."""
    return record_of(result.scenario, result.regime, result.seed, result.window, result.stopped)
