"""What a run produced: :class:`RunResult`, its tables, metrics and the inputs that made it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from citysim.regimes import Regime
from citysim.scenario import Scenario
from citysim.window import Window

__all__ = ["RunResult", "run_record"]


@dataclass
class RunResult:
    """What a run produced: its tables, metrics and the inputs that made it.

    Attributes:
        scenario: the scenario as run.
        regime: the lever values as run.
        seed: the run's seed.
        window: warm-up, measurement window and follow-up (whole days); the tables hold the
            incidents that occurred in the window.
        tables: ``incidents``, ``stages``, ``alerts``, ``units`` and ``cells`` DataFrames.
        sample_every: the tables hold every k-th incident only (long runs streamed to Parquet:
            the files hold everything; see :func:`citysim.events.load_tables`).
    """

    scenario: Scenario
    regime: Regime
    seed: int
    window: Window
    tables: dict[str, pd.DataFrame]
    sample_every: int = 1
    exact_counts: dict | None = field(default=None, repr=False)
    _metrics: dict | None = field(default=None, repr=False)

    @property
    def days(self) -> int:
        """Days of the measurement window."""
        return self.window.days

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
                self.tables, self.window, self.scenario, self.sample_every, self.exact_counts
            )
        return self._metrics


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
