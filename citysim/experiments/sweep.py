"""Running a plan: in parallel, resumably, on local worker processes or a Dask cluster.

:func:`run_sweep` runs every run of a :class:`~citysim.experiments.plan.Plan`
that its folder does not hold yet. Runs start longest first (by simulated
days times expected incidents), so the last round is not held up by one long
run. Each finished run is written at once as ``runs/<index>.json``; the
parent keeps only headline metrics, never a run's tables. Ctrl-C (or a kill)
at any point loses at most the runs in flight: the same call again skips the
finished ones, and the combined table equals an uninterrupted sweep's. A run
that raises is recorded with its error and the sweep goes on;
``retry_failed`` runs those again.

With ``scheduler="tcp://host:8786"`` the runs go to an existing Dask
distributed cluster (``dask scheduler`` + ``dask worker``, dask-jobqueue,
dask-kubernetes); each task carries its fully resolved scenario, so the
workers need citysim installed but none of the user's files.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citysim.errors import CitysimError
from citysim.experiments.headline import cost_per_improvement, headline_kinds, improvement_unit
from citysim.experiments.plan import Plan
from citysim.experiments.pool import WorkerPool, default_workers
from citysim.experiments.runner import Task, run_task, task_record
from citysim.experiments.store import open_folder, read_records, runs_table, write_record, write_table

__all__ = ["SweepSummary", "check_scheduler", "load_runs", "run_sweep", "sweep_summary_lines"]

_ADDRESS = re.compile(r"^(tcp|tls|ucx|inproc)://[^\s/]+$")


@dataclass
class SweepSummary:
    """What a sweep did.

    Attributes:
        runs: runs in the plan.
        ran: runs done in this call.
        skipped: runs found done in the folder (a resume).
        failed: ``(index, error)`` of every failed run in the folder.
        wall_s: wall time of this call.
        interrupted: stopped by Ctrl-C before every run was done.
    """

    runs: int
    ran: int = 0
    skipped: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    wall_s: float = 0.0
    interrupted: bool = False


def _local(tasks: list[Task], workers: int) -> Iterator[tuple[Task, Any]]:
    with WorkerPool(run_task, workers) as pool:
        for position, result in pool.run(tasks):
            yield tasks[position], result


def check_scheduler(address: str) -> None:
    """A Dask scheduler address must look like ``tcp://HOST:PORT``.

    Raises:
        CitysimError: naming the option and the expected form.
    """
    if not _ADDRESS.match(address):
        raise CitysimError(
            f"--scheduler: {address!r} is not a scheduler address; expected tcp://HOST:PORT "
            "(as printed by `dask scheduler`), e.g. tcp://10.0.0.5:8786"
        )


def _dask(tasks: list[Task], address: str) -> Iterator[tuple[Task, Any]]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise CitysimError("--scheduler needs Dask: pip install 'citysim[distributed]'") from None
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise CitysimError(f"--scheduler: cannot reach a Dask scheduler at {address}: {exc}") from None
    futures: dict[Any, Task] = {}
    try:
        for rank, task in enumerate(tasks):  # Dask runs higher priorities first: longest first
            future = client.submit(run_task, task, key=f"citysim-run-{task.identity()}", priority=len(tasks) - rank)
            futures[future] = task
        for future in as_completed(list(futures), loop=client.loop):
            task = futures[future]
            if future.status == "error":
                yield task, future.exception()
            else:
                yield task, future.result()
            future.release()
    finally:
        if futures:
            client.cancel(list(futures), force=True)
        client.close()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _terminate_as_interrupt():
    """A polite kill (SIGTERM: ``kill``, a batch system's time limit) stops a sweep as Ctrl-C does."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _interrupt)


def run_sweep(
    plan: Plan,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    retry_failed: bool = False,
    experiment_sha: str | None = None,
    progress: bool = True,
) -> SweepSummary:
    """Run every run of ``plan`` not yet in ``out`` (see the module docstring).

    Args:
        plan: the runs.
        out: the sweep folder (created, or resumed).
        workers: local worker processes [default: the CPUs]; ignored with ``scheduler``.
        scheduler: a Dask scheduler's address, e.g. ``tcp://10.0.0.5:8786``.
        retry_failed: run failed runs again.
        experiment_sha: digest of the experiment file (a resume with another is refused).
        progress: show a progress bar (runs done, failures, time left) on stderr.

    Raises:
        CitysimError: a folder of another experiment or version, a bad address or worker count.
        KeyboardInterrupt: after the finished runs are saved and every worker stopped.
    """
    from tqdm import tqdm

    if workers is not None and workers < 1:
        raise CitysimError(f"workers: {workers} is not allowed; give 1 or more worker processes")
    if scheduler:
        check_scheduler(scheduler)
    out = Path(out)
    open_folder(out, plan, experiment_sha)
    records = read_records(out)
    todo = [i for i in range(plan.n_runs) if i not in records or (retry_failed and records[i]["status"] != "ok")]
    summary = SweepSummary(runs=plan.n_runs, skipped=plan.n_runs - len(todo))
    tasks = sorted((plan.task(i) for i in todo), key=lambda t: (-t.weight, t.index))
    started = time.perf_counter()
    failures = sum(1 for i, r in records.items() if r["status"] != "ok" and i not in todo)
    bar = tqdm(total=len(tasks), unit="run", desc=plan.name[:40], disable=not progress or not tasks, file=sys.stderr)
    results = _dask(tasks, scheduler) if scheduler else _local(tasks, workers or default_workers())
    previous = _terminate_as_interrupt()
    try:
        for task, result in results:
            if isinstance(result, BaseException):
                result = task_record(task, f"{type(result).__name__}: {result}")
            write_record(out, result)
            records[task.index] = result
            summary.ran += 1
            failures += result["status"] != "ok"
            bar.set_postfix(failed=failures, refresh=False)
            bar.update(1)
    except KeyboardInterrupt:
        summary.interrupted = True
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        bar.close()
        results.close()
        summary.wall_s = time.perf_counter() - started
        summary.failed = [(i, r.get("error") or "") for i, r in sorted(records.items()) if r["status"] != "ok"]
        write_table(out, runs_table(records, plan.scenario_name))
    return summary


def load_runs(out: str | Path):
    """A sweep folder's manifest and its run records (by index)."""
    from citysim.experiments.store import load_manifest

    manifest = load_manifest(Path(out))
    return manifest, read_records(Path(out))


def sweep_summary_lines(out: str | Path, plan: Plan) -> list[str]:
    """Each metric of interest's mean by regime over the finished runs (and annual cost, where priced)."""
    import pandas as pd

    table = pd.read_parquet(Path(out) / "runs.parquet")
    ok = table[table.status == "ok"] if len(table) else table
    if ok.empty:
        return ["no finished runs"]
    priced = "annual_cost" in ok and ok["annual_cost"].notna().any()
    columns = [m for m in plan.metrics if m in ok] + (["annual_cost"] if priced else [])
    means = ok.groupby("regime", sort=False)[columns].mean()
    lines = ["mean over design points and replications, by regime:"]
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        lines += means.T.to_string(float_format=lambda x: f"{x:.4g}").splitlines()
    if priced and len(means) > 1:
        base, kinds = means.iloc[0], headline_kinds()
        extra = pd.DataFrame(
            {
                regime: {
                    f"{m} (per {improvement_unit(m, kinds.get(m, 'share'))[1]})": cost_per_improvement(
                        m, kinds.get(m, "share"), row["annual_cost"] - base["annual_cost"], row[m] - base[m]
                    )
                    for m in columns[:-1]
                }
                for regime, row in means.iloc[1:].iterrows()
            }
        )
        lines.append(
            f"extra annual cost per unit of improvement on {means.index[0]} "
            "(CNY; blank: no improvement or no extra cost):"
        )
        lines += extra.to_string(float_format=lambda x: f"{x:,.0f}", na_rep="").splitlines()
    return lines
