"""Staff are a budget per function, placed by the regime: the same headcount, organised differently."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import citysim
from citysim.city import build_city
from citysim.errors import ScenarioError
from citysim.rng import Streams
from citysim.scenario import scenario_from_dict
from citysim.staffing import FUNCTIONS, place
from citysim.units import UNIT_KINDS, build_units, unstaffed

from .conftest import ROOT

CITIES = ("small", "chongqing", "beijing", "shanghai", "chengdu")
PRESETS = ("fragmented", "integrated", "tech_only", "institution_only")


@pytest.fixture(scope="module", params=CITIES)
def city(request):
    sc = citysim.load_scenario(ROOT / "scenarios" / f"{request.param}.toml")
    return sc, build_city(sc, Streams(1))


def _by_function(units) -> pd.Series:
    return pd.Series(units.staff_hours).groupby(np.array(FUNCTIONS)[units.function]).sum()


def test_every_function_has_the_same_staff_hours_under_every_preset(city):
    sc, c = city
    ledgers = {name: _by_function(build_units(sc, c, sc.regime_named(name))) for name in PRESETS}
    for name in PRESETS[1:]:
        pd.testing.assert_series_equal(ledgers[name], ledgers[PRESETS[0]], check_names=False)
    assert set(ledgers[PRESETS[0]].index) == set(FUNCTIONS)


def test_no_unit_with_work_is_left_without_staff_and_street_centres_keep_their_night_duty(city):
    sc, c = city
    for name in PRESETS:
        regime = sc.regime_named(name)
        units = build_units(sc, c, regime)  # refuses a unit with work and nobody ever on duty
        gaps = unstaffed(sc, c, regime, units)
        assert {kind for kind, *_ in gaps} <= {"grid"}  # only grid workers keep office hours (8-hour shifts)
        street = units.servers_by_hour[units.street_centre]
        night = ~np.isin(np.arange(24), np.arange(*sc.city.day_hours))
        assert (street[:, night] >= sc.centres.street.min_on_duty).all()  # "one person on night duty"


def test_pooling_moves_call_takers_between_the_city_hotline_and_department_lines(small):
    c = build_city(small, Streams(1))
    unified = build_units(small, c, small.regime_named("integrated"))
    split = build_units(small, c, small.regime_named("institution_only"))
    city_intake = UNIT_KINDS.index("city_intake")
    assert unified.servers_by_hour[unified.city_intake].sum() > 0
    assert unified.servers_by_hour[unified.hotline].sum() == 0
    assert split.servers_by_hour[split.city_intake].sum() == 0
    assert (split.servers_by_hour[split.hotline].sum(axis=1) > 0).all()
    assert (unified.kind == city_intake).sum() == 1
    # district dispatchers: in the district centre when dispatching at the lowest level, at the desks otherwise
    escalation = build_units(small, c, small.regime_named("fragmented"))
    assert escalation.servers_by_hour[escalation.district_centre].sum() == 0
    assert unified.servers_by_hour[unified.district_centre].sum() > 0
    assert escalation.servers_by_hour[escalation.desk].sum() > unified.servers_by_hour[unified.desk].sum()


def test_place_keeps_the_total_and_the_minimum():
    target = np.array([[3.0, 0.2, 0.0], [1.0, 1.0, 1.0]])
    out = place(12, target, np.ones((2, 3), dtype=np.int64))
    assert out.sum() == 12
    assert out[0, 2] == 0 and (out[target > 0] >= 1).all()
    with pytest.raises(ScenarioError, match="minimum on duty"):
        place(3, target, np.ones((2, 3), dtype=np.int64))


def test_a_positive_rate_that_rounds_to_nobody_gets_the_minimum_and_an_explicit_zero_with_work_is_refused(small_dict):
    d = copy.deepcopy(small_dict)
    d["departments"]["water"]["teams_per_100k"] = {k: 0.001 for k in ("core", "urban", "suburban", "rural", "mountain")}
    sc = scenario_from_dict(d, "tiny rate")
    c = build_city(sc, Streams(1))
    units = build_units(sc, c, sc.regime_named("integrated"))
    water = list(sc.departments).index("water")
    assert (units.servers_by_hour[units.team[water]] == 1).all()  # 0.001 per 100k rounds to 0: one crew
    d["departments"]["water"]["teams_per_100k"] = {k: 0.0 for k in ("core", "urban", "suburban", "rural", "mountain")}
    sc = scenario_from_dict(d, "no water crews")
    with pytest.raises(ScenarioError, match=r"departments\.water\.teams_per_100k\.urban: nobody on duty"):
        build_units(sc, build_city(sc, Streams(1)), sc.regime_named("integrated"))


def test_the_ledger_counts_the_servers_the_engine_built(small):
    run = citysim.simulate(small, "fragmented", seed=2, days=1, warmup_days=0, follow_up_days=0)
    ledger = run.metrics["ledger"]["by_function"]
    units = build_units(small, build_city(small, Streams(2)), run.regime)
    expected = _by_function(units)
    assert {k: v["staff_hours_per_day"] for k, v in ledger.items()} == expected.astype(float).to_dict()
    # on duty hour by hour, summed over the call centre's units, as built
    call = units.servers_by_hour[np.array(FUNCTIONS)[units.function] == "call_centre"].sum(axis=0)
    assert ledger["call_centre"]["on_duty_by_hour"] == call.astype(float).tolist()


def test_duty_clock_counts_server_minutes_as_staffing_changes(monkeypatch):
    """Minutes on duty added only when a unit's staffing changes: the same sums as adding every unit's
    servers at every change (whole servers, whole minutes: exact), compiled and in numpy."""
    from citysim import accounting

    rng = np.random.default_rng(5)
    n = 500
    start = rng.integers(0, 4, n)
    changes = [(float(t), np.where(rng.random(n) < 0.2, rng.integers(-1, 6, n), -9)) for t in range(60, 5 * 1440, 60)]
    clocks = []
    assert accounting._add_duty is not accounting._add_duty_numpy  # numba's, where installed
    for impl in (accounting._add_duty, accounting._add_duty_numpy):
        monkeypatch.setattr(accounting, "_add_duty", impl)
        clock = accounting.DutyClock(start)
        servers = start.astype(float)
        for t, new in changes:
            servers = np.where(new == -9, servers, new)
            clock.change(servers.astype(np.int64), t)
        clocks.append(clock.close(5 * 1440.0).copy())
    # every unit's servers added at every change, as counted before
    servers, since, naive = start.astype(float), 0.0, np.zeros(n)
    for t, new in changes:
        naive += servers * (t - since)
        since, servers = t, np.where(new == -9, servers, new).astype(float)
    naive += servers * (5 * 1440.0 - since)
    np.testing.assert_array_equal(clocks[0], naive)
    np.testing.assert_array_equal(clocks[1], naive)
    assert any((new == -1).any() for _, new in changes) and naive.min() < naive.max()
