"""``citysim validate``: the simulator against queueing theory.

Each case is an ordinary scenario file in ``scenarios/validation/`` in which
every mechanism but queueing is switched off with scenario options (see
``scenarios/validation/common.toml``). The theory is computed from the file
itself: each department's teams are a node with ``c`` servers (its staff) and
the department's service distribution, fed by Poisson arrivals (the incident
types' rates) and Markov hand-offs (``handoff_to``); a type needing two
departments is a fork (joint dispatch) or a chain (sequential hand-off).

**Run length and confidence intervals.** Every case runs ``R`` independent
replications with fixed, published seeds (``SEEDS``). In each, the first
``WARMUP_DAYS`` are discarded (the queue starts empty; a day is over a
thousand times the relaxation time of the busiest case), and waits are
measured for arrivals up to ``COOLDOWN_DAYS`` before the end, so that no
wait is cut short by the horizon (a wait still open then is an error, not a
censored value). A replication's mean is one observation; the R means give a
Student-t confidence interval. With ``K`` checks in a run, each interval is at
level ``1 - 0.01/K`` (Bonferroni), so a correct engine passes a whole run with
probability at least 99%.

**Pass** means: the theory lies inside the corrected interval, the interval's
half-width is below the stated maximum (``MAX_HALF_WIDTH``, relative to the
theory, so a check cannot pass by being vague), and the relative error is
under 3% (5% with ``--quick``). A distribution check (the M/M/c waiting time)
passes when a chi-square goodness-of-fit test on well-spaced waits pooled over
the replications does not reject at the corrected level: this is what catches
a queue served in the wrong order, whose mean wait can be right.

Two cases check how calls and cases queue (:mod:`citysim.schema.queueing`):
``erlang_a`` (callers on the unified hotline who hang up after an exponential
patience: M/M/c+M, probability of abandonment and mean waits from the
birth-death chain) and ``priority_mm5`` (three priority classes at one team
pool, non-preemptive: each class's mean wait by Cobham's formula). Every other
case puts every type in one class and lets nobody hang up, so Erlang C and
Jackson still apply.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

from citysim.scenario import load_scenario
from citysim.validate_sink import ValidationSink
from citysim.validate_theory import Node, theory_of

__all__ = ["CASES", "SEEDS", "Case", "run_validation", "theory_of"]

FAMILY_ALPHA = 0.01
WARMUP_DAYS = 1.0
COOLDOWN_DAYS = 0.5
MAX_HALF_WIDTH = {"full": 0.03, "quick": 0.05}
MAX_REL_ERROR = {"full": 0.03, "quick": 0.05}
REPLICATIONS = {"full": 24, "quick": 16}
SEEDS = tuple(range(101, 101 + max(REPLICATIONS.values())))
"""Replication r of every case runs with seed ``SEEDS[r]``."""


@dataclass(frozen=True)
class Case:
    """A validation case: a scenario file, what to check in it, and how long to run it.

    Attributes:
        name: file stem in ``scenarios/validation``.
        checks: by mode, the quantities checked at each node: ``wq``, ``p_wait``, ``w``, ``l``,
            ``tail`` (P(Wq > t) at two t), ``tail_0`` (the first only), ``gof``, ``little``;
            ``response`` for fork cases. A mode missing here does not run the case.
        days: simulated days per replication, by mode.
    """

    name: str
    checks: dict[str, tuple[str, ...]]
    days: dict[str, float]


_ALL = ("wq", "p_wait", "w", "l")
_ABANDON = ("p_abandon", "wq_served", "wq_all")
CASES: tuple[Case, ...] = (
    Case("mm1_rho50", {"quick": _ALL, "full": _ALL}, {"quick": 4, "full": 7}),
    Case(
        "mm1_rho80",
        {"quick": (*_ALL, "tail_0", "gof", "little"), "full": (*_ALL, "tail", "gof", "little")},
        {"quick": 17, "full": 50},
    ),
    Case("mm1_rho95", {"full": _ALL}, {"full": 220}),
    Case("mm5_rho50", {"quick": _ALL, "full": _ALL}, {"quick": 16, "full": 25}),
    Case("mm5_rho80", {"quick": (*_ALL, "tail_0", "gof"), "full": (*_ALL, "tail", "gof")}, {"quick": 26, "full": 80}),
    Case("mm5_rho95", {"full": (*_ALL, "little")}, {"full": 250}),
    Case("mm20_rho50", {"quick": ("w", "l"), "full": ("w", "l")}, {"quick": 2, "full": 3}),
    Case("mm20_rho80", {"quick": ("w", "l"), "full": _ALL}, {"quick": 3, "full": 112}),
    Case("mm20_rho95", {"full": ("p_wait", "w", "l")}, {"full": 230}),
    Case("md1_rho80", {"quick": ("wq", "l"), "full": ("wq", "l")}, {"quick": 7, "full": 16}),
    Case("mg1_lognormal_rho70", {"full": ("wq",)}, {"full": 58}),
    Case("jackson", {"quick": ("l", "w"), "full": ("l", "w")}, {"quick": 13, "full": 34}),
    Case("fork_joint", {"quick": ("response",), "full": ("response",)}, {"quick": 2, "full": 4}),
    Case("fork_sequential", {"quick": ("response",), "full": ("response",)}, {"quick": 2, "full": 4}),
    Case("erlang_a", {"full": _ABANDON}, {"full": 20}),
    Case("priority_mm5", {"full": ("wq", "w")}, {"full": 70}),
)
"""Which cases run in which mode, and for how long: lengths were set from pilot runs so that the
expected CI half-width is about 70% of the stated maximum (the heavy-load cases, and the costlier
abandonment and priority cases, only in the full run; the tests run the latter small)."""


# -------------------------------------------------------------- measurement


def _replication(args: tuple) -> dict:
    path, seed, days, units, tails, lines = args
    from citysim.model import CityModel

    sc = load_scenario(path)
    sink = ValidationSink(units, tails, WARMUP_DAYS * 1440, days * 1440, (days - COOLDOWN_DAYS) * 1440, lines)
    model = CityModel(sc, sc.regime_named(sc.regime), seed=seed, horizon_days=days, sink=sink)
    model.run()
    return sink.results()


# ------------------------------------------------------------------ checks


def _gof(node: Node, samples: list[float]) -> tuple[float, float]:
    """Chi-square test of pooled, spaced waits against the M/M/c waiting-time distribution."""
    w = np.asarray(samples)
    c_wait = node.theory["p_wait"]
    decay = node.theory["decay"]
    edges = -np.log(1 - np.linspace(0, 1, 9)[1:-1]) / decay  # 8 equiprobable bins of the waiting part
    observed = np.concatenate(
        [[np.sum(w <= 0)], np.histogram(w[w > 0], bins=np.concatenate([[0], edges, [np.inf]]))[0]]
    )
    expected = len(w) * np.concatenate([[1 - c_wait], np.full(8, c_wait / 8)])
    stat = float(((observed - expected) ** 2 / expected).sum())
    return stat, float(stats.chi2.sf(stat, df=len(observed) - 1))


LABELS = {
    "wq": "mean wait Wq (min)",
    "p_wait": "P(wait > 0)",
    "w": "mean time in system W (min)",
    "l": "mean number in system L (time average)",
    "little": "Little: L / (lambda W)",
    "tail_0": "P(Wq > t1)",
    "tail_1": "P(Wq > t2)",
    "response": "mean time to resolve (min)",
    "p_abandon": "P(hang up before answered)",
    "wq_served": "mean wait of callers served (min)",
    "wq_all": "mean wait of all callers (min)",
}


def run_validation(
    mode: str = "full",
    cases: tuple[Case, ...] | None = None,
    root: str | Path | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Run the validation cases and check them against theory.

    Args:
        mode: ``"full"`` or ``"quick"``.
        cases: the cases to run (default: all of :data:`CASES` that run in ``mode``).
        root: folder of the case files (default: the shipped ``scenarios/validation``).
        workers: processes for the replications (default: CPUs; 1 runs in this process).
        progress: called with (done, total) after each replication.

    Returns:
        ``{"mode", "passed", "checks": [...], "seeds", ...}`` (what ``validation.json`` holds).
    """
    from citysim.shipped import shipped_validation_dir

    root = Path(root) if root is not None else shipped_validation_dir()
    cases = tuple(c for c in (cases or CASES) if mode in c.checks)
    reps = REPLICATIONS[mode]
    jobs, plans = [], []
    for case in cases:
        path = root / f"{case.name}.toml"
        th = theory_of(load_scenario(path))
        nodes = th["nodes"] if th["kind"] == "network" else []
        units = [n.unit for n in nodes if not n.line]
        lines = [n.unit for n in nodes if n.line]
        tails = {n.unit: n.tail_t for n in nodes}
        plans.append((case, th, len(jobs)))
        jobs += [(str(path), SEEDS[r], float(case.days[mode]), units, tails, lines) for r in range(reps)]
    workers = workers or os.cpu_count() or 1
    results = []
    if workers == 1:
        for k, job in enumerate(jobs):
            results.append(_replication(job))
            if progress:
                progress(k + 1, len(jobs))
    else:
        methods = mp.get_all_start_methods()
        context = mp.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            for k, res in enumerate(pool.map(_replication, jobs)):
                results.append(res)
                if progress:
                    progress(k + 1, len(jobs))

    n_checks = sum(_count_checks(case.checks[mode], th) for case, th, _ in plans)
    alpha = FAMILY_ALPHA / max(n_checks, 1)
    t_q = float(stats.t.ppf(1 - alpha / 2, reps - 1))
    checks = []
    for case, th, start in plans:
        reps_out = results[start : start + reps]
        if any(r["open_waits"] for r in reps_out):
            checks.append(
                _row(
                    case.name,
                    "every wait closed before the horizon",
                    0,
                    float(sum(r["open_waits"] for r in reps_out)),
                    0,
                    0,
                    False,
                    "waits left open",
                )
            )
        if th["kind"] == "fork":
            values = np.array([r["response"] for r in reps_out])
            checks.append(_ci_check(case.name, LABELS["response"], th["response"], values, t_q, mode))
            continue
        for node in th["nodes"]:
            prefix = (node.label or node.unit) if len(th["nodes"]) > 1 else ""
            for q in case.checks[mode]:
                keys = ("tail_0", "tail_1") if q == "tail" else (q,)
                for key in keys:
                    if q == "gof":
                        sample = [w for r in reps_out for w in r[node.unit]["gof_sample"]]
                        stat, p = _gof(node, sample)
                        checks.append(
                            _row(
                                case.name,
                                f"{prefix} waiting-time distribution (chi-square, n={len(sample)})".strip(),
                                alpha,
                                p,
                                math.nan,
                                math.nan,
                                p >= alpha,
                                f"p-value must be >= {alpha:.2g}",
                            )
                        )
                        continue
                    if key not in node.theory:
                        continue
                    values = np.array([r[node.unit][key] for r in reps_out])
                    label = LABELS[key]
                    if key.startswith("tail"):
                        label = label.replace("t1" if key == "tail_0" else "t2", f"{node.tail_t[int(key[-1])]:.4g}")
                    checks.append(
                        _ci_check(case.name, f"{prefix} {label}".strip(), node.theory[key], values, t_q, mode)
                    )
    return {
        "mode": mode,
        "passed": all(c["pass"] for c in checks),
        "family_alpha": FAMILY_ALPHA,
        "checks_count": len(checks),
        "per_check_confidence": 1 - alpha,
        "replications": reps,
        "seeds": list(SEEDS[:reps]),
        "warmup_days": WARMUP_DAYS,
        "cooldown_days": COOLDOWN_DAYS,
        "max_half_width": MAX_HALF_WIDTH[mode],
        "max_relative_error": MAX_REL_ERROR[mode],
        "checks": checks,
    }


def _count_checks(checks: tuple[str, ...], th: dict) -> int:
    if th["kind"] == "fork":
        return 1
    n = 0
    for node in th["nodes"]:
        for q in checks:
            if q == "tail":
                n += 2
            elif q == "gof" or q in node.theory:
                n += 1
    return n


def _row(case, quantity, theory, mean, low, high, ok, note="") -> dict:
    return {
        "case": case,
        "quantity": quantity,
        "theory": theory,
        "simulated": mean,
        "ci_low": low,
        "ci_high": high,
        "half_width_rel": math.nan,
        "rel_error": math.nan,
        "pass": bool(ok),
        "note": note,
    }


def _ci_check(case: str, quantity: str, theory: float, values: np.ndarray, t_q: float, mode: str) -> dict:
    mean = float(values.mean())
    half = t_q * float(values.std(ddof=1)) / math.sqrt(len(values))
    rel_err = abs(mean - theory) / abs(theory)
    half_rel = half / abs(theory)
    inside = mean - half <= theory <= mean + half
    narrow = half_rel <= MAX_HALF_WIDTH[mode]
    close = rel_err <= MAX_REL_ERROR[mode]
    why = [
        w for w, ok in (("theory outside CI", inside), ("CI too wide", narrow), ("error too large", close)) if not ok
    ]
    row = _row(case, quantity, theory, mean, mean - half, mean + half, inside and narrow and close, "; ".join(why))
    row.update(half_width_rel=half_rel, rel_error=rel_err)
    return row


def write_report(report: dict, directory: Path) -> list[Path]:
    """``validation.json`` and ``validation.png`` (relative error of each check with its CI)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    directory.mkdir(parents=True, exist_ok=True)
    js = directory / "validation.json"
    js.write_text(json.dumps(report, indent=2, default=lambda x: None if isinstance(x, float) and math.isnan(x) else x))
    rows = [c for c in report["checks"] if not math.isnan(c["rel_error"])]
    fig = Figure(figsize=(10, 0.28 * len(rows) + 1.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    y = np.arange(len(rows))
    err = np.array([(c["simulated"] - c["theory"]) / abs(c["theory"]) * 100 for c in rows])
    lo = np.array([(c["simulated"] - c["ci_low"]) / abs(c["theory"]) * 100 for c in rows])
    ok = np.array([c["pass"] for c in rows], dtype=bool)
    for sel, colour, label in ((ok, "C2", "pass"), (~ok, "C3", "fail")):
        if sel.any():
            ax.errorbar(err[sel], y[sel], xerr=lo[sel], fmt="o", ms=3, color=colour, capsize=2, label=label)
    ax.legend(loc="lower right")
    ax.axvline(0, color="k", lw=0.8)
    lim = report["max_relative_error"] * 100
    ax.axvspan(-lim, lim, color="0.9", zorder=0)
    ax.set_yticks(y, [f"{c['case']}: {c['quantity']}" for c in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"simulated - theory, % of theory (bars: {report['per_check_confidence']:.4%} CI; band: ±{lim:g}%)")
    ax.set_title(
        f"citysim against queueing theory ({report['mode']}): "
        f"{sum(c['pass'] for c in report['checks'])}/{len(report['checks'])} checks pass"
    )
    png = directory / "validation.png"
    fig.savefig(png, dpi=110)
    return [js, png]


def table_lines(report: dict) -> list[str]:
    """The validation table as text."""
    head = f"{'case':<20}{'quantity':<44}{'theory':>10}{'simulated':>11}{'CI':>22}{'rel.err':>8}  result"
    lines = [head, "-" * len(head)]
    for c in report["checks"]:
        if math.isnan(c["rel_error"]):
            sim = f"p={c['simulated']:.3g}" if c["simulated"] == c["simulated"] else "-"
            verdict = "pass" if c["pass"] else "FAIL: " + c["note"]
            lines.append(f"{c['case']:<20}{c['quantity'][:43]:<44}{'':>10}{sim:>11}{'':>22}{'':>8}  {verdict}")
            continue
        ci = f"[{c['ci_low']:.4g}, {c['ci_high']:.4g}]"
        lines.append(
            f"{c['case']:<20}{c['quantity'][:43]:<44}{c['theory']:>10.4g}{c['simulated']:>11.4g}{ci:>22}"
            f"{c['rel_error'] * 100:>7.2f}%  {'pass' if c['pass'] else 'FAIL: ' + c['note']}"
        )
    n_pass = sum(c["pass"] for c in report["checks"])
    lines.append(
        f"{n_pass}/{len(report['checks'])} checks pass ({report['mode']}; {report['replications']} replications, "
        f"seeds {report['seeds'][0]}-{report['seeds'][-1]}; each CI at {report['per_check_confidence']:.4%}, "
        f"half-width <= {report['max_half_width']:.1%} and error <= {report['max_relative_error']:.0%} of theory)"
    )
    return lines
