"""The parts of a scenario file as pydantic models; the root, :class:`~citysim.scenario.Scenario`, is in scenario.py."""

from citysim.schema.city import ChannelPreference, City, Cohort, District, GridWorkers, SensorType
from citysim.schema.common import CHANNELS, DISTRICT_KINDS, LEVELS, PerKind
from citysim.schema.queueing import Patience, Queueing
from citysim.schema.services import (
    Behaviour,
    Calibration,
    Centres,
    CityCentre,
    Costs,
    Department,
    DistrictCentre,
    IncidentType,
    OccurrenceShock,
    SensorOutage,
    Shock,
    StaffAbsence,
    StreetCentre,
)

__all__ = [
    "CHANNELS",
    "DISTRICT_KINDS",
    "LEVELS",
    "Behaviour",
    "Calibration",
    "Centres",
    "ChannelPreference",
    "City",
    "CityCentre",
    "Costs",
    "Cohort",
    "Department",
    "District",
    "DistrictCentre",
    "GridWorkers",
    "IncidentType",
    "OccurrenceShock",
    "Patience",
    "PerKind",
    "Queueing",
    "SensorOutage",
    "SensorType",
    "Shock",
    "StaffAbsence",
    "StreetCentre",
]
