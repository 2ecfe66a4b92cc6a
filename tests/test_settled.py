"""A city's hotline is at its settled state from the first measured week (see README: settling time)."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

import citysim
from citysim.metrics.calibration import HOTLINE_CHANNELS
from citysim.scenario import read_toml, scenario_from_dict

from .conftest import ROOT

SCALE = 0.2
"""Chengdu at a fifth of its residents and streets (a full city's 13 weeks would take minutes)."""


def scaled_city(name: str, scale: float) -> citysim.scenario.Scenario:
    """A shipped city at ``scale`` of its residents and streets, its trust learning the same per case.

    Trust moves by a weight count / (count + trust_half_weight) of each day's closed cases per cohort
    and district; with ``scale`` times the cases, ``scale`` times the half weight keeps it the same.
    """
    path = ROOT / "scenarios" / f"{name}.toml"
    data = read_toml(path)
    for district in data["city"]["districts"]:
        district["population"] = int(district["population"] * scale)
        district["streets"] = max(1, round(district["streets"] * scale))
    half_weight = citysim.load_scenario(path).behaviour.trust_half_weight
    data.setdefault("behaviour", {})["trust_half_weight"] = half_weight * scale
    return scenario_from_dict(data, f"{path} (scaled by {scale})")


def test_items_per_resident_year_agree_in_the_first_and_last_weeks_of_13(tmp_path):
    sc = scaled_city("chengdu", SCALE)
    run = citysim.simulate(sc, days=91, out=tmp_path)  # the scenario's own warm-up (21 days) and follow-up
    inc = pq.read_table(tmp_path / "incidents.parquet", columns=["occurred_at", "channel"]).to_pandas()
    week = ((inc["occurred_at"].to_numpy() - run.window.start_min) // (7 * 1440)).astype(int)
    items = inc["channel"].isin(HOTLINE_CHANNELS).to_numpy(dtype=bool, na_value=False)
    per_week = np.bincount(week[items], minlength=13)[:13]
    population = sum(d.population for d in sc.city.districts)
    per_resident_year = per_week / population * 365 / 7
    assert per_week.min() > 20_000  # Poisson noise of a week's items under 1%
    first, last = per_resident_year[0], per_resident_year[-1]
    assert abs(first / last - 1) < 0.03, per_resident_year.round(4)
