# ruff: noqa: E501  (exact error messages are long lines)
"""The citysim command: exit codes and exact messages, and a whole run of the small town."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from citysim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SMALL = str(ROOT / "scenarios" / "small.toml")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_run_writes_every_output_and_a_summary(tmp_path):
    out = tmp_path / "run"
    result = invoke("run", SMALL, "--days", "3", "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    for name in ("incidents", "stages", "alerts", "units", "cells"):
        assert (out / f"{name}.parquet").is_file()
    assert (out / "metrics.json").is_file() and (out / "run.toml").is_file()
    assert sorted(p.name for p in (out / "figures").glob("*.png")) == [
        "coverage.png",
        "decomposition.png",
        "inclusion.png",
        "resolution_time.png",
    ]
    assert "Response (every incident of the window)" in result.output and "Calibration" in result.output
    incidents = pd.read_parquet(out / "incidents.parquet")
    assert set(incidents.status) <= {"resolved", "in_progress", "undetected"}


def test_run_toml_reproduces_the_run_exactly(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert (
        invoke(
            "run",
            SMALL,
            "--days",
            "2",
            "--seed",
            "4",
            "--regime",
            "fragmented",
            "--set",
            "paperwork_share=0.2",
            "--out",
            str(first),
            "--quiet",
            "--no-figures",
        ).exit_code
        == 0
    )
    again = invoke("run", str(first / "run.toml"), "--out", str(second), "--quiet", "--no-figures")
    assert again.exit_code == 0, again.output
    for name in ("incidents", "stages", "alerts", "units"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(first / f"{name}.parquet"), pd.read_parquet(second / f"{name}.parquet")
        )


def test_unknown_regime_exits_2_and_lists_the_known_ones():
    result = invoke("run", SMALL, "--regime", "integratd")
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: --regime: unknown regime 'integratd'; known regimes: fragmented, institution_only, integrated, tech_only"
    )


def test_unknown_lever_exits_2_and_lists_the_levers():
    result = invoke("run", SMALL, "--set", "paperwork=0.1")
    assert result.exit_code == 2
    assert result.output.startswith("error: --set: paperwork: unknown lever; known levers: intake, sensor_fusion, ")


def test_bad_lever_value_exits_2_with_the_allowed_values():
    result = invoke("run", SMALL, "--set", "intake=shared")
    assert result.exit_code == 2
    assert result.output.strip() == "error: --set: intake: 'shared' is not one of 'per_department' or 'unified'"


def test_bad_scenario_file_exits_2_naming_file_and_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        Path(SMALL)
        .read_text()
        .replace('kind = "urban"', 'kind = "metro"')
        .replace(
            'extends = "common/china_megacity.toml"',
            f'extends = "{ROOT / "scenarios" / "common" / "china_megacity.toml"}"',
        )
    )
    for command in ("run", "check"):
        result = invoke(command, str(bad))
        assert result.exit_code == 2
        assert result.output.strip() == (
            f"error: {bad}: city.districts[0].kind: 'metro' is not one of 'core', 'urban', 'suburban', 'rural' or 'mountain'"
        )
        assert "Traceback" not in result.output


def test_missing_scenario_lists_the_shipped_ones():
    result = invoke("check", "atlantis")
    assert result.exit_code == 2
    assert result.output.startswith(
        "error: atlantis: no such file, and not a shipped scenario; shipped scenarios: beijing,"
    )


def test_shipped_scenarios_are_found_by_name_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./scenarios here: found in the package, or beside it in a checkout
    result = invoke("check", "small")
    assert result.exit_code == 0, result.output
    assert "valid scenario 'small'" in result.output


def test_check_reports_the_city():
    result = invoke("check", SMALL)
    assert result.exit_code == 0
    assert "valid scenario 'small'" in result.output
    assert "4 streets" in result.output and "60,000 residents" in result.output


def test_regimes_lists_every_lever_and_preset():
    result = invoke("regimes")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["fragmented", "integrated", "tech_only", "institution_only"]
    assert lines[1].split() == ["intake", "per_department", "unified", "unified", "per_department"]
    assert len(lines) == 15


def test_scenarios_lists_the_shipped_cities():
    result = invoke("scenarios")
    assert result.exit_code == 0
    names = [line.split()[0] for line in result.output.splitlines()]
    assert {"small", "chongqing", "beijing", "shanghai", "chengdu"} <= set(names)
    assert "32,054,159 residents" in result.output


# ------------------------------------------------------------------ the output folder: replaced whole


def test_a_rerun_replaces_the_folder_whole(tmp_path):
    out = tmp_path / "run"
    args = ("run", SMALL, "--days", "1", "--out", str(out), "--quiet", "--no-figures")
    assert invoke(*args).exit_code == 0
    (out / "figures").mkdir()
    (out / "figures" / "coverage.png").write_bytes(b"an old run's figure")
    again = invoke(*args[:-1])  # with figures this time, then without: no file of the run before stays
    assert again.exit_code == 0, again.output
    assert (out / "figures" / "coverage.png").read_bytes().startswith(b"\x89PNG")
    assert invoke(*args).exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["alerts.parquet", "cells.parquet", "daily.parquet", "incidents.parquet", "metrics.json", "run.toml"]
        + ["stages.parquet", "units.parquet"]
    )
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # nothing left beside it


def test_an_out_folder_that_is_not_a_run_is_refused(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    result = invoke("run", SMALL, "--days", "1", "--out", str(mine))
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: --out: {mine} is not empty and is not a citysim run's folder (no run.toml with [citysim_run]); "
        "a run replaces its folder as a whole: give a new or empty folder"
    )
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_a_run_folder_holding_other_files_is_refused(tmp_path):
    out = tmp_path / "run"
    assert invoke("run", SMALL, "--days", "1", "--out", str(out), "--quiet", "--no-figures").exit_code == 0
    for extra in (out / "notes.txt", out / "figures" / "map.png"):
        extra.parent.mkdir(exist_ok=True)
        extra.write_text("mine")
        name = extra.relative_to(out).as_posix()
        result = invoke("run", SMALL, "--days", "1", "--out", str(out))
        assert result.exit_code == 2
        assert result.output.strip() == (
            f"error: --out: {out} holds {name}, which citysim did not write; a run replaces its folder as a whole: "
            f"move {name} or give another folder"
        )
        extra.unlink()
