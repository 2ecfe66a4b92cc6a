"""The parts of a scenario file as pydantic models; the root, :class:`~citysim.scenario.Scenario`, is in scenario.py."""

from citysim.schema.city import ChannelPreference, City, Cohort, District, GridWorkers, SensorType
from citysim.schema.common import CHANNELS, DISTRICT_KINDS, LEVELS, PerKind
from citysim.schema.services import (
    Behaviour,
    Calibration,
    Centres,
    CityCentre,
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
    "Cohort",
    "Department",
    "District",
    "DistrictCentre",
    "GridWorkers",
    "IncidentType",
    "OccurrenceShock",
    "PerKind",
    "SensorOutage",
    "SensorType",
    "Shock",
    "StaffAbsence",
    "StreetCentre",
]
