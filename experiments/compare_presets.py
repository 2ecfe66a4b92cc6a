"""Compare the four regime presets on one city, on common random numbers.

    python experiments/compare_presets.py scenarios/chongqing.toml --days 7 --out out/compare

Every preset sees the same incidents (same seed): differences are the
regime's, not the dice's. Prints one table of headline metrics per preset and
writes ``comparison.csv`` and ``comparison.png`` (resolution time, where the
time goes, needs met by district kind, hazards turned to harm).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import citysim
from citysim.metrics.response import COMPONENTS
from citysim.regimes import presets

KINDS = ["core", "urban", "suburban", "rural", "mountain"]


def headline(result: citysim.Result) -> dict:
    """The figures a planner compares first."""
    m = result.metrics
    i = result.incidents
    res = m["response"]["overall"]["resolution"]
    haz = m["coverage"]["hazards"]["overall"]
    inc = m["inclusion"]["ratio"]
    return {
        "resolution_mean_h": res["mean"] / 60,
        "resolution_median_h": res["median"] / 60,
        "resolution_p90_h": res["p90"] / 60,
        "detected_share": m["coverage"]["detected"]["overall"],
        "hazard_early_warning": haz.get("early_warning"),
        "hazards_harmed": int(i.harmed_at.notna().sum()),
        "transfers_per_case": m["cost"]["transfers_per_case"]["dispatched"],
        "needs_met_worst_best_cohort": inc["cohort"]["ratio"],
        "needs_met_worst_best_district_kind": inc["district_kind"]["ratio"],
        "unmet_need_gini": m["inclusion"]["gini_unmet_need"],
    }


def figure(results: dict[str, citysim.Result]) -> Figure:
    fig = Figure(figsize=(13, 8.5), layout="constrained")
    ax = fig.subplots(2, 2)
    colours = dict(zip(results, ["#b2182b", "#2166ac", "#ef8a62", "#67a9cf"], strict=False))
    # resolution time ECDF
    a = ax[0, 0]
    for name, r in results.items():
        i = r.incidents
        t = np.sort(((i.resolved_at - i.occurred_at) / 60).dropna().to_numpy())
        a.plot(t, np.arange(1, len(t) + 1) / len(i), label=name, color=colours[name])
    a.set_xscale("log")
    a.set_xlabel("hours from occurrence to resolution (log scale)")
    a.set_ylabel("share of all incidents resolved")
    a.set_title("Resolution time (same incidents under every regime)")
    a.legend()
    a.grid(alpha=0.3)
    # decomposition
    a = ax[0, 1]
    names = list(results)
    left = np.zeros(len(names))
    for comp in COMPONENTS:
        vals = np.array([(results[n].metrics["decomposition"]["overall"].get(comp) or 0) / 60 for n in names])
        a.barh(names, vals, left=left, label=comp.replace("_", " "))
        left += vals
    a.invert_yaxis()
    a.set_xlabel("mean hours per resolved, dispatched incident")
    a.set_title("Where the time goes")
    a.legend(fontsize=8, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.13))
    # needs met by district kind
    a = ax[1, 0]
    width = 0.8 / len(names)
    for k, n in enumerate(names):
        met = results[n].metrics["inclusion"]["by_district_kind"]
        vals = [(met.get(kind) or {}).get("share_met") or np.nan for kind in KINDS]
        a.bar(np.arange(len(KINDS)) + k * width, vals, width, label=n, color=colours[n])
    a.set_xticks(np.arange(len(KINDS)) + width * (len(names) - 1) / 2, KINDS)
    a.set_ylabel("share of needs met")
    a.set_ylim(0, 1)
    a.set_title("Inclusion: needs met by district kind")
    a.legend(fontsize=8)
    # harm
    a = ax[1, 1]
    harmed = [int(results[n].incidents.harmed_at.notna().sum()) for n in names]
    a.bar(names, harmed, color=[colours[n] for n in names])
    a.set_ylabel("hazards that turned into harm")
    a.set_title("Harm: gas leaks, fires, floods, landslides not handled in time")
    FigureCanvasAgg(fig)
    return fig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="out/compare")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scenario = citysim.load_scenario(args.scenario)
    results = {}
    for name in presets():
        print(f"simulating {name} ...", flush=True)
        results[name] = citysim.simulate(scenario, regime=name, seed=args.seed, days=args.days)
    table = pd.DataFrame({n: headline(r) for n, r in results.items()})
    pd.set_option("display.width", 160)
    print(table.round(3).to_string())
    table.to_csv(out / "comparison.csv")
    figure(results).savefig(out / "comparison.png", dpi=110)
    print(f"wrote {out / 'comparison.csv'} and {out / 'comparison.png'}")


if __name__ == "__main__":
    main()
