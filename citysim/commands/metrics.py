"""``citysim metrics OUT``: recompute a run folder's ``metrics.json`` from its Parquet files."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

__all__ = ["metrics"]


@click.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
def metrics(out: Path, quiet: bool) -> None:
    """Recompute OUT/metrics.json from the run folder OUT's Parquet files and run.toml.

    The tables are read a row group at a time, so memory stays bounded whatever the run's
    length; a run written before a metric existed gets it. Figures are not redrawn.
    """
    from citysim.errors import OptionError
    from citysim.metrics.folder import metrics_of_folder
    from citysim.result import run_block
    from citysim.scenario import load_run
    from citysim.window import Stop, Window

    run_toml = out / "run.toml"
    missing = [
        f for f in ("run.toml", "incidents.parquet", "stages.parquet", "alerts.parquet") if not (out / f).exists()
    ]
    if missing:
        raise OptionError("OUT", f"{out} is not a run folder (citysim run writes one): no {', '.join(missing)}")
    sc, record, regime = load_run(run_toml)
    if record is None:
        raise OptionError("OUT", f"{run_toml} has no [citysim_run] table (citysim run writes it)")
    window = Window(days=record.days, warmup_days=record.warmup_days, follow_up_days=record.follow_up_days)
    started = time.perf_counter()
    stopped = Stop.of_record(record)
    m = {"run": run_block(sc, regime, record.seed, window, stopped), **metrics_of_folder(out, sc, regime, window)}
    (out / "metrics.json").write_text(json.dumps(m, indent=2, allow_nan=False) + "\n", "utf-8")
    if not quiet:
        n = m["counts"]["incidents"]
        took = time.perf_counter() - started
        click.echo(f"{n:,} incidents read in {took:.1f} s; wrote {out / 'metrics.json'}", file=sys.stdout)
