"""Sensitivity analysis of a finished sweep: which uncertain parameters move which metrics.

By the sweep's design:

* ``sobol``: first- and total-order Sobol indices with 95% bootstrap CIs (SALib);
* ``morris``: Morris mu* (mean absolute elementary effect, per the parameter's whole
  range) with its CI, and sigma (spread: interactions or non-linearity);
* ``grid``: main effects, each metric's mean at each level of each parameter;
* ``lhs``: standardised regression coefficients (with R²) and partial rank correlations.

Each design point's metric is its mean over replications; each regime of the
sweep is analysed on its own. Tables and figures go to ``DIR/analysis/``.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from citysim.errors import CitysimError
from citysim.experiments.design import needs_salib, unit_problem
from citysim.experiments.stats import mean_interval
from citysim.experiments.store import annotate_manifest, load_manifest, read_records
from citysim.rng import Streams

__all__ = ["analyze", "main_effects", "regression_indices"]


def _point_values(records: dict[int, dict], plan: dict[str, Any], metric: str) -> np.ndarray:
    """(regime, point, replication) values of a metric; NaN for failed or missing runs."""
    n_regimes, n_points = len(plan["regimes"]), len(plan["points"])
    reps = 1 + max((i // (n_regimes * n_points) for i in records), default=0)
    out = np.full((n_regimes, n_points, reps), np.nan)
    for index, rec in records.items():
        replication, rest = divmod(index, n_regimes * n_points)
        regime, point = divmod(rest, n_points)
        if rec["status"] == "ok":
            value = (rec.get("headline") or {}).get(metric)
            out[regime, point, replication] = math.nan if value is None else value
    return out


def _numeric(values: list[Any], parameter: dict[str, Any]) -> np.ndarray:
    """A parameter's values as numbers (a choice among labels: the label's position)."""
    levels = parameter.get("values")
    if levels and not all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels):
        return np.array([levels.index(v) for v in values], dtype=float)
    return np.array(values, dtype=float)


def main_effects(values: np.ndarray, points: list[dict], labels: list[str]) -> pd.DataFrame:
    """Mean (95% CI over runs) of a metric at each level of each parameter, other parameters averaged."""
    rows = []
    for label in labels:
        levels = list(dict.fromkeys(p[label] for p in points))
        for level in levels:
            chosen = [k for k, p in enumerate(points) if p[label] == level]
            iv = mean_interval(values[chosen].ravel())
            rows.append(
                {
                    "parameter": label,
                    "level": level,
                    "mean": iv.estimate,
                    "mean_low": iv.low,
                    "mean_high": iv.high,
                    "n": iv.n,
                }
            )
    return pd.DataFrame(rows)


def regression_indices(x: np.ndarray, y: np.ndarray, labels: list[str]) -> pd.DataFrame:
    """Standardised regression coefficients (and R²) and partial rank correlation coefficients (with p-values)."""
    keep = np.isfinite(y)
    x, y = x[keep], y[keep]
    n, k = x.shape
    sd = x.std(axis=0)
    if n <= k + 1 or not y.std() > 0:
        return pd.DataFrame({"parameter": labels, "src": np.nan, "r2": np.nan, "prcc": np.nan, "prcc_p": np.nan})
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    zy = (y - y.mean()) / y.std()
    design = np.column_stack([np.ones(n), z])
    coef, *_ = np.linalg.lstsq(design, zy, rcond=None)
    r2 = 1 - np.sum((zy - design @ coef) ** 2) / np.sum(zy**2)
    rx = np.column_stack([stats.rankdata(c) for c in x.T])
    ry = stats.rankdata(y)
    prcc, pvalue = [], []
    for j in range(k):
        others = np.column_stack([np.ones(n), np.delete(rx, j, axis=1)])
        res_x = rx[:, j] - others @ np.linalg.lstsq(others, rx[:, j], rcond=None)[0]
        res_y = ry - others @ np.linalg.lstsq(others, ry, rcond=None)[0]
        r = float(np.corrcoef(res_x, res_y)[0, 1]) if res_x.std() > 0 and res_y.std() > 0 else math.nan
        dof = n - 2 - (k - 1)
        t = r * math.sqrt(dof / max(1 - r * r, 1e-300)) if math.isfinite(r) and dof > 0 else math.nan
        prcc.append(r)
        pvalue.append(float(2 * stats.t.sf(abs(t), dof)) if math.isfinite(t) else math.nan)
    return pd.DataFrame({"parameter": labels, "src": coef[1:], "r2": r2, "prcc": prcc, "prcc_p": pvalue})


def _salib_seed(plan: dict[str, Any]) -> int:
    return int(Streams(plan["seed"]).seed_sequence("analysis").generate_state(1)[0]) + 1


def _indices(kind: str, plan: dict[str, Any], y: np.ndarray, labels: list[str]) -> pd.DataFrame:
    """Sobol or Morris indices of one metric under one regime."""
    _, sobol_analyze, _, morris_analyze = needs_salib(f"analysing a {kind} design")
    problem = unit_problem(len(labels))
    if kind == "sobol":
        si = sobol_analyze.analyze(
            problem,
            y,
            calc_second_order=plan["design"]["second_order"],
            num_resamples=500,
            conf_level=0.95,
            seed=_salib_seed(plan),
        )
        return pd.DataFrame(
            {
                "parameter": labels,
                "S1": si["S1"],
                "S1_low": si["S1"] - si["S1_conf"],
                "S1_high": si["S1"] + si["S1_conf"],
                "ST": si["ST"],
                "ST_low": si["ST"] - si["ST_conf"],
                "ST_high": si["ST"] + si["ST_conf"],
                "S1_conf": si["S1_conf"],
                "ST_conf": si["ST_conf"],
            }
        )
    x = np.asarray(plan["unit"], dtype=float)
    si = morris_analyze.analyze(
        problem,
        x,
        y,
        conf_level=0.95,
        num_resamples=500,
        num_levels=plan["design"]["levels"],
        seed=np.random.Generator(np.random.PCG64(_salib_seed(plan))),
    )
    return pd.DataFrame(
        {
            "parameter": labels,
            "mu_star": si["mu_star"],
            "mu_star_conf": si["mu_star_conf"],
            "mu": si["mu"],
            "sigma": si["sigma"],
        }
    )


def analyze(out: str | Path, figures: bool = True) -> dict[str, pd.DataFrame]:
    """Analyse a sweep folder; write the tables (CSV) and figures to ``DIR/analysis/``.

    Returns:
        The tables by name (``sobol``, ``morris``, ``main_effects`` or ``regression``).

    Raises:
        CitysimError: not a sweep folder, or a sweep without runs or parameters.
    """
    out = Path(out)
    manifest = load_manifest(out)
    plan = manifest["plan"]
    if manifest["kind"] != "sweep":
        raise CitysimError(f"{out}: a {manifest['kind']} folder, not a sweep's; its tables are already in {out}/")
    labels = [p.get("name") or p.get("lever") or _first(p["field"]) for p in plan["parameters"]]
    if not labels:
        raise CitysimError(f"{out}: the sweep has no [[parameters]]: nothing to analyse")
    records = read_records(out)
    if not records:
        raise CitysimError(f"{out}: no finished runs yet; run citysim sweep first")
    kind = plan["design"]["kind"]
    tables: list[pd.DataFrame] = []
    notes: list[str] = []
    for metric in plan["metrics"]:
        values = _point_values(records, plan, metric)
        for r, regime in enumerate(plan["regimes"]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a point whose every run failed: NaN
                y = np.nanmean(values[r], axis=1)
            if kind == "grid":
                table = main_effects(values[r], plan["points"], labels)
            elif kind == "lhs":
                x = np.column_stack(
                    [
                        _numeric([p[lab] for p in plan["points"]], par)
                        for lab, par in zip(labels, plan["parameters"], strict=True)
                    ]
                )
                table = regression_indices(x, y, labels)
            elif not np.isfinite(y).all():
                notes.append(f"{metric} under {regime['name']}: {int((~np.isfinite(y)).sum())} points without a value")
                continue
            else:
                table = _indices(kind, plan, y, labels)
            table.insert(0, "regime", regime["name"])
            table.insert(0, "metric", metric)
            tables.append(table)
    name = {"grid": "main_effects", "lhs": "regression", "sobol": "sobol", "morris": "morris"}[kind]
    result = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    folder = out / "analysis"
    folder.mkdir(exist_ok=True)
    result.to_csv(folder / f"{name}.csv", index=False)
    annotate_manifest(out, "analysis", {"table": f"analysis/{name}.csv", "skipped": notes})
    if figures and len(result):
        _figures(kind, result, folder)
    return {name: result}


def _first(field: str | list[str]) -> str:
    return field if isinstance(field, str) else field[0]


def _figures(kind: str, table: pd.DataFrame, folder: Path) -> None:
    from citysim.experiments.figures import bar_figure, effects_figure

    for regime, rows in table.groupby("regime", sort=False):
        if kind == "grid":
            fig = effects_figure(rows)
        elif kind == "sobol":
            fig = bar_figure(rows, ["S1", "ST"], ["S1_conf", "ST_conf"], f"Sobol indices under {regime} (95% CI)")
        elif kind == "morris":
            fig = bar_figure(rows, ["mu_star", "sigma"], ["mu_star_conf", None], f"Morris under {regime}")
        else:
            fig = bar_figure(rows, ["src", "prcc"], [None, None], f"SRC and PRCC under {regime}")
        fig.savefig(folder / f"{kind}_{regime}.png", dpi=100)
