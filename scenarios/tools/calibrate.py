"""Check a city's hotline volume at the settled state, and the factor that would bring it to the source.

Trust, and with it how often residents report, settles over the first weeks of a run
(the warm-up speeds that up, see ``behaviour.warmup_trust_speedup``). The common file's
incident rates are calibrated on that settled state, not on a cold start: this tool runs a
city under its own regime after its warm-up and prints the simulated items per
resident-year beside the sourced figure, and the factor to apply to every
``rate_per_1000_day`` in ``scenarios/common/china_megacity.toml`` to match it::

    python scenarios/tools/calibrate.py scenarios/chongqing.toml --seeds 2
"""

from __future__ import annotations

import argparse

import numpy as np

import citysim


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()
    sc = citysim.load_scenario(args.scenario)
    rows = []
    for seed in range(1, args.seeds + 1):
        cal = citysim.simulate(sc, seed=seed).metrics["calibration"]
        rows.append({k: cal[k]["simulated"] for k in ("items_per_resident_year", "phone_share", "dispatched_share")})
        print(f"seed {seed}: " + ", ".join(f"{k} {v:.4f}" for k, v in rows[-1].items()))
    items = float(np.mean([r["items_per_resident_year"] for r in rows]))
    sourced = sc.calibration.items_per_resident_year
    print(f"{sc.name} under {sc.regime}, after a {sc.warmup_days}-day warm-up: {items:.4f} items per resident-year")
    for key in ("phone_share", "dispatched_share"):
        simulated, source = float(np.mean([r[key] for r in rows])), getattr(sc.calibration, key, None)
        gap = f" ({simulated / source - 1:+.1%})" if source else ""
        print(f"  {key}: simulated {simulated:.4f}, sourced {source if source is not None else '-'}{gap}")
    if sourced:
        print(f"sourced {sourced:.4f}: multiply every rate_per_1000_day by {sourced / items:.4f}")


if __name__ == "__main__":
    main()
