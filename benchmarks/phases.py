"""Where a simulated day's time goes: milliseconds a day by part of the model, over a run's last days.

    python benchmarks/phases.py                                  # Chongqing, 28 days, the last 28 timed
    python benchmarks/phases.py scenarios/chongqing.toml --days 28 --last 14
    python benchmarks/phases.py --code /path/to/other/checkout   # another commit's code, to compare

Runs ``citysim run SCENARIO --days DAYS --quiet --no-figures`` in this process with a timer around each
part named in :data:`PARTS`, and prints each part's milliseconds per simulated day over the last ``--last``
days of the window (the follow-up and its final writing left out). Parts nest (the day's end
holds the writing, which holds Parquet and the metrics stream), so they do not add up. Machines here swing
10-30% within an hour: compare two commits by running them alternately, not one after the other.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PARTS = (
    ("a whole day", "citysim.model", "CityModel.step"),
    ("the day's start", "citysim.model", "CityModel._begin_day"),
    ("  sampling", "citysim.processes.occurrence", "OccurrenceSampler.sample"),
    ("  detection", "citysim.processes.detection", "Detector.detect"),
    ("  compiling the day", "citysim.processes.incident", "DayCompiler.compile"),
    ("  false alarms", "citysim.processes.alerts", "FalseAlarmCompiler.sample"),
    ("  placing in the engine", "citysim._fast", "FastNetwork.add"),
    ("the event loop (shift changes in it)", "citysim._fast", "FastNetwork.run"),
    ("  shift changes", "citysim.model", "CityModel._capacity_tick"),
    ("the day's end", "citysim.model", "CityModel._end_day"),
    ("  accounting", "citysim.model", "day_use"),
    ("  the daily book", "citysim.daily", "DailyBook.add_day"),
    ("  trust", "citysim.model", "CityModel._update_trust"),
    ("  writing (and carrying)", "citysim.model", "CityModel._flush"),
    ("    output rows", "citysim.model", "incident_and_stage_rows"),
    ("    rows left out", "citysim.model", "select_rows"),
    ("    Parquet", "citysim.events", "ParquetSink.write"),
    ("    the metrics stream", "citysim.metrics.stream", "MetricsStream.write"),
    ("    carrying forward", "citysim.model", "carry_forward"),
    ("    the carry in the engine", "citysim._fast", "FastNetwork.replace"),
)
"""(label, module, attribute) of each part timed; an attribute ``Class.method`` or a module's function."""


def _install(spent: Counter, calls: Counter, timing: list[bool]) -> None:
    """Put a timer around each part (a part missing from this checkout's code is left out)."""
    for label, module, path in PARTS:
        owner = importlib.import_module(module)
        *outer, name = path.split(".")
        for part in outer:
            owner = getattr(owner, part, None)
        if owner is None or not hasattr(owner, name):
            continue
        inner = getattr(owner, name)

        def timed(*args, _inner=inner, _label=label, **kwargs):
            if not timing[0]:
                return _inner(*args, **kwargs)
            started = time.perf_counter()
            try:
                return _inner(*args, **kwargs)
            finally:
                spent[_label] += time.perf_counter() - started
                calls[_label] += 1

        setattr(owner, name, functools.wraps(inner)(timed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "chongqing.toml"))
    parser.add_argument("--days", type=int, default=28, help="the window's days (default 28)")
    parser.add_argument("--last", type=int, default=28, help="days timed, at the window's end (default 28)")
    parser.add_argument("--code", default=str(ROOT), help="the checkout whose citysim runs (default: this one)")
    args = parser.parse_args()
    if not 1 <= args.last <= args.days:
        parser.error(f"--last must be from 1 to --days ({args.days}), not {args.last}")
    sys.path.insert(0, str(Path(args.code).resolve()))

    from citysim import model
    from citysim.cli import main as citysim_main

    print(f"citysim from {Path(model.__file__).parent}")
    spent, calls, timing = Counter(), Counter(), [False]
    _install(spent, calls, timing)
    step = model.CityModel.step  # timed: the day is chosen before its timer starts

    def step_timed_at_the_end(self):
        end_of_window = self.window.warmup_days + self.window.days
        timing[0] = end_of_window - args.last <= self.day < end_of_window
        return step(self)

    model.CityModel.step = step_timed_at_the_end
    with tempfile.TemporaryDirectory() as out:
        run = ["run", args.scenario, "--days", str(args.days), "--quiet", "--no-figures", "--out", f"{out}/run"]
        citysim_main(run, standalone_mode=False)
    print(f"\n{'part':<40}{'ms a day':>10}{'calls a day':>13}")
    for label, _, _ in PARTS:
        if calls[label]:
            print(f"{label:<40}{1000 * spent[label] / args.last:>10.1f}{calls[label] / args.last:>13.1f}")


if __name__ == "__main__":
    main()
