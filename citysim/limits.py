"""Upper bounds on what a scenario file or an option may ask for.

A value that drives memory or time has a fixed bound, so that a mistyped
number is refused with a message instead of filling the machine's memory. The
bounds are generous: the largest shipped city, Chongqing, has 32 million
residents in 38 districts, 1,031 streets and 43,556 grid cells, about 77,000
incidents and 45,600 staffed units. The pydantic models of
:mod:`citysim.schema` apply them (so ``docs/scenario-reference.md`` lists
them); :mod:`citysim.footprint` checks the totals a scenario implies.
"""

from __future__ import annotations

__all__ = [
    "MAX_AREA_KM2",
    "MAX_CELLS",
    "MAX_CELLS_PER_STREET",
    "MAX_CELL_RATES",
    "MAX_CLASSES",
    "MAX_DAYS",
    "MAX_DISTRICTS",
    "MAX_DISTRICT_POPULATION",
    "MAX_FALSE_ALARMS_PER_DAY",
    "MAX_FILE_BYTES",
    "MAX_HOURS",
    "MAX_INCIDENTS_PER_DAY",
    "MAX_MINUTES",
    "MAX_MIN_ON_DUTY",
    "MAX_PRICE_CNY",
    "MAX_MULTIPLIER",
    "MAX_NAMED",
    "MAX_PER_KM2",
    "MAX_RATE_PER_1000_DAY",
    "MAX_REDIALS",
    "MAX_SCALE",
    "MAX_SEED",
    "MAX_SPEED_KMH",
    "MAX_STAFF_PER_100K",
    "MAX_STAFF_PER_1M",
    "MAX_STREETS",
    "MAX_UNITS",
    "MAX_WORKERS",
]

MAX_DAYS = 3650
"""Simulated days of a run (ten years)."""

MAX_SEED = 2**32 - 1
"""Largest run seed (numpy's classic seed range, 0 to 2**32 - 1)."""

MAX_MINUTES = 10 * 365 * 1440
"""Any duration given in minutes (ten years)."""

MAX_HOURS = 10 * 365 * 24
"""Any duration given in hours (ten years)."""

MAX_DISTRICT_POPULATION = 100_000_000
"""Residents of one district (Chongqing, the largest city, has 32 million in all)."""

MAX_AREA_KM2 = 1_000_000.0
"""Land area of one district, km² (Chongqing's 38 districts cover 82,400 km² in all)."""

MAX_STREETS = 10_000
"""Streets and towns of one district."""

MAX_CELLS_PER_STREET = 100_000
"""Grid cells of one street (also the most households in one cell)."""

MAX_DISTRICTS = 10_000
"""Districts of one city."""

MAX_NAMED = 100
"""Entries of each named table (cohorts, departments, sensor types, incident types, regimes) and of shocks."""

MAX_CELLS = 1_000_000
"""Grid cells of a whole city (Chongqing: 43,556)."""

MAX_UNITS = 1_000_000
"""Staffed units of a whole city: hotlines, desks, teams, centres and grid workers (Chongqing: about 45,600)."""

MAX_CELL_RATES = 100_000_000
"""Grid cells x cohorts x incident types: the occurrence rates a run keeps in memory (Chongqing: 4.3 million)."""

MAX_INCIDENTS_PER_DAY = 1_000_000
"""Expected incidents on the busiest day, shocks included (Chongqing: about 77,000 a day)."""

MAX_FALSE_ALARMS_PER_DAY = 1_000_000
"""Expected false sensor alarms a day."""

MAX_SCALE = 100.0
"""``rate_scale`` and ``staffing_scale`` (the shipped cities use 0.7 to 1)."""

MAX_RATE_PER_1000_DAY = 1000.0
"""An incident type's rate per 1000 residents a day (1000: every resident, every day)."""

MAX_MULTIPLIER = 100.0
"""A rate multiplier (by district kind, by cohort, of a storm or public event)."""

MAX_PER_KM2 = 100_000.0
"""Sensors per km²."""

MAX_STAFF_PER_1M = 1_000_000.0
"""Staff per million residents."""

MAX_STAFF_PER_100K = 100_000.0
"""Staff or teams per 100,000 residents, and staff of one street centre."""

MAX_SPEED_KMH = 1000.0
"""A travel speed, km/h."""

MAX_WORKERS = 256
"""Worker processes of ``citysim validate``."""

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Size of a scenario file (10 MiB; the largest shipped one is about 30 KB)."""

MAX_MIN_ON_DUTY = 1_000
"""Fewest staff a unit keeps on duty in every staffed hour (a minimum, not a budget)."""

MAX_PRICE_CNY = 1e12
"""Any yearly price, CNY (a thousand billion)."""

MAX_CLASSES = 5
"""Priority classes (one per severity at most: each class is a queue at every unit)."""

MAX_REDIALS = 5
"""Redials of one call (each a step of every caller's plan who would make it)."""
