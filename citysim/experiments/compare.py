"""Regime comparisons with confidence intervals, on common random numbers.

Replication r runs under every regime with the same seed, so each regime sees
the same incidents and the difference between two regimes is paired. For each
headline metric, :func:`compare_table` gives each regime's mean with a 95%
interval and the difference to the first regime: absolute (paired t over
replications; bootstrap for worst/best ratios) and relative to the first
regime's mean (paired bootstrap, being a ratio of means), each marked where
its interval excludes zero. :func:`run_compare` runs a fixed number of
replications or sizes them by a two-stage rule (:func:`needed_replications`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from citysim.experiments.headline import RELATIVE_KINDS, cost_per_improvement, headline_kinds, improvement_unit
from citysim.experiments.plan import Plan, plan_for_regimes
from citysim.experiments.stats import (
    Interval,
    bootstrap_mean,
    bootstrap_paired,
    full_rounds,
    mean_interval,
    paired,
    stein_replications,
)
from citysim.experiments.store import annotate_manifest, read_records, runs_table, write_table
from citysim.experiments.sweep import SweepSummary, run_sweep
from citysim.rng import Streams

__all__ = [
    "CompareResult",
    "compare_lines",
    "compare_table",
    "needed_replications",
    "run_compare",
    "values_by",
    "write_comparison",
]

PILOT = 5


def values_by(
    records: dict[int, dict], plan: Plan, metric: str, by: str = "regime", replications: int | None = None
) -> np.ndarray:
    """A metric's values as (regime or design point, replication); NaN for a failed run or a value not estimable."""
    reps = plan.replications if replications is None else replications
    rows = len(plan.regimes) if by == "regime" else len(plan.points)
    out = np.full((rows, reps), np.nan)
    for index, rec in records.items():
        replication, regime, point = plan.locate(index)
        if replication < reps and rec["status"] == "ok":
            value = (rec.get("headline") or {}).get(metric)
            out[regime if by == "regime" else point, replication] = math.nan if value is None else value
    return out


def _costs(records: dict[int, dict], plan: Plan) -> np.ndarray | None:
    out = np.full((len(plan.regimes), plan.replications), np.nan)
    for index, rec in records.items():
        replication, regime, _ = plan.locate(index)
        if replication < plan.replications and rec.get("cost") is not None:
            out[regime, replication] = rec["cost"]
    return out if np.isfinite(out).any() else None


def _interval_columns(prefix: str, iv: Interval) -> dict[str, Any]:
    return {
        prefix: iv.estimate,
        f"{prefix}_low": iv.low,
        f"{prefix}_high": iv.high,
        f"{prefix}_excludes_zero": iv.excludes_zero,
    }


def compare_table(records: dict[int, dict], plan: Plan, metrics: list[str] | None = None) -> pd.DataFrame:
    """One row per metric and regime: mean with 95% CI, and differences to the first regime.

    Columns: ``metric, kind, regime, n, mean, mean_low, mean_high, half_width, diff, diff_low,
    diff_high, diff_excludes_zero, rel_diff, rel_diff_low, rel_diff_high, rel_diff_excludes_zero``,
    and where runs are priced ``annual_cost, cost_diff, cost_per_unit``: the extra annual cost per
    unit of improvement in the metric (:func:`~citysim.experiments.headline.improvement_unit`: an
    hour saved, a percentage point gained ...), only where the metric improved beyond its 95%
    interval and the cost differs (NaN otherwise: a saving that also improves, or no clear gain).
    """
    kinds = headline_kinds()
    costs = _costs(records, plan)
    rows = []
    for m, metric in enumerate(metrics or plan.metrics):
        kind = kinds.get(metric, "share")
        values = values_by(records, plan, metric)
        for r, regime in enumerate(plan.regimes):
            rng = Streams(plan.seed).generator("bootstrap", m, r)
            mean = bootstrap_mean(values[r], rng) if kind == "ratio" else mean_interval(values[r])
            row: dict[str, Any] = {"metric": metric, "kind": kind, "regime": regime["name"], "n": mean.n}
            row.update(mean=mean.estimate, mean_low=mean.low, mean_high=mean.high, half_width=mean.half_width)
            if r == 0:
                diff = rel = Interval(math.nan, math.nan, math.nan, 0)
            else:
                a, b = paired(values[0], values[r])
                diff = bootstrap_paired(a, b, rng, relative=False) if kind == "ratio" else mean_interval(b - a)
                rel = bootstrap_paired(a, b, rng, relative=True)
            row.update(_interval_columns("diff", diff))
            row.update(_interval_columns("rel_diff", rel))
            if costs is not None:
                row["annual_cost"] = float(np.nanmean(costs[r]))
                cost_diff = float(np.nanmean(costs[r] - costs[0]))
                row["cost_diff"] = cost_diff if r else math.nan
                row["cost_per_unit"] = (
                    cost_per_improvement(metric, kind, cost_diff, diff.estimate)
                    if r and diff.excludes_zero
                    else math.nan
                )
            rows.append(row)
    return pd.DataFrame(rows)


def _target(kind: str, width: float, mean: float) -> float:
    """An interval's allowed half-width: absolute for shares and ratios, relative to the mean for times and counts."""
    return width * abs(mean) if kind in RELATIVE_KINDS else width


def needed_replications(records: dict[int, dict], plan: Plan, width: float, pilot: int) -> pd.DataFrame:
    """Replications each metric needs for every regime's and every difference's CI half-width to be under ``width``.

    Sized once from the first ``pilot`` replications (Stein's two-stage rule): absolute widths for
    shares and ratios, relative to the (first regime's) mean for times and counts.
    """
    kinds = headline_kinds()
    rows = []
    for metric in plan.metrics:
        kind = kinds.get(metric, "share")
        values = values_by(records, plan, metric, replications=pilot)
        needs = []
        for r in range(len(plan.regimes)):
            x = values[r][np.isfinite(values[r])]
            if len(x) >= 2:
                needs.append(stein_replications(x, _target(kind, width, float(x.mean()))))
            if r:
                a, b = paired(values[0], values[r])
                if len(a) >= 2:
                    needs.append(stein_replications(b - a, _target(kind, width, float(a.mean()))))
        rows.append({"metric": metric, "kind": kind, "needed": max(needs) if needs else math.nan})
    return pd.DataFrame(rows)


def write_comparison(out: Path, plan: Plan, ci_width: float | None = None, figures: bool = True) -> pd.DataFrame:
    """Write a comparison's ``comparison.csv``, ``runs.parquet`` and figures from its folder's runs.

    With ``ci_width``, a column ``target_half_width`` says the half-width each CI was sized for.
    """
    records = {i: r for i, r in read_records(out).items() if i < plan.n_runs}
    table = compare_table(records, plan)
    if ci_width is not None:
        table["target_half_width"] = [_target(k, ci_width, m) for k, m in zip(table.kind, table["mean"], strict=True)]
    table.to_csv(out / "comparison.csv", index=False)
    write_table(out, runs_table(records, plan.scenario_name))
    if figures:
        from citysim.experiments.figures import compare_figures

        compare_figures(table, records, plan, out / "figures")
    return table


@dataclass
class CompareResult:
    """A comparison: its plan, runs, table and what was run."""

    plan: Plan
    table: pd.DataFrame
    sweeps: list[SweepSummary]
    needed: pd.DataFrame | None = None
    capped: bool = False


def run_compare(
    scenario: str,
    regimes: list[str],
    replications: int | None,
    out: str | Path,
    days: int | None = None,
    seed: int | None = None,
    ci_width: float | None = None,
    max_replications: int = 200,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    figures: bool = True,
    warmup_days: int | None = None,
    follow_up_days: int | None = None,
) -> CompareResult:
    """Compare regimes on common random numbers and write ``runs.parquet``, ``comparison.csv``, figures.

    ``replications=None`` sizes them: a pilot of 5 replications, then as many as every metric's
    CI half-width under ``ci_width`` needs (at most ``max_replications``), rounded up to whole
    rounds of workers.
    """
    from citysim.experiments.pool import default_workers

    out = Path(out)
    plan = plan_for_regimes(scenario, regimes, replications or PILOT, days, seed, warmup_days, follow_up_days)
    sweeps = [run_sweep(plan, out, workers, scheduler, progress=progress)]
    needed, capped = None, False
    if replications is None:
        needed = needed_replications(read_records(out), plan, ci_width or 0.05, PILOT)
        n = int(np.nanmax(needed["needed"].to_numpy(dtype=float), initial=PILOT))
        if not scheduler:
            n = full_rounds(n, plan.runs_per_replication, workers or default_workers())
        capped = n > max_replications
        plan.replications = min(n, max_replications)
        if plan.replications > PILOT:
            sweeps.append(run_sweep(plan, out, workers, scheduler, progress=progress))
    table = write_comparison(out, plan, ci_width if replications is None else None, figures)
    annotate_manifest(
        out,
        "compare",
        {
            "regimes": regimes,
            "replications": plan.replications,
            "ci_width": ci_width,
            "needed": None if needed is None else dict(zip(needed.metric, needed.needed, strict=True)),
            "capped": capped,
        },
    )
    return CompareResult(plan, table, sweeps, needed, capped)


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "n/a"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _pct(x: float) -> str:
    return f"{x:+.1%}" if math.isfinite(x) else "n/a"


def compare_lines(table: pd.DataFrame) -> list[str]:
    """The comparison as text: each metric, each regime's mean [95% CI] and difference to the first."""
    lines = []
    for metric, rows in table.groupby("metric", sort=False):
        n = sorted(set(rows.n))
        lines.append(f"{metric} ({rows.kind.iloc[0]}; n = {'-'.join(map(str, (n[0], n[-1]) if len(n) > 1 else n))})")
        for row in rows.itertuples():
            text = f"  {row.regime:<18} {_fmt(row.mean):>8} [{_fmt(row.mean_low)}, {_fmt(row.mean_high)}]"
            if math.isfinite(row.diff):
                star = "*" if row.diff_excludes_zero else " "
                rstar = "*" if row.rel_diff_excludes_zero else " "
                text += f"  diff {_fmt(row.diff):>8} [{_fmt(row.diff_low)}, {_fmt(row.diff_high)}]{star}"
                text += f"  {_pct(row.rel_diff)} [{_pct(row.rel_diff_low)}, {_pct(row.rel_diff_high)}]{rstar}"
            if "annual_cost" in table and math.isfinite(row.annual_cost):
                text += f"  cost {row.annual_cost:,.0f} CNY/yr"
                if math.isfinite(row.cost_per_unit):
                    text += f" ({row.cost_per_unit:,.0f} more per {improvement_unit(metric, row.kind)[1]})"
            lines.append(text)
    lines.append("* the 95% interval of the difference to the first regime excludes zero (n: replications)")
    return lines
