"""citysim's speed and memory, each figure printed beside its target.

    python benchmarks/run.py            # everything (a few minutes)
    python benchmarks/run.py --quick    # shorter runs, same figures

Figures (machines here are shared and noisy: targets are ratios measured side
by side in one run, or medians of 3 runs):

1. A week of ``scenarios/chongqing.toml`` at full population under
   ``integrated``: wall time (target < 60 s on one core), incidents per second,
   events per incident.
2. The same compiled plans executed by citysim's engine and by a plain SimPy
   model with one process per incident (``baseline_simpy.py``), after checking
   both give every step the same start time: the speed ratio.
3. Peak memory at full population and at ten times the residents with the
   same incidents and cells (target: under 1.2x).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

CHONGQING = ROOT / "scenarios" / "chongqing.toml"


def _child(code: str) -> dict:
    """Run code in a fresh interpreter (own peak memory); it prints one JSON line."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


WEEK = """
import json, resource, time, sys
sys.path.insert(0, {root!r})
from citysim.model import CityModel
from citysim.events import ParquetSink
from citysim.scenario import read_toml, scenario_from_dict
import tempfile
data = read_toml({path!r})
{modify}
sc = scenario_from_dict(data)
with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    m = CityModel(sc, sc.regime_named({regime!r}), seed=1, horizon_days={days}, sink=ParquetSink(tmp))
    t1 = time.perf_counter()
    m.run()
    t2 = time.perf_counter()
print(json.dumps(dict(setup=t1 - t0, run=t2 - t1, incidents=m.counts["incidents"], events=m.network.events,
                      peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""

TENFOLD = """
for d in data["city"]["districts"]:
    d["population"] *= 10
data["city"]["households_per_cell"] *= 10
data["city"]["rate_scale"] /= 10
data["city"]["staffing_scale"] /= 10
"""


def bench_week(days: float, repeats: int) -> dict:
    runs = [
        _child(WEEK.format(root=str(ROOT), path=str(CHONGQING), modify="", regime="integrated", days=days))
        for _ in range(repeats)
    ]
    total = [r["setup"] + r["run"] for r in runs]
    med = statistics.median(total)
    r0 = runs[0]
    return {
        "wall_s": med,
        "incidents": r0["incidents"],
        "per_s": r0["incidents"] / med,
        "events_per_incident": r0["events"] / r0["incidents"],
        "peak_mib": max(r["peak_mib"] for r in runs),
    }


def bench_memory(days: float) -> tuple[dict, dict]:
    base = _child(WEEK.format(root=str(ROOT), path=str(CHONGQING), modify="", regime="integrated", days=days))
    ten = _child(WEEK.format(root=str(ROOT), path=str(CHONGQING), modify=TENFOLD, regime="integrated", days=days))
    return base, ten


def bench_engines(days: int, repeats: int) -> dict:
    """citysim's engine vs one SimPy process per incident, on the same compiled plans."""
    import simpy
    from baseline_simpy import check_same_waits, run_simpy

    import citysim
    from citysim.engine import Network
    from citysim.model import CityModel

    sc = citysim.load_scenario(CHONGQING)
    model = CityModel(sc, sc.regime_named("integrated"), seed=1, horizon_days=days)
    batches = []
    for day in range(days):
        inc = model.sampler.sample(day, model.next_id)
        model.next_id += len(inc)
        cycle, pro = model._patrol_cycles()
        det = model.detector.detect(inc, model.trust, cycle, pro)
        batches.append(model.compiler.compile(inc, det, model.trust).plan.batch)
    servers = [int(s) for s in model.units.day_servers]
    servers = [max(s, 1) for s in servers]
    until = days * 1440.0
    n = sum(int(np.isfinite(b.release_np).sum()) for b in batches)

    def fresh():
        from citysim.engine import Batch

        out = []
        for b in batches:
            nb = Batch(
                first=b.first_np,
                release=b.release_np,
                unit=b.unit_np,
                dur=b.dur_np,
                nxt=np.frombuffer(b.nxt, dtype=np.int64),
                align=np.frombuffer(b.align, dtype=np.float64),
                group=np.frombuffer(b.group, dtype=np.int64),
                width=np.frombuffer(b.width, dtype=np.int64),
            )
            out.append(nb)
        return out

    t_cs, t_sp = [], []
    cs_started = sp_started = None
    for _ in range(repeats):
        bs = fresh()
        env = simpy.Environment()
        net = Network(env, servers)
        t = time.perf_counter()
        for b in bs:
            net.add(b)
        net.run(until)
        t_cs.append(time.perf_counter() - t)
        cs_started = [np.array(b.times()[1]) for b in bs]
        t = time.perf_counter()
        sp_started = run_simpy(fresh(), servers, until)
        t_sp.append(time.perf_counter() - t)
    diff = check_same_waits(cs_started, sp_started)
    return {
        "jobs": n,
        "citysim_s": statistics.median(t_cs),
        "simpy_s": statistics.median(t_sp),
        "max_start_diff_min": diff,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="citysim benchmarks")
    ap.add_argument("--quick", action="store_true", help="shorter runs (2 days, 1 repeat)")
    args = ap.parse_args()
    days = 2 if args.quick else 7
    repeats = 1 if args.quick else 3

    print(f"citysim benchmarks ({'quick' if args.quick else 'full'}); python {sys.version.split()[0]}")
    print(f"{'figure':<58}{'measured':>16}{'target':>16}")

    week = bench_week(days, repeats)
    scale = 7 / days
    print(
        f"{f'{days:g} days of Chongqing (32M residents), integrated, wall':<58}{week['wall_s']:>14.1f} s"
        f"{'< ' + format(60 / scale, '.0f') + ' s':>16}"
    )
    print(f"{'  incidents simulated':<58}{week['incidents']:>16,}{'':>16}")
    print(f"{'  incidents per second (setup, run, output)':<58}{week['per_s']:>16,.0f}{'':>16}")
    print(f"{'  engine events per incident':<58}{week['events_per_incident']:>16.2f}{'':>16}")
    print(f"{'  peak memory':<58}{week['peak_mib']:>12,.0f} MiB{'':>16}")

    eng = bench_engines(1 if args.quick else 2, repeats)
    ratio = eng["simpy_s"] / eng["citysim_s"]
    print(f"{'engine vs plain SimPy (process per incident), same plans':<58}{'':>16}{'':>16}")
    print(f"{'  jobs':<58}{eng['jobs']:>16,}")
    print(f"{'  same start time for every step (max difference, min)':<58}{eng['max_start_diff_min']:>16.2g}{'0':>16}")
    print(f"{'  citysim engine, jobs per second':<58}{eng['jobs'] / eng['citysim_s']:>16,.0f}")
    print(f"{'  plain SimPy, jobs per second':<58}{eng['jobs'] / eng['simpy_s']:>16,.0f}")
    print(f"{'  speed-up (median of ' + str(repeats) + ')':<58}{ratio:>15.1f}x{'> 1x':>16}")

    base, ten = bench_memory(days)
    mem_ratio = ten["peak_mib"] / base["peak_mib"]
    print(f"{'peak memory, full population':<58}{base['peak_mib']:>12,.0f} MiB")
    print(f"{'peak memory, 10x residents, same incidents and cells':<58}{ten['peak_mib']:>12,.0f} MiB")
    print(f"{'  ratio':<58}{mem_ratio:>15.2f}x{'< 1.2x':>16}")
    print(f"{'  incidents (full / 10x residents)':<58}{base['incidents']:>8,} / {ten['incidents']:,}")


if __name__ == "__main__":
    main()
