"""Benchmark: what a sweep costs beyond its runs, on 1 and 2 local workers.

    python benchmarks/sweep.py            # 8 runs of a week of Chengdu (about 2 minutes)
    python benchmarks/sweep.py --quick    # 16 runs of a week of the small town (seconds)

Prints runs per minute on 1 and 2 workers, the parallel efficiency (speed-up
over 2), and the sweep's overhead: the share of the workers' wall time not
spent inside runs (starting workers, handing out tasks, writing each run's
file, the combined table, idle workers in the last round). Target: under 5%
with 2 workers. Also prints the parent's peak memory: it keeps only each
run's headline metrics, never its tables.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from citysim.experiments.plan import plan_for_regimes  # noqa: E402
from citysim.experiments.store import read_records  # noqa: E402
from citysim.experiments.sweep import run_sweep  # noqa: E402


def sweep_once(plan, workers: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        run_sweep(plan, folder, workers=workers, progress=False)
        wall = time.perf_counter() - started
        records = read_records(folder)
    failed = {i: r["error"] for i, r in records.items() if r["status"] != "ok"}
    assert not failed, f"failed runs: {failed}"
    busy = sum(r["wall_s"] for r in records.values())
    return {
        "workers": workers,
        "wall_s": wall,
        "runs_per_min": len(records) * 60 / wall,
        "overhead": 1 - busy / (workers * wall),
        "table": {i: r["headline"] for i, r in records.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="the small town instead of Chengdu")
    args = ap.parse_args()
    scenario, runs, days = ("small", 16, 7) if args.quick else ("chengdu", 8, 7)
    plan = plan_for_regimes(str(ROOT / "scenarios" / f"{scenario}.toml"), ["fragmented", "integrated"], runs // 2, days)
    plan.keep_curves = False
    print(f"{plan.n_runs} runs of {days:g} days of {scenario} (fragmented and integrated, common random numbers)")
    one, two = sweep_once(plan, 1), sweep_once(plan, 2)
    assert one["table"] == two["table"], "1 and 2 workers must give identical results"
    for r in (one, two):
        print(
            f"  {r['workers']} worker{'s' if r['workers'] > 1 else ' '}: {r['wall_s']:6.1f} s, "
            f"{r['runs_per_min']:6.1f} runs per minute, overhead beyond the runs {r['overhead']:.1%}"
        )
    speedup = one["wall_s"] / two["wall_s"]
    verdict = "met" if two["overhead"] < 0.05 else "NOT MET"
    print(f"  speed-up {speedup:.2f}x, parallel efficiency {speedup / 2:.0%}")
    print(f"  overhead with 2 workers {two['overhead']:.1%} (target < 5%: {verdict})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  parent's peak memory {peak:,.0f} MiB (headline metrics only; tables stay in the workers)")


if __name__ == "__main__":
    main()
