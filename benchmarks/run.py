"""citysim's speed and memory, each figure printed beside its target.

    python benchmarks/run.py            # everything: three simulated years of Chongqing, about 30 minutes
    python benchmarks/run.py --quick    # four weeks instead of a year, shorter comparisons

Machines here are shared and noisy: targets are ratios measured side by side
in one run, or rates measured on long runs; there are no timed tests. Each
run that measures memory runs in a fresh interpreter.

1. Throughput: a year of ``scenarios/chongqing.toml`` (32 million residents,
   calibrated volume, every mechanism on), tables streamed to Parquet:
   incidents per second (setup excluded), events per incident, peak memory.
2. Scaling: seconds per incident for 1, 4 and 52 weeks, each timed after the
   scenario's own warm-up (21 days: the steady state, see benchmarks/README.md).
3. Against a plain SimPy model (``baseline_simpy.py``: one process per
   incident, ``simpy.Resource`` per unit) executing the very plans citysim
   compiled, after checking both start every step at the same minute.
4. Against Ciw (``baseline_ciw.py``) on the open Jackson network of
   ``scenarios/validation/jackson.toml``: speed per customer, and each
   department's mean time per visit with confidence intervals.
5. Memory flat in population: ten times the residents, same incidents and cells.
6. A sweep of runs on 2 worker processes against 1.
0. What a user meets (first): ``citysim run`` of Chongqing as a whole process, for a week, 4 and 13
   weeks and a year (integrated, every mechanism on, outputs and metrics included): wall time, CPU
   time, peak memory (RSS) of the process and its children, incidents per second end to end.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

CHONGQING = ROOT / "scenarios" / "chongqing.toml"
# The scaling is timed after the scenario's own warm-up (``warmup_days``: until trust and queues settle),
# so that every window it compares is the steady state (benchmarks/README.md, "Why the first week is cheaper").
WARMUP = int(re.search(r"^warmup_days\s*=\s*(\d+)", CHONGQING.read_text(), re.M).group(1))

RUN = """
import json, resource, time, sys, tempfile
sys.path.insert(0, {root!r})
from citysim.model import CityModel
from citysim.events import ParquetSink
from citysim.scenario import read_toml, scenario_from_dict
data = read_toml({path!r})
{modify}
sc = scenario_from_dict(data)
with tempfile.TemporaryDirectory() as tmp:
    t0 = time.perf_counter()
    m = CityModel(sc, sc.regime_named({regime!r}), seed=1, horizon_days={days}, sink=ParquetSink(tmp))
    t1 = time.perf_counter()
    marks = []  # after each simulated day: wall time, incidents, engine events
    while m.day < m.horizon / 1440:
        m.run(days=1)
        marks.append((time.perf_counter() - t1, m.counts["incidents"], m.network.events))
    t2 = time.perf_counter()
print(json.dumps(dict(setup=t1 - t0, run=t2 - t1, incidents=m.counts["incidents"], events=m.network.events,
                      engine=type(m.network).__name__, marks=marks,
                      peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""

TENFOLD = """
for d in data["city"]["districts"]:
    d["population"] *= 10
data["city"]["households_per_cell"] *= 10
data["city"]["rate_scale"] /= 10
data["city"]["staffing_scale"] /= 10
"""


def fresh_run(days: float, regime: str = "integrated", modify: str = "") -> dict:
    """A run of Chongqing in a new interpreter (its own peak memory); tables streamed to Parquet."""
    code = RUN.format(root=str(ROOT), path=str(CHONGQING), modify=modify, regime=regime, days=days)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r["per_s"] = r["incidents"] / r["run"]
    r["us_per_incident"] = r["run"] / r["incidents"] * 1e6
    return r


def line(label: str, measured: str, target: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("  met" if ok else "  NOT MET")
    print(f"{label:<62}{measured:>18}{target:>14}{verdict}")


def end_to_end(days: int, figures: bool = False) -> dict:
    """``citysim run scenarios/chongqing.toml --days DAYS`` as a user runs it, in its own process.

    Its peak memory, CPU and wall time come from the kernel's accounting of that process
    (``os.wait4``: the process and the children it waited for); the incidents simulated are
    read from its last line.
    """
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "citysim", "run", str(CHONGQING), "--days", str(days), "--quiet", "--out", tmp]
        t = time.perf_counter()
        proc = subprocess.Popen([*cmd, *([] if figures else ["--no-figures"])], cwd=ROOT, stdout=subprocess.PIPE)
        out = proc.stdout.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
    if status != 0:
        raise RuntimeError(f"citysim run --days {days} failed (status {status})")
    n = int(re.search(r"^([\d,]+) incidents in", out, re.M).group(1).replace(",", ""))
    return {
        "days": days,
        "incidents": n,
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
        "per_s": n / wall,
    }


def bench_end_to_end(quick: bool) -> dict:
    """Section 0: the command as a whole, at several lengths; peak memory must not grow with the length."""
    print("\n0. What a user meets: `citysim run scenarios/chongqing.toml --days N --quiet --no-figures`, whole process")
    print("   (integrated, 21-day warm-up and 7-day follow-up, every mechanism on, Parquet tables and metrics.json)")
    end_to_end(1)  # untimed: numba's cache filled (a first run after a change compiles the engine, ~10 s)
    runs = {}
    for weeks in (1, 4) if quick else (1, 4, 13, 52):
        r = end_to_end(7 * weeks)
        runs[weeks] = r
        line(
            f"  {weeks:>2} week{'s' if weeks > 1 else ' '}: wall / CPU / peak RSS",
            f"{r['wall_s']:.0f} s / {r['cpu_s']:.0f} s / {r['peak_mib']:,.0f} MiB",
        )
        line(f"  {weeks:>2} weeks: incidents simulated, per second end to end", f"{r['incidents']:,} {r['per_s']:,.0f}")
    last = runs[max(runs)]
    if not quick:
        line("  a year: wall time", f"{last['wall_s']:.0f} s", "< 120 s", last["wall_s"] < 120)
        fast = last["per_s"] >= 250_000
        line("  a year: incidents per second end to end", f"{last['per_s']:,.0f}", ">= 250,000", fast)
    line("  longest run: peak RSS", f"{last['peak_mib']:,.0f} MiB", "< 2048 MiB", last["peak_mib"] < 2048)
    flat = last["peak_mib"] / runs[4]["peak_mib"]
    line(f"  peak RSS, {max(runs)} weeks over 4 weeks", f"{flat:.2f}x", "< 1.15x", flat < 1.15)
    return runs


# ------------------------------------------------------------------ baselines


def compiled_days(days: int):
    """Chongqing's first days compiled to plans (as the model would), and the units' day staffing."""
    import citysim
    from citysim.model import CityModel

    sc = citysim.load_scenario(CHONGQING)
    model = CityModel(sc, sc.regime_named("integrated"), seed=1, horizon_days=days)
    t = time.perf_counter()
    batches = []
    n = 0
    for day in range(days):
        inc = model.sampler.sample(day, model.next_id)
        model.next_id += len(inc)
        n += len(inc)
        cycle, pro = model._patrol_cycles()
        det = model.detector.detect(inc, model.trust, cycle, pro)
        batches.append(model.compiler.compile(inc, det, model.trust).plan.batch)
    compile_s = time.perf_counter() - t
    servers = np.maximum(model.units.servers_by_hour.max(axis=1), 1)
    return batches, servers, n, compile_s


def copy_batches(batches):
    from citysim.engine import Batch

    return [
        Batch(
            first=b.first_np,
            release=b.release_np,
            unit=b.unit_np,
            dur=b.dur_np,
            nxt=b.nxt_np,
            align=b.align_np,
            group=b.group_np,
            width=b.width_np,
        )
        for b in batches
    ]


def bench_simpy(days: int, repeats: int) -> dict:
    import simpy
    from baseline_simpy import check_same_waits, run_simpy

    from citysim.network import make_network

    batches, servers, n, compile_s = compiled_days(days)
    until = days * 1440.0
    out = {"incidents": n, "compile_s": compile_s}
    for engine in ("numba", "python"):
        best, started = math.inf, None
        for _ in range(repeats):
            bs = copy_batches(batches)
            env = simpy.Environment()
            try:
                net = make_network(env, servers, engine)
            except ImportError:
                break
            t = time.perf_counter()
            for b in bs:
                net.add(b)
            net.run(until)
            best = min(best, time.perf_counter() - t)
            started = [np.array(b.times()[1]) for b in bs]
        out[engine] = best
        out[f"{engine}_started"] = started
    times = []
    for _ in range(max(1, repeats - 1)):
        t = time.perf_counter()
        sp_started = run_simpy(copy_batches(batches), list(servers), until)
        times.append(time.perf_counter() - t)
    out["simpy"] = min(times)
    out["same"] = max(
        check_same_waits(out[f"{e}_started"], sp_started) for e in ("numba", "python") if out.get(f"{e}_started")
    )
    return out


def bench_ciw(days: float, reps: int) -> dict:
    from baseline_ciw import JACKSON, jackson_spec, run_ciw

    from citysim.model import CityModel
    from citysim.scenario import load_scenario
    from citysim.validate import ValidationSink, theory_of

    sc = load_scenario(JACKSON)
    nodes = theory_of(sc)["nodes"]
    units = [n.unit for n in nodes]
    warm = 60.0
    cs_w, cs_time, cs_n = [], 0.0, 0
    for r in range(reps):
        sink = ValidationSink(units, {}, warm, days * 1440, days * 1440 - 30)
        m = CityModel(sc, sc.regime_named(sc.regime), seed=500 + r, horizon_days=days, sink=sink)
        t = time.perf_counter()
        m.run()
        cs_time += time.perf_counter() - t
        cs_n += m.counts["incidents"]
        res = sink.results()
        cs_w.append([res[u]["w"] for u in units])
    spec = jackson_spec()
    ciw_w, ciw_time, ciw_n = [], 0.0, 0
    for r in range(reps):
        res = run_ciw(spec, days * 1440, warm, seed=500 + r)
        ciw_time += res["wall_s"]
        ciw_n += res["customers"]
        ciw_w.append(res["w"])
    cs_w, ciw_w = np.array(cs_w), np.array(ciw_w)
    agree = []
    for k in range(len(units)):
        a, b = cs_w[:, k], ciw_w[:, k]
        p = stats.ttest_ind(a, b, equal_var=False).pvalue  # Welch: do the two simulators' means differ?
        agree.append((units[k], a.mean(), b.mean(), nodes[k].theory["w"], p))
    return {"citysim_per_s": cs_n / cs_time, "ciw_per_s": ciw_n / ciw_time, "agree": agree}


SWEEP = """
import json, sys, time
sys.path.insert(0, {root!r})
from citysim.experiments import RunSpec, run_many
specs = [RunSpec({path!r}, "integrated", seed, {days}) for seed in range({runs})]
times, results = {{1: [], 2: []}}, {{}}
for _ in range({rounds}):
    for workers in (1, 2):
        t = time.perf_counter()
        results[workers] = run_many(specs, workers=workers)
        times[workers].append(time.perf_counter() - t)
same = json.dumps(results[1], sort_keys=True, default=str) == json.dumps(results[2], sort_keys=True, default=str)
print(json.dumps(dict(one_s=min(times[1]), two_s=min(times[2]), same=same)))
"""


def bench_sweep(runs: int, days: float, rounds: int) -> dict:
    """The sweep on 1 and 2 workers, alternately, ``rounds`` times each; the best time of each (as timeit).

    It runs in a fresh interpreter, as a user's sweep script would: workers forked from this
    benchmark's own process, after the baselines above, would start with its large heap.
    """
    path = str(ROOT / "scenarios" / "chengdu.toml")
    code = SWEEP.format(root=str(ROOT), path=path, days=days, runs=runs, rounds=rounds)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description="citysim benchmarks")
    ap.add_argument("--quick", action="store_true", help="four weeks instead of a year; shorter comparisons")
    ap.add_argument("--end-to-end", action="store_true", help="only section 0 (the command as a whole)")
    args = ap.parse_args()
    quick = args.quick
    long_days = 28 if quick else 364
    print(f"citysim benchmarks ({'quick' if quick else 'full'}); python {sys.version.split()[0]}")
    print(f"{'figure':<62}{'measured':>18}{'target':>14}")
    bench_end_to_end(quick)
    if args.end_to_end:
        return

    print(f"\n1. Throughput: {long_days} days of Chongqing (32M residents), tables streamed to Parquet")
    runs = {}
    for regime, target in (("integrated", 75_000), ("fragmented", 50_000)):
        r = fresh_run(long_days, regime)
        runs[regime] = r
        line(f"  {regime}: incidents", f"{r['incidents']:,}")
        line(
            f"  {regime}: wall time (setup {r['setup']:.1f} s excluded)",
            f"{r['run']:.0f} s",
            "< 240 s" if regime == "integrated" and not quick else "",
            r["run"] < 240 if regime == "integrated" and not quick else None,
        )
        line(
            f"  {regime}: incidents per second ({r['engine']})",
            f"{r['per_s']:,.0f}",
            f">= {target:,}",
            r["per_s"] >= target,
        )
        line(f"  {regime}: events per incident", f"{r['events'] / r['incidents']:.2f}")
        line(f"  {regime}: peak memory", f"{r['peak_mib']:,.0f} MiB", "< 3072 MiB", r["peak_mib"] < 3072)

    print("\n2. Scaling: time per incident against simulated length (integrated, setup excluded)")
    print(f"   each run timed from the end of a {WARMUP}-day warm-up to the end of its last full day")
    per = {}
    # a week's figure varies by several percent from run to run (days differ: a carry merged and written):
    # the shortest length is timed in three runs, summed, so that it rests on about as many days as the next
    for weeks in (1, 2, 3) if quick else (1, 4, 52):
        days = 7 * weeks
        t = i = e = 0.0
        repeats = 3 if weeks == 1 else 1
        for _ in range(repeats):
            r = fresh_run(WARMUP + days + 1)  # a day after the window: the final flush of the log is not in it
            (t0, i0, e0), (t1, i1, e1) = r["marks"][WARMUP - 1], r["marks"][WARMUP + days - 1]
            t, i, e = t + t1 - t0, i + i1 - i0, e + e1 - e0
        per[weeks] = t / i * 1e6
        runs_note = f" ({repeats} runs)" if repeats > 1 else ""
        line(
            f"  {weeks} week{'s' if weeks > 1 else ''}{runs_note}: per incident / per event / events per inc.",
            f"{per[weeks]:.2f} / {t / e * 1e6:.2f} us / {e / i:.2f}",
        )
    spread = max(per.values()) / min(per.values()) - 1
    line("  largest difference, per incident", f"{spread:.0%}", "< 15%", spread < 0.15)
    print(
        "  (timed from a run's start, a week has 3.3 events per incident against 4.6 later: an incident's later\n"
        "   steps, such as re-reports two days on, fall after a short run's horizon; the warm-up's incidents\n"
        "   bring their later steps into the window as the window's last incidents take theirs out of it)"
    )

    print("\n3. Against a plain SimPy model (one process per incident), the same compiled plans")
    days = 1 if quick else 2
    s = bench_simpy(days, 1 if quick else 3)
    line(f"  incidents ({days} days of Chongqing)", f"{s['incidents']:,}")
    line("  same start minute for every step (max difference)", f"{s['same']:.2g}", "0", s["same"] < 1e-9)
    line("  plain SimPy: incidents per second", f"{s['incidents'] / s['simpy']:,.0f}")
    for engine in ("numba", "python"):
        if engine in s and s[engine] < math.inf:
            line(f"  citysim engine ({engine}): incidents per second", f"{s['incidents'] / s[engine]:,.0f}")
    whole = fresh_run(days)
    full = whole["per_s"]
    line(f"  citysim, whole model on the same {days} days (sampling, plans, engine, output)", f"{full:,.0f}")
    ratio = full / (s["incidents"] / s["simpy"])
    line("  whole model vs plain SimPy on ready-made plans", f"{ratio:.1f}x", ">= 4x", ratio >= 4)

    print("\n4. Against Ciw on the Jackson network of scenarios/validation/jackson.toml")
    c = bench_ciw(1 if quick else 3, 3 if quick else 5)
    line("  Ciw: customers per second", f"{c['ciw_per_s']:,.0f}")
    line("  citysim: customers per second", f"{c['citysim_per_s']:,.0f}")
    ratio = c["citysim_per_s"] / c["ciw_per_s"]
    line("  citysim vs Ciw", f"{ratio:.1f}x", ">= 3x", ratio >= 3)
    alpha = 0.01 / len(c["agree"])
    for unit, a, b, theory, p in c["agree"]:
        line(
            f"  {unit} mean time per visit: citysim / Ciw / theory",
            f"{a:.4f}/{b:.4f}/{theory:.4f}",
            f"p={p:.2f}",
            p > alpha,
        )

    print("\n5. Memory flat in population (same incidents and cells, ten times the residents)")
    days = 2 if quick else 7
    base, ten = fresh_run(days), fresh_run(days, modify=TENFOLD)
    line("  peak memory, full population", f"{base['peak_mib']:,.0f} MiB")
    line("  peak memory, 10x residents", f"{ten['peak_mib']:,.0f} MiB")
    line("  ratio", f"{ten['peak_mib'] / base['peak_mib']:.2f}x", "< 1.2x", ten["peak_mib"] / base["peak_mib"] < 1.2)
    line("  incidents (full / 10x residents)", f"{base['incidents']:,} / {ten['incidents']:,}")

    print("\n6. A sweep on 2 worker processes against 1 (runs of a week of Chengdu; best of alternate rounds)")
    sw = bench_sweep(4 if quick else 8, 3 if quick else 7, 2 if quick else 3)
    line("  1 worker", f"{sw['one_s']:.1f} s")
    line("  2 workers", f"{sw['two_s']:.1f} s")
    line("  throughput ratio", f"{sw['one_s'] / sw['two_s']:.2f}x", ">= 1.8x", sw["one_s"] / sw["two_s"] >= 1.8)
    line("  same results whatever the workers", str(sw["same"]), "True", sw["same"])


if __name__ == "__main__":
    main()
