"""Who does the work, and the work: departments, operations centres, incident types, behaviour, shocks."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from citysim.distributions import Deterministic, Distribution, Exponential
from citysim.errors import FieldError
from citysim.limits import (
    MAX_AREA_KM2,
    MAX_DAYS,
    MAX_DISTRICTS,
    MAX_INCIDENTS_PER_DAY,
    MAX_MIN_ON_DUTY,
    MAX_MINUTES,
    MAX_MULTIPLIER,
    MAX_NAMED,
    MAX_PRICE_CNY,
    MAX_RATE_PER_1000_DAY,
    MAX_SPEED_KMH,
    MAX_STAFF_PER_1M,
    MAX_STAFF_PER_100K,
)
from citysim.schema.common import Level, Share, _Model, per_kind

__all__ = [
    "Behaviour",
    "Costs",
    "Calibration",
    "Centres",
    "CityCentre",
    "Department",
    "DistrictCentre",
    "IncidentType",
    "OccurrenceShock",
    "SensorOutage",
    "Shock",
    "StaffAbsence",
    "StreetCentre",
]

StaffPer100k = per_kind(MAX_STAFF_PER_100K)
AreaKm2 = per_kind(MAX_AREA_KM2)
SpeedKmh = per_kind(MAX_SPEED_KMH)
Multipliers = per_kind(MAX_MULTIPLIER)
StaffPer1m = Annotated[float, Field(ge=0, le=MAX_STAFF_PER_1M)]
Multiplier = Annotated[float, Field(ge=0, le=MAX_MULTIPLIER)]


class Department(_Model):
    """A line department (条): own hotline (under per-department intake), district desks and field teams."""

    desk_staff_per_100k: StaffPer100k = Field(
        description="clerks at a district desk (verifying alerts, reviewing misrouted cases, hand-offs) by day, per "
        "100,000 district residents; under dispatch_level = escalation the district's dispatchers join them"
    )
    desk_hours: Literal["24h", "day"] = Field(
        default="day", description="when the department's desks and its own hotline are staffed in full"
    )
    night_staff_share: Share = Field(
        default=0.2, description="share of the day's desk and hotline staff on duty at night when desk_hours='day'"
    )
    min_on_duty: int = Field(
        default=1,
        ge=0,
        le=MAX_MIN_ON_DUTY,
        description="fewest staff on duty at a desk or hotline in any hour it is staffed at all",
    )
    teams_per_100k: StaffPer100k = Field(description="field teams on duty per 100,000 district residents")
    station_area_km2: AreaKm2 = Field(description="area one team station serves, km² (sets travel distance)")
    speed_kmh: SpeedKmh = Field(description="team travel speed, km/h, by district kind")
    setup: Distribution = Field(default=Deterministic(value=5.0), description="turn-out time before travel, minutes")
    premature_closure: Share = Field(default=0.05, description="chance a case is closed without the need being met")
    routing_accuracy: Share = Field(default=0.8, description="chance a desk re-routes a misrouted case correctly")
    poll_interval_min: float = Field(
        default=60.0, gt=0, le=MAX_MINUTES, description="how often a silo desk polls its sensor alerts, minutes"
    )
    intake_time: Distribution = Field(
        default=Exponential(mean=6.0), description="taking a call on the hotline, minutes"
    )
    verify_time: Distribution = Field(
        default=Exponential(mean=10.0), description="verifying a sensor alert by hand, minutes"
    )
    review_time: Distribution = Field(default=Exponential(mean=15.0), description="reviewing a misrouted case, minutes")
    dispatch_time: Distribution = Field(default=Exponential(mean=10.0), description="issuing a work order, minutes")
    handling: Distribution | None = Field(
        default=None, description="on-site handling of a visit when the incident type gives none for this department"
    )
    handoff_to: dict[str, Share] = Field(
        default_factory=dict,
        max_length=MAX_NAMED,
        description="after a visit, chance the case is handed on to each other department (Markov routing; "
        "the rest of the chance: no hand-off)",
    )
    emergency_line_staff_per_1m: StaffPer1m = Field(
        default=0.0,
        description="call-takers of the department's emergency line (119, the gas company's number) on duty round "
        "the clock per million residents, at least min_on_duty; it takes the reports of its incident types with "
        "emergency_line and sends its teams at once, under every regime",
    )

    @model_validator(mode="after")
    def _handoffs(self) -> Department:
        total = sum(self.handoff_to.values())
        if total > 1 + 1e-9:
            raise FieldError("handoff_to", f"hand-off chances must sum to at most 1, they sum to {total:.4f}")
        return self


class CityCentre(_Model):
    """The city operations centre: unified hotline (12345), supervision, call-backs."""

    intake_staff_per_1m: StaffPer1m = Field(
        description="call-takers on duty per million residents, averaged over the day: one pool on the unified "
        "hotline (on duty by the hour as calls come), or the departments' own hotlines (per_department intake, "
        "shared by their expected calls, at their desk_hours)",
    )
    dispatch_staff_per_1m: StaffPer1m = Field(
        description="staff forwarding work orders down the chain, on duty per million residents"
    )
    callback_staff_per_1m: StaffPer1m = Field(
        description="call-back staff on duty per million residents (closure_supervision = callback; otherwise "
        "they take calls with the call-takers)",
    )
    min_on_duty: int = Field(
        default=1, ge=0, le=MAX_MIN_ON_DUTY, description="fewest staff on duty at a city-centre desk in any hour"
    )
    classification_accuracy: Share = Field(description="chance an operator without platform aids routes correctly")
    aided_classification_accuracy: Share = Field(
        description="chance an operator using the platform's aids routes correctly"
    )
    intake_time: Distribution = Field(default=Exponential(mean=6.0), description="taking one item, minutes")
    dispatch_time: Distribution = Field(default=Exponential(mean=5.0), description="forwarding one work order, minutes")
    callback_time: Distribution = Field(default=Exponential(mean=5.0), description="one call-back, minutes")


class DistrictCentre(_Model):
    """A district operations centre (one per district)."""

    staff_per_100k: StaffPer100k = Field(
        description="the district's dispatchers on duty per 100,000 district residents, averaged over the day: in "
        "the district centre under dispatch_level = lowest_capable, at the departments' desks under escalation"
    )
    min_on_duty: int = Field(
        default=1, ge=0, le=MAX_MIN_ON_DUTY, description="fewest dispatchers on duty in a district centre"
    )
    dispatch_time: Distribution = Field(default=Exponential(mean=8.0), description="minutes per work order")


class StreetCentre(_Model):
    """A street/town operations centre (one per street)."""

    staff: StaffPer100k = Field(description="staff on duty by day in one street centre, by district kind")
    hours: Literal["24h", "day"] = Field(default="day", description="when the street centre is staffed in full")
    night_staff_share: Share = Field(default=0.25, description="share of staff on duty at night when hours='day'")
    min_on_duty: int = Field(
        default=1,
        ge=0,
        le=MAX_MIN_ON_DUTY,
        description="fewest staff on duty in any hour the street centre is staffed at all",
    )
    classification_accuracy: Share = Field(description="chance street staff route a case correctly")
    intake_time: Distribution = Field(default=Exponential(mean=8.0), description="registering a case, minutes")
    dispatch_time: Distribution = Field(default=Exponential(mean=8.0), description="minutes per work order")


class Centres(_Model):
    """The three levels of operations centres (一体建设、三级贯通)."""

    city: CityCentre
    district: DistrictCentre
    street: StreetCentre


class IncidentType(_Model):
    """A kind of need or hazard, its rate, who handles it and who can find it."""

    rate_per_1000_day: float = Field(
        ge=0,
        le=MAX_RATE_PER_1000_DAY,
        description="occurrences per 1000 residents per day (before multipliers); with every multiplier, a "
        f"city may expect at most {MAX_INCIDENTS_PER_DAY:,} incidents on its busiest day (`citysim check` counts)",
    )
    rate_by_kind: Multipliers | None = Field(default=None, description="multiplier by district kind (default 1)")
    rate_by_cohort: dict[str, Multiplier] = Field(
        default_factory=dict, max_length=MAX_NAMED, description="multiplier by cohort (default 1)"
    )
    hourly_profile: str | None = Field(
        default=None,
        description="when in the day it occurs: a name in the scenario's hourly_profiles (default: evenly over 24 h)",
    )
    departments: list[str] = Field(
        default_factory=list,
        max_length=3,
        description="departments needed (at most 3), in order; empty: closed at intake",
    )
    consult_department: str | None = Field(
        default=None, description="for consultations: whose hotline answers under per_department intake"
    )
    data_from: list[str] = Field(
        default_factory=list, max_length=3, description="departments (at most 3) whose data must be obtained first"
    )
    severity: int = Field(default=2, ge=1, le=5, description="1 minor .. 5 life-threatening")
    hazard: bool = Field(default=False, description="turns into harm if not handled in time")
    time_to_harm: Distribution | None = Field(default=None, description="for hazards: occurrence to harm, minutes")
    min_level: Level = Field(
        default="district", description="lowest level able to act: street (grid workers) or district (teams)"
    )
    grid_capable: bool = Field(
        default=False, description="a grid worker can handle it when the centre tasks grid workers"
    )
    sensors: list[str] = Field(
        default_factory=list, max_length=MAX_NAMED, description="sensor types that can detect it"
    )
    patrol_spot_probability: Share = Field(
        default=0.0, description="chance a patrolling grid worker notices it per pass"
    )
    proactive_detectable: bool = Field(default=False, description="found by proactive visits to vulnerable residents")
    report_propensity: Share = Field(default=0.8, description="chance an affected resident with full trust reports it")
    report_delay: Distribution = Field(default=Exponential(mean=120.0), description="occurrence to report, minutes")
    intake_time: Distribution | None = Field(default=None, description="overrides the intake unit's time, minutes")
    handling: dict[str, Distribution] = Field(
        default_factory=dict, max_length=MAX_NAMED, description="on-site handling per department, minutes"
    )
    emergency_line: bool = Field(
        default=False,
        description="reported on its first department's emergency line (119, the gas company's number; 12345 passes "
        "such calls on at once, as the 12345-110 linkage rules require), which sends the department's teams "
        "straight away under every regime (no transfers, no dispatch chain)",
    )
    confused_with: dict[str, Annotated[float, Field(ge=0, le=1e6)]] = Field(
        default_factory=dict,
        max_length=MAX_NAMED,
        description="departments a misrouted case of this type plausibly goes to, with relative weights (a desk never "
        "sends a case where it has already been; with none left, it goes to the right one); empty: any other "
        "department alike",
    )
    target_min: float = Field(
        default=7 * 24 * 60, gt=0, le=MAX_MINUTES, description="resolution target, minutes (for shares meeting target)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> IncidentType:
        if self.hazard and self.time_to_harm is None:
            raise FieldError("time_to_harm", "a hazard needs time_to_harm")
        return self


class Behaviour(_Model):
    """How residents, desks and the platform behave, independent of the regime."""

    trust_learning_rate: Share = Field(default=0.05, description="how far a day's experiences move a cohort's trust")
    trust_half_weight: float = Field(
        default=50.0, gt=0, le=1e9, description="experiences that give half the learning rate its full weight"
    )
    warmup_trust_speedup: float = Field(
        default=10.0,
        ge=1,
        le=1000,
        description="during the warm-up (not measured) trust learns this many times faster, at most half the way "
        "a day, so that a week's warm-up reaches the trust the regime settles at (the same settled state, "
        "sooner); 1: no speed-up",
    )
    rereport_delay: Distribution = Field(
        default=Exponential(mean=2 * 24 * 60.0), description="closure to re-report of an unmet need, minutes"
    )
    callback_delay: Distribution = Field(
        default=Exponential(mean=24 * 60.0), description="closure to call-back, minutes"
    )
    callback_detection: Share = Field(default=0.8, description="chance a call-back finds a premature closure")
    harm_report_delay: Distribution = Field(
        default=Exponential(mean=5.0), description="harm to someone calling it in, minutes"
    )
    channel_choice_accuracy: tuple[Share, Share] = Field(
        default=(0.4, 0.85), description="chance of picking the right department's hotline at literacy 0 and 1"
    )
    elderly_friendly_gain: Share = Field(
        default=0.5, description="share of residents unable to use an app who can use an elderly-friendly one"
    )
    platform_latency: Distribution = Field(
        default=Deterministic(value=1.0), description="fused alert to work order, minutes"
    )
    cross_check_filter: Share = Field(
        default=0.7, description="share of false alarms a fused platform filters by cross-checking"
    )
    transfer_delay: Distribution = Field(default=Exponential(mean=60.0), description="moving a misrouted case, minutes")
    max_transfers: int = Field(default=3, ge=0, le=6, description="misroutes before the city centre routes it by hand")
    max_attempts: int = Field(default=3, ge=1, le=5, description="attempts per incident (1 + reopenings)")
    max_handoffs: int = Field(
        default=5, ge=0, le=60, description="hand-offs (handoff_to) after which a case is closed without more"
    )
    travel_jitter_cv: float = Field(
        default=0.3, ge=0, le=3, description="spread of one trip around the cell's typical travel time"
    )
    false_alarm_verify_time: Distribution = Field(
        default=Exponential(mean=10.0), description="checking a false alarm on site, minutes"
    )


class Calibration(_Model):
    """Sourced figures printed beside the simulated ones (not used by the model)."""

    items_per_resident_year: float | None = Field(default=None, ge=0, description="hotline items per resident per year")
    phone_share: Share | None = Field(default=None, description="share of items by phone")
    online_share: Share | None = Field(default=None, description="share of items online (web + app)")
    dispatched_share: Share | None = Field(default=None, description="share of items dispatched to departments")
    connection_rate_department_lines: Share | None = Field(
        default=None, description="share of calls answered on the departments' own hotlines (before merging them)"
    )
    connection_rate_unified: Share | None = Field(
        default=None, description="share of calls answered on one merged hotline (12345)"
    )
    source: str = Field(
        default="", description="where the figures come from (rows of scenarios/sources/city_facts.csv)"
    )


class _ShockBase(_Model):
    start_day: float = Field(ge=0, le=MAX_DAYS, description="start, days since the start of the measurement window")
    end_day: float = Field(gt=0, le=MAX_DAYS, description="end, days since the start of the measurement window")
    districts: list[str] = Field(
        default_factory=list, max_length=MAX_DISTRICTS, description="district names or kinds affected; empty: all"
    )

    @model_validator(mode="after")
    def _ordered(self) -> _ShockBase:
        if self.end_day <= self.start_day:
            raise ValueError("end_day must be after start_day")
        return self

    def minutes(self, offset_min: float) -> tuple[float, float]:
        """Start and end in simulated minutes, the window starting at ``offset_min``."""
        return offset_min + self.start_day * 1440.0, offset_min + self.end_day * 1440.0


class OccurrenceShock(_ShockBase):
    """A storm or a large public event: more occurrences of some incident types."""

    kind: Literal["storm", "public_event"]
    incident_types: list[str] = Field(min_length=1, max_length=MAX_NAMED, description="incident types affected")
    multiplier: float = Field(gt=0, le=MAX_MULTIPLIER, description="occurrence rate multiplier while it lasts")


class SensorOutage(_ShockBase):
    """A sensor network outage: the named sensor types stop detecting."""

    kind: Literal["sensor_outage"]
    sensor_types: list[str] = Field(
        default_factory=list, max_length=MAX_NAMED, description="sensor types down; empty: all"
    )


class StaffAbsence(_ShockBase):
    """Staff off sick: a share of staff of some departments and centres is absent."""

    kind: Literal["staff_absence"]
    share: Share = Field(description="share of staff absent")
    units: list[str] = Field(
        default_factory=list,
        max_length=MAX_NAMED,
        description="departments and/or city_centre, district_centres, street_centres, grid_workers; empty: all",
    )


Shock = Annotated[OccurrenceShock | SensorOutage | StaffAbsence, Field(discriminator="kind")]


class Costs(_Model):
    """Prices, to put a cost beside each regime's gains (all stated assumptions: no source gives them)."""

    staff_cny_per_year: dict[str, Annotated[float, Field(ge=0, le=MAX_PRICE_CNY)]] = Field(
        default_factory=dict,
        description="yearly cost of one full-time staff member (for field_teams: one team), by staffing function: "
        "call_centre, city_dispatch, district_offices, street_centres, field_teams, grid_workers",
    )
    staff_hours_per_year: float = Field(
        default=2000.0, gt=0, le=8760, description="hours one full-time staff member works in a year"
    )
    sensor_cny_per_year: float = Field(
        default=0.0, ge=0, le=MAX_PRICE_CNY, description="yearly cost of one sensor (device, connectivity, upkeep)"
    )
    unified_intake_platform_cny_per_1m: float = Field(
        default=0.0,
        ge=0,
        le=MAX_PRICE_CNY,
        description="yearly cost of the unified hotline platform per million residents (intake = unified)",
    )
    sensor_fusion_platform_cny_per_1m: float = Field(
        default=0.0,
        ge=0,
        le=MAX_PRICE_CNY,
        description="yearly cost of the platform fusing sensor alerts per million residents (sensor_fusion = fused)",
    )
