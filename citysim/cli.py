"""The ``citysim`` command: run, check, regimes, scenarios, validate, dashboard.

Each command parses its options, calls the library and prints; no model logic
lives here. A user error (a bad scenario file, an unknown regime or lever)
prints one line naming the file, the field and what is allowed, and exits
with status 2, never with a traceback.
"""

from __future__ import annotations

import atexit
import gc
import sys
import time
from pathlib import Path

import click

from citysim.errors import CitysimError
from citysim.options import SEED, WHOLE_DAYS, WHOLE_DAYS_OR_ZERO, WORKERS, writable_folder
from citysim.shipped import resolve_scenario_path, shipped_scenarios

__all__ = ["main"]


def _hour_ranges(hours: list[int]) -> str:
    """Hours of the day as ranges: [0, 1, 2, 20, 21, 22, 23] -> '20:00-03:00'."""
    hs = sorted(set(hours))
    runs: list[list[int]] = []
    for h in hs:
        if runs and h == runs[-1][1]:
            runs[-1][1] = h + 1
        else:
            runs.append([h, h + 1])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == 24:
        runs[0][0] = runs.pop()[0]
    return ", ".join(f"{a:02d}:00-{b % 24:02d}:00" for a, b in runs)


class _Group(click.Group):
    """Turns citysim's user errors, and click's (a missing argument, an unknown option), into one line and exit 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CitysimError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else ctx.command_path
            click.echo(f"error: {exc.format_message()} (see {where} --help)", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="citysim")
def main() -> None:
    """citysim: compare how a fragmented and an integrated city find and solve residents' problems."""


def _register_commands() -> None:
    """Commands kept in their own modules (citysim/commands/): compare, sweep, analyze, attribute, metrics."""
    from citysim.commands import experiments, metrics

    experiments.register(main)
    main.add_command(metrics.metrics)


_register_commands()


@main.command()
@click.argument("scenario")
@click.option(
    "--regime", "regime_name", default=None, help="Regime preset or scenario regime [default: the scenario's]."
)
@click.option("--seed", type=SEED, default=None, help="Run seed, 0 to 2**32 - 1 [default: the scenario's].")
@click.option("--days", type=WHOLE_DAYS, default=None, help="Measurement window, whole days [default: the scenario's].")
@click.option(
    "--warmup-days",
    type=WHOLE_DAYS_OR_ZERO,
    default=None,
    help="Simulated before the window, not counted [default: the scenario's].",
)
@click.option(
    "--follow-up-days",
    type=WHOLE_DAYS_OR_ZERO,
    default=None,
    help="Simulated after the window so its incidents can end [default: the scenario's].",
)
@click.option("--set", "assignments", multiple=True, metavar="LEVER=VALUE", help="Override a lever (repeatable).")
@click.option("--out", default=None, help="Output folder [default: out/SCENARIO-REGIME-seedN].")
@click.option("--no-figures", is_flag=True, help="Skip the figures.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(scenario, regime_name, seed, days, warmup_days, follow_up_days, assignments, out, no_figures, quiet) -> None:
    """Simulate SCENARIO (a TOML file or a shipped name) and write its outputs.

    A run is a warm-up (not counted), a measurement window of --days and a
    follow-up in which the window's incidents go on (still open then: censored).
    Writes incidents, stages, alerts, units and cells tables (Parquet; the
    window's incidents), metrics.json, figures and run.toml (which reproduces
    the run: ``citysim run OUT/run.toml``). OUT is replaced as a whole when the
    run ends. Ctrl-C (SIGINT) or SIGTERM stop the run at the end of the
    simulated day and write what was simulated, marked as such (a second one
    abandons it: nothing written); exit status 130 or 143.
    """
    from citysim.network import engine_choice
    from citysim.regimes import Regime, apply_overrides
    from citysim.running import run_to_folder
    from citysim.scenario import load_run
    from citysim.simulation import window_of

    engine_choice()
    path = resolve_scenario_path(scenario)
    sc, recorded, recorded_regime = load_run(path)
    if recorded is not None:  # a run.toml: same regime, seed and days unless asked otherwise
        seed = recorded.seed if seed is None else seed
        days = recorded.days if days is None else days
        warmup_days = recorded.warmup_days if warmup_days is None else warmup_days
        follow_up_days = recorded.follow_up_days if follow_up_days is None else follow_up_days
        regime = recorded_regime if regime_name is None else sc.regime_named(regime_name)
        if recorded.stopped is not None:
            what = "the window it asked for" if recorded.stopped_in == "warmup" else "the window it measured"
            click.echo(
                f"note: {path} is of a run {recorded.stopped} in the {recorded.stopped_in}: running {what}", err=True
            )
    else:
        regime = sc.regime_named(regime_name or sc.regime)
    seed = sc.seed if seed is None else seed
    window = window_of(sc, days, warmup_days, follow_up_days)
    regime: Regime = apply_overrides(regime, list(assignments))
    out_dir = (
        Path(out)
        if out
        else Path("out") / f"{sc.name}-{regime.name.replace('+', '_').replace('=', '-').replace(',', '_')}-seed{seed}"
    )
    status = run_to_folder(
        sc,
        regime,
        seed,
        window,
        out_dir,
        figures=not no_figures,
        quiet=quiet,
        say=click.echo,
        warn=lambda line: click.echo(line, err=True),
    )
    atexit.register(gc.freeze)  # at the exit, the interpreter's last full collections (0.1 s) have nothing to do
    if status:
        sys.exit(status)


@main.command()
@click.argument("file")
def check(file) -> None:
    """Validate a scenario FILE without running it, and say how big a run of it is."""
    import numpy as np
    import pandas as pd

    from citysim.city import build_city
    from citysim.footprint import footprint
    from citysim.rng import Streams
    from citysim.scenario import load_scenario
    from citysim.staffing import FUNCTIONS
    from citysim.units import build_units, unstaffed

    path = resolve_scenario_path(file)
    sc = load_scenario(path)
    click.echo(f"{path}: valid scenario {sc.name!r}")
    simulated = sc.warmup_days + sc.days + sc.follow_up_days
    for line in footprint(sc).summary_lines(simulated, len(sc.incident_types)):
        click.echo(f"  {line}")
    city = build_city(sc, Streams(sc.seed))  # the footprint check above keeps this within bounds
    regime = sc.regime_named(sc.regime)
    units = build_units(sc, city, regime)
    by_function = pd.Series(units.staff_hours).groupby(np.array(FUNCTIONS)[units.function]).sum()
    click.echo(
        f"  staffing under {regime.name} (staff-hours a day, the same under every regime): "
        + ", ".join(f"{k} {v:,}" for k, v in by_function.items())
    )
    gaps = unstaffed(sc, city, regime, units)
    if gaps:
        click.echo("  units with nobody on duty in hours when work can arrive (the file's shifts):")
        for kind, field, hours, n in gaps:
            click.echo(f"    {n:,} {kind} unit{'s' if n > 1 else ''} ({field}): nobody {_hour_ranges(hours)}")


@main.command()
def regimes() -> None:
    """List the regime presets and their lever values."""
    from citysim.regimes import LEVERS, presets

    p = presets()
    names = list(p)
    width = max(len(lv) for lv in LEVERS)
    cols = [max(len(n), 14) for n in names]
    click.echo(" " * width + "  " + "  ".join(n.ljust(c) for n, c in zip(names, cols, strict=True)))
    for lever in LEVERS:
        values = [str(getattr(p[n], lever)) for n in names]
        click.echo(lever.ljust(width) + "  " + "  ".join(v.ljust(c) for v, c in zip(values, cols, strict=True)))


@main.command()
def scenarios() -> None:
    """List the scenarios that ship with citysim."""
    from citysim.scenario import load_scenario

    for name, path in shipped_scenarios().items():
        try:
            sc = load_scenario(path)
            pop = sum(d.population for d in sc.city.districts)
            click.echo(f"{name:<12} {pop:>12,} residents  {sc.description}")
        except CitysimError as exc:
            click.echo(f"{name:<12} invalid: {exc}")


@main.command()
@click.option("--quick", is_flag=True, help="The lighter cases, looser widths (under 3 minutes).")
@click.option("--out", default="out/validation", show_default=True, help="Output folder.")
@click.option("--workers", type=WORKERS, default=None, help="Processes for replications [default: all CPUs].")
def validate(quick, out, workers) -> None:
    """Check citysim against queueing theory (M/M/c, M/D/1, M/G/1, Jackson, fork-join).

    Exit status 1 if any check fails.
    """
    from tqdm import tqdm

    from citysim.network import engine_choice
    from citysim.validate import run_validation, table_lines, write_report

    engine_choice()
    writable_folder(out, "--out")
    bar = tqdm(total=None, unit="replication", desc="validate", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    started = time.perf_counter()
    report = run_validation("quick" if quick else "full", workers=workers, progress=progress)
    bar.close()
    report["wall_s"] = round(time.perf_counter() - started, 1)
    for line in table_lines(report):
        click.echo(line)
    paths = write_report(report, Path(out))
    click.echo(f"took {report['wall_s']:.0f} s; wrote {', '.join(str(p) for p in paths)}")
    if not report["passed"]:
        sys.exit(1)


@main.command()
@click.argument("scenario", required=False, default="small")
@click.option("--port", type=int, default=8765, show_default=True, help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--seed", type=int, default=None, help="Seed to start with [default: the scenario's].")
def dashboard(scenario, port, host, seed) -> None:
    """Serve the live classroom dashboard for SCENARIO [default: small] and print its address.

    Two cities under two regimes on the same incidents, stepped an hour at a
    time after the scenario's warm-up, in a browser on this machine.
    """
    from citysim.dashboard.server import LOCAL_HOSTS, require_viz, serve
    from citysim.scenario import load_scenario

    path = resolve_scenario_path(scenario)
    load_scenario(path)
    require_viz()
    if host not in LOCAL_HOSTS:
        click.echo(
            f"warning: listening on {host}: anyone who can reach this machine on that network can drive it", err=True
        )
    serve(path, host, port, seed, announce=lambda line: click.echo(line))
