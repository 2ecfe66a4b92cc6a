"""The dashboard's adapter, levers and command, without a browser."""

from __future__ import annotations

import socket
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import citysim
from citysim.cli import main
from citysim.dashboard.agents import street_rows
from citysim.dashboard.classroom import Classroom
from citysim.dashboard.levers import CHINESE_TERMS, lever_controls, plain_value
from citysim.dashboard.live import LiveCity
from citysim.regimes import LEVERS, presets
from tests.conftest import SMALL


@pytest.fixture(scope="module")
def small():
    return citysim.load_scenario(SMALL)


@pytest.mark.parametrize("regime", ["fragmented", "integrated"])
def test_hourly_tallies_equal_the_tables_of_a_run_to_that_hour(small, regime):
    city = LiveCity(small, small.regime_named(regime), seed=3)
    duty = {}
    for hour in range(1, 97):
        city.step()
        if hour in (3, 12):  # the street table: grid workers on duty only on their day shift
            duty[hour] = {row[1] for row in street_rows(city.model, 0) if str(row[0]).startswith("grid worker")}
    assert duty == {3: {0}, 12: {1}}
    look = city.look()
    result = citysim.simulate(small, regime=regime, seed=3, days=4, warmup_days=small.warmup_days, follow_up_days=0)
    inc = result.incidents
    assert look.counter("incidents") == len(inc)
    assert look.counter("detected") == inc.detected_at.notna().sum()
    assert look.counter("resolved") == inc.resolved_at.notna().sum()
    assert look.counter("harmed") == inc.harmed_at.notna().sum()
    assert look.counter("transfers") == (result.stages.stage == "transfer").sum()
    assert look.counter("mean_resolve_h") == pytest.approx((inc.resolved_at - inc.occurred_at).mean() / 60)
    met = (inc.status == "resolved") & ~inc.closed_unmet
    by_cohort = met.groupby(inc.cohort.astype(str)).mean().reindex(list(small.cohorts)).to_numpy()
    np.testing.assert_allclose(look.met_share[-1], by_cohort)
    assert look.open_by_cell.sum() == inc.resolved_at.isna().sum()


def test_a_replayed_classroom_looks_exactly_like_one_stepped_there(small):
    left, right = presets()["fragmented"], presets()["integrated"]
    stepped = Classroom(str(SMALL), left, right, seed=2)
    for _ in range(30):
        stepped.step()
    replayed = Classroom(str(SMALL), left, right, seed=2, hours=30)
    for a, b in zip(stepped.looks(), replayed.looks(), strict=True):
        assert a.hours == b.hours == 30
        for name in a.series:
            np.testing.assert_array_equal(a.series[name], b.series[name])
        assert a.stories.keys() == b.stories.keys()
    assert stepped.followed_id() == replayed.followed_id()


def test_both_panels_see_the_same_incidents(small):
    room = Classroom(str(SMALL), presets()["fragmented"], presets()["integrated"], seed=1, hours=12)
    left, right = room.looks()
    assert left.counter("incidents") == right.counter("incidents")
    for i in room.first_ids:
        a, b = left.stories[i], right.stories[i]
        assert (a.type, a.occurred_at, a.cell) == (b.type, b.occurred_at, b.cell)


def test_every_lever_has_a_control_and_a_chinese_term():
    controls = lever_controls()
    assert [c.name for c in controls] == list(LEVERS)
    assert set(CHINESE_TERMS) == set(LEVERS)
    kinds = {c.name: c.kind for c in controls}
    assert kinds["intake"] == "choice" and kinds["offline_channels"] == "switch" and kinds["data_sharing"] == "number"
    slider = next(c for c in controls if c.name == "data_approval_delay_h")
    assert (slider.low, slider.high) == (0.0, 144.0)  # open above: twice the largest preset


def test_a_lever_value_in_plain_language_comes_from_the_schema():
    assert plain_value(presets()["integrated"], "intake").startswith("one hotline/app whose operators classify")
    assert plain_value(presets()["fragmented"], "offline_channels").startswith("yes: residents can report")


def run(*args):
    return CliRunner().invoke(main, ["dashboard", *args])


def test_dashboard_port_out_of_range_is_one_error_line():
    result = run(str(SMALL), "--port", "70000")
    assert result.exit_code == 2
    assert result.output == "error: --port: 70000 is not between 0 and 65535 (0: any free port)\n"


def test_dashboard_port_in_use_is_one_error_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run(str(SMALL), "--port", str(port))
    assert result.exit_code == 2
    assert result.output.startswith(f"error: --port: cannot listen on 127.0.0.1:{port} (")
    assert result.output.endswith("try another --port\n")


def test_dashboard_missing_scenario_is_one_error_line():
    result = run("no/such.toml")
    assert result.exit_code == 2
    assert result.output.startswith("error: no/such.toml: no such file, and not a shipped scenario;")


def test_dashboard_without_the_viz_extra_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "solara", None)  # as if not installed
    result = run(str(SMALL))
    assert result.exit_code == 2
    assert result.output == "error: the dashboard needs the viz extra: pip install 'citysim[viz]'\n"
