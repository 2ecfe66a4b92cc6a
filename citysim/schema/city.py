"""The city and its people and things: districts, residents (cohorts), sensors, grid workers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from citysim.distributions import Deterministic, Distribution
from citysim.schema.common import DistrictKind, PerKind, Share, _Model

__all__ = ["ChannelPreference", "City", "Cohort", "District", "GridWorkers", "SensorType"]


class District(_Model):
    """A district or county (区县) and how it is split into streets and grid cells."""

    name: str = Field(description="English name, unique in the city")
    name_zh: str = Field(default="", description="Chinese name")
    kind: DistrictKind = Field(description="terrain and density class")
    population: int = Field(gt=0, description="resident population, persons")
    area_km2: float = Field(gt=0, description="land area, km²")
    streets: int = Field(ge=1, description="streets and towns (街道/乡镇), each with a street centre")
    cells_per_street: int | None = Field(
        default=None,
        ge=1,
        description="grid cells (网格) per street; default: households / households_per_cell / streets",
    )
    cohort_shares: dict[str, Share] | None = Field(
        default=None, description="resident shares by cohort; default: the city's shares for the district's kind"
    )


class City(_Model):
    """The city: districts, households and grid cells."""

    name: str = Field(description="city name")
    household_size: float = Field(gt=0, description="persons per household")
    households_per_cell: int = Field(
        default=300, ge=1, description="households in one management grid cell (a few hundred)"
    )
    rate_scale: float = Field(
        default=1.0,
        gt=0,
        description="multiplies every incident type's rate: how much more often this city's residents "
        "have needs than the reference rates (an input, calibrated to the city's sourced hotline volume)",
    )
    staffing_scale: float = Field(
        default=1.0,
        gt=0,
        description="multiplies every staffing figure (staff per resident, staff per street centre): "
        "how heavily this city staffs relative to the common tables; normally equal to rate_scale",
    )
    day_hours: tuple[float, float] = Field(
        default=(8.0, 20.0), description="start and end of the day shift, hours (day-only desks work then)"
    )
    districts: list[District] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> City:
        names = [d.name for d in self.districts]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"district names must be unique; repeated: {', '.join(sorted(dup))}")
        if not 0 <= self.day_hours[0] < self.day_hours[1] <= 24:
            raise ValueError("day_hours must be [start, end] with 0 <= start < end <= 24")
        return self


class ChannelPreference(_Model):
    """How a cohort would like to report, as shares summing to 1."""

    phone: Share = 0.0
    online: Share = 0.0
    app: Share = 0.0
    in_person: Share = 0.0

    @model_validator(mode="after")
    def _sums_to_one(self) -> ChannelPreference:
        total = self.phone + self.online + self.app + self.in_person
        if abs(total - 1) > 1e-6:
            raise ValueError(f"channel shares must sum to 1, they sum to {total:.4f}")
        return self


class Cohort(_Model):
    """A kind of resident; residents are counts of cohorts per cell, never one object each."""

    age_band: str = Field(description="age band, e.g. '18-59' or '60+'")
    disability: bool = False
    income: Literal["low", "middle", "high"] = "middle"
    area: Literal["urban", "rural"] = "urban"
    digital_literacy: Share = Field(description="share able to use an app or web form unaided")
    phone_ability: Share = Field(default=0.97, description="share able to report by phone")
    trust: Share = Field(description="initial trust that reporting helps (scales reporting)")
    channel_preference: ChannelPreference
    vulnerable: bool = Field(
        default=False, description="target of proactive visits (elderly living alone, disabled ...)"
    )


class SensorType(_Model):
    """A type of IoT sensor: gas, smoke camera, geological displacement, water pipe ..."""

    owner: str = Field(description="department owning the sensors and, in a silo, polling their alerts")
    density_per_km2: PerKind = Field(description="sensors per km² by district kind")
    detection_probability: Share = Field(
        description="chance one working sensor in the cell detects an incident it can see"
    )
    false_alarms_per_sensor_day: float = Field(ge=0, description="false alerts per sensor per day")
    latency: Distribution = Field(default=Deterministic(value=1.0), description="from occurrence to alert, minutes")
    out_of_service_share: Share = Field(default=0.05, description="share of sensors broken at any time")


class GridWorkers(_Model):
    """Grid workers (网格员): patrol their cells, take reports in person, handle minor tasks."""

    cells_per_worker: float = Field(default=1.0, gt=0, description="cells each worker is responsible for")
    shift_hours: float = Field(default=8.0, gt=0, le=24, description="working hours per day")
    sweep_hours: PerKind = Field(description="hours to walk one cell once, by district kind")
    visit_minutes: float = Field(
        default=20.0, gt=0, description="minutes of a proactive visit to one vulnerable household"
    )
    speed_kmh: PerKind = Field(description="travel speed inside their cells (walking/e-bike), km/h")
    handling_factor: float = Field(
        default=1.0, gt=0, description="handling time of a task by a grid worker relative to a department team"
    )
