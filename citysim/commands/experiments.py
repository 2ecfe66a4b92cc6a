"""``citysim compare``, ``sweep``, ``analyze`` and ``attribute``: parse, call :mod:`citysim.experiments`, print.

A user error (a bad experiment file, option or folder) raises
:class:`~citysim.errors.CitysimError`, which the group prints as one
``error:`` line with exit status 2. Ctrl-C stops every worker, keeps the
finished runs and exits with status 130; the same command again resumes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from citysim.errors import CitysimError

__all__ = ["register"]

_PRESETS = "fragmented,integrated,tech_only,institution_only"


_POOL_OPTIONS = (
    click.option("--workers", type=int, default=None, help="Local worker processes [default: all CPUs]."),
    click.option("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786."),
    click.option("--quiet", is_flag=True, help="No progress bar."),
)


_WINDOW_OPTIONS = (
    click.option("--days", type=int, default=None, help="Measurement window, whole days [default: the scenario's]."),
    click.option(
        "--warmup-days", type=int, default=None, help="Simulated before the window [default: the scenario's]."
    ),
    click.option(
        "--follow-up-days", type=int, default=None, help="Simulated after the window [default: the scenario's]."
    ),
    click.option("--seed", type=int, default=None, help="Experiment seed [default: the scenario's]."),
)


def _options(*options) -> Callable:
    """A decorator adding ``options`` in their order (as if written one above the other)."""

    def decorate(command: Callable) -> Callable:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


_pool_options = _options(*_POOL_OPTIONS)
"""The options every command that runs many runs takes: where they run, and quiet."""
_window_options = _options(*_WINDOW_OPTIONS)
"""The run's window and the experiment's seed, for commands that build their own plan."""


def _workers(workers: int | None, scheduler: str | None = None) -> int | None:
    """Check --workers (and --scheduler's form) before anything runs."""
    if workers is not None and workers < 1:
        raise CitysimError(f"--workers: {workers} is not allowed; give 1 or more worker processes")
    if scheduler:
        from citysim.experiments.sweep import check_scheduler

        check_scheduler(scheduler)
    return workers


def _window(days: int | None, warmup_days: int | None, follow_up_days: int | None) -> None:
    if days is not None and days < 1:
        raise CitysimError(f"--days: {days} must be 1 or more whole days")
    for name, value in (("--warmup-days", warmup_days), ("--follow-up-days", follow_up_days)):
        if value is not None and value < 0:
            raise CitysimError(f"{name}: {value} must be 0 or more whole days")


def _interruptible(out: Path, call: Callable):
    """Run ``call``; on Ctrl-C say what was kept and how to resume, exit 130."""
    try:
        return call()
    except KeyboardInterrupt:
        from citysim.experiments.store import read_records

        done = len(read_records(out)) if (out / "runs").is_dir() else 0
        click.echo(f"\ninterrupted: {done} finished runs kept in {out}/runs; the same command resumes", err=True)
        sys.exit(130)


def _rounds_note(runs: int, workers: int | None, scheduler: str | None) -> str:
    from citysim.experiments.pool import default_workers

    if scheduler or not runs:
        return ""
    w = workers or default_workers()
    rounds, rest = divmod(runs, w)
    return "" if not rest else f" (the last of {rounds + 1} rounds uses {rest} of {w} workers)"


def _failures(summary) -> None:
    if summary.failed:
        click.echo(f"{len(summary.failed)} failed runs (--retry-failed runs them again):")
        for index, error in summary.failed[:10]:
            click.echo(f"  run {index}: {error}")
        if len(summary.failed) > 10:
            click.echo(f"  ... and {len(summary.failed) - 10} more (see runs.parquet, column error)")


@click.command()
@click.argument("scenario")
@click.option("--regimes", default=_PRESETS, show_default=True, help="Comma-separated regimes; the first is the base.")
@click.option("--replications", default="10", show_default=True, help="Replications, or 'auto' (with --ci-width).")
@click.option("--ci-width", type=float, default=None, help="With --replications auto: CI half-width wanted.")
@click.option("--max-replications", type=int, default=200, show_default=True, help="Cap for --replications auto.")
@_window_options
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Folder [default: out/compare-SCENARIO].")
@_pool_options
@click.option("--no-figures", is_flag=True, help="Skip the figures.")
def compare(
    scenario,
    regimes,
    replications,
    ci_width,
    max_replications,
    days,
    warmup_days,
    follow_up_days,
    seed,
    out,
    workers,
    scheduler,
    no_figures,
    quiet,
) -> None:
    """Compare regimes on SCENARIO with 95% CIs, on common random numbers.

    Replication r runs under every regime with the same seed. For each headline metric: each
    regime's mean [95% CI] and its difference to the first regime, absolute and relative, with
    * where the CI excludes zero. --replications auto --ci-width W runs a pilot of 5
    replications, sizes the rest so that every CI half-width is under W (absolute for shares
    and ratios, relative for times and counts: 0.05 = 5%) and reports the widths reached.
    Writes runs.parquet, comparison.csv, figures/ and manifest.json; the same command resumes.
    """
    from citysim.experiments.compare import compare_lines, run_compare

    workers = _workers(workers, scheduler)
    names = [r.strip() for r in regimes.split(",") if r.strip()]
    if len(names) < 2:
        raise CitysimError(f"--regimes: {regimes!r}: give two or more regimes, e.g. {_PRESETS}")
    if replications == "auto":
        if ci_width is None or not ci_width > 0:
            raise CitysimError("--replications auto needs --ci-width W with W > 0 (e.g. 0.05)")
        reps = None
    else:
        try:
            reps = int(replications)
        except ValueError:
            raise CitysimError(f"--replications: {replications!r} is not a whole number or 'auto'") from None
        if reps < 2:
            raise CitysimError(f"--replications: {reps} is too few for a confidence interval; give 2 or more")
        if ci_width is not None:
            raise CitysimError("--ci-width: only with --replications auto")
    _window(days, warmup_days, follow_up_days)
    folder = Path(out) if out else Path("out") / f"compare-{Path(scenario).stem}"
    result = _interruptible(
        folder,
        lambda: run_compare(
            scenario,
            names,
            reps,
            folder,
            days,
            seed,
            ci_width,
            max_replications,
            workers,
            scheduler,
            progress=not quiet,
            figures=not no_figures,
            warmup_days=warmup_days,
            follow_up_days=follow_up_days,
        ),
    )
    for line in compare_lines(result.table):
        click.echo(line)
    if result.needed is not None:
        click.echo(
            f"replications: {result.plan.replications} (pilot 5; sized for CI half-widths under {ci_width}"
            + (f"; capped at --max-replications {max_replications}" if result.capped else "")
            + ")"
        )
        wide = result.table[result.table.half_width > result.table.target_half_width]
        if len(wide):
            click.echo("wider than asked: " + ", ".join(sorted(set(wide.metric))))
    click.echo(f"wrote {folder}/comparison.csv, runs.parquet, figures/ and manifest.json")


@click.command()
@click.argument("experiment", type=click.Path(dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Folder [default: out/NAME].")
@_pool_options
@click.option("--retry-failed", is_flag=True, help="Run failed runs again.")
def sweep(experiment, out, workers, scheduler, retry_failed, quiet) -> None:
    """Run EXPERIMENT's design (an experiments/*.toml file) in parallel, resumably.

    Each finished run is written at once to OUT/runs/; Ctrl-C or a kill loses only the runs in
    flight, and the same command resumes (refused if the experiment file or citysim changed).
    A failed run is recorded with its error and the sweep goes on. Exit status 1 if any run failed.
    """
    from citysim.experiments.plan import plan_from_experiment
    from citysim.experiments.spec import load_experiment
    from citysim.experiments.sweep import run_sweep, sweep_summary_lines

    workers = _workers(workers, scheduler)
    exp, digest = load_experiment(experiment)
    plan = plan_from_experiment(exp, Path(experiment))
    folder = Path(out) if out else Path("out") / exp.name
    click.echo(
        f"{plan.n_runs} runs: {len(plan.points)} design points x {len(plan.regimes)} regimes x "
        f"{plan.replications} replications{_rounds_note(plan.n_runs, workers, scheduler)}",
        err=True,
    )
    summary = _interruptible(
        folder, lambda: run_sweep(plan, folder, workers, scheduler, retry_failed, digest, progress=not quiet)
    )
    if len(plan.points) == 1 and len(plan.regimes) > 1:  # regimes on common random numbers: a comparison
        from citysim.experiments.compare import compare_lines, write_comparison

        lines = compare_lines(write_comparison(folder, plan))
        click.echo(f"wrote {folder}/comparison.csv and figures/", err=True)
    else:
        lines = sweep_summary_lines(folder, plan)
    for line in lines:
        click.echo(line)
    click.echo(
        f"{summary.ran} runs in {summary.wall_s:.0f} s, {summary.skipped} already done; "
        f"wrote {folder}/runs.parquet" + (f" (citysim analyze {folder} for sensitivity)" if plan.parameters else "")
    )
    _failures(summary)
    if summary.failed:
        sys.exit(1)


@click.command()
@click.argument("folder", type=click.Path())
@click.option("--no-figures", is_flag=True, help="Skip the figures.")
def analyze(folder, no_figures) -> None:
    """Sensitivity analysis of a finished sweep FOLDER (by its design: sobol, morris, grid or lhs).

    Writes FOLDER/analysis/: Sobol first- and total-order indices with CIs, Morris mu*/sigma,
    main effects of a grid, or standardised regression and partial rank correlations of an lhs.
    """
    import pandas as pd

    from citysim.experiments.analyze import analyze as run_analysis

    tables = run_analysis(Path(folder), figures=not no_figures)
    with pd.option_context("display.width", 160, "display.max_rows", 200, "display.max_columns", 20):
        for name, table in tables.items():
            click.echo(f"{name}:")
            click.echo(table.round(4).to_string(index=False))
            click.echo(f"wrote {Path(folder) / 'analysis' / (name + '.csv')} and figures")


@click.command()
@click.argument("scenario")
@click.option("--from", "start", default="fragmented", show_default=True, help="Regime to start from.")
@click.option("--to", "end", default="integrated", show_default=True, help="Regime to arrive at.")
@click.option("--replications", type=int, default=5, show_default=True, help="Replications of every coalition.")
@_window_options
@click.option(
    "--by",
    type=click.Choice(["group", "lever"]),
    default="group",
    show_default=True,
    help="Players: lever groups (citysim/data/lever_groups.toml) or single levers.",
)
@click.option("--permutations", type=int, default=0, help="Sample this many orderings instead of every coalition.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Folder [default: out/attribute-FROM-TO].")
@_pool_options
@click.option("--no-figures", is_flag=True, help="Skip the figures.")
def attribute(
    scenario,
    start,
    end,
    replications,
    days,
    warmup_days,
    follow_up_days,
    seed,
    by,
    permutations,
    out,
    workers,
    scheduler,
    no_figures,
    quiet,
) -> None:
    """Split the difference between two regimes into the Shapley values of lever groups.

    Every coalition of the lever groups that differ runs on the same seeds (common random
    numbers); each group's Shapley value is its marginal effect averaged over every order of
    switching, with a 95% CI over replications. Prints a wall-time estimate before starting.
    """
    from citysim.experiments.attribute import attribution_lines, attribution_plan, estimate_seconds, run_attribute
    from citysim.experiments.pool import default_workers

    workers = _workers(workers, scheduler)
    if replications < 1:
        raise CitysimError(f"--replications: {replications} must be at least 1")
    if permutations < 0:
        raise CitysimError(f"--permutations: {permutations} must be 0 (every coalition) or more")
    _window(days, warmup_days, follow_up_days)
    window = {"warmup_days": warmup_days, "follow_up_days": follow_up_days}
    plan = attribution_plan(scenario, start, end, replications, days, seed, by, permutations, **window)
    folder = Path(out) if out else Path("out") / f"attribute-{start}-{end}"
    players = plan.extra["players"]
    eta = estimate_seconds(plan, workers or default_workers())
    click.echo(
        f"{len(players)} {'lever groups' if by == 'group' else 'levers'} differ "
        f"({', '.join(p['name'] for p in players)}): {len(plan.points)} coalitions x {replications} "
        f"replications = {plan.n_runs} runs; estimated wall time {eta / 60:.1f} min"
        f"{' on the local workers' if not scheduler else ' (on 2 local workers; a cluster is faster)'}",
        err=True,
    )
    result = _interruptible(folder, lambda: run_attribute(plan, folder, workers, scheduler, not quiet, not no_figures))
    for line in attribution_lines(result.table):
        click.echo(line)
    click.echo(f"wrote {folder}/attribution.csv, runs.parquet and figures/ ({result.sweep.wall_s:.0f} s)")
    _failures(result.sweep)


def register(group: click.Group) -> None:
    """Add the experiment commands to the ``citysim`` group."""
    for command in (compare, sweep, analyze, attribute):
        group.add_command(command)
