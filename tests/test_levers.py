"""Each lever moves the quantity its mechanism acts on, on the same incidents.

Every comparison is paired: one seed, so the same incidents occur at the same
places and times under both settings (common random numbers), and only the
lever differs. Each test names the intermediate quantity the lever acts on,
not an outcome far downstream.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
import pytest

import citysim
from citysim.regimes import LEVERS, presets
from tests.conftest import town

DAYS = 10


@pytest.fixture(scope="module")
def run(busy_town):
    @cache
    def _run(regime: str, *assignments: str) -> citysim.Result:
        return citysim.simulate(busy_town, regime=regime, seed=11, days=DAYS, overrides=list(assignments))

    return _run


def test_common_random_numbers_same_incidents_under_every_preset(run):
    cols = ["id", "type", "cell", "cohort", "occurred_at", "harm_due_at"]
    base = run("fragmented").incidents[cols]
    for name in ("integrated", "tech_only", "institution_only"):
        pd.testing.assert_frame_equal(run(name).incidents[cols], base)


def test_unified_intake_cuts_transfers(run):
    per_dept = run("fragmented").incidents
    unified = run("fragmented", "intake=unified").incidents
    hot = per_dept.channel.isin(["phone", "online", "app"]) & unified.channel.isin(["phone", "online", "app"])
    assert unified.transfers[hot].mean() < 0.6 * per_dept.transfers[hot].mean()


def test_platform_aids_cut_misrouting_under_unified_intake(run):
    low = run("integrated", "staff_digital_skill=0").incidents
    high = run("integrated", "staff_digital_skill=1").incidents
    hot = low.channel.isin(["phone", "online", "app"])
    assert high.transfers[hot].mean() < low.transfers[hot].mean()


@pytest.fixture(scope="module")
def hazard_town(small_dict):
    """The busy town with ten times the gas leaks, fires and waterlogging."""
    import copy

    d = copy.deepcopy(small_dict)
    for name in ("gas_leak", "fire", "waterlogging"):
        d["incident_types"][name]["rate_per_1000_day"] *= 10
    return town(d, 8.0)


def test_fused_sensors_cut_the_detection_delay_of_sensor_detectable_hazards(hazard_town):
    silo_run = citysim.simulate(hazard_town, "fragmented", seed=5, days=5)
    fused_run = citysim.simulate(hazard_town, "fragmented", seed=5, days=5, overrides=["sensor_fusion=fused"])
    silo, fused = silo_run.incidents.set_index("id"), fused_run.incidents.set_index("id")
    alerted = silo_run.alerts.query("true_alarm").incident_id
    # the same hazards raise the same alerts whatever the regime does with them
    assert set(alerted) == set(fused_run.alerts.query("true_alarm").incident_id)
    ids = alerted[silo.hazard[alerted].to_numpy() & fused.detected_at[alerted].notna().to_numpy()]
    assert len(ids) > 40
    delay_silo = (silo.detected_at - silo.occurred_at)[ids]
    delay_fused = (fused.detected_at - fused.occurred_at)[ids]
    assert delay_fused.mean() < 0.7 * delay_silo.mean()  # silos poll every 15-120 min
    assert (delay_fused <= delay_silo.fillna(np.inf) + 1.0 + 1e-9).all()  # the platform adds 1 minute at most


def multi_department_times(result):
    i = result.incidents
    multi = i.type.isin(["landslide_risk", "waterlogging", "housing_safety"]) & (i.status == "resolved")
    multi &= i.reopened == 0
    return (i.resolved_at - i.dispatched_at)[multi].rename(index=i.id[multi])


def test_joint_dispatch_cuts_multi_department_case_time(run):
    seq = multi_department_times(run("integrated", "coordination=sequential"))
    joint = multi_department_times(run("integrated"))
    both = seq.index.intersection(joint.index)
    assert len(both) > 30
    assert joint[both].mean() < 0.5 * seq[both].mean()


def test_more_frequent_coordination_meetings_shorten_hand_offs(run):
    weekly = run("fragmented").stages
    daily = run("fragmented", "coordination_meeting_interval_h=24").stages

    def handoff(stages):
        h = stages[stages.stage == "handoff_wait"]
        return (h.ended_at - h.queued_at).mean()

    assert handoff(daily) < handoff(weekly) / 3


def data_wait(result):
    s = result.stages
    d = s[s.stage == "data_wait"]
    needing = result.incidents.type.isin(["environmental_complaint", "housing_safety"]).sum()
    return (d.ended_at - d.queued_at).fillna(0).sum() / needing


def test_data_sharing_cuts_the_wait_for_other_departments_data(run):
    assert data_wait(run("fragmented", "data_sharing=0.9")) < 0.3 * data_wait(run("fragmented"))


def test_faster_data_approval_cuts_the_wait(run):
    assert data_wait(run("fragmented", "data_approval_delay_h=8")) < 0.3 * data_wait(run("fragmented"))


def dispatch_steps_per_case(result):
    """Work orders issued per case that reached a team (cases still queueing for an order left out)."""
    s = result.stages
    dispatched = result.incidents.loc[result.incidents.dispatched_at.notna(), "id"]
    return ((s.stage == "dispatch") & s.incident_id.isin(dispatched)).sum() / len(dispatched)


def test_dispatch_to_the_lowest_capable_level_cuts_dispatch_steps(run):
    escalation = dispatch_steps_per_case(run("tech_only"))
    lowest = dispatch_steps_per_case(run("tech_only", "dispatch_level=lowest_capable"))
    assert lowest < 0.9 * escalation


def test_grid_tasking_moves_street_tasks_from_teams_to_grid_workers(run):
    own = run("integrated", "field_force=own_teams")
    grid = run("integrated")
    task_grid = grid.units.query("kind == 'grid'").busy_field_min.sum()
    assert own.units.query("kind == 'grid'").busy_field_min.sum() == 0
    assert task_grid > 0
    um_own = own.units.query("kind == 'team' and department == 'urban_management'").busy_field_min.sum()
    um_grid = grid.units.query("kind == 'team' and department == 'urban_management'").busy_field_min.sum()
    assert um_grid < 0.7 * um_own
    assert (grid.incidents.level == "street").sum() > (own.incidents.level == "street").sum()


def test_proactive_visits_find_needs_of_vulnerable_residents(run):
    none = run("integrated", "proactive_share=0").incidents
    some = run("integrated", "proactive_share=0.3").incidents
    assert (none.detected_by == "proactive").sum() == 0
    found = some[some.detected_by == "proactive"]
    assert len(found) > 0
    assert set(found.type) == {"elderly_care_need"}
    assert set(found.cohort) <= {"urban_elderly_alone", "rural_elderly", "disabled"}


def test_call_backs_catch_premature_closures(run):
    self_reported = run("integrated", "closure_supervision=self_reported").incidents
    callback = run("integrated").incidents
    assert callback.closed_unmet.mean() < 0.5 * self_reported.closed_unmet.mean()
    assert run("integrated").stages.stage.eq("callback").sum() > 0


def resident_reports(result, cohorts):
    i = result.incidents
    mine = i[i.cohort.isin(cohorts)]
    return (mine.detected_by == "resident").mean()


def test_offline_channels_raise_reporting_by_low_literacy_cohorts(run):
    low_literacy = ["rural_elderly", "urban_elderly_alone", "disabled"]
    digital_only = resident_reports(run("integrated", "offline_channels=false"), low_literacy)
    offline = resident_reports(run("integrated"), low_literacy)
    assert offline > digital_only + 0.02
    assert (run("integrated", "offline_channels=false").incidents.channel == "in_person").sum() == 0


def test_elderly_friendly_design_raises_app_and_web_reporting_by_the_elderly(run):
    def digital(result):
        i = result.incidents
        old = i[i.cohort.isin(["urban_elderly", "rural_elderly", "urban_elderly_alone"])]
        return old.channel.isin(["app", "online"]).sum()

    assert digital(run("integrated")) > digital(run("integrated", "elderly_friendly_design=false"))


def test_paperwork_cut_raises_grid_worker_patrol_time(run):
    heavy = run("fragmented").units.query("kind == 'grid'").patrol_min.sum()
    light = run("fragmented", "paperwork_share=0.16").units.query("kind == 'grid'").patrol_min.sum()
    assert light > 1.3 * heavy


def test_paperwork_cut_shortens_the_patrol_cycle_and_patrol_detection(run):
    heavy, light = run("fragmented"), run("fragmented", "paperwork_share=0.16")
    assert light.cells.patrol_cycle_min.mean() < heavy.cells.patrol_cycle_min.mean()
    h, lt = heavy.incidents, light.incidents
    both = (h.detected_by == "patrol") & (lt.detected_by == "patrol")
    assert (lt.detected_at - lt.occurred_at)[both].mean() < (h.detected_at - h.occurred_at)[both].mean()


def test_every_lever_is_exercised_by_a_test_here():
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    untested = [lever for lever in LEVERS if lever not in source.replace("LEVERS", "")]
    # intake, sensor_fusion, ... each appears in a --set override or a preset difference above
    assert untested == [], untested
    assert set(presets()) == {"fragmented", "integrated", "tech_only", "institution_only"}
    assert np.all([isinstance(getattr(presets()["integrated"], lv), bool | float | str) for lv in LEVERS])


def test_each_grid_worker_is_a_unit_of_their_own(run, small):
    from citysim.city import build_city
    from citysim.rng import Streams

    units = run("integrated").units
    grid = units[units.kind == "grid"]
    city = build_city(run("integrated").scenario, Streams(11))
    assert len(grid) == len(city.worker_street)
    assert (grid.servers_day == 1).all() and (grid.servers_night == 0).all()
    assert grid.unit.is_unique
    # the split of each worker's shift adds up to the shift
    shift = grid.paperwork_min + grid.proactive_min + grid.patrol_min + grid.busy_min
    assert np.allclose(shift[grid.patrol_min > 0], 8 * 60 * DAYS)
