"""Regimes: named bundles of lever values.

A regime never scales an outcome. Each lever changes a mechanism of the city:
who receives a report, where a case goes, what data is visible, how
departments coordinate, who goes out. Code asks about a lever's value, never
about a regime's name::

    if regime.intake == "unified":       # a lever
        ...

The presets ``fragmented``, ``integrated``, ``tech_only`` and
``institution_only`` ship as data in ``citysim/data/regimes.toml``; a
scenario may add its own under ``[regimes.NAME]`` (starting from a preset with
``based_on``), and ``citysim run --set lever=value`` overrides any lever.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from citysim.errors import ScenarioError, format_validation_error

__all__ = ["LEVERS", "Regime", "RegimeOverride", "apply_overrides", "presets", "resolve_regime"]


class Regime(BaseModel):
    """The value of every lever of governance (see the README's lever table)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="custom", description="regime name (a label only: code never asks it)")
    intake: Literal["per_department", "unified"] = Field(
        description="per_department: each department its own hotline and app, the resident picks one "
        "(by digital literacy); unified: one hotline/app whose operators classify and route"
    )
    sensor_fusion: Literal["silo", "fused"] = Field(
        description="silo: alerts stay with the owning department, polled and verified by hand; "
        "fused: alerts reach the platform at once, cross-checked, automatic work orders"
    )
    data_sharing: float = Field(ge=0, le=1, description="share of data requests between departments answered at once")
    data_approval_delay_h: float = Field(
        ge=0, description="mean wait for an approved data request, hours (the rest of data_sharing)"
    )
    coordination: Literal["sequential", "joint"] = Field(
        description="multi-department cases: sequential hand-offs at coordination meetings, or joint parallel dispatch"
    )
    coordination_meeting_interval_h: float = Field(
        gt=0, description="hours between coordination meetings that hand a case to the next department"
    )
    dispatch_level: Literal["escalation", "lowest_capable"] = Field(
        description="escalation: work orders pass up to the department's district desk and down; "
        "lowest_capable: the centre at the lowest level able to act dispatches directly"
    )
    field_force: Literal["own_teams", "grid_tasked"] = Field(
        description="own_teams: departments' teams only; grid_tasked: grid workers handle street-level tasks"
    )
    proactive_share: float = Field(
        ge=0, le=0.5, description="share of grid workers' field time spent visiting vulnerable residents (未诉先办)"
    )
    closure_supervision: Literal["self_reported", "callback"] = Field(
        description="self_reported: a department's closure stands; callback: the centre calls the resident back"
    )
    offline_channels: bool = Field(description="residents can report in person to grid workers and service windows")
    elderly_friendly_design: bool = Field(description="apps and web forms designed for low digital literacy (适老化)")
    paperwork_share: float = Field(ge=0, le=0.9, description="share of a grid worker's shift spent filling in reports")
    staff_digital_skill: float = Field(
        ge=0, le=1, description="share of centre operators able to use the platform's classification aids"
    )


LEVERS: tuple[str, ...] = tuple(n for n in Regime.model_fields if n != "name")
"""Lever names, in the order of the table in the README."""


class RegimeOverride(BaseModel):
    """A scenario's own regime: a preset to start from and the levers it changes."""

    model_config = ConfigDict(extra="allow", frozen=True)

    based_on: str = Field(default="integrated", description="preset (or other regime) to start from")


@cache
def presets() -> dict[str, Regime]:
    """The shipped presets, read from ``citysim/data/regimes.toml``."""
    text = resources.files("citysim").joinpath("data/regimes.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return {
        name: _validate({**levers, "name": name}, f"citysim/data/regimes.toml [{name}]")
        for name, levers in data.items()
    }


def _validate(values: dict[str, Any], source: str) -> Regime:
    try:
        return Regime.model_validate(values)
    except ValidationError as exc:
        err = format_validation_error(source, exc)
        if err.field in Regime.model_fields or not err.field:
            raise err from None
        raise ScenarioError(source, err.field, f"unknown lever; known levers: {', '.join(LEVERS)}") from None


def resolve_regime(name: str, custom: dict[str, RegimeOverride] | None = None, source: str = "--regime") -> Regime:
    """A regime by name: a scenario's own (``custom``) or a preset.

    Raises:
        ScenarioError: for an unknown name, listing the known ones.
    """
    custom = custom or {}
    known = presets()
    if name in custom:
        spec = custom[name].model_dump()
        base_name = spec.pop("based_on")
        if base_name == name:
            raise ScenarioError(source, f"regimes.{name}.based_on", "a regime cannot be based on itself")
        base = resolve_regime(base_name, {k: v for k, v in custom.items() if k != name}, source)
        unknown = [k for k in spec if k not in LEVERS]
        if unknown:
            raise ScenarioError(
                source, f"regimes.{name}.{unknown[0]}", f"unknown lever; known levers: {', '.join(LEVERS)}"
            )
        try:
            return Regime.model_validate({**base.model_dump(), **spec, "name": name})
        except ValidationError as exc:
            err = format_validation_error(source, exc)
            raise ScenarioError(source, f"regimes.{name}.{err.field}", err.message) from None
    if name in known:
        return known[name]
    names = sorted({*known, *custom})
    raise ScenarioError(
        source, "" if source == "--regime" else "regime", f"unknown regime {name!r}; known regimes: {', '.join(names)}"
    )


def parse_lever_value(lever: str, text: str) -> Any:
    """Read a ``--set lever=value`` value as the lever's type."""
    field = Regime.model_fields[lever]
    if field.annotation is bool:
        low = text.strip().lower()
        if low in {"true", "1", "yes", "on"}:
            return True
        if low in {"false", "0", "no", "off"}:
            return False
        raise ScenarioError("--set", lever, f"{text!r} is not one of 'true', 'false'")
    if field.annotation is float:
        try:
            return float(text)
        except ValueError:
            raise ScenarioError("--set", lever, f"{text!r} is not a number") from None
    return text


def apply_overrides(regime: Regime, assignments: list[str] | tuple[str, ...]) -> Regime:
    """Apply ``lever=value`` strings (from ``--set``) to a regime.

    Raises:
        ScenarioError: naming the option and listing known levers or allowed values.
    """
    if not assignments:
        return regime
    values = regime.model_dump()
    for item in assignments:
        if "=" not in item:
            raise ScenarioError("--set", item, "expected lever=value, e.g. --set intake=unified")
        lever, text = (s.strip() for s in item.split("=", 1))
        if lever not in LEVERS:
            raise ScenarioError("--set", lever, f"unknown lever; known levers: {', '.join(LEVERS)}")
        values[lever] = parse_lever_value(lever, text)
    changed = ",".join(assignments)
    values["name"] = f"{regime.name}+{changed}"
    return _validate(values, "--set")
