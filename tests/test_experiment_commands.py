# ruff: noqa: E501  (exact error messages are long lines)
"""citysim compare, sweep, analyze and attribute as a user runs them, and the errors they give."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from citysim.cli import main
from citysim.experiments.compare import compare_lines, compare_table
from citysim.experiments.plan import plan_for_regimes, plan_from_experiment
from citysim.experiments.spec import load_experiment
from citysim.experiments.stats import full_rounds, stein_replications

ROOT = Path(__file__).resolve().parents[1]
SMALL = str(ROOT / "scenarios" / "small.toml")


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def write(folder: Path, text: str, name: str = "exp.toml") -> str:
    path = folder / name
    path.write_text(f'name = "t"\nscenario = "{SMALL}"\ndays = 1\n' + text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[design]\nkind = "latin"\n', "design.kind: 'latin' is not one of 'grid', 'lhs', 'sobol' or 'morris'"),
        ("replicatons = 3\n", "replicatons: unknown field (check the spelling; see docs/scenario-reference.md)"),
        ('metrics = ["speed"]\n', "metrics[0]: 'speed' is not one of incidents_per_day, "),
        (
            '[[parameters]]\nlever = "intak"\nvalues = ["unified"]\n',
            "parameters[0].lever: 'intak' is not one of intake, ",
        ),
        (
            '[[parameters]]\nfield = "city.rate_scael"\nlow = 1\nhigh = 2\n',
            "parameters[0].field: 'city.rate_scael': no field 'rate_scael' at city; there: ",
        ),
        (
            '[[parameters]]\nlever = "paperwork_share"\nlow = 0.5\nhigh = 0.1\n',
            "parameters[0]: dist = 'uniform' needs low < high (or values = [...] with dist = 'choice')",
        ),
        (
            '[[parameters]]\nlever = "paperwork_share"\nvalues = [0.2, 2.0]\n',
            "levers.paperwork_share: 2.0: must be less than or equal to 0.9",
        ),
        ('regimes = ["integrated", "fragmnted"]\n', "regimes[1]: unknown regime 'fragmnted'; known regimes: "),
    ],
)
def test_a_bad_experiment_file_is_one_error_line_naming_the_field(tmp_path, text, message):
    path = write(tmp_path, text)
    result = invoke("sweep", path, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {path}: {message}")
    assert len(result.output.strip().splitlines()) == 1


def test_a_missing_experiment_file(tmp_path):
    result = invoke("sweep", str(tmp_path / "nope.toml"))
    assert result.exit_code == 2
    assert result.output == f"error: {tmp_path / 'nope.toml'}: no such experiment file\n"


def test_bad_options_are_one_error_line(tmp_path):
    path = write(tmp_path, "")
    cases = [
        (["sweep", path, "--workers", "-1"], "error: --workers: -1 is not allowed; give 1 or more worker processes\n"),
        (
            ["sweep", path, "--scheduler", "localhost:8786"],
            "error: --scheduler: 'localhost:8786' is not a scheduler address; expected tcp://HOST:PORT (as printed by `dask scheduler`), e.g. tcp://10.0.0.5:8786\n",
        ),
        (
            ["compare", SMALL, "--replications", "many"],
            "error: --replications: 'many' is not a whole number or 'auto'\n",
        ),
        (
            ["compare", SMALL, "--replications", "auto"],
            "error: --replications auto needs --ci-width W with W > 0 (e.g. 0.05)\n",
        ),
        (
            ["analyze", str(tmp_path)],
            f"error: {tmp_path}: not a sweep folder (no manifest.json); give a folder that citysim sweep, compare or attribute wrote\n",
        ),
    ]
    for args, message in cases:
        result = invoke(*args, "--out", str(tmp_path / "o")) if args[0] != "analyze" else invoke(*args)
        assert (result.exit_code, result.output) == (2, message)


def compare(out: Path, replications: str, *more: str):
    """citysim compare of two regimes on a day of the small town."""
    args = ["compare", SMALL, "--regimes", "fragmented,integrated", "--replications", replications, "--days", "1"]
    args += ["--follow-up-days", "7"]  # needs met within a week: followed a week
    return invoke(*args, "--out", str(out), "--quiet", *more)


def test_compare_writes_cis_paired_on_common_seeds(tmp_path):
    out = tmp_path / "cmp"
    result = compare(out, "3", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "resolution_median_h (time_h; n = 3)" in result.output and "diff" in result.output
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 6 and set(runs.status) == {"ok"}
    assert runs.groupby("replication").seed.nunique().eq(1).all() and runs.seed.nunique() == 3
    assert {"intake", "paperwork_share", "resolution_median_h", "regime", "scenario"} <= set(runs.columns)
    table = pd.read_csv(out / "comparison.csv")
    assert set(table.regime) == {"fragmented", "integrated"} and table.n.le(3).all()
    assert table[table.metric == "open_at_end"].n.eq(3).all()
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {"survival.png", "inclusion.png", "ci_resolution_median_h.png"} <= figures
    again = compare(out, "3", "--no-figures")  # a resume: nothing to run, the same table
    assert again.exit_code == 0
    assert pd.read_parquet(out / "runs.parquet").drop(columns="wall_s").equals(runs.drop(columns="wall_s"))


def test_compare_sizes_replications_from_a_pilot(tmp_path):
    result = compare(tmp_path / "auto", "auto", "--ci-width", "50", "--no-figures", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert "replications: 5 (pilot 5; sized for CI half-widths under 50.0)" in result.output
    table = pd.read_csv(tmp_path / "auto" / "comparison.csv")
    assert "target_half_width" in table


def test_attribute_splits_the_difference_among_the_groups_that_differ(tmp_path):
    out = tmp_path / "attr"
    result = invoke(
        "attribute",
        SMALL,
        "--from",
        "institution_only",
        "--to",
        "integrated",
        "--replications",
        "2",
        "--days",
        "1",
        "--out",
        str(out),
        "--quiet",
        "--workers",
        "2",
    )
    assert result.exit_code == 0, result.output
    assert (
        "3 lever groups differ (intake, sensors, data): 8 coalitions x 2 replications = 16 runs; estimated wall time"
        in result.output
    )
    table = pd.read_csv(out / "attribution.csv")
    for _, rows in table.groupby("metric"):
        if rows.start.notna().all() and rows.end.notna().all() and rows.shapley.notna().all():
            assert rows.shapley.sum() == pytest.approx(rows.end.iloc[0] - rows.start.iloc[0])
    assert (out / "figures" / "waterfall_resolution_median_h.png").is_file()


@pytest.mark.parametrize(
    ("design", "table", "columns"),
    [
        ('kind = "sobol"\nsamples = 4', "sobol", {"S1", "S1_low", "ST", "ST_high"}),
        ('kind = "morris"\nsamples = 3\nlevels = 4', "morris", {"mu_star", "mu_star_conf", "sigma"}),
        ('kind = "lhs"\nsamples = 6', "regression", {"src", "r2", "prcc", "prcc_p"}),
        ('kind = "grid"', "main_effects", {"level", "mean", "mean_low"}),
    ],
)
def test_analyze_gives_the_indices_of_each_design(tmp_path, design, table, columns):
    params = '[[parameters]]\nlever = "paperwork_share"\nlow = 0.1\nhigh = 0.5\nlevels = 2\n'
    params += '[[parameters]]\nlever = "offline_channels"\nvalues = [true, false]\n'
    path = write(tmp_path, f'metrics = ["open_at_end"]\n[design]\n{design}\n{params}')
    out = tmp_path / "out"
    assert invoke("sweep", path, "--out", str(out), "--quiet", "--workers", "2").exit_code == 0
    result = invoke("analyze", str(out))
    assert result.exit_code == 0, result.output
    found = pd.read_csv(out / "analysis" / f"{table}.csv")
    assert columns <= set(found.columns) and set(found.parameter) == {"paperwork_share", "offline_channels"}
    assert list((out / "analysis").glob("*.png"))


def test_cost_is_reported_per_unit_of_improvement_where_runs_are_priced():
    plan = plan_for_regimes(SMALL, ["fragmented", "integrated"], replications=3, days=1)
    records = {}
    for index in range(plan.n_runs):
        replication, regime, _ = plan.locate(index)
        records[index] = {
            "status": "ok",
            "headline": {
                "detected_share": 0.5 + 0.1 * regime + 0.01 * replication,  # better: 10 points more
                "resolution_median_h": 10.0 - 2.0 * regime + 0.1 * replication,  # better: 2 hours less
                "harm_per_day": 100.0 + 5.0 * regime + replication,  # worse: more harm
            },
            "cost": 1e6 + 5e5 * regime,
        }
    table = compare_table(records, plan, ["detected_share", "resolution_median_h", "harm_per_day"]).set_index(
        ["metric", "regime"]
    )
    share = table.loc[("detected_share", "integrated")]
    assert share["diff"] == pytest.approx(0.1) and share.diff_excludes_zero
    assert share.annual_cost == pytest.approx(1.5e6) and share.cost_per_unit == pytest.approx(5e5 / 10)
    assert table.loc[("resolution_median_h", "integrated")].cost_per_unit == pytest.approx(5e5 / 2)
    assert math.isnan(table.loc[("harm_per_day", "integrated")].cost_per_unit)  # paying more for worse: none
    assert math.isnan(table.loc[("detected_share", "fragmented")].cost_per_unit)
    lines = "\n".join(compare_lines(table.reset_index()))
    assert "(50,000 more per point gained)" in lines and "(250,000 more per hour saved)" in lines


def test_two_stage_replications_and_full_rounds():
    pilot = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    assert stein_replications(pilot / pilot.std(ddof=1), 0.5) == 31  # (t_{0.975,4} * 1 / 0.5)^2 = 30.8
    assert stein_replications(pilot, 100.0) == 5  # never fewer than the pilot
    assert full_rounds(7, 1, 4) == 8 and full_rounds(7, 2, 4) == 8 and full_rounds(5, 4, 2) == 5


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").glob("*.toml")), ids=lambda p: p.stem)
def test_every_ready_experiment_is_valid(path):
    experiment, _ = load_experiment(path)
    plan = plan_from_experiment(experiment, path)
    assert 0 < plan.n_runs <= 150 and len({plan.task(i).seed for i in range(plan.n_runs)}) == plan.replications
