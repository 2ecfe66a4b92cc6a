"""What a run writes: the folder, run.toml, figures and the terminal summary."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

import citysim
from citysim.figures import FIGURES
from citysim.report import TABLES, summary_lines, to_toml, write_outputs
from citysim.scenario import load_scenario
from citysim.simulation import run_record


def _without_none(x):
    if isinstance(x, dict):
        return {k: _without_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_without_none(v) for v in x]
    return x


@pytest.fixture(scope="module")
def run() -> citysim.Result:
    return citysim.simulate("scenarios/small.toml", regime="fragmented", days=3, warmup_days=0, follow_up_days=7)


@pytest.fixture(scope="module")
def out(run, tmp_path_factory) -> Path:
    return write_outputs(run, tmp_path_factory.mktemp("run"))


# ------------------------------------------------------------------ TOML


def test_toml_round_trips_tables_and_lists_of_tables():
    data = {
        "name": 'Chongqing "mountain city" \\ 重庆\n',
        "days": 7,
        "rate": 0.68,
        "big": 1e16,
        "tiny": 1.5e-07,
        "inf": math.inf,
        "open": True,
        "hours": [8.0, 20.0],
        "nested_list": [[1, 2], ["a"]],
        "empty_list": [],
        "skipped": None,
        "city": {
            "districts": [
                {"name": "Yuzhong", "kind": "core", "shares": {"elderly": 0.2}},
                {
                    "name": "Wulong",
                    "kind": "mountain",
                    "latency": {"dist": "exponential", "mean": 1.0},
                },
            ],
            "empty": {},
        },
        "shocks": [{"kind": "storm", "districts": []}],
        "key with space": {"a-b": 1},
    }
    back = tomllib.loads(to_toml(data))
    assert back == _without_none(data)


def test_toml_refuses_none_inside_a_list():
    with pytest.raises(TypeError, match="city.hours"):
        to_toml({"city": {"hours": [8.0, None]}})


# ------------------------------------------------------------------ the output folder


def test_write_outputs_writes_every_file(out):
    for name in TABLES:
        assert (out / f"{name}.parquet").is_file()
    for name in ("metrics.json", "run.toml"):
        assert (out / name).is_file()
    for name in FIGURES:
        png = out / "figures" / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tables_written_are_the_run_tables(run, out):
    incidents = pd.read_parquet(out / "incidents.parquet")
    assert len(incidents) == len(run.incidents)
    assert list(incidents.columns) == list(run.incidents.columns)
    assert incidents["resolved_at"].sum() == pytest.approx(run.incidents["resolved_at"].sum())


def test_metrics_json_is_the_run_metrics(run, out):
    assert json.loads((out / "metrics.json").read_text()) == run.metrics


def test_run_toml_round_trips_and_reloads_as_the_scenario(run, out):
    back = tomllib.loads((out / "run.toml").read_text())
    assert back == _without_none(run_record(run))
    assert back["citysim_run"]["seed"] == run.seed
    assert load_scenario(out / "run.toml") == run.scenario


def test_write_outputs_keeps_tables_already_streamed(run, tmp_path):
    (tmp_path / "stages.parquet").write_bytes(b"streamed")
    write_outputs(run, tmp_path, figures=False)
    assert (tmp_path / "stages.parquet").read_bytes() == b"streamed"
    assert (tmp_path / "incidents.parquet").is_file()
    assert not (tmp_path / "figures").exists()


def test_report_draws_without_a_display(tmp_path):
    code = (
        "import sys, citysim\n"
        "from citysim.figures import write_figures\n"
        "r = citysim.simulate('scenarios/small.toml', days=1, warmup_days=0, follow_up_days=0)\n"
        f"write_figures(r, __import__('pathlib').Path({str(tmp_path)!r}))\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path.cwd())}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FIGURES)


# ------------------------------------------------------------------ the summary


def test_summary_names_the_run_and_every_block(run):
    lines = summary_lines(run)
    text = "\n".join(lines)
    assert lines[0].startswith(
        "citysim | scenario small | regime fragmented | seed 1 | warm-up 0 d, window 3 d, follow-up 7 d"
    )
    assert f"{len(run.incidents):,} incidents" in lines[0]
    for heading in (
        "Response (every incident of the window)",
        "Where the time goes",
        "Coverage",
        "Inclusion",
        "Harm and cost",
        "Calibration",
    ):
        assert heading in text
    worst = run.metrics["inclusion"]["ratio"]["cohort"]["worst"]
    assert worst in text
    assert f"source: {run.scenario.calibration.source}" in text


def test_summary_response_table_is_aligned_and_labels_units(run):
    lines = summary_lines(run)
    start = next(i for i, line in enumerate(lines) if line.startswith("Response (every incident"))
    table = lines[start : start + 3]
    assert [line.split()[:2] for line in table[1:]] == [["from", "the"], ["from", "occurrence"]]
    assert len({len(line) for line in table}) == 1  # right-aligned columns end together
    assert all(any(unit in line for unit in (" min", " h", " d")) for line in table[1:])
    assert "censored (Kaplan-Meier)" in lines[start + 3]
