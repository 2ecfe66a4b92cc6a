"""citysim: how a city finds and resolves its residents' problems, under different governance.

An agent-based, discrete-event simulator comparing a *fragmented* city with
an *integrated* one on response time, coverage and inclusion::

    import citysim
    scenario = citysim.load_scenario("scenarios/chongqing.toml")
    result = citysim.simulate(scenario, regime="integrated", seed=1, days=7)
    result.incidents.head()
    result.metrics["response"]["resolution"]
"""

from __future__ import annotations

__version__ = "0.1.0"

from citysim.model import CityModel
from citysim.scenario import load_scenario
from citysim.simulation import Result, simulate

__all__ = ["CityModel", "Result", "__version__", "load_scenario", "simulate"]
