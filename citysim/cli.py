"""The ``citysim`` command: run, check, regimes, scenarios.

Each command parses its options, calls the library and prints; no model logic
lives here. A user error (a bad scenario file, an unknown regime or lever)
prints one line naming the file, the field and what is allowed, and exits
with status 2, never with a traceback.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from citysim.errors import CitysimError
from citysim.shipped import resolve_scenario_path, shipped_scenarios

__all__ = ["main"]


class _Group(click.Group):
    """Turns citysim's user errors into one line and exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CitysimError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(package_name="citysim")
def main() -> None:
    """citysim: compare how a fragmented and an integrated city find and solve residents' problems."""


def _register_commands() -> None:
    """Commands kept in their own modules (citysim/commands/): compare, sweep, analyze, attribute."""
    from citysim.commands import experiments

    experiments.register(main)


_register_commands()


@main.command()
@click.argument("scenario")
@click.option(
    "--regime", "regime_name", default=None, help="Regime preset or scenario regime [default: the scenario's]."
)
@click.option("--seed", type=int, default=None, help="Run seed [default: the scenario's].")
@click.option("--days", type=int, default=None, help="Measurement window, whole days [default: the scenario's].")
@click.option(
    "--warmup-days", type=int, default=None, help="Simulated before the window, not counted [default: the scenario's]."
)
@click.option(
    "--follow-up-days",
    type=int,
    default=None,
    help="Simulated after the window so its incidents can end [default: the scenario's].",
)
@click.option("--set", "assignments", multiple=True, metavar="LEVER=VALUE", help="Override a lever (repeatable).")
@click.option(
    "--out", type=click.Path(file_okay=False), default=None, help="Output folder [default: out/SCENARIO-REGIME-seedN]."
)
@click.option("--no-figures", is_flag=True, help="Skip the figures.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def run(scenario, regime_name, seed, days, warmup_days, follow_up_days, assignments, out, no_figures, quiet) -> None:
    """Simulate SCENARIO (a TOML file or a shipped name) and write its outputs.

    A run is a warm-up (not counted), a measurement window of --days and a
    follow-up in which the window's incidents go on (still open then: censored).
    Writes incidents, stages, alerts, units and cells tables (Parquet; the
    window's incidents), metrics.json, figures and run.toml (which reproduces
    the run: ``citysim run OUT/run.toml``).
    """
    from tqdm import tqdm

    from citysim.events import ParquetSink
    from citysim.model import CityModel
    from citysim.regimes import Regime, apply_overrides
    from citysim.report import summary_lines, write_outputs
    from citysim.scenario import load_scenario, read_toml
    from citysim.simulation import Result, window_of

    path = resolve_scenario_path(scenario)
    sc = load_scenario(path)
    raw = read_toml(path)
    recorded = raw.get("citysim_run")
    if recorded is not None:  # a run.toml: same regime, seed and days unless asked otherwise
        seed = recorded["seed"] if seed is None else seed
        days = recorded["days"] if days is None else days
        warmup_days = recorded.get("warmup_days", 0) if warmup_days is None else warmup_days
        follow_up_days = recorded.get("follow_up_days", 0) if follow_up_days is None else follow_up_days
        if regime_name is None:
            from citysim.regimes import _validate

            regime = _validate(raw["regime"], f"{path} [regime]")
        else:
            regime = sc.regime_named(regime_name)
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
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.parquet"):
        old.unlink()

    sink = ParquetSink(out_dir)
    started = time.perf_counter()
    model = CityModel(sc, regime, seed=seed, window=window, sink=sink)
    total_days = window.total_days
    bar = tqdm(total=total_days, unit="day", desc=f"{sc.name} / {regime.name}", disable=quiet, file=sys.stderr)
    interrupted = False
    try:
        while model.day < total_days:
            model.step()
            bar.update(1)
            elapsed = time.perf_counter() - started
            bar.set_postfix(
                period=window.period_of_day(model.day - 1),
                incidents=f"{model.counts['incidents']:,}",
                per_s=f"{model.counts['incidents'] / max(elapsed, 1e-9):,.0f}",
            )
    except KeyboardInterrupt:
        interrupted = True
        click.echo(f"\ninterrupted after {model.day} simulated days", err=True)
    finally:
        bar.close()
    if interrupted:
        model.cut()
        if model.window is None:
            click.echo("interrupted during the warm-up: nothing was measured, no outputs written", err=True)
            sys.exit(130)
        window = model.window
    model.finish()
    wall = time.perf_counter() - started
    tables, every, counts = sink.sampled_frames()
    result = Result(sc, regime, seed, window, tables, sample_every=every, exact_counts=counts)
    if every > 1:
        click.echo(f"(metrics and figures from every {every}th incident, by id; the Parquet files hold all)", err=True)
    write_outputs(result, out_dir, figures=not no_figures)
    for line in summary_lines(result):
        click.echo(line)
    n = model.counts["incidents"]
    click.echo(f"\n{n:,} incidents in {wall:.1f} s ({n / max(wall, 1e-9):,.0f} per second); outputs in {out_dir}/")
    if interrupted:
        sys.exit(130)


@main.command()
@click.argument("file")
def check(file) -> None:
    """Validate a scenario FILE without running it."""
    import numpy as np

    from citysim.city import build_city
    from citysim.processes.occurrence import OccurrenceSampler
    from citysim.rng import Streams
    from citysim.scenario import load_scenario

    path = resolve_scenario_path(file)
    sc = load_scenario(path)
    city = build_city(sc, Streams(sc.seed))
    per_day = OccurrenceSampler(sc, city, Streams(sc.seed)).expected_per_day()
    click.echo(f"{path}: valid scenario {sc.name!r}")
    click.echo(
        f"  {len(sc.city.districts)} districts, {city.n_streets:,} streets, {city.n_cells:,} grid cells, "
        f"{city.population:,.0f} residents, {int(np.sum(city.sensor_count)):,} sensors, "
        f"{len(city.worker_street):,} grid workers"
    )
    click.echo(f"  {len(sc.incident_types)} incident types, about {per_day:,.0f} occurrences a day")


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
@click.option(
    "--out", type=click.Path(file_okay=False), default="out/validation", show_default=True, help="Output folder."
)
@click.option("--workers", type=int, default=None, help="Processes for replications [default: all CPUs].")
def validate(quick, out, workers) -> None:
    """Check citysim against queueing theory (M/M/c, M/D/1, M/G/1, Jackson, fork-join).

    Exit status 1 if any check fails.
    """
    from tqdm import tqdm

    from citysim.validate import run_validation, table_lines, write_report

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
