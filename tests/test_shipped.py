"""Every shipped scenario runs under every preset (a day each), with tables that hang together."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import citysim
from citysim.regimes import presets

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ["small", "chongqing", "beijing", "shanghai", "chengdu", "chongqing_storm"]


@pytest.fixture(scope="module")
def loaded():
    return {name: citysim.load_scenario(ROOT / "scenarios" / f"{name}.toml") for name in SCENARIOS}


@pytest.mark.parametrize("regime", list(presets()))
@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_runs_under_preset(loaded, name, regime):
    result = citysim.simulate(loaded[name], regime=regime, seed=1, days=1)
    i, s = result.incidents, result.stages
    people = sum(d.population for d in loaded[name].city.districts)
    # volume at full population: at least 0.3 reported items per 1000 residents a day
    assert len(i) > 0.0003 * people * 0.9
    assert set(i.status) <= {"resolved", "in_progress", "undetected"}
    assert i.id.is_unique and set(s.incident_id) <= set(i.id)
    seen = i[i.detected_at.notna()]
    assert (seen.detected_at >= seen.occurred_at).all()
    done = i[i.resolved_at.notna()]
    assert (done.resolved_at >= done.detected_at).all()
    util = result.units.utilisation.dropna()
    assert ((util >= 0) & (util <= 1 + 1e-9)).all()
    assert np.isfinite(result.metrics["response"]["overall"]["resolution"]["mean"])
