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
from typing import Any

from pydantic import Field, ValidationError, model_validator

from citysim.errors import FieldError as _FieldError
from citysim.errors import ScenarioError, format_validation_error
from citysim.regimes import Regime, RegimeOverride
from citysim.schema import (
    CHANNELS,
    DISTRICT_KINDS,
    LEVELS,
    Behaviour,
    Calibration,
    Centres,
    City,
    Cohort,
    Department,
    GridWorkers,
    IncidentType,
    OccurrenceShock,
    PerKind,
    SensorOutage,
    SensorType,
    Shock,
    StaffAbsence,
)
from citysim.schema.common import DistrictKind, Share, _Model

__all__ = [
    "CHANNELS",
    "DISTRICT_KINDS",
    "LEVELS",
    "OccurrenceShock",
    "PerKind",
    "Scenario",
    "SensorOutage",
    "StaffAbsence",
    "load_scenario",
    "scenario_from_dict",
]


class Scenario(_Model):
    """A whole city scenario, as read from a TOML file."""

    name: str = Field(description="scenario name")
    description: str = Field(default="")
    seed: int = Field(default=1, ge=0, description="default run seed")
    days: int = Field(default=7, ge=1, description="default measurement window, whole days")
    warmup_days: int = Field(
        default=0,
        ge=0,
        description="default warm-up before the window, whole days (simulated, not counted); rule for the "
        "shipped files: until the daily detected share and mean queue lengths are within 2% of their "
        "settled values, and at least 7 days for a city",
    )
    follow_up_days: int = Field(
        default=0,
        ge=0,
        description="default follow-up after the window, whole days: the window's incidents go on to their "
        "end (still open then: censored); incidents occurring in it are not counted",
    )
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
