"""How calls and cases queue: each mechanism moves what it acts on, on the same incidents.

Paired runs of the busy town (one seed: the same incidents at the same places
and times under both settings), under ``fragmented``, whose department hotlines
are where callers hang up. Only the scenario's ``[queueing]`` table or an
incident type's entry differs between the two runs of a pair.
"""

from __future__ import annotations

import copy
from functools import cache

import numpy as np
import pandas as pd
import pytest

import citysim
from tests.conftest import town

DAYS = 5
URGENT = ["gas_leak", "fire", "landslide_risk"]  # severity 4-5: class 0 under the shipped mapping
ROUTINE = ["urban_complaint", "municipal_repair", "water_supply", "environmental_complaint", "traffic_problem"]


@pytest.fixture(scope="module")
def run(small_dict):
    """``run(regime, change)``: the busy town, with ten times the hazards, and one named change."""
    base = copy.deepcopy(small_dict)
    for name in ("gas_leak", "fire", "landslide_risk"):
        base["incident_types"][name]["rate_per_1000_day"] *= 10

    changes = {
        "none": lambda d: None,
        "patient": lambda d: d["queueing"]["patience"].update(phone={"dist": "exponential", "mean": 26.0}),
        "no_priority": lambda d: d["queueing"].update(priority_by_severity=[0, 0, 0, 0, 0]),
        "no_emergency_line": lambda d: [d["incident_types"][t].update(emergency_line=False) for t in URGENT[:2]],
        "uniform_misroutes": lambda d: [t.pop("confused_with", None) for t in d["incident_types"].values()],
        "narrow_misroutes": lambda d: [
            t.update(confused_with=dict([max(t["confused_with"].items(), key=lambda kv: kv[1])]))
            for t in d["incident_types"].values()
            if t.get("confused_with")
        ],
    }

    @cache
    def _run(regime: str, change: str) -> citysim.Result:
        d = copy.deepcopy(base)
        changes[change](d)
        return citysim.simulate(town(d, 8.0), regime=regime, seed=11, days=DAYS)

    return _run


def test_longer_patience_raises_the_connection_rate_and_cuts_needs_given_up(run):
    short, long = run("fragmented", "none").metrics, run("fragmented", "patient").metrics
    assert short["calls"]["overall"]["hung_up"] > 50  # the hotlines are busy enough for callers to hang up
    assert long["headline"]["connection_rate"] > short["headline"]["connection_rate"] + 0.05
    assert long["headline"]["needs_given_up_share"] < short["headline"]["needs_given_up_share"]


def _queue_wait(result: citysim.Result, types: list[str]) -> float:
    """Mean wait for a server (started - queued) over every service step of incidents of these types."""
    s, i = result.stages, result.incidents
    ids = i.id[i.type.isin(types)]
    served = s[s.unit.notna() & s.started_at.notna() & s.incident_id.isin(ids)]
    return float((served.started_at - served.queued_at).mean())


def test_priority_cuts_the_urgent_class_wait_and_raises_the_others(run):
    # institution_only: grid workers and street centres take many kinds of case, where the classes meet
    fifo, prio = run("institution_only", "no_priority"), run("institution_only", "none")
    assert _queue_wait(prio, URGENT) < 0.5 * _queue_wait(fifo, URGENT)
    assert _queue_wait(prio, ROUTINE) > _queue_wait(fifo, ROUTINE)


def _harm_share(result: citysim.Result) -> float:
    i = result.incidents
    hot = i[i.type.isin(URGENT[:2])]
    return float(hot.harmed_at.notna().mean())


def test_the_emergency_line_cuts_fire_and_gas_harm(run):
    for regime in ("fragmented", "integrated"):
        without, line = run(regime, "no_emergency_line"), run(regime, "none")
        assert _harm_share(line) < _harm_share(without), regime
    i = run("fragmented", "none").incidents
    assert (i.transfers[i.type.isin(URGENT[:2])] == 0).all()  # an emergency line is never misrouted


def _transfers_per_misroute(result: citysim.Result) -> float:
    i = result.incidents
    return float(i.transfers[i.transfers > 0].mean())


def test_a_confusion_table_cuts_transfers_per_misroute(run):
    uniform, narrow = run("fragmented", "uniform_misroutes"), run("fragmented", "narrow_misroutes")
    assert _transfers_per_misroute(narrow) < 0.95 * _transfers_per_misroute(uniform)
    assert narrow.incidents.transfers.max() < uniform.incidents.transfers.max()


def test_a_misrouted_case_goes_only_where_its_type_is_plausibly_confused(run):
    r = run("fragmented", "none")
    s, i = r.stages, r.incidents
    traffic = i.id[i.type == "traffic_problem"]  # confused only with urban management
    hops = s[(s.stage == "transfer") & s.incident_id.isin(traffic) & s.unit.notna()]
    assert len(hops) > 5
    assert set(hops.unit.astype(str).str.split("[:@]", regex=True).str[1]) == {"urban_management", "transport"}


def _patience_seen(result: citysim.Result) -> pd.Series:
    """Each hung-up first call's patience (ended - queued), by (incident, try)."""
    s = result.stages
    calls = s[(s.stage == "intake") & (s.attempt == 0)].copy()
    calls["try"] = calls.groupby("incident_id").cumcount()
    hung = calls[calls.started_at.isna() & calls.ended_at.notna()]
    return (hung.ended_at - hung.queued_at).set_axis(pd.MultiIndex.from_frame(hung[["incident_id", "try"]]))


def test_an_incidents_extra_redials_never_shift_another_incidents_draws(run):
    """Patience comes from each incident's own dice, one slot per try: the same under any regime."""
    a, b = _patience_seen(run("fragmented", "none")), _patience_seen(run("fragmented", "uniform_misroutes"))
    both = a.index.intersection(b.index)
    assert len(both) > 30 and len(a.index.symmetric_difference(b.index)) > 30  # the settings hang up differently
    assert np.allclose(a[both], b[both])
    assert (both.get_level_values("try") > 0).any()  # redials too


def test_cost_per_improvement_reads_the_call_figures_the_right_way_up():
    from citysim.experiments.headline import better_direction

    assert better_direction("connection_rate") == 1 and better_direction("needs_given_up_share") == -1
