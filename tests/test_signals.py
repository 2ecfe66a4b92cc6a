"""Real signals to real ``citysim run`` processes: the output folder is complete, marked, or as it was.

Each test starts ``python -m citysim run`` on the small town, waits for a point of the run it
can see (the progress bar's day on stderr, the temporary folder beside the output folder, a
table in it) rather than for a fixed time, and sends SIGINT, SIGTERM or SIGKILL. A stopped
run's tables must agree with each other and end where the run stopped, and its ``run.toml``
must reproduce them byte for byte.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from citysim.cli import main
from citysim.report import TABLES

from .conftest import SMALL

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

TIMES = {
    "incidents": ("occurred_at", "detected_at", "intake_at", "dispatched_at", "arrived_at", "resolved_at", "harmed_at"),
    "stages": ("queued_at", "started_at", "ended_at"),
    "alerts": ("raised_at", "verified_at"),
}


class Run:
    """A ``citysim run`` process writing ``out``, its stdout and stderr kept in files."""

    def __init__(self, tmp_path: Path, out: Path, *args: str) -> None:
        self.out, self.stdout, self.stderr = out, tmp_path / "stdout.txt", tmp_path / "stderr.txt"
        with self.stdout.open("w") as so, self.stderr.open("w") as se:
            command = [sys.executable, "-m", "citysim", "run", *args, "--out", str(out)]
            self.proc = subprocess.Popen(command, stdout=so, stderr=se, cwd=tmp_path)
        self.staging = out.parent / f".{out.name}.citysim-{self.proc.pid}"

    def wait_for(self, what: str, ready, timeout: float = 60.0) -> None:
        """Poll until ``ready()``; fail if the run ends first or it takes longer than ``timeout`` seconds."""
        limit = time.monotonic() + timeout
        while not ready():
            assert self.proc.poll() is None, f"the run ended before {what}: {self.stderr.read_text()[-2000:]}"
            assert time.monotonic() < limit, f"no {what} after {timeout} s"
            time.sleep(0.02)

    def day(self) -> int:
        """The last day the progress bar showed."""
        days = re.findall(r"(\d+)/\d+ \[", self.stderr.read_text())
        return int(days[-1]) if days else 0

    def send(self, signum: int) -> int:
        self.proc.send_signal(signum)
        return self.proc.wait(timeout=120)


def left_beside(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.glob(f".{out.name}.citysim-*"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_consistent(out: Path, stop_min: float) -> dict[str, pd.DataFrame]:
    """Every incident once, every stage's and true alert's incident among them, nothing after the stop."""
    tables = {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLES}
    inc, stages, alerts = tables["incidents"], tables["stages"], tables["alerts"]
    assert len(inc) > 0 and inc["id"].is_unique
    assert set(stages["incident_id"]) <= set(inc["id"])
    assert set(alerts["incident_id"].dropna()) <= set(inc["id"])
    assert alerts["alert_id"].is_unique
    for name, columns in TIMES.items():
        for column in columns:
            times = tables[name][column].to_numpy(dtype=float, na_value=np.nan)
            assert not (times[~np.isnan(times)] > stop_min).any(), f"{name}.{column} after the stop"
    assert not (inc["occurred_at"] >= stop_min).any()
    return tables


def assert_reproduced(out: Path, again: Path) -> None:
    """``citysim run OUT/run.toml`` writes the same tables, byte for byte, and the same metrics; so does
    ``citysim metrics OUT`` (the run block says where it stopped)."""
    result = CliRunner().invoke(main, ["run", str(out / "run.toml"), "--out", str(again), "--quiet", "--no-figures"])
    assert result.exit_code == 0, result.output
    for name in TABLES:
        assert (out / f"{name}.parquet").read_bytes() == (again / f"{name}.parquet").read_bytes(), name
    first, second = (json.loads((d / "metrics.json").read_text()) for d in (out, again))
    recount = CliRunner().invoke(main, ["metrics", str(out), "--quiet"])
    assert recount.exit_code == 0, recount.output
    assert json.loads((out / "metrics.json").read_text()) == first
    assert first.pop("run")["window"] == second.pop("run")["window"]
    assert first == second


def test_sigint_in_the_warm_up_writes_no_metrics_and_says_so(tmp_path):
    out = tmp_path / "run"
    run = Run(tmp_path, out, str(SMALL), "--warmup-days", "300", "--days", "2", "--follow-up-days", "0")
    run.wait_for("two days of warm-up", lambda: run.day() >= 2)
    assert run.send(signal.SIGINT) == 130
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "run.toml"]
    record = tomllib.loads((out / "run.toml").read_text())["citysim_run"]
    simulated = record["simulated_days"]
    assert 2 <= simulated < 300
    assert {k: v for k, v in record.items() if k not in ("version", "seed", "regime", "simulated_days")} == {
        "warmup_days": 300,
        "days": 2,
        "follow_up_days": 0,
        "stopped": "interrupted (SIGINT)",
        "stopped_in": "warmup",
        "requested_warmup_days": 300,
        "requested_days": 2,
        "requested_follow_up_days": 0,
    }
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics) == ["run"] and metrics["run"]["complete"] is False and metrics["run"]["window"] is None
    first = run.stdout.read_text().splitlines()[0]
    assert first == f"INTERRUPTED (SIGINT) during the warm-up, after {simulated} of its 300 days: nothing was measured"
    assert left_beside(out) == [] and "leaked" not in run.stderr.read_text()


def test_sigint_in_the_window_cuts_it_there_and_run_toml_reproduces_it(tmp_path):
    out = tmp_path / "run"
    run = Run(tmp_path, out, str(SMALL), "--warmup-days", "1", "--days", "300", "--follow-up-days", "0")
    # tables being written (the window has begun), and two weeks of it (the units' trend over the window is read)
    run.wait_for("a table in the temporary folder", lambda: any(run.staging.glob("*.parquet")))
    run.wait_for("sixteen days", lambda: run.day() >= 16)
    assert run.send(signal.SIGINT) == 130
    record = tomllib.loads((out / "run.toml").read_text())["citysim_run"]
    simulated = record["simulated_days"]
    assert record["stopped"] == "interrupted (SIGINT)" and record["stopped_in"] == "window"
    assert (record["warmup_days"], record["days"], record["follow_up_days"]) == (1, simulated - 1, 0)
    assert (record["requested_days"], record["requested_follow_up_days"]) == (300, 0)
    tables = assert_consistent(out, simulated * 1440.0)
    assert tables["incidents"]["occurred_at"].min() >= 1440.0
    assert tables["units"]["wait_last_week_min"].notna().any()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["run"]["stopped_in"] == "window" and metrics["window"]["days"] == simulated - 1
    lines = run.stdout.read_text().splitlines()
    assert lines[0] == (
        f"INTERRUPTED (SIGINT) in the window, after {simulated - 1} of its 300 days: the window is cut there, "
        "with no follow-up (cases still open then are censored)"
    )
    assert f"warm-up 1 d, window {simulated - 1} d, follow-up 0 d" in lines[1]
    assert sorted(p.name for p in (out / "figures").iterdir()) == sorted(
        ["coverage.png", "decomposition.png", "inclusion.png", "resolution_time.png"]
    )
    assert left_beside(out) == []
    assert_reproduced(out, tmp_path / "again")


def test_sigterm_in_the_follow_up_ends_it_there_and_run_toml_reproduces_it(tmp_path):
    out = tmp_path / "run"
    args = ("--warmup-days", "0", "--days", "2", "--follow-up-days", "300", "--no-figures")
    run = Run(tmp_path, out, str(SMALL), *args)
    run.wait_for("five days", lambda: run.day() >= 5)
    assert run.send(signal.SIGTERM) == 143
    record = tomllib.loads((out / "run.toml").read_text())["citysim_run"]
    simulated = record["simulated_days"]
    assert record["stopped"] == "interrupted (SIGTERM)" and record["stopped_in"] == "follow_up"
    assert (record["days"], record["follow_up_days"]) == (2, simulated - 2)
    tables = assert_consistent(out, simulated * 1440.0)
    assert (tables["incidents"]["occurred_at"] < 2 * 1440.0).all()  # the window's incidents only
    stderr = run.stderr.read_text()
    assert "SIGTERM: stopping at the end of the simulated day under way" in stderr and "leaked" not in stderr
    assert_reproduced(out, tmp_path / "again")


def _previous_run(out: Path) -> dict[str, bytes]:
    result = CliRunner().invoke(main, ["run", str(SMALL), "--days", "1", "--out", str(out), "--quiet", "--no-figures"])
    assert result.exit_code == 0, result.output
    return snapshot(out)


@pytest.mark.parametrize("previous", [True, False], ids=["over a finished run", "into a new folder"])
def test_sigkill_once_tables_are_being_written_leaves_the_previous_run_or_nothing(tmp_path, previous):
    out = tmp_path / "run"
    before = _previous_run(out) if previous else {}
    run = Run(tmp_path, out, str(SMALL), "--warmup-days", "1", "--days", "300", "--follow-up-days", "0")
    run.wait_for("a table in the temporary folder", lambda: any(run.staging.glob("*.parquet")))
    assert run.send(signal.SIGKILL) == -signal.SIGKILL
    assert snapshot(out) == before  # the previous run, untouched, or nothing
    assert left_beside(out) == [run.staging.name]
    # the next run into the folder removes what the killed one left beside it
    assert _previous_run(out).keys() == {f"{t}.parquet" for t in TABLES} | {"metrics.json", "run.toml"}
    assert left_beside(out) == []


def test_a_second_signal_abandons_the_run_and_leaves_the_folder_as_it_was(tmp_path, busy_town):
    import citysim.report

    town = tmp_path / "busy.toml"  # days and figures slow enough to signal twice before the run ends
    town.write_text(citysim.report.to_toml(json.loads(busy_town.model_dump_json(exclude_none=True))))
    out = tmp_path / "run"
    before = _previous_run(out)
    run = Run(tmp_path, out, str(town), "--warmup-days", "0", "--days", "300", "--follow-up-days", "0")
    run.wait_for("a table in the temporary folder", lambda: any(run.staging.glob("*.parquet")))
    run.proc.send_signal(signal.SIGINT)
    run.wait_for("the stop announced", lambda: "SIGINT: stopping" in run.stderr.read_text())
    assert run.send(signal.SIGTERM) == 143
    assert snapshot(out) == before and left_beside(out) == []
    assert f"SIGTERM after SIGINT: run abandoned, nothing written; {out}/ is as it was" in run.stderr.read_text()
