"""Lever attribution: how much of the difference between two regimes each lever group makes.

Moving from one regime (``--from``) to another (``--to``) changes several lever
groups at once (``citysim/data/lever_groups.toml``: levers that only make sense
together move together). The difference in a headline metric is split among
the groups by their Shapley values: each group's marginal effect, averaged
over every order in which the groups could be switched. Every coalition of
groups is run on the same seeds (common random numbers), so the marginal
effects are paired. Exact over the groups that differ (at most 2^8 = 256
coalitions), or averaged over sampled orderings (``permutations``), e.g. with
single levers as players. The Shapley values add up to the whole difference
by construction, which says nothing of their correctness: the tests check
them against games whose values are known.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from citysim.errors import CitysimError, ScenarioError
from citysim.experiments.compare import values_by
from citysim.experiments.plan import Plan, plan_for_regimes
from citysim.experiments.shapley import coalitions_of, shapley_exact, shapley_sampled
from citysim.experiments.spec import Parameter
from citysim.experiments.stats import mean_interval
from citysim.experiments.store import annotate_manifest, read_records, runs_table, write_table
from citysim.experiments.sweep import SweepSummary, run_sweep
from citysim.rng import Streams

__all__ = ["Attribution", "attribution_lines", "attribution_plan", "estimate_seconds", "lever_groups", "run_attribute"]

SECONDS_PER_RUN = 0.1
"""Fixed cost of one run (building the city, metrics), seconds: measured on the project's 2-core machine."""
SECONDS_PER_INCIDENT = 13e-6
"""Simulation and metrics per incident, seconds (numba engine; measured on a week of Chengdu)."""


@cache
def lever_groups() -> dict[str, dict[str, Any]]:
    """The lever groups, from ``citysim/data/lever_groups.toml`` (every lever in exactly one group)."""
    from citysim.regimes import LEVERS

    source = "citysim/data/lever_groups.toml"
    data = tomllib.loads(resources.files("citysim").joinpath("data/lever_groups.toml").read_text(encoding="utf-8"))
    seen: dict[str, str] = {}
    for name, group in data.items():
        for lever in group.get("levers", []):
            if lever not in LEVERS:
                raise ScenarioError(source, f"{name}.levers", f"{lever!r} is not one of {', '.join(LEVERS)}")
            if lever in seen:
                raise ScenarioError(source, f"{name}.levers", f"{lever!r} is already in group {seen[lever]!r}")
            seen[lever] = name
    missing = [lv for lv in LEVERS if lv not in seen]
    if missing:
        raise ScenarioError(source, "", f"levers in no group: {', '.join(missing)}")
    return data


def _players(start: dict[str, Any], end: dict[str, Any], by: str) -> list[dict[str, Any]]:
    """The groups (or single levers) whose values differ between the two regimes."""
    if by == "lever":
        groups = {lv: {"levers": [lv], "side": g["side"]} for g in lever_groups().values() for lv in g["levers"]}
    elif by == "group":
        groups = lever_groups()
    else:
        raise CitysimError(f"--by: {by!r} is not one of 'group', 'lever'")
    return [
        {"name": name, "levers": list(g["levers"]), "side": g.get("side", "")}
        for name, g in groups.items()
        if any(start[lv] != end[lv] for lv in g["levers"])
    ]


def attribution_plan(
    scenario: str,
    start: str,
    end: str,
    replications: int,
    days: int | None = None,
    seed: int | None = None,
    by: str = "group",
    permutations: int = 0,
    warmup_days: int | None = None,
    follow_up_days: int | None = None,
) -> Plan:
    """The runs of an attribution: one design point per coalition of players, each on the same seeds."""
    plan = plan_for_regimes(scenario, [start, end], replications, days, seed, warmup_days, follow_up_days, "attribute")
    first, last = plan.regimes
    players = _players(first, last, by)
    if not players:
        raise CitysimError(f"--from {start} and --to {end} have the same value for every lever: nothing to attribute")
    g = len(players)
    orders = None
    if permutations:
        rng = Streams(plan.seed).generator("permutations")
        orders = np.array([rng.permutation(g) for _ in range(permutations)])
        masks = coalitions_of(orders)
    elif g > 10:
        raise CitysimError(f"{g} players make {2**g:,} coalitions: give --permutations N to sample orderings")
    else:
        masks = list(range(2**g))
    changed = [lv for p in players for lv in p["levers"]]
    plan.parameters = [Parameter(lever=lv, dist="choice", values=[first[lv], last[lv]]) for lv in changed]
    plan.points = [
        {lv: last[lv] if mask >> k & 1 else first[lv] for k, p in enumerate(players) for lv in p["levers"]}
        for mask in masks
    ]
    plan.regimes = [first]
    plan.keep_curves = False
    plan.name = f"{plan.scenario_name}: {start} -> {end}"
    plan.extra = {
        "from": start,
        "to": end,
        "by": by,
        "players": players,
        "masks": masks,
        "orders": None if orders is None else orders.tolist(),
    }
    return plan


def estimate_seconds(plan: Plan, workers: int) -> float:
    """Expected wall time of a plan's runs on ``workers`` processes (a stated rule, not a promise)."""
    from citysim.city import build_city
    from citysim.processes.occurrence import OccurrenceSampler
    from citysim.scenario import scenario_from_dict

    sc = scenario_from_dict(plan.scenario, plan.source)
    per_day = OccurrenceSampler(sc, build_city(sc, Streams(sc.seed)), Streams(sc.seed)).expected_per_day()
    per_run = SECONDS_PER_RUN + SECONDS_PER_INCIDENT * per_day * plan.simulated_days()
    return plan.n_runs * per_run / max(workers, 1)


@dataclass
class Attribution:
    """An attribution's plan, table and sweep."""

    plan: Plan
    table: pd.DataFrame
    sweep: SweepSummary


def attribution_table(records: dict[int, dict], plan: Plan) -> pd.DataFrame:
    """One row per metric and player: Shapley value with 95% CI, and the start and end values.

    Columns: ``metric, group, side, levers, shapley, ci_low, ci_high, share, start, end``.
    """
    extra = plan.extra
    players, masks = extra["players"], extra["masks"]
    column = {mask: k for k, mask in enumerate(masks)}
    full = (1 << len(players)) - 1
    rows = []
    for metric in plan.metrics:
        by_point = values_by(records, plan, metric, by="point")  # (coalition, replication)
        if extra["orders"] is None:
            per_rep = shapley_exact(by_point.T)  # (replication, player)
            keep = np.isfinite(per_rep).all(axis=1)
            est = per_rep[keep].mean(axis=0) if keep.any() else np.full(len(players), np.nan)
            n = int(keep.sum())
            sem = per_rep[keep].std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(len(players), np.nan)
            t = float(stats.t.ppf(0.975, n - 1)) if n > 1 else math.nan
        else:
            est, sem = shapley_sampled({m: by_point[column[m]] for m in masks}, np.array(extra["orders"]))
            t = float(stats.norm.ppf(0.975))
        start, end = mean_interval(by_point[column[0]]).estimate, mean_interval(by_point[column[full]]).estimate
        total = end - start
        for k, p in enumerate(players):
            rows.append(
                {
                    "metric": metric,
                    "group": p["name"],
                    "side": p["side"],
                    "levers": " ".join(p["levers"]),
                    "shapley": est[k],
                    "ci_low": est[k] - t * sem[k],
                    "ci_high": est[k] + t * sem[k],
                    "share": est[k] / total if total else math.nan,
                    "start": start,
                    "end": end,
                }
            )
    return pd.DataFrame(rows)


def run_attribute(
    plan: Plan,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    figures: bool = True,
) -> Attribution:
    """Run an attribution plan and write ``runs.parquet``, ``attribution.csv`` and a waterfall per metric."""
    out = Path(out)
    sweep = run_sweep(plan, out, workers, scheduler, progress=progress)
    records = read_records(out)
    table = attribution_table(records, plan)
    table.to_csv(out / "attribution.csv", index=False)
    write_table(out, runs_table(records, plan.scenario_name))
    by_side = table.groupby(["metric", "side"], sort=False)["shapley"].sum().unstack()
    annotate_manifest(out, "attribute", {"by_side": by_side.to_dict(orient="index")})
    if figures:
        from citysim.experiments.figures import waterfall_figure

        labels = (plan.extra["from"], plan.extra["to"])
        for metric, rows in table.groupby("metric", sort=False):
            fig = waterfall_figure(metric, rows.start.iloc[0], rows.end.iloc[0], rows, labels)
            (out / "figures").mkdir(exist_ok=True)
            fig.savefig(out / "figures" / f"waterfall_{metric}.png", dpi=100)
    return Attribution(plan, table, sweep)


def attribution_lines(table: pd.DataFrame) -> list[str]:
    """The attribution as text: per metric, start -> end and each group's share, and by side."""
    lines = []
    for metric, rows in table.groupby("metric", sort=False):
        lines.append(f"{metric}: {rows.start.iloc[0]:.4g} -> {rows.end.iloc[0]:.4g}")
        for row in rows.itertuples():
            share = f"{row.share:+.0%}" if math.isfinite(row.share) else "n/a"
            lines.append(
                f"  {row.group:<14} {row.shapley:+10.4g} [{row.ci_low:+.3g}, {row.ci_high:+.3g}]  {share:>6}"
                f"  ({row.side}: {row.levers})"
            )
        sides = rows.groupby("side", sort=False)["shapley"].sum()
        lines.append("  by side: " + ", ".join(f"{side} {value:+.4g}" for side, value in sides.items()))
    return lines
