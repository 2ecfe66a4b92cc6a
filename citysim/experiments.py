"""Many runs: replications and sweeps, spread over local worker processes.

:func:`run_many` simulates a list of :class:`RunSpec` (scenario file, regime,
lever overrides, seed, days), each in a worker process, and returns each
run's metrics in the order given. Every run is fully determined by its spec
(its seed drives every random draw), so the results do not depend on the
number of workers or the order in which runs finish.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

__all__ = ["RunSpec", "run_many"]


@dataclass(frozen=True)
class RunSpec:
    """One run: a scenario file, a regime with lever overrides, a seed and a window (None: the scenario's)."""

    scenario: str
    regime: str = "integrated"
    seed: int = 1
    days: int | None = None
    overrides: tuple[str, ...] = field(default_factory=tuple)
    warmup_days: int | None = None
    follow_up_days: int | None = None


def _run_one(spec: RunSpec) -> dict:
    from citysim.simulation import simulate

    result = simulate(
        spec.scenario,
        spec.regime,
        spec.seed,
        spec.days,
        overrides=spec.overrides,
        warmup_days=spec.warmup_days,
        follow_up_days=spec.follow_up_days,
    )
    metrics = result.metrics
    metrics["run"] = {
        "scenario": spec.scenario,
        "regime": result.regime.name,
        "seed": spec.seed,
        **result.window.as_dict(),
    }
    return metrics


def run_many(
    specs: list[RunSpec], workers: int | None = None, progress: Callable[[int, int], None] | None = None
) -> list[dict]:
    """Simulate every run, ``workers`` processes at a time (default: all CPUs), and return their metrics in order.

    Runs always happen in worker processes, one worker as much as many, so the calling process stays
    small (workers are forked from it) and a sweep's speed on 1 and on N workers compare like with
    like; ``workers=0`` runs them one after another in this process instead (for debugging).
    """
    if workers == 0:
        out = []
        for k, spec in enumerate(specs):
            out.append(_run_one(spec))
            if progress:
                progress(k + 1, len(specs))
        return out
    workers = workers or os.cpu_count() or 1
    methods = mp.get_all_start_methods()
    context = mp.get_context("fork" if "fork" in methods else "spawn")
    # Forked workers share the parent's pages until they write to them; the garbage collector
    # writes to every object it visits, so objects alive now are frozen out of its reach.
    gc.collect()
    gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            out = []
            for k, metrics in enumerate(pool.map(_run_one, specs)):
                out.append(metrics)
                if progress:
                    progress(k + 1, len(specs))
    finally:
        gc.unfreeze()
    return out
