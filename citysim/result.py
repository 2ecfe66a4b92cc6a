"""What a run produced: :class:`RunResult`, its tables, metrics and the inputs that made it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from citysim.regimes import Regime
from citysim.scenario import Scenario
from citysim.window import Window

__all__ = ["RunResult", "run_record"]


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
    """

    scenario: Scenario
    regime: Regime
    seed: int
    window: Window
    tables: Mapping[str, pd.DataFrame] | None = None
    stream: object | None = field(default=None, repr=False)
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
        from the tables when the run has no stream.
        """
        if self._metrics is None:
            if self.stream is not None:
                self._metrics = self.stream.metrics(self.scenario, self.regime)
            else:
                from citysim.metrics import compute_metrics

                self._metrics = compute_metrics(self._all_tables(), self.window, self.scenario, regime=self.regime)
        return self._metrics

    def _all_tables(self) -> Mapping[str, pd.DataFrame]:
        self._table("incidents")
        return self.tables


def run_record(result: RunResult) -> dict:
    """The fully resolved inputs of a run (written as ``run.toml``)."""
    from citysim import __version__

    return {
        "citysim_run": {
            "version": __version__,
            "seed": result.seed,
            **result.window.as_dict(),
            "regime": result.regime.name,
        },
        "regime": json.loads(result.regime.model_dump_json()),
        "scenario": json.loads(result.scenario.model_dump_json(exclude_none=True)),
    }
