"""Compare the four regime presets on one city: replications, common random numbers, 95% confidence intervals.

    python experiments/compare_presets.py scenarios/chongqing.toml --seeds 5 --out docs/comparison

Seed r gives the same incidents under every preset (common random numbers), so a
difference between presets is the regime's, not the dice's. Each run follows the
measurement contract (the scenario's warm-up, window and follow-up; every incident
of the window counted, open cases censored: see ``citysim/metrics/headline.py``).
Prints, and writes as ``comparison.md`` and ``comparison.csv``: every headline figure
as each preset's mean with a 95% confidence interval (Student t over the seeds), and
the paired difference to the first preset (a t interval over the seeds' differences,
marked * where it excludes zero); the mean stage decomposition per preset (resolved,
dispatched cases); the ledger (staff-hours a day, the same under every preset) and the
units found unstable. Writes ``comparison.png``: the figures with their intervals and
the survival curves.
"""

from __future__ import annotations

import argparse
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from citysim.experiments import RunSpec, run_many
from citysim.metrics.headline import HEADLINE_KINDS
from citysim.metrics.response import COMPONENTS
from citysim.regimes import presets

SHOWN = {
    "resolution_median_h": "resolution time from occurrence, median (h)",
    "resolution_rmean_h": "resolution time from occurrence, mean counting each case at most a week (h)",
    "resolved_within_72h": "resolved within 72 h of occurring",
    "report_resolution_median_h": "resolution time from the report, median (h)",
    "report_resolved_within_24h": "resolved within 24 h of the report",
    "detected_share": "detected within a week",
    "hazards_warned_share": "hazards detected before harm was due",
    "harm_per_day": "hazards turned into harm, per day",
    "needs_met_share": "needs met within a week",
    "needs_met_worst_best_cohort": "needs met, worst / best cohort",
    "needs_met_worst_best_district_kind": "needs met, worst / best district kind",
    "transfers_per_case": "transfers per dispatched case",
    "connection_rate": "phone calls answered (each redial a call)",
    "needs_given_up_share": "needs given up (hung up, did not call again)",
    "open_at_end": "still open at the end of the run (censored)",
}


def markdown(frame: pd.DataFrame) -> str:
    """A frame as a Markdown table (index in the first column)."""
    cols = [str(frame.index.name or ""), *map(str, frame.columns)]
    rows = [[str(i), *map(str, r)] for i, r in zip(frame.index, frame.to_numpy(), strict=True)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def interval(x: np.ndarray) -> tuple[float, float]:
    """Mean and 95% half-width (Student t) of the finite values."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return (float(x.mean()) if len(x) else math.nan), math.nan
    return float(x.mean()), float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))


def fmt(name: str, mean: float, half: float, diff: bool = False) -> str:
    if not math.isfinite(mean):
        return "not estimable"
    share = HEADLINE_KINDS.get(name) == "share"
    scale, unit = (100.0, " pts" if diff else "%") if share else (1.0, "")
    digits = 1 if share or abs(mean) >= 10 else 2
    sign = "+" if diff and mean > 0 else ""
    text = f"{sign}{mean * scale:.{digits}f}{unit}"
    return text + (f" ± {half * scale:.{digits}f}" if math.isfinite(half) else "")


def tables(runs: pd.DataFrame, names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Means with CIs per preset, and paired differences to the first preset."""
    means, diffs = {}, {}
    base = runs[runs.regime == names[0]].set_index("seed")
    for n in names:
        r = runs[runs.regime == n].set_index("seed")
        means[n] = {k: fmt(k, *interval(r[k])) for k in SHOWN}
        if n != names[0]:
            cells = {}
            for k in SHOWN:
                d = (r[k] - base[k]).dropna()
                m, h = interval(d)
                star = " *" if math.isfinite(h) and abs(m) > h else ""
                cells[k] = fmt(k, m, h, diff=True) + star
            diffs[f"{n} − {names[0]}"] = cells
    label = {k: v for k, v in SHOWN.items()}
    return pd.DataFrame(means).rename(index=label), pd.DataFrame(diffs).rename(index=label)


def figure(runs: pd.DataFrame, curves: dict, names: list[str], title: str) -> Figure:
    shown = list(SHOWN)[:-1]
    fig = Figure(figsize=(15, 11), layout="constrained")
    fig.suptitle(title)
    grid = fig.subplots(4, 4)
    colours = dict(zip(names, ["#b2182b", "#2166ac", "#ef8a62", "#67a9cf"], strict=False))
    for a, k in zip(grid.ravel(), shown, strict=False):
        for i, n in enumerate(names):
            m, h = interval(runs.loc[runs.regime == n, k])
            a.errorbar([i], [m], yerr=[[h if math.isfinite(h) else 0]], fmt="o", color=colours[n], capsize=4)
        a.set_xticks(range(len(names)), names, rotation=20, fontsize=7)
        a.set_title(SHOWN[k], fontsize=8)
        a.grid(alpha=0.3)
    a = grid.ravel()[-3]
    for n in names:
        hours, s = curves[n]
        a.plot(hours, s, label=n, color=colours[n])
    a.set_xscale("symlog", linthresh=1)
    a.set_xlabel("hours since occurring")
    a.set_title("Share not yet resolved (Kaplan-Meier, mean over seeds)", fontsize=8)
    a.legend(fontsize=7)
    a.grid(alpha=0.3)
    for a in grid.ravel()[len(shown) :]:
        if not a.lines:
            a.axis("off")
    FigureCanvasAgg(fig)
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--seeds", type=int, default=5, help="replications per preset (seeds 1..N)")
    ap.add_argument("--days", type=int, default=None, help="measurement window [default: the scenario's]")
    ap.add_argument("--workers", type=int, default=None, help="worker processes [default: all CPUs]")
    ap.add_argument("--out", default="out/compare")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(presets())
    specs = [RunSpec(args.scenario, n, seed, args.days) for seed in range(1, args.seeds + 1) for n in names]
    done = run_many(specs, workers=args.workers, progress=lambda k, n: print(f"run {k}/{n}", flush=True))
    rows, curves, decomposition, ledgers, unstable = [], {}, {}, {}, {}
    for spec, m in zip(specs, done, strict=True):
        rows.append({"regime": spec.regime, "seed": spec.seed, **m["headline"]})
        s = m["survival"]
        curves.setdefault(spec.regime, []).append(np.array(s["resolution"], dtype=float))
        curves[spec.regime + ":hours"] = s["hours"]
        decomposition.setdefault(spec.regime, []).append(m["decomposition"]["overall"])
        ledgers[spec.regime] = {k: v["staff_hours_per_day"] for k, v in m["ledger"]["by_function"].items()}
        unstable.setdefault(spec.regime, []).append(m["stability"])
    runs = pd.DataFrame(rows)
    runs.to_csv(out / "runs.csv", index=False)
    means, diffs = tables(runs, names)
    parts = pd.DataFrame({n: pd.DataFrame(decomposition[n])[[*COMPONENTS, "total"]].mean() / 60 for n in names}).round(
        2
    )
    window = done[0]["window"]
    head = (
        f"{Path(args.scenario).stem}: {args.seeds} seeds per preset (common random numbers); warm-up "
        f"{window['warmup_days']} d, window {window['days']} d, follow-up {window['follow_up_days']} d"
    )
    lines = [
        f"# {head}",
        "",
        "Means with 95% confidence intervals over the seeds:",
        "",
        markdown(means),
        "",
        f"Paired differences to {names[0]} (same incidents; * where the interval excludes zero):",
        "",
        markdown(diffs),
        "",
        "Where the time goes (hours, mean per resolved, dispatched case):",
        "",
        markdown(parts),
        "",
        "Staff-hours a day by function (the same under every preset):",
        "",
        markdown(pd.DataFrame(ledgers)),
        "",
        "Unstable units (mean over seeds; grid workers counted apart):",
        "",
        markdown(pd.DataFrame({n: {"units": np.mean([u["count"] for u in unstable[n]])} for n in names})),
    ]
    for n in names:
        worst = unstable[n][0]["units"][:5]
        if worst:
            lines.append(f"- {n} (seed 1): " + ", ".join(f"{u['unit']} (load {u['load']:.2f})" for u in worst))
    text = "\n".join(lines) + "\n"
    (out / "comparison.md").write_text(text, encoding="utf-8")
    pd.concat({"mean": means, "difference": diffs}, axis=1).to_csv(out / "comparison.csv")
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # hours no run followed stay NaN
        mean_curves = {n: (curves[n + ":hours"], np.nanmean(np.stack(curves[n]), axis=0)) for n in names}
    figure(runs, mean_curves, names, head).savefig(out / "comparison.png", dpi=100)
    print(text)
    print(f"wrote {out / 'comparison.md'}, comparison.csv, runs.csv and comparison.png")


if __name__ == "__main__":
    main()
