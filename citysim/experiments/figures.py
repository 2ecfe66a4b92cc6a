"""Figures of experiments, drawn with matplotlib's Agg canvas (no display needed).

Comparisons: a confidence-interval plot per metric, survival curves overlaid,
needs met by cohort and district kind. Attribution: a waterfall per metric.
Sensitivity: Sobol and Morris indices, main effects, regression coefficients.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from citysim.experiments.stats import mean_interval

__all__ = ["bar_figure", "compare_figures", "effects_figure", "waterfall_figure"]

_COLOURS = ["#b2182b", "#2166ac", "#ef8a62", "#67a9cf", "#1b7837", "#762a83", "#e08214", "#4d4d4d"]


def _figure(width: float, height: float, ncols: int = 1, nrows: int = 1):
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(nrows, ncols, squeeze=False)


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def ci_figure(rows: pd.DataFrame) -> Figure:
    """One metric: each regime's mean with its 95% CI, and the differences to the first regime."""
    fig, ax = _figure(10, 0.6 + 0.45 * len(rows), ncols=2)
    names = list(rows.regime)
    y = np.arange(len(names))
    left, right = ax[0]
    err = [rows["mean"] - rows.mean_low, rows.mean_high - rows["mean"]]
    left.errorbar(rows["mean"], y, xerr=np.nan_to_num(err), fmt="o", color="#2166ac", capsize=4)
    left.set_yticks(y, names)
    left.invert_yaxis()
    left.set_title(f"{rows.metric.iloc[0]}: mean, 95% CI")
    diff = rows.iloc[1:]
    dy = y[1:]
    colours = ["#b2182b" if s else "#7f7f7f" for s in diff.diff_excludes_zero]
    derr = np.nan_to_num([diff["diff"] - diff.diff_low, diff.diff_high - diff["diff"]])
    for k in range(len(diff)):
        right.errorbar(diff["diff"].iloc[k], dy[k], xerr=derr[:, k : k + 1], fmt="o", color=colours[k], capsize=4)
    right.axvline(0, color="black", lw=0.8)
    right.set_yticks(y, names)
    right.set_ylim(left.get_ylim())
    right.set_title(f"difference to {names[0]} (red: CI excludes 0)")
    for a in ax[0]:
        a.grid(alpha=0.3)
    return fig


def survival_figure(curves: dict[str, list[np.ndarray]], hours: np.ndarray) -> Figure:
    """Mean share of incidents not yet resolved by hours since occurrence, one line per regime."""
    fig, ax = _figure(7.5, 4.8)
    a = ax[0, 0]
    for k, (name, runs) in enumerate(curves.items()):
        a.plot(hours[1:], np.mean(runs, axis=0)[1:], label=f"{name} ({len(runs)} runs)", color=_COLOURS[k % 8])
    a.set_xscale("log")
    a.set_ylim(0, 1.02)
    a.set_xlabel("hours since occurrence (log scale)")
    a.set_ylabel("share not yet resolved")
    a.set_title("Resolution survival (same incidents under every regime)")
    a.legend()
    a.grid(alpha=0.3)
    return fig


def inclusion_figure(shares: dict[str, dict[str, dict[str, list[float]]]]) -> Figure:
    """Needs met by cohort and by district kind: each regime's mean with its 95% CI."""
    fig, ax = _figure(13, 4.8, ncols=2)
    for a, group in zip(ax[0], ("cohort", "district_kind"), strict=True):
        by_regime = shares[group]
        names = sorted({g for values in by_regime.values() for g in values})
        width = 0.8 / max(len(by_regime), 1)
        for k, (regime, values) in enumerate(by_regime.items()):
            ivs = [mean_interval(values.get(g, [])) for g in names]
            mean = np.array([iv.estimate for iv in ivs])
            err = np.nan_to_num([mean - [iv.low for iv in ivs], [iv.high for iv in ivs] - mean])
            a.bar(np.arange(len(names)) + k * width, mean, width, yerr=err, label=regime, color=_COLOURS[k % 8])
        a.set_xticks(np.arange(len(names)) + width * (len(by_regime) - 1) / 2, names, rotation=20)
        a.set_ylim(0, 1)
        a.set_ylabel("share of needs met")
        a.set_title(f"Needs met by {group.replace('_', ' ')} (95% CI)")
        a.legend(fontsize=8)
    return fig


def compare_figures(table: pd.DataFrame, records: dict[int, dict], plan, folder: Path) -> list[Path]:
    """Write a comparison's figures: ``ci_<metric>.png``, ``survival.png``, ``inclusion.png``."""
    paths = [
        _save(ci_figure(rows), folder / f"ci_{metric}.png") for metric, rows in table.groupby("metric", sort=False)
    ]
    names = [r["name"] for r in plan.regimes]
    curves: dict[str, list[np.ndarray]] = {n: [] for n in names}
    shares: dict[str, dict[str, dict[str, list[float]]]] = {"cohort": {}, "district_kind": {}}
    hours = None
    for index, rec in sorted(records.items()):
        name = names[plan.locate(index)[1]]
        if rec.get("survival"):
            hours = np.asarray(rec["survival"][0])
            curves[name].append(np.asarray(rec["survival"][1]))
        for group, values in (rec.get("inclusion") or {}).items():
            for g, share in values.items():
                if share is not None and math.isfinite(share):
                    shares[group].setdefault(name, {}).setdefault(g, []).append(share)
    if hours is not None:
        paths.append(_save(survival_figure({n: c for n, c in curves.items() if c}, hours), folder / "survival.png"))
    if shares["cohort"]:
        paths.append(_save(inclusion_figure(shares), folder / "inclusion.png"))
    return paths


def waterfall_figure(metric: str, start: float, end: float, parts: pd.DataFrame, labels: tuple[str, str]) -> Figure:
    """From one regime's value to another's, one bar per lever group's Shapley value (with its 95% CI)."""
    fig, ax = _figure(9, 0.9 + 0.45 * (len(parts) + 2))
    a = ax[0, 0]
    level = start
    names = [labels[0], *parts.group, labels[1]]
    a.barh(0, start, color="#7f7f7f")
    for k, row in enumerate(parts.itertuples(), start=1):
        colour = "#e08214" if row.shapley >= 0 else "#2166ac"
        a.barh(k, row.shapley, left=level, color=colour)
        if math.isfinite(row.ci_low):
            a.errorbar(
                level + row.shapley,
                k,
                xerr=[[row.shapley - row.ci_low], [row.ci_high - row.shapley]],
                color="black",
                capsize=3,
                lw=0.8,
            )
        level += row.shapley
    a.barh(len(names) - 1, end, color="#7f7f7f")
    a.set_yticks(range(len(names)), names)
    a.invert_yaxis()
    a.set_title(f"{metric}: {labels[0]} -> {labels[1]}, Shapley value of each lever group (orange: up, blue: down)")
    a.grid(alpha=0.3, axis="x")
    return fig


def bar_figure(table: pd.DataFrame, columns: Sequence[str], errors: Sequence[str | None], title: str) -> Figure:
    """Indices by parameter (grouped bars with error bars), one panel per metric."""
    metrics = list(dict.fromkeys(table.metric))
    fig, ax = _figure(
        5 * min(len(metrics), 3),
        3.6 * math.ceil(len(metrics) / 3),
        ncols=min(len(metrics), 3),
        nrows=math.ceil(len(metrics) / 3),
    )
    flat = ax.ravel()
    for a, metric in zip(flat, metrics, strict=False):
        rows = table[table.metric == metric]
        x = np.arange(len(rows))
        width = 0.8 / len(columns)
        for k, (col, err) in enumerate(zip(columns, errors, strict=True)):
            yerr = None if err is None else np.nan_to_num(rows[err].to_numpy(dtype=float))
            a.bar(x + k * width, rows[col], width, yerr=yerr, label=col, color=_COLOURS[k % 8], capsize=3)
        a.set_xticks(x + width * (len(columns) - 1) / 2, rows.parameter, rotation=30, fontsize=8)
        a.set_title(metric, fontsize=9)
        a.axhline(0, color="black", lw=0.6)
        a.legend(fontsize=7)
    for a in flat[len(metrics) :]:
        a.set_visible(False)
    fig.suptitle(title)
    return fig


def effects_figure(effects: pd.DataFrame) -> Figure:
    """Main effects of a grid: each metric's mean (95% CI) at each level of each parameter."""
    metrics = list(dict.fromkeys(effects.metric))
    params = list(dict.fromkeys(effects.parameter))
    fig, ax = _figure(3.4 * len(params), 2.8 * len(metrics), ncols=len(params), nrows=len(metrics))
    for i, metric in enumerate(metrics):
        for j, param in enumerate(params):
            a = ax[i, j]
            rows = effects[(effects.metric == metric) & (effects.parameter == param)]
            x = np.arange(len(rows))
            err = np.nan_to_num([rows["mean"] - rows.mean_low, rows.mean_high - rows["mean"]])
            a.errorbar(x, rows["mean"], yerr=err, fmt="o-", capsize=3)
            a.set_xticks(x, [str(v) for v in rows.level], fontsize=8)
            if i == len(metrics) - 1:
                a.set_xlabel(param, fontsize=9)
            if j == 0:
                a.set_ylabel(metric, fontsize=8)
            a.grid(alpha=0.3)
    fig.suptitle("Main effects (mean over the other parameters and replications, 95% CI)")
    return fig
