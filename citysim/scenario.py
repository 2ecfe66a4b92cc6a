"""Scenario files: the pydantic models of a city, and the only TOML reader.

A scenario is a TOML file describing one city: its districts, residents
(cohorts), sensors, grid workers, departments, operations centres, incident
types and shocks, plus optional regimes of its own. A scenario may start from
another file with ``extends = "common/china_megacity.toml"`` (a path relative
to the file); tables are merged key by key, the extending file winning.

Defaults live only here: the CLI, the reference in ``docs/`` and the dashboard
are derived from these models. Every model forbids unknown keys, so a typo is
an error that names the file and the field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from citysim.distributions import Deterministic, Distribution, Exponential
from citysim.errors import ScenarioError
from citysim.regimes import Regime, RegimeOverride

__all__ = [
    "CHANNELS",
    "DISTRICT_KINDS",
    "LEVELS",
    "Scenario",
    "load_scenario",
    "scenario_from_dict",
]

DISTRICT_KINDS = ("core", "urban", "suburban", "rural", "mountain")
"""Kinds of district (区县), from dense city core to mountain county."""

CHANNELS = ("phone", "online", "app", "in_person")
"""Ways a resident can report: hotline call, web form, app, or in person to a grid worker."""

LEVELS = ("street", "district", "city")
"""Levels of operations centres, lowest first."""

DistrictKind = Literal["core", "urban", "suburban", "rural", "mountain"]
Level = Literal["street", "district", "city"]
Share = Annotated[float, Field(ge=0, le=1)]


class _FieldError(ValueError):
    """A cross-reference error that knows the field it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PerKind(_Model):
    """A number for each district kind."""

    core: float = Field(ge=0)
    urban: float = Field(ge=0)
    suburban: float = Field(ge=0)
    rural: float = Field(ge=0)
    mountain: float = Field(ge=0)

    def of(self, kind: str) -> float:
        """The value for one district kind."""
        return float(getattr(self, kind))


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


class Department(_Model):
    """A line department (条): own hotline, district desks and field teams."""

    hotline_staff_per_1m: float = Field(
        ge=0,
        description="operators on the department's own city-wide hotline (per_department intake) per million residents",
    )
    desk_staff_per_100k: PerKind = Field(
        description="staff at a district desk (verify, review, dispatch) per 100,000 district residents (at least 1)"
    )
    desk_hours: Literal["24h", "day"] = Field(default="day", description="when desks and hotline are staffed")
    night_staff_share: Share = Field(
        default=0.2, description="share of desk staff on duty at night when desk_hours='day'"
    )
    teams_per_100k: PerKind = Field(description="field teams per 100,000 district residents (at least 1)")
    station_area_km2: PerKind = Field(description="area one team station serves, km² (sets travel distance)")
    speed_kmh: PerKind = Field(description="team travel speed, km/h, by district kind")
    setup: Distribution = Field(default=Deterministic(value=5.0), description="turn-out time before travel, minutes")
    premature_closure: Share = Field(default=0.05, description="chance a case is closed without the need being met")
    routing_accuracy: Share = Field(default=0.8, description="chance a desk re-routes a misrouted case correctly")
    poll_interval_min: float = Field(
        default=60.0, gt=0, description="how often a silo desk polls its sensor alerts, minutes"
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
        description="after a visit, chance the case is handed on to each other department (Markov routing; "
        "the rest of the chance: no hand-off)",
    )

    @model_validator(mode="after")
    def _handoffs(self) -> Department:
        total = sum(self.handoff_to.values())
        if total > 1 + 1e-9:
            raise _FieldError("handoff_to", f"hand-off chances must sum to at most 1, they sum to {total:.4f}")
        return self


class CityCentre(_Model):
    """The city operations centre: unified hotline (12345), supervision, call-backs."""

    intake_staff_per_1m: float = Field(ge=0, description="unified hotline operators on duty per million residents")
    dispatch_staff_per_1m: float = Field(
        ge=0, description="staff forwarding work orders down the chain, per million residents"
    )
    callback_staff_per_1m: float = Field(ge=0, description="staff calling residents back, per million residents")
    classification_accuracy: Share = Field(description="chance an operator without platform aids routes correctly")
    aided_classification_accuracy: Share = Field(
        description="chance an operator using the platform's aids routes correctly"
    )
    intake_time: Distribution = Field(default=Exponential(mean=6.0), description="taking one item, minutes")
    dispatch_time: Distribution = Field(default=Exponential(mean=5.0), description="forwarding one work order, minutes")
    callback_time: Distribution = Field(default=Exponential(mean=5.0), description="one call-back, minutes")


class DistrictCentre(_Model):
    """A district operations centre (one per district)."""

    staff_per_100k: PerKind = Field(description="dispatchers on duty per 100,000 district residents (at least 1)")
    dispatch_time: Distribution = Field(default=Exponential(mean=8.0), description="minutes per work order")


class StreetCentre(_Model):
    """A street/town operations centre (one per street)."""

    staff: PerKind = Field(description="staff on duty in one street centre, by district kind")
    hours: Literal["24h", "day"] = Field(default="day", description="when the street centre is staffed in full")
    night_staff_share: Share = Field(default=0.25, description="share of staff on duty at night when hours='day'")
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

    rate_per_1000_day: float = Field(ge=0, description="occurrences per 1000 residents per day (before multipliers)")
    rate_by_kind: PerKind | None = Field(default=None, description="multiplier by district kind (default 1)")
    rate_by_cohort: dict[str, float] = Field(default_factory=dict, description="multiplier by cohort (default 1)")
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
    sensors: list[str] = Field(default_factory=list, description="sensor types that can detect it")
    patrol_spot_probability: Share = Field(
        default=0.0, description="chance a patrolling grid worker notices it per pass"
    )
    proactive_detectable: bool = Field(default=False, description="found by proactive visits to vulnerable residents")
    report_propensity: Share = Field(default=0.8, description="chance an affected resident with full trust reports it")
    report_delay: Distribution = Field(default=Exponential(mean=120.0), description="occurrence to report, minutes")
    intake_time: Distribution | None = Field(default=None, description="overrides the intake unit's time, minutes")
    handling: dict[str, Distribution] = Field(
        default_factory=dict, description="on-site handling per department, minutes"
    )
    target_min: float = Field(
        default=7 * 24 * 60, gt=0, description="resolution target, minutes (for shares meeting target)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> IncidentType:
        if self.hazard and self.time_to_harm is None:
            raise _FieldError("time_to_harm", "a hazard needs time_to_harm")
        return self


class Behaviour(_Model):
    """How residents, desks and the platform behave, independent of the regime."""

    trust_learning_rate: Share = Field(default=0.05, description="how far a day's experiences move a cohort's trust")
    trust_half_weight: float = Field(
        default=50.0, gt=0, description="experiences that give half the learning rate its full weight"
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

    items_per_resident_year: float | None = Field(default=None, description="hotline items per resident per year")
    phone_share: Share | None = Field(default=None, description="share of items by phone")
    online_share: Share | None = Field(default=None, description="share of items online (web + app)")
    dispatched_share: Share | None = Field(default=None, description="share of items dispatched to departments")
    source: str = Field(default="", description="where the figures come from (rows of city_facts.csv)")


class _ShockBase(_Model):
    start_day: float = Field(ge=0, description="start, days since the run's start")
    end_day: float = Field(gt=0, description="end, days since the run's start")
    districts: list[str] = Field(default_factory=list, description="district names or kinds affected; empty: all")

    @model_validator(mode="after")
    def _ordered(self) -> _ShockBase:
        if self.end_day <= self.start_day:
            raise ValueError("end_day must be after start_day")
        return self


class OccurrenceShock(_ShockBase):
    """A storm or a large public event: more occurrences of some incident types."""

    kind: Literal["storm", "public_event"]
    incident_types: list[str] = Field(min_length=1, description="incident types affected")
    multiplier: float = Field(gt=0, description="occurrence rate multiplier while it lasts")


class SensorOutage(_ShockBase):
    """A sensor network outage: the named sensor types stop detecting."""

    kind: Literal["sensor_outage"]
    sensor_types: list[str] = Field(default_factory=list, description="sensor types down; empty: all")


class StaffAbsence(_ShockBase):
    """Staff off sick: a share of staff of some departments and centres is absent."""

    kind: Literal["staff_absence"]
    share: Share = Field(description="share of staff absent")
    units: list[str] = Field(
        default_factory=list,
        description="departments and/or city_centre, district_centres, street_centres, grid_workers; empty: all",
    )


Shock = Annotated[OccurrenceShock | SensorOutage | StaffAbsence, Field(discriminator="kind")]


class Scenario(_Model):
    """A whole city scenario, as read from a TOML file."""

    name: str = Field(description="scenario name")
    description: str = Field(default="")
    seed: int = Field(default=1, ge=0, description="default run seed")
    days: float = Field(default=7, gt=0, description="default simulated days")
    regime: str = Field(default="integrated", description="default regime")
    city: City
    cohorts: dict[str, Cohort] = Field(min_length=1)
    cohort_shares: dict[DistrictKind, dict[str, Share]] = Field(
        description="resident shares by cohort for each district kind"
    )
    sensors: dict[str, SensorType] = Field(default_factory=dict)
    grid_workers: GridWorkers
    departments: dict[str, Department] = Field(min_length=1)
    centres: Centres
    incident_types: dict[str, IncidentType] = Field(min_length=1)
    behaviour: Behaviour = Field(default_factory=Behaviour)
    shocks: list[Shock] = Field(default_factory=list)
    calibration: Calibration = Field(default_factory=Calibration)
    regimes: dict[str, RegimeOverride] = Field(default_factory=dict, description="regimes defined by this scenario")

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        _check_references(self)
        return self

    def regime_named(self, name: str) -> Regime:
        """A preset or one of this scenario's regimes, by name."""
        from citysim.regimes import resolve_regime

        return resolve_regime(name, self.regimes)


def _check_references(s: Scenario) -> None:
    """Cross-references between tables must name things that exist."""

    def need(field: str, names: list[str], known, what: str) -> None:
        bad = [n for n in names if n not in known]
        if bad:
            raise _FieldError(field, f"unknown {what} {', '.join(map(repr, bad))}; known: {', '.join(known)}")

    for kind, shares in s.cohort_shares.items():
        need(f"cohort_shares.{kind}", list(shares), s.cohorts, "cohort")
        total = sum(shares.values())
        if abs(total - 1) > 1e-6:
            raise _FieldError(f"cohort_shares.{kind}", f"shares must sum to 1, they sum to {total:.4f}")
    for i, d in enumerate(s.city.districts):
        if d.cohort_shares is None:
            need(f"city.districts[{i}].kind", [d.kind], s.cohort_shares, "district kind without cohort_shares:")
        else:
            need(f"city.districts[{i}].cohort_shares", list(d.cohort_shares), s.cohorts, "cohort")
    for name, sensor in s.sensors.items():
        need(f"sensors.{name}.owner", [sensor.owner], s.departments, "department")
    for name, dep in s.departments.items():
        need(f"departments.{name}.handoff_to", list(dep.handoff_to), s.departments, "department")
    for name, t in s.incident_types.items():
        where = f"incident_types.{name}"
        need(f"{where}.departments", t.departments, s.departments, "department")
        need(f"{where}.data_from", t.data_from, s.departments, "department")
        need(f"{where}.handling", list(t.handling), s.departments, "department")
        missing = [d for d in t.departments if d not in t.handling and s.departments[d].handling is None]
        if missing:
            raise _FieldError(
                f"{where}.handling",
                f"no handling time for {', '.join(missing)}: give one here or in departments.{missing[0]}.handling",
            )
        need(f"{where}.sensors", t.sensors, s.sensors, "sensor type")
        need(f"{where}.rate_by_cohort", list(t.rate_by_cohort), s.cohorts, "cohort")
        if t.consult_department is not None:
            need(f"{where}.consult_department", [t.consult_department], s.departments, "department")
        elif not t.departments:
            raise _FieldError(f"{where}.consult_department", "a consultation (no departments) needs consult_department")
    places = sorted({d.name for d in s.city.districts} | set(DISTRICT_KINDS))
    for i, shock in enumerate(s.shocks):
        need(f"shocks[{i}].districts", shock.districts, places, "district or kind")
        if isinstance(shock, OccurrenceShock):
            need(f"shocks[{i}].incident_types", shock.incident_types, s.incident_types, "incident type")
        if isinstance(shock, SensorOutage):
            need(f"shocks[{i}].sensor_types", shock.sensor_types, s.sensors, "sensor type")
        if isinstance(shock, StaffAbsence):
            known = (*s.departments, "city_centre", "district_centres", "street_centres", "grid_workers")
            need(f"shocks[{i}].units", shock.units, known, "unit")


# --------------------------------------------------------------------------- loading


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else in ``top`` replaces ``base``.

    A distribution (a table with ``dist``) replaces the one it overrides whole,
    so ``{ dist = "deterministic", value = 5 }`` can override an exponential.
    """
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and "dist" not in value:
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def read_toml(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario TOML file and the files it ``extends``, merged."""
    path = Path(path)
    if path.resolve() in _seen:
        raise ScenarioError(str(path), "extends", "files extend each other in a cycle")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML: {exc}") from None
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", "must be a path (string) relative to this file")
    base = read_toml(path.parent / parent, (*_seen, path.resolve()))
    return _merge(base, data)


def format_validation_error(source: str, exc: ValidationError) -> ScenarioError:
    """Turn pydantic's first error into one message naming file, field and what is allowed."""
    err = exc.errors(include_url=False)[0]
    tags = {
        "exponential",
        "deterministic",
        "lognormal",
        "gamma",
        "uniform",
        "storm",
        "public_event",
        "sensor_outage",
        "staff_absence",
    }
    field = ""
    for part in err["loc"]:
        if isinstance(part, int):
            field += f"[{part}]"
        elif part in tags or part.startswith("function-"):
            continue  # discriminated unions add their tag to the location
        else:
            field += f".{part}" if field else part
    msg = err["msg"]
    ctx = err.get("ctx") or {}
    kind = err["type"]
    cause = ctx.get("error")
    if isinstance(cause, _FieldError):
        field = ".".join(p for p in (field, cause.field) if p)
        return ScenarioError(source, field, str(cause))
    if kind == "literal_error" and "expected" in ctx:
        msg = f"{err['input']!r} is not one of {ctx['expected']}"
    elif kind == "extra_forbidden":
        msg = "unknown field (check the spelling; see docs/scenario-reference.md)"
    elif kind == "missing":
        msg = "required field is missing"
    elif kind == "union_tag_invalid":
        msg = f"{ctx.get('tag')!r} is not one of {ctx.get('expected_tags')}"
    elif "input" in err and not isinstance(err["input"], dict | list):
        msg = f"{err['input']!r}: {msg.replace('Input should be', 'must be')}"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    more = len(exc.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ScenarioError(source, field, msg)


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a scenario given as a dict (what a TOML file holds)."""
    from citysim.regimes import resolve_regime

    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(source, exc) from None
    for name in scenario.regimes:
        resolve_regime(name, scenario.regimes, source)
    resolve_regime(scenario.regime, scenario.regimes, source)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    A ``run.toml`` written by ``citysim run`` is also accepted: its
    ``[scenario]`` table is the fully resolved scenario.

    Raises:
        ScenarioError: naming the file, the field and what is allowed.
    """
    path = Path(path)
    data = read_toml(path)
    if "citysim_run" in data:
        data = data["scenario"]
    return scenario_from_dict(data, str(path))
