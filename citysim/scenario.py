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

import stat
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from citysim.errors import FieldError as _FieldError
from citysim.errors import ScenarioError, format_validation_error
from citysim.footprint import check_footprint
from citysim.limits import (
    MAX_CELL_RATES,
    MAX_FALSE_ALARMS_PER_DAY,
    MAX_FILE_BYTES,
    MAX_INCIDENTS_PER_DAY,
    MAX_NAMED,
)
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
    Costs,
    Department,
    GridWorkers,
    IncidentType,
    OccurrenceShock,
    PerKind,
    Queueing,
    SensorOutage,
    SensorType,
    Shock,
    StaffAbsence,
)
from citysim.schema.common import DistrictKind, HourlyProfile, Seed, Share, WholeDays, WholeDaysOrZero, _Model

__all__ = [
    "CHANNELS",
    "DISTRICT_KINDS",
    "LEVELS",
    "OccurrenceShock",
    "PerKind",
    "RunRecord",
    "Scenario",
    "SensorOutage",
    "StaffAbsence",
    "load_run",
    "load_scenario",
    "scenario_from_dict",
]


class Scenario(_Model):
    """A whole city scenario, as read from a TOML file."""

    name: str = Field(description="scenario name")
    description: str = Field(default="")
    seed: Seed = Field(default=1, description="default run seed")
    days: WholeDays = Field(default=7, description="default measurement window, whole days")
    warmup_days: WholeDaysOrZero = Field(
        default=0,
        description="default warm-up before the window, whole days (simulated, not counted); rule for the "
        "shipped files: until the daily detected share and mean queue lengths are within 2% of their "
        "settled values, and at least 7 days for a city",
    )
    follow_up_days: WholeDaysOrZero = Field(
        default=0,
        description="default follow-up after the window, whole days: the window's incidents go on to their "
        "end (still open then: censored); incidents occurring in it are not counted",
    )
    regime: str = Field(default="integrated", description="default regime")
    city: City
    cohorts: dict[str, Cohort] = Field(min_length=1, max_length=MAX_NAMED)
    cohort_shares: dict[DistrictKind, dict[str, Share]] = Field(
        description="resident shares by cohort for each district kind"
    )
    sensors: dict[str, SensorType] = Field(
        default_factory=dict,
        max_length=MAX_NAMED,
        description=f"sensor types; a city may expect at most {MAX_FALSE_ALARMS_PER_DAY:,} false alarms a day",
    )
    grid_workers: GridWorkers
    departments: dict[str, Department] = Field(min_length=1, max_length=MAX_NAMED)
    centres: Centres
    incident_types: dict[str, IncidentType] = Field(
        min_length=1,
        max_length=MAX_NAMED,
        description=f"kinds of need or hazard; at most {MAX_INCIDENTS_PER_DAY:,} incidents expected on the busiest "
        f"day, and grid cells x cohorts x incident types at most {MAX_CELL_RATES:,}",
    )
    behaviour: Behaviour = Field(default_factory=Behaviour)
    queueing: Queueing = Field(
        default_factory=Queueing, description="callers who hang up and redial, priority classes (every regime)"
    )
    shocks: list[Shock] = Field(default_factory=list, max_length=MAX_NAMED)
    calibration: Calibration = Field(default_factory=Calibration)
    hourly_profiles: dict[str, HourlyProfile] = Field(
        default_factory=dict,
        description="named daily rhythms of occurrence: 24 relative weights, one per hour from 00:00 (an incident "
        "type's hourly_profile)",
    )
    costs: Costs = Field(default_factory=Costs)
    regimes: dict[str, RegimeOverride] = Field(
        default_factory=dict, max_length=MAX_NAMED, description="regimes defined by this scenario"
    )

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        _check_references(self)
        check_footprint(self)
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

    for name, profile in s.hourly_profiles.items():
        if sum(profile) <= 0:
            raise _FieldError(f"hourly_profiles.{name}", "at least one hour must have a positive weight")
    from citysim.staffing import FUNCTIONS

    need("costs.staff_cny_per_year", list(s.costs.staff_cny_per_year), FUNCTIONS, "staffing function")

    def shares_of(field: str, shares: dict[str, float]) -> None:
        need(field, list(shares), s.cohorts, "cohort")
        total = sum(shares.values())
        if abs(total - 1) > 1e-6:
            raise _FieldError(field, f"shares must sum to 1, they sum to {total:.4f}")

    for kind, shares in s.cohort_shares.items():
        shares_of(f"cohort_shares.{kind}", shares)
    for i, d in enumerate(s.city.districts):
        if d.cohort_shares is None:
            need(f"city.districts[{i}].kind", [d.kind], s.cohort_shares, "district kind without cohort_shares:")
        else:
            shares_of(f"city.districts[{i}].cohort_shares", d.cohort_shares)
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
        if t.hourly_profile is not None:
            need(f"{where}.hourly_profile", [t.hourly_profile], s.hourly_profiles, "hourly profile")
        if t.consult_department is not None:
            need(f"{where}.consult_department", [t.consult_department], s.departments, "department")
        elif not t.departments:
            raise _FieldError(f"{where}.consult_department", "a consultation (no departments) needs consult_department")
        need(f"{where}.confused_with", list(t.confused_with), s.departments, "department")
        if t.emergency_line:
            if not t.departments:
                raise _FieldError(f"{where}.emergency_line", "an emergency line sends teams: give departments")
            if s.departments[t.departments[0]].emergency_line_staff_per_1m <= 0:
                raise _FieldError(
                    f"departments.{t.departments[0]}.emergency_line_staff_per_1m",
                    f"{name} goes by {t.departments[0]}'s emergency line: staff it (a positive number)",
                )
    need("queueing.patience_by_cohort", list(s.queueing.patience_by_cohort), s.cohorts, "cohort")
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


def _file_text(path: Path, extended_by: tuple[Path, str] | None = None) -> str:
    """A scenario file's text, or a :class:`ScenarioError` saying why it cannot be one.

    A scenario file is a regular file (not a folder, device or pipe) of at most
    :data:`~citysim.limits.MAX_FILE_BYTES`, in UTF-8. ``extended_by`` is the file
    whose ``extends`` names this one, and the name it gives: the error names them.
    """

    def refuse(message: str) -> ScenarioError:
        if extended_by is not None:
            return ScenarioError(str(extended_by[0]), "extends", f"{extended_by[1]!r}: {message}")
        return ScenarioError(str(path), "", message)

    try:
        info = path.stat()
    except FileNotFoundError:
        raise refuse("no such file") from None
    except OSError as exc:
        raise refuse(f"cannot be read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise refuse("is a folder, not a scenario file")
    if not stat.S_ISREG(info.st_mode):
        raise refuse("is not a regular file (a device, pipe or socket), not a scenario file")
    too_big = f"a scenario file may have at most {MAX_FILE_BYTES:,} bytes"
    if info.st_size > MAX_FILE_BYTES:
        raise refuse(f"is {info.st_size:,} bytes; {too_big}")
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise refuse(f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise refuse(f"has grown past {MAX_FILE_BYTES:,} bytes; {too_big}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); a scenario file is TOML in UTF-8"
        ) from None


def read_toml(path: Path, _seen: tuple[Path, ...] = (), _extended_by: tuple[Path, str] | None = None) -> dict[str, Any]:
    """Read a scenario TOML file and the files it ``extends``, merged.

    Raises:
        ScenarioError: naming the file (and ``extends`` where the file it names cannot be read).
    """
    path = Path(path)
    text = _file_text(path, _extended_by)  # first: a path that cannot be read cannot be resolved either
    if path.resolve() in _seen:
        raise ScenarioError(str(path), "extends", "files extend each other in a cycle")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), "", f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(str(path), "", "not valid TOML: arrays or tables nested too deeply") from None
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError(str(path), "extends", "must be a path (string) relative to this file")
    base = read_toml(path.parent / parent, (*_seen, path.resolve()), (path, parent))
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


class RunRecord(_Model):
    """The ``[citysim_run]`` table of a ``run.toml``: how the run was made, and whether it ran to its end.

    A run stopped early (SIGINT, SIGTERM) records the window it measured in ``warmup_days``, ``days``
    and ``follow_up_days`` (so the file reproduces it) and the rest below; all of them or none.
    """

    version: str = Field(description="citysim version that made the run")
    seed: Seed = Field(description="the run's seed")
    warmup_days: WholeDaysOrZero = Field(default=0, description="warm-up, whole days")
    days: WholeDays = Field(description="measurement window, whole days")
    follow_up_days: WholeDaysOrZero = Field(default=0, description="follow-up, whole days")
    regime: str = Field(description="the regime's name")
    stopped: str | None = Field(default=None, description="why the run stopped early, e.g. 'interrupted (SIGINT)'")
    stopped_in: Literal["warmup", "window", "follow_up"] | None = Field(
        default=None, description="where it stopped (warmup: nothing was measured; the days are those asked for)"
    )
    simulated_days: WholeDaysOrZero | None = Field(default=None, description="whole days simulated when it stopped")
    requested_warmup_days: WholeDaysOrZero | None = Field(default=None, description="warm-up asked for")
    requested_days: WholeDays | None = Field(default=None, description="measurement window asked for")
    requested_follow_up_days: WholeDaysOrZero | None = Field(default=None, description="follow-up asked for")

    @model_validator(mode="after")
    def _stopped_says_all(self) -> RunRecord:
        stop = (
            "stopped",
            "stopped_in",
            "simulated_days",
            "requested_warmup_days",
            "requested_days",
            "requested_follow_up_days",
        )
        given = [name for name in stop if getattr(self, name) is not None]
        if given and len(given) < len(stop):
            missing = ", ".join(name for name in stop if name not in given)
            raise ValueError(f"a stopped run records {', '.join(stop)}; missing: {missing}")
        return self


def load_run(path: str | Path) -> tuple[Scenario, RunRecord | None, Regime | None]:
    """Read a scenario file, or a ``run.toml`` with the seed, days and lever values of its run.

    Returns:
        The scenario, and for a ``run.toml`` its :class:`RunRecord` and regime (else None, None).

    Raises:
        ScenarioError: naming the file, the field and what is allowed.
    """
    from citysim.regimes import _validate

    path = Path(path)
    data = read_toml(path)
    if "citysim_run" not in data:
        return scenario_from_dict(data, str(path)), None, None
    try:
        record = RunRecord.model_validate(data["citysim_run"])
    except ValidationError as exc:
        err = format_validation_error(str(path), exc)
        raise ScenarioError(str(path), f"citysim_run.{err.field}".rstrip("."), err.message) from None
    for table in ("scenario", "regime"):
        if not isinstance(data.get(table), dict):
            raise ScenarioError(str(path), table, f"a run.toml needs its [{table}] table (citysim run writes it)")
    regime = _validate(data["regime"], f"{path} [regime]")
    return scenario_from_dict(data["scenario"], str(path)), record, regime


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    A ``run.toml`` written by ``citysim run`` is also accepted: its
    ``[scenario]`` table is the fully resolved scenario.

    Raises:
        ScenarioError: naming the file, the field and what is allowed.
    """
    return load_run(path)[0]
