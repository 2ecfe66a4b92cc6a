"""Scenario files: validation errors name file, field and what is allowed; extends merges."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

import citysim
from citysim.errors import ScenarioError
from citysim.regimes import apply_overrides, presets, resolve_regime
from citysim.scenario import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ["small", "chongqing", "beijing", "shanghai", "chengdu"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_are_valid(name):
    sc = load_scenario(ROOT / "scenarios" / f"{name}.toml")
    assert sc.name == name
    assert sc.regime in presets()


def test_megacities_are_at_full_census_population():
    census = {"chongqing": 32054159, "beijing": 21893095, "shanghai": 24870895, "chengdu": 20937757}
    for name, people in census.items():
        sc = load_scenario(ROOT / "scenarios" / f"{name}.toml")
        assert sum(d.population for d in sc.city.districts) == people


def error(data: dict, change) -> str:
    d = copy.deepcopy(data)
    change(d)
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(d, "town.toml")
    return str(info.value)


def test_a_wrong_choice_lists_the_allowed_values(small_dict):
    msg = error(small_dict, lambda d: d["city"]["districts"][0].update(kind="metro"))
    assert (
        msg
        == "town.toml: city.districts[0].kind: 'metro' is not one of 'core', 'urban', 'suburban', 'rural' or 'mountain'"
    )


def test_a_number_out_of_range_names_the_rule(small_dict):
    msg = error(small_dict, lambda d: d["city"]["districts"][1].update(population=-5))
    assert msg == "town.toml: city.districts[1].population: -5: must be greater than 0"


def test_a_misspelt_field_is_refused(small_dict):
    msg = error(small_dict, lambda d: d["incident_types"]["fire"].update(severty=3))
    assert msg.startswith("town.toml: incident_types.fire.severty: unknown field")


def test_an_unknown_distribution_lists_the_supported_ones(small_dict):
    msg = error(small_dict, lambda d: d["departments"]["gas"].update(intake_time={"dist": "weibull", "mean": 3}))
    assert msg == (
        "town.toml: departments.gas.intake_time: 'weibull' is not one of "
        "'exponential', 'deterministic', 'lognormal', 'gamma', 'uniform'"
    )


def test_a_reference_to_nothing_lists_what_exists(small_dict):
    msg = error(small_dict, lambda d: d["sensors"]["gas"].update(owner="gas_company"))
    assert msg.startswith("town.toml: sensors.gas.owner: unknown department 'gas_company'; known: gas, fire,")


def test_shock_places_must_exist(small_dict):
    shock = {
        "kind": "storm",
        "start_day": 1,
        "end_day": 2,
        "incident_types": ["waterlogging"],
        "multiplier": 5,
        "districts": ["Atlantis"],
    }
    msg = error(small_dict, lambda d: d.update(shocks=[shock]))
    assert msg.startswith("town.toml: shocks[0].districts: unknown district or kind 'Atlantis'; known: Hillside,")


def test_shares_must_add_up(small_dict):
    msg = error(small_dict, lambda d: d["cohorts"]["urban_adult"].update(channel_preference={"phone": 0.5}))
    assert msg.endswith("channel_preference: channel shares must sum to 1, they sum to 0.5000")


def test_a_scenario_regime_with_a_bad_lever_value(small_dict):
    msg = error(small_dict, lambda d: d.update(regimes={"mine": {"based_on": "integrated", "intake": "smoke"}}))
    assert msg == "town.toml: regimes.mine.intake: 'smoke' is not one of 'per_department' or 'unified'"


def test_scenario_regimes_start_from_a_preset(small_dict):
    d = copy.deepcopy(small_dict)
    d["regimes"] = {"half": {"based_on": "fragmented", "intake": "unified", "paperwork_share": 0.2}}
    sc = scenario_from_dict(d, "town.toml")
    half = sc.regime_named("half")
    assert half.intake == "unified" and half.paperwork_share == 0.2
    assert half.sensor_fusion == presets()["fragmented"].sensor_fusion


def test_unknown_regime_lists_the_known_ones():
    with pytest.raises(ScenarioError) as info:
        resolve_regime("integratd")
    assert str(info.value) == (
        "--regime: unknown regime 'integratd'; known regimes: fragmented, institution_only, integrated, tech_only"
    )


def test_set_overrides_a_lever_and_names_bad_ones():
    reg = apply_overrides(presets()["integrated"], ["paperwork_share=0.3", "offline_channels=false"])
    assert reg.paperwork_share == 0.3 and reg.offline_channels is False
    with pytest.raises(ScenarioError, match=r"--set: paperwork: unknown lever; known levers: intake, sensor_fusion"):
        apply_overrides(reg, ["paperwork=0.3"])
    with pytest.raises(ScenarioError, match=r"--set: paperwork_share: 2.0: must be less than or equal to 0.9"):
        apply_overrides(reg, ["paperwork_share=2"])


def test_extends_merges_tables_key_by_key(tmp_path):
    (tmp_path / "base.toml").write_text((ROOT / "scenarios" / "common" / "china_megacity.toml").read_text())
    (tmp_path / "town.toml").write_text(
        'extends = "base.toml"\nname = "t"\n[city]\nname = "T"\nhousehold_size = 2.5\n'
        '[[city.districts]]\nname = "A"\nkind = "urban"\npopulation = 1000\narea_km2 = 1\nstreets = 1\n'
        "[departments.gas]\npremature_closure = 0.5\n"
    )
    sc = load_scenario(tmp_path / "town.toml")
    assert sc.departments["gas"].premature_closure == 0.5
    assert sc.departments["gas"].poll_interval_min == 30.0  # kept from the base file


def test_missing_file_and_bad_toml_are_named(tmp_path):
    with pytest.raises(ScenarioError, match="nowhere.toml: no such file"):
        load_scenario(tmp_path / "nowhere.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(ScenarioError, match="bad.toml: not valid TOML"):
        load_scenario(bad)


def test_city_is_split_into_streets_and_cells_with_everyone_counted(small):
    from citysim.city import build_city
    from citysim.rng import Streams

    city = build_city(small, Streams(1))
    assert city.n_streets == 4
    assert city.population == pytest.approx(60000)
    assert city.cohort_count.sum() == pytest.approx(60000)
    # 40,000 residents / 2.45 per household / 300 households per cell / 2 streets = 27 cells a street
    assert (city.cell_street == 0).sum() == 27


def test_public_api_exports_a_short_list():
    assert sorted(citysim.__all__) == ["CityModel", "Result", "__version__", "load_scenario", "simulate"]


def test_queueing_references_and_classes_are_checked(small_dict):
    msg = error(small_dict, lambda d: d["incident_types"]["fire"].update(confused_with={"police": 1}))
    assert msg.startswith("town.toml: incident_types.fire.confused_with: unknown department 'police'; known: gas,")
    msg = error(small_dict, lambda d: d["departments"]["gas"].update(emergency_line_staff_per_1m=0))
    assert msg == (
        "town.toml: departments.gas.emergency_line_staff_per_1m: gas_leak goes by gas's emergency line: "
        "staff it (a positive number)"
    )
    msg = error(small_dict, lambda d: d["queueing"].update(patience_by_cohort={"pensioners": 2}))
    assert msg.startswith("town.toml: queueing.patience_by_cohort: unknown cohort 'pensioners'; known:")
    msg = error(small_dict, lambda d: d["queueing"].update(priority_by_severity=[3, 3, 1, 0, 0]))
    assert (
        msg
        == "town.toml: queueing.priority_by_severity: classes are numbered 0, 1, 2 ... without gaps: no severity has 2"
    )
