"""Shared fixtures: a small town, a busier town, runs under the presets."""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

import pytest
import simpy

import citysim
from citysim.scenario import read_toml, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small.toml"
COMMON = ROOT / "scenarios" / "common" / "china_megacity.toml"

# numba's compiled kernels: one cache in the checkout (gitignored) for the suite and the
# `citysim` subprocesses it starts, kept between runs (numba is imported later, on first use)
os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))


@pytest.fixture(scope="session", autouse=True)
def _numba_compiled_once():
    """Compile (or load from the cache) the numba engine's kernels before any test or subprocess needs them."""
    try:
        import citysim._fast  # noqa: F401
    except ImportError:  # no numba: the pure-Python engine runs
        return
    citysim.simulate(SMALL, days=1, warmup_days=0, follow_up_days=0)


@pytest.fixture
def env() -> simpy.Environment:
    """A fresh SimPy clock."""
    return simpy.Environment()


NO_WINDOW = {"warmup_days": 0, "follow_up_days": 0}
"""Tests that are not about the measurement window run from minute 0 to the horizon (cheap)."""


@pytest.fixture(scope="session")
def small_dict() -> dict:
    """The small town's scenario as a dict (to vary in tests), without warm-up or follow-up."""
    return {**read_toml(SMALL), **NO_WINDOW}


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
def small(small_dict) -> citysim.scenario.Scenario:
    return scenario_from_dict(small_dict, str(SMALL))


@pytest.fixture
def town_files(tmp_path) -> tuple[Path, Path]:
    """A copy of the small town's file and the common file it extends (to edit), as (town, common)."""
    (tmp_path / "common").mkdir()
    return Path(shutil.copy(SMALL, tmp_path / "small.toml")), Path(shutil.copy(COMMON, tmp_path / "common"))
