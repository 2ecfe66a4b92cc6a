"""The measurement contract: warm-up, window, follow-up; censoring; figures that do not move with run length."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

import citysim
from citysim.cli import main
from citysim.metrics.headline import HEADLINE_KINDS, headline
from citysim.metrics.survival import clock_survival, kaplan_meier
from citysim.window import Stop, Window

from .conftest import SMALL


def test_only_the_windows_incidents_are_written_and_units_are_accounted_over_it(small):
    run = citysim.simulate(small, "integrated", seed=4, days=3, warmup_days=2, follow_up_days=2)
    inc = run.incidents
    assert inc["occurred_at"].min() >= 2 * 1440 and inc["occurred_at"].max() < 5 * 1440
    assert (np.diff(inc["id"].to_numpy()) == 1).all()  # every incident of the window, none left out
    assert set(run.stages["incident_id"]) <= set(inc["id"])
    # field teams are on duty round the clock: over exactly the window's 3 days (no overtime for teams here)
    team = run.units[run.units["kind"] == "team"]
    assert team["on_duty_min"].to_numpy() == pytest.approx(team["staff_hours_per_day"].to_numpy() * 60 * 3, rel=0.01)
    assert run.metrics["window"] == {"warmup_days": 2, "days": 3, "follow_up_days": 2}
    # the same incidents occur with no warm-up: the window's are the same whatever is around it
    other = citysim.simulate(small, "fragmented", seed=4, days=7, warmup_days=0, follow_up_days=0).incidents
    same = other[(other["occurred_at"] >= 2 * 1440) & (other["occurred_at"] < 5 * 1440)]
    assert same["occurred_at"].to_numpy() == pytest.approx(inc["occurred_at"].to_numpy())


def test_a_windowed_run_is_reproduced_from_its_run_toml(tmp_path):
    runner = CliRunner()
    out1, out2 = tmp_path / "a", tmp_path / "b"
    args = ["--days", "2", "--warmup-days", "1", "--follow-up-days", "1", "--quiet", "--no-figures"]
    first = runner.invoke(main, ["run", str(SMALL), *args, "--out", str(out1)])
    assert first.exit_code == 0, first.output
    record = tomllib.loads((out1 / "run.toml").read_text())["citysim_run"]
    assert (record["warmup_days"], record["days"], record["follow_up_days"]) == (1, 2, 1)
    again = runner.invoke(main, ["run", str(out1 / "run.toml"), "--quiet", "--no-figures", "--out", str(out2)])
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(
        pd.read_parquet(out1 / "incidents.parquet"), pd.read_parquet(out2 / "incidents.parquet")
    )
    assert "warm-up 1 d, window 2 d, follow-up 1 d" in first.output


def test_fractional_windows_are_refused():
    with pytest.raises(ValueError, match="whole number"):
        Window(days=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1"):
        Window(days=0)


# ------------------------------------------------------------------ censoring


def test_kaplan_meier_agrees_with_the_exponential_it_was_drawn_from():
    rng = np.random.default_rng(3)
    t, c = rng.exponential(10.0, 20_000), rng.uniform(0, 30.0, 20_000)
    s = kaplan_meier(np.minimum(t, c), t <= c)
    assert s.at(10.0) == pytest.approx(math.exp(-1), abs=0.01)
    assert s.quantile(0.5) == pytest.approx(10 * math.log(2), rel=0.03)
    assert s.restricted_mean(20.0) == pytest.approx(10 * (1 - math.exp(-2)), rel=0.02)
    assert math.isnan(s.quantile(0.99))  # beyond what 30 minutes of follow-up can tell
    assert math.isnan(s.at(31.0))


def _town(resolved_h: list[float | None], horizon_h: float = 48.0) -> pd.DataFrame:
    n = len(resolved_h)
    resolved = [np.nan if r is None else 60.0 * r for r in resolved_h]
    return pd.DataFrame(
        {
            "id": range(n),
            "type": ["complaint"] * n,
            "cohort": ["a"] * n,
            "district_kind": ["urban"] * n,
            "cell": [0] * n,
            "hazard": [False] * n,
            "occurred_at": [0.0] * n,
            "detected_at": [30.0] * n,
            "dispatched_at": [60.0] * n,
            "resolved_at": resolved,
            "harm_due_at": [np.nan] * n,
            "harmed_at": [np.nan] * n,
            "transfers": [0] * n,
            "closed_unmet": [False] * n,
        }
    )


def test_counting_resolved_cases_only_would_favour_the_slower_regime_and_survival_does_not():
    # A resolves half its cases in 5 h and leaves half open past the 48 h horizon; B resolves all in 12 h
    a = _town([5.0] * 50 + [None] * 50)
    b = _town([12.0] * 100)
    resolved_only = [float((x["resolved_at"] - x["occurred_at"]).mean()) / 60 for x in (a, b)]
    assert resolved_only[0] < resolved_only[1]  # the biased view: A looks faster
    cells = pd.DataFrame({"cell": [0], "population": [1000.0]})
    ha, hb = (headline(x, cells, horizon_min=48 * 60.0, window_days=1) for x in (a, b))
    assert ha["resolved_within_24h"] == 0.5 and hb["resolved_within_24h"] == 1.0
    assert math.isnan(ha["resolution_p90_h"]) and hb["resolution_p90_h"] == 12.0
    sa = clock_survival(a, "occurred_at", "resolved_at", 48 * 60.0)
    sb = clock_survival(b, "occurred_at", "resolved_at", 48 * 60.0)
    assert sa.restricted_mean(48 * 60.0) > sb.restricted_mean(48 * 60.0)  # A is the slower, as it should
    assert ha["open_at_end"] == 0.5


def test_kaplan_meier_of_a_run_matches_scipy_on_the_same_data(small):
    run = citysim.simulate(small, "fragmented", seed=2, days=3, warmup_days=0, follow_up_days=2)
    inc, horizon = run.incidents, run.window.horizon_min
    s = clock_survival(inc, "occurred_at", "resolved_at", horizon)
    t = (inc["resolved_at"] - inc["occurred_at"]).to_numpy(dtype=float)
    open_ = np.isnan(t)
    ref = stats.ecdf(stats.CensoredData(uncensored=t[~open_], right=horizon - inc["occurred_at"].to_numpy()[open_]))
    grid = np.array([60.0, 600.0, 1440.0, 2880.0])
    assert s.at(grid) == pytest.approx(ref.sf.evaluate(grid))
    assert set(run.metrics["headline"]) == set(HEADLINE_KINDS)


# ------------------------------------------------------------------ a run stopped early


@pytest.mark.parametrize("stop_after", [3, 19, 25])  # in the window, in a window of two weeks, in the follow-up
def test_a_run_cut_between_days_is_the_run_of_the_shorter_window_row_for_row(small, tmp_path, stop_after):
    from citysim.events import ParquetSink
    from citysim.model import CityModel

    asked = Window(days=20, warmup_days=2, follow_up_days=5)
    regime = small.regime_named("fragmented")
    cut = CityModel(small, regime, seed=3, window=asked, sink=ParquetSink(tmp_path / "cut"))
    while cut.day < stop_after:
        cut.step()
    cut.cut()
    assert cut.window == asked.cut(stop_after)
    CityModel(small, regime, seed=3, window=cut.window, sink=ParquetSink(tmp_path / "whole")).run()
    for name in ("incidents", "stages", "alerts", "units", "daily", "cells"):
        assert (tmp_path / "cut" / f"{name}.parquet").read_bytes() == (
            tmp_path / "whole" / f"{name}.parquet"
        ).read_bytes(), name


def test_where_a_stop_leaves_the_window():
    asked = Window(days=14, warmup_days=21, follow_up_days=7)
    assert [asked.cut(d) for d in (0, 21)] == [None, None]
    assert asked.cut(26) == Window(days=5, warmup_days=21)
    assert asked.cut(35) == Window(days=14, warmup_days=21)
    assert asked.cut(38) == Window(days=14, warmup_days=21, follow_up_days=3)
    assert asked.cut(99) == asked
    stop = Stop("SIGTERM", asked, 38)
    assert (stop.period, stop.stopped) == ("follow_up", "interrupted (SIGTERM)")
    assert stop.describe() == (
        "INTERRUPTED (SIGTERM) in the follow-up, after 3 of its 7 days: the window is whole, "
        "its cases followed 3 days after it"
    )
