"""Metrics on hand-written tables with answers worked out by hand, and invariants on a real run."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import citysim
from citysim.metrics import (
    busiest_units,
    calibration_table,
    chain_targets,
    channel_shares,
    compute_metrics,
    decomposition,
    detected_by_shares,
    detected_share,
    detected_share_by,
    gini,
    grid_time_split,
    handoffs_per_case,
    harm_by_type,
    hazard_warning,
    items_per_resident_year,
    needs_met,
    population_reach,
    reopened_share,
    resolution_target_shares,
    response_by,
    response_times,
    stage_minutes,
    street_centre_overload,
    table_counts,
    to_jsonable,
    transfers_per_case,
    unmet_need_by_cell,
    unmet_need_gini,
    utilisation_by,
    worst_best,
)
from citysim.metrics.calibration import dispatched_share, hotline_channel_shares
from citysim.metrics.response import COMPONENTS

NAN = np.nan

# ------------------------------------------------------------------ hand-written tables


def incidents(**columns) -> pd.DataFrame:
    """Five incidents of a tiny town; keyword arguments replace whole columns."""
    base = {
        "id": [0, 1, 2, 3, 4],
        "type": ["fire", "fire", "gas_leak", "complaint", "complaint"],
        "district_kind": ["urban", "urban", "rural", "rural", "rural"],
        "cell": [0, 0, 1, 1, 2],
        "cohort": ["young", "young", "young", "elderly", "elderly"],
        "hazard": [True, True, True, False, False],
        "occurred_at": [0.0, 0.0, 0.0, 0.0, 0.0],
        "detected_at": [1.0, 2.0, 3.0, 4.0, 10.0],
        "detected_by": ["sensor", "resident", "sensor", "patrol", "resident"],
        "channel": ["sensor", "phone", "sensor", "grid_worker", "app"],
        "intake_at": [1.5, 4.0, 3.0, 4.0, 12.0],
        "transfers": [0, 2, 0, 1, 0],
        "dispatched_at": [4.0, 5.0, 3.0, 6.0, NAN],
        "arrived_at": [12.0, 9.0, 8.0, NAN, NAN],
        "resolved_at": [60.0, 100.0, 18.0, NAN, 20.0],
        "harm_due_at": [30.0, 8.0, 200.0, NAN, NAN],
        "harmed_at": [NAN, 8.0, NAN, NAN, NAN],
        "reopened": [0, 1, 0, 0, 0],
        "status": ["resolved", "resolved", "resolved", "in_progress", "resolved"],
        "closed_unmet": [False, True, False, False, False],
    }
    base.update(columns)
    return pd.DataFrame(base)


def cells() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cell": [0, 1, 2, 3],
            "district_kind": ["urban", "rural", "rural", "rural"],
            "population": [100.0, 300.0, 100.0, 0.0],
            "sensors": [2, 0, 1, 0],
            "patrol_cycle_min": [600.0, 1440.0, 3000.0, NAN],
        }
    )


def units() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": ["sc1", "sc2", "desk:gas", "team:gas", "team:fire", "grid1", "grid2"],
            "kind": ["street_centre", "street_centre", "desk", "team", "team", "grid", "grid"],
            "department": [None, None, "gas", "gas", "fire", None, None],
            "on_duty_min": [100.0, 100.0, 50.0, 100.0, 300.0, 480.0, 480.0],
            "busy_min": [90.0, 40.0, 10.0, 20.0, 60.0, 40.0, 60.0],
            "paperwork_min": [NAN, NAN, NAN, NAN, NAN, 100.0, 100.0],
            "proactive_min": [NAN, NAN, NAN, NAN, NAN, 0.0, 100.0],
            "patrol_min": [NAN, NAN, NAN, NAN, NAN, 300.0, 300.0],
        }
    )


# ------------------------------------------------------------------ response


def test_response_times_over_five_incidents():
    r = response_times(incidents())
    # detection 1, 2, 3, 4, 10 min: p90 at position 3.6 -> 4 + 0.6 * 6
    assert r.loc["detect"].to_dict() == pytest.approx({"count": 5, "mean": 4.0, "median": 3.0, "p90": 7.6, "p95": 8.8})
    assert r.loc["dispatch", "count"] == 4
    assert r.loc["arrival"].to_dict() == pytest.approx(
        {"count": 3, "mean": 29 / 3, "median": 9.0, "p90": 11.4, "p95": 11.7}
    )
    assert r.loc["resolution", "median"] == pytest.approx(40.0)


def test_response_by_cohort_counts_only_incidents_that_got_there():
    r = response_by(incidents(), "cohort")
    assert r.loc[("young", "detect"), "p90"] == pytest.approx(2.8)
    assert r.loc[("elderly", "detect"), "mean"] == pytest.approx(7.0)
    assert r.loc[("elderly", "detect"), "p90"] == pytest.approx(9.4)
    assert r.loc[("elderly", "arrival"), "count"] == 0
    assert math.isnan(r.loc[("elderly", "arrival"), "median"])
    assert list(r.index.get_level_values("measure")[:4]) == [
        "detect",
        "dispatch",
        "arrival",
        "resolution",
    ]


def test_resolution_target_shares_per_type_and_overall():
    targets = {"fire": 90.0, "gas_leak": 10.0, "complaint": 30.0, "flood": 60.0}
    r = resolution_target_shares(incidents(), targets, horizon_min=200.0)
    assert r.loc["fire", ["incidents", "share"]].tolist() == [2, 0.5]
    assert r.loc["gas_leak", "share"] == 0.0
    # the one in progress was followed 200 min, past the 30-min target: it counts, as not met
    assert r.loc["complaint", "share"] == 0.5
    assert r.loc["flood", "incidents"] == 0 and math.isnan(r.loc["flood", "share"])
    assert r.loc["all", "incidents"] == 5 and r.loc["all", "share"] == pytest.approx(2 / 5)
    # followed only 20 min: whether the open complaint meets its 30-min target is not known
    assert math.isnan(resolution_target_shares(incidents(), targets, horizon_min=20.0).loc["complaint", "share"])


def test_fire_chain_and_methane_alert():
    r = chain_targets(incidents())
    fire = r["fire_react1_verify3_act5"]
    # fire 0: react 0.5, verify 3, act 11 (late); fire 1: react 2 (late), verify 3, act 7
    assert fire == {
        "type": "fire",
        "n": 2,
        "steps": {"react": 0.5, "verify": 1.0, "act": 0.5},
        "all": 0.0,
    }
    # the one gas leak found by a sensor: closed 15 min after detection
    assert r["methane_alert_closed_20min"]["steps"] == {"closed": 1.0}
    assert r["methane_alert_closed_20min"]["n"] == 1


def test_chain_of_a_missing_type_is_none():
    r = chain_targets(incidents(), {"flood": {"type": "flood", "within": {"act": ("arrived_at", 5.0)}}})
    assert r == {"flood": None}


def _stage_rows(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["incident_id", "attempt", "stage", "queued_at", "started_at", "ended_at"])


def decomposition_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    inc = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "type": ["repair", "repair", "repair", "consult"],
            "occurred_at": [0.0, 0.0, 0.0, 0.0],
            "detected_at": [2.0, 1.0, 1.0, 1.0],
            "dispatched_at": [5.0, 2.0, 2.0, NAN],
            "resolved_at": [50.0, 100.0, NAN, 3.0],
            "status": ["resolved", "resolved", "in_progress", "resolved"],
        }
    )
    stages = _stage_rows(
        [
            # incident 1: two teams sent at once (joint dispatch)
            (1, 0, "intake", 2.0, 3.0, 4.0),
            (1, 0, "dispatch", 4.0, 4.0, 5.0),
            (1, 0, "travel", 5.0, 10.0, 20.0),
            (1, 0, "travel", 5.0, 12.0, 25.0),
            (1, 0, "handling", 20.0, 20.0, 50.0),
            (1, 0, "handling", 25.0, 25.0, 30.0),
            (1, 0, "callback_wait", 50.0, 50.0, 900.0),
            # incident 2: closed too early, called back, reopened
            (2, 0, "intake", 1.0, 1.5, 2.0),
            (2, 0, "travel", 2.0, 2.0, 5.0),
            (2, 0, "handling", 5.0, 5.0, 10.0),
            (2, 0, "callback_wait", 10.0, 10.0, 40.0),
            (2, 0, "callback", 40.0, 40.5, 41.0),
            (2, 1, "dispatch", 41.0, 41.0, 45.0),
            (2, 1, "travel", 45.0, 47.0, 50.0),
            (2, 1, "handling", 50.0, 50.0, 100.0),
            (2, 1, "callback_wait", 100.0, 100.0, 500.0),
            # incident 3 is unresolved, incident 4 never dispatched: left out
            (3, 0, "intake", 1.0, 1.0, 2.0),
            (4, 0, "intake", 1.0, 1.0, 3.0),
        ]
    )
    return inc, stages


def test_stage_minutes_counts_parallel_teams_once():
    per = stage_minutes(*decomposition_tables())
    assert list(per.index) == [1, 2]
    one = per.loc[1].to_dict()
    # dispatch: the work order 4-5 plus the waits for free teams 5-10 and 5-12 (union 5-12)
    # travel: 10-20 and 12-25 overlap -> 15, not 23; handling 20-50 and 25-30 -> 30, not 35
    assert one == pytest.approx(
        {
            "detection": 2,
            "intake": 2,
            "transfers": 0,
            "data_wait": 0,
            "dispatch": 8,
            "handoffs": 0,
            "travel": 15,
            "handling": 30,
            "reopening": 0,
            "total": 50,
        }
    )


def test_stage_minutes_puts_later_attempts_into_reopening():
    two = stage_minutes(*decomposition_tables()).loc[2].to_dict()
    # reopening: call-back wait 30 + call-back 1 + second attempt 4 + 2 + 3 + 50;
    # the final call-back comes after closure
    assert two == pytest.approx(
        {
            "detection": 1,
            "intake": 1,
            "transfers": 0,
            "data_wait": 0,
            "dispatch": 0,
            "handoffs": 0,
            "travel": 3,
            "handling": 5,
            "reopening": 90,
            "total": 100,
        }
    )
    assert sum(two[c] for c in COMPONENTS) == pytest.approx(two["total"])


def test_decomposition_means_overall_and_by_type():
    inc, stages = decomposition_tables()
    overall = decomposition(inc, stages)
    assert overall.loc["all", "n"] == 2
    assert overall.loc["all", ["travel", "handling", "reopening", "total"]].tolist() == [
        9.0,
        17.5,
        45.0,
        75.0,
    ]
    by_type = decomposition(inc, stages, "type")
    assert list(by_type.index) == ["repair"]


def test_stage_minutes_when_no_part_is_a_single_row():
    # as in fork_joint.toml: two teams at once, so every part of every case has two rows
    inc, stages = decomposition_tables()
    both = stages[(stages.incident_id == 1) & stages.stage.isin(["travel", "handling"])]
    per = stage_minutes(inc, both)
    assert per.loc[1, ["travel", "handling"]].tolist() == [15, 30]


def test_union_minutes_equals_a_plain_sweep_over_each_groups_sorted_intervals():
    from citysim.metrics.response import _union_minutes

    rng = np.random.default_rng(3)
    n, groups = 4000, 900
    # nearly in group order, as stage rows come, with some rows moved to the end (travel waits)
    group = np.sort(rng.integers(0, groups, n))
    moved = rng.random(n) < 0.1
    group = np.concatenate([group[~moved], group[moved]])
    start = rng.integers(0, 50, n).astype(float)  # ties in start too
    end = start + rng.integers(1, 30, n)
    expected = np.zeros(groups)
    for g in range(groups):
        reach = -np.inf
        for i in np.lexsort((start, group))[group[np.lexsort((start, group))] == g]:
            expected[g] += max(end[i] - max(start[i], reach), 0.0)
            reach = max(reach, end[i])
    assert np.array_equal(_union_minutes(group, start, end, groups), expected)


def test_decomposition_of_nothing_is_nan_not_an_error():
    inc, stages = decomposition_tables()
    empty = decomposition(inc.iloc[:0], stages.iloc[:0])
    assert empty.loc["all", "n"] == 0 and math.isnan(empty.loc["all", "total"])


# ------------------------------------------------------------------ coverage


def test_detected_shares():
    inc = incidents(
        status=["resolved", "undetected", "resolved", "undetected", "in_progress"],
        detected_by=["sensor", None, "patrol", None, "sensor"],
    )
    assert detected_share(inc) == pytest.approx(0.6)
    assert detected_share_by(inc, "type").to_dict() == {
        "complaint": 0.5,
        "fire": 0.5,
        "gas_leak": 1.0,
    }
    assert detected_by_shares(inc).to_dict() == {"patrol": 0.2, "sensor": 0.4}


def test_hazard_warning_counts_only_hazards_due_by_the_horizon():
    r = hazard_warning(incidents(), horizon_min=100.0)
    # the gas leak is due at 200: not yet known;
    # fire 0 found at 1 (due 30), fire 1 at 2 (due 8) but harmed
    assert r.loc["all"].to_dict() == {"hazards": 2, "early_warning": 1.0, "averted": 0.5}
    assert hazard_warning(incidents(), horizon_min=300.0).loc["all", "hazards"] == 3
    assert hazard_warning(incidents(), 100.0, by="type").loc["fire", "averted"] == 0.5


def test_population_reach():
    r = population_reach(cells())
    assert r.loc["all"].to_dict() == {
        "population": 500.0,
        "sensor": 0.4,
        "daily_patrol": 0.8,
        "either": 1.0,
    }
    by_kind = population_reach(cells(), "district_kind")
    assert by_kind.loc["rural", ["sensor", "daily_patrol"]].tolist() == [0.25, 0.75]


# ------------------------------------------------------------------ inclusion


def test_gini_of_equal_values_is_zero():
    assert gini([3.0, 3.0, 3.0]) == 0.0
    assert gini([0.0, 0.0]) == 0.0


def test_gini_of_one_holding_everything():
    assert gini([0, 0, 0, 1]) == pytest.approx(0.75)
    assert gini([1, 3]) == pytest.approx(0.25)


def test_gini_weights_count_like_repeated_units():
    assert gini([0, 1], weights=[3, 1]) == pytest.approx(gini([0, 0, 0, 1]))
    assert gini([5, 0, 1], weights=[0, 2, 2]) == pytest.approx(gini([0, 1]))


def test_gini_refuses_negative_values():
    with pytest.raises(ValueError, match="non-negative"):
        gini([1, -1])


WEEK_PLUS = 8 * 1440.0  # a horizon that follows every incident of the hand-written town more than a week


def test_needs_met_by_cohort():
    r = needs_met(incidents(), "cohort", WEEK_PLUS)
    # young: 0 met (60 min), 1 closed unmet (resolved at 100 min: never met), 2 met (18 min);
    # elderly: 3 in progress (followed 8 days, not met within a week), 4 met (20 min)
    assert r.loc["young"].to_dict() == pytest.approx(
        {"incidents": 3, "share_met": 2 / 3, "median_resolve_min": 60.0, "never_reported": 0.0, "given_up": 0.0}
    )
    assert r.loc["elderly", "share_met"] == 0.5
    # followed less than a week, the share met within a week is not known
    assert needs_met(incidents(), "cohort", 200.0)["share_met"].isna().all()


def test_worst_best_ratio():
    r = worst_best(pd.Series({"urban": 0.8, "rural": 0.4, "mountain": NAN}))
    assert r == {
        "worst": "rural",
        "worst_share": 0.4,
        "best": "urban",
        "best_share": 0.8,
        "ratio": 0.5,
    }


def test_unmet_need_by_cell_and_its_gini():
    per = unmet_need_by_cell(incidents(), cells(), WEEK_PLUS)
    # unmet: incident 1 (cell 0, closed unmet), incident 3 (cell 1, in progress)
    assert per["unmet"].tolist() == [1, 1, 0, 0]
    assert per.loc[0, "unmet_per_resident"] == pytest.approx(0.01)
    # 100 residents at 0.01, 300 at 1/300, 100 at 0 (the empty cell is left out)
    expected = gini([0.01, 1 / 300, 0.0], [100, 300, 100])
    assert unmet_need_gini(incidents(), cells(), WEEK_PLUS) == pytest.approx(expected)
    assert expected == pytest.approx(0.4)


# ------------------------------------------------------------------ harm and cost


def test_harm_by_type():
    r = harm_by_type(incidents(), population=2e6, horizon_min=2 * 1440)
    assert r.loc["fire", ["hazards", "harmed"]].tolist() == [2, 1]
    assert r.loc["all", "harmed"] == 1
    assert r.loc["all", "per_million_day"] == pytest.approx(0.25)
    assert "complaint" not in r.index


def test_transfers_handoffs_and_reopenings():
    inc = incidents()
    assert transfers_per_case(inc) == {"dispatched": 0.75, "detected": 0.6}
    stages = _stage_rows(
        [
            (0, 0, "handoff_wait", 1, 1, 2),
            (0, 0, "handoff_wait", 3, 3, 4),
            (4, 0, "handoff_wait", 1, 1, 2),
        ]
    )
    assert handoffs_per_case(inc, stages) == 0.5  # two hand-offs over four dispatched cases
    assert reopened_share(inc) == pytest.approx(0.2)


def test_utilisation_by_kind_and_department():
    u = units()
    assert utilisation_by(u, "kind").to_dict() == pytest.approx(
        {"desk": 0.2, "grid": 100 / 960, "street_centre": 0.65, "team": 0.2}
    )
    by_dept = utilisation_by(u[u.kind == "team"], ["kind", "department"])
    assert by_dept.to_dict() == pytest.approx({("team", "fire"): 0.2, ("team", "gas"): 0.2})


def test_busiest_units_names_units_not_a_pool_of_them():
    # street centres pooled are 65% busy; one of them is 90% busy, the other 40%
    assert busiest_units(units()).to_dict() == pytest.approx({"sc1": 0.9, "sc2": 0.4, "desk:gas": 0.2})


def test_grid_time_split():
    split = grid_time_split(units())
    assert split.to_dict() == pytest.approx({"paperwork": 0.2, "proactive": 0.1, "patrol": 0.6, "tasks": 0.1})


def test_street_centre_overload():
    assert street_centre_overload(units()) == {
        "centres": 2,
        "overloaded_share": 0.5,
        "max_utilisation": 0.9,
    }
    assert street_centre_overload(units(), threshold=0.95)["overloaded_share"] == 0.0


# ------------------------------------------------------------------ calibration


def test_hotline_items_and_channels():
    inc = incidents()
    # hotline items: incident 1 (phone, dispatched) and 4 (app, not dispatched)
    assert items_per_resident_year(inc, population=1000, horizon_min=1440) == pytest.approx(2 / 1000 * 365)
    assert hotline_channel_shares(inc) == {"phone": 0.5, "online": 0.5}
    assert dispatched_share(inc) == 0.5
    shares = channel_shares(inc)
    assert shares["sensor"] == 0.4 and shares["online"] == 0.0
    assert shares.sum() == pytest.approx(1.0)


def test_calibration_table_side_by_side():
    sourced = SimpleNamespace(
        items_per_resident_year=0.5,
        phone_share=0.9,
        online_share=None,
        dispatched_share=0.4,
        source="Beijing 12345, 2020",
    )
    t = calibration_table(incidents(), 1000, 1440, sourced)
    assert t["phone_share"] == {"simulated": 0.5, "sourced": 0.9}
    assert t["online_share"]["sourced"] is None
    assert t["source"] == "Beijing 12345, 2020"
    assert calibration_table(incidents(), 1000, 1440)["dispatched_share"]["sourced"] is None


# ------------------------------------------------------------------ the whole dict


def test_to_jsonable_turns_nan_into_none():
    out = to_jsonable({"a": np.float64(NAN), 1: np.int64(3), "s": pd.Series({"x": np.inf}), "b": np.bool_(True)})
    assert out == {"a": None, "1": 3, "s": {"x": None}, "b": True}
    assert type(out["1"]) is int


def test_table_counts():
    alerts = pd.DataFrame({"true_alarm": [True, False, False], "outcome": ["work_order", "filtered", "dismissed"]})
    stages = _stage_rows([(0, 0, "intake", 1, 1, 2)])
    c = table_counts({"incidents": incidents(), "alerts": alerts, "stages": stages})
    assert c["by_status"] == {"resolved": 4, "in_progress": 1, "undetected": 0, "gave_up": 0}
    assert c["alerts"] == {
        "true": 1,
        "false": 2,
        "by_outcome": {"dismissed": 1, "filtered": 1, "work_order": 1},
    }
    assert c["stage_rows"] == 1


# ------------------------------------------------------------------ a real run


@pytest.fixture(scope="module")
def run() -> citysim.Result:
    return citysim.simulate("scenarios/small.toml", days=3, warmup_days=0, follow_up_days=0)


def _shares(m: dict) -> list[float]:
    """Every leaf of the metrics that is a share."""
    cov, inc, cost, cal = m["coverage"], m["inclusion"], m["cost"], m["calibration"]
    out = [
        cov["detected"]["overall"],
        *cov["detected"]["by_type"].values(),
        *cov["detected"]["by_detected_by"].values(),
    ]
    for h in [cov["hazards"]["overall"], *cov["hazards"]["by_type"].values()]:
        out += [h["early_warning"], h["averted"]]
    for r in [cov["population"]["overall"], *cov["population"]["by_district_kind"].values()]:
        out += [r["sensor"], r["daily_patrol"], r["either"]]
    for g in [*inc["by_cohort"].values(), *inc["by_district_kind"].values()]:
        out += [g["share_met"], g["never_reported"]]
    out += [
        inc["ratio"]["cohort"]["ratio"],
        inc["ratio"]["district_kind"]["ratio"],
        inc["gini_unmet_need"],
    ]
    out += [
        cost["reopened_share"],
        *cost["grid_time"].values(),
        *cost["utilisation"]["by_kind"].values(),
    ]
    out += [cost["street_centres"]["overloaded_share"], cost["street_centres"]["max_utilisation"]]
    out += [cal[k]["simulated"] for k in ("phone_share", "online_share", "dispatched_share")]
    out += [*cal["channel_shares"].values(), m["targets"]["resolution"]["overall"]]
    for chain in m["targets"]["chains"].values():
        if chain is not None:
            out += [*chain["steps"].values(), chain["all"]]
    return [x for x in out if x is not None]


def test_real_run_metrics_round_trip_through_json(run):
    m = compute_metrics(run.tables, run.window, run.scenario, regime=run.regime)
    assert set(m) == {
        "window",
        "headline",
        "survival",
        "response",
        "decomposition",
        "targets",
        "coverage",
        "inclusion",
        "harm",
        "cost",
        "calls",
        "calibration",
        "ledger",
        "stability",
        "counts",
    }
    assert json.loads(json.dumps(m, allow_nan=False)) == m
    run_block = run.metrics["run"]  # a run's metrics open with what was run (not a metric of its tables)
    assert run_block["complete"] and run_block["window"] == m["window"]
    assert set(run.metrics) == {"run", *m}  # streamed as the run went: tests/test_stream.py compares the figures


def test_real_run_without_a_scenario_has_no_targets_or_sourced_figures(run):
    m = compute_metrics(run.tables, run.window)
    assert m["targets"]["resolution"] is None
    assert m["calibration"]["items_per_resident_year"]["sourced"] is None
    assert m["calibration"]["source"] == ""
    assert m["response"] == compute_metrics(run.tables, run.window, run.scenario)["response"]


def test_real_run_shares_are_shares(run):
    shares = _shares(run.metrics)
    assert len(shares) > 40
    assert all(0.0 <= s <= 1.0 for s in shares), [s for s in shares if not 0 <= s <= 1]


def test_real_run_response_times_grow_along_the_chain(run):
    r = run.metrics["response"]["overall"]
    assert r["detect"]["count"] >= r["dispatch"]["count"] >= r["arrival"]["count"] > 0
    for s in r.values():
        assert s["median"] <= s["p90"] <= s["p95"]
    assert r["detect"]["median"] <= r["dispatch"]["median"] <= r["arrival"]["median"]


def test_real_run_decomposition_accounts_for_the_time(run):
    per = stage_minutes(run.incidents, run.stages)
    assert len(per) > 50
    assert (per[list(COMPONENTS)] >= 0).all().all()
    parts = per[list(COMPONENTS)].sum(axis=1)
    # stages follow each other without gaps, so the parts cover the whole time;
    # parallel teams overlap across parts (a team travels while another handles),
    # so only incidents with one team per attempt add up exactly
    assert (parts >= per["total"] - 1e-6).all()
    travel = run.stages[run.stages.stage == "travel"]
    teams = travel.groupby(["incident_id", "attempt"]).size().groupby(level=0).max()
    one_team = per.index.intersection(teams[teams == 1].index)
    assert len(one_team) > 0.5 * len(per)
    assert np.allclose(parts[one_team], per.loc[one_team, "total"], atol=1e-6)


def test_real_run_counts_match_the_tables(run):
    c = run.metrics["counts"]
    assert c["incidents"] == len(run.incidents) == sum(c["by_status"].values())
    assert c["stage_rows"] == len(run.stages)
    assert c["alerts"]["true"] + c["alerts"]["false"] == len(run.alerts)


def test_daily_p90_wait_is_numpys_percentile_to_the_last_bit():
    """The daily table's 90th-percentile wait: numpy's percentile exactly, through its shortcut and without it."""
    from citysim.daily import p90

    rng = np.random.default_rng(5)
    misleading = np.zeros(50_000)  # the values sampled are all zeros, most others are not: no shortcut
    misleading[np.arange(50_000) % (50_000 // 1024) != 0] = 1e9
    cases = [misleading, np.full(10_000, 3.25), rng.exponential(10, 7), np.sort(rng.random(9_000))[::-1].copy()]
    for n in (4_096, 5_003, 80_000, 300_001):
        cases += [rng.exponential(10, n), np.round(rng.exponential(3, n), 1), np.where(rng.random(n) < 0.93, 0, 1.5)]
    for x in cases:
        assert p90(x) == float(np.percentile(x, 90))
