"""Shared fixtures: a small town, a busier town, runs under the presets."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import simpy

import citysim
from citysim.scenario import read_toml, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small.toml"


@pytest.fixture
def env() -> simpy.Environment:
    """A fresh SimPy clock."""
    return simpy.Environment()


@pytest.fixture(scope="session")
def small_dict() -> dict:
    """The small town's scenario as a dict (to vary in tests)."""
    return read_toml(SMALL)


def town(data: dict, population_scale: float = 1.0, **city) -> citysim.scenario.Scenario:
    """The small town with its districts' populations and streets scaled (and other city fields set)."""
    d = copy.deepcopy(data)
    for district in d["city"]["districts"]:
        district["population"] = int(district["population"] * population_scale)
        district["streets"] = max(1, round(district["streets"] * population_scale))
    d["city"].update(city)
    return scenario_from_dict(d, "small.toml (scaled)")


@pytest.fixture(scope="session")
def busy_town(small_dict) -> citysim.scenario.Scenario:
    """The small town at eight times the population and streets: enough incidents for paired comparisons."""
    return town(small_dict, 8.0)


@pytest.fixture(scope="session")
def small() -> citysim.scenario.Scenario:
    return citysim.load_scenario(SMALL)
