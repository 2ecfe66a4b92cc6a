"""What every part of a scenario shares: district kinds, channels, levels and the base model."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from citysim.limits import MAX_DAYS, MAX_SEED

__all__ = [
    "CHANNELS",
    "DISTRICT_KINDS",
    "LEVELS",
    "PerKind",
    "Seed",
    "Share",
    "WholeDays",
    "WholeDaysOrZero",
    "per_kind",
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
HourlyProfile = Annotated[list[Annotated[float, Field(ge=0, le=1e6)]], Field(min_length=24, max_length=24)]
"""24 relative weights, one per hour of the day from 00:00."""
WholeDays = Annotated[int, Field(ge=1, le=MAX_DAYS)]
"""A run's measurement window: whole days (a part day would count a whole day's incidents)."""
WholeDaysOrZero = Annotated[int, Field(ge=0, le=MAX_DAYS)]
"""A warm-up or follow-up: whole days, possibly none."""
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
"""A run seed: a whole number from 0 to 2**32 - 1."""


class _Model(BaseModel):
    # finite numbers only: nan or inf in a scenario is always a mistake
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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


@cache
def per_kind(most: float) -> type[PerKind]:
    """A :class:`PerKind` whose every number is at most ``most``."""
    bounded = {kind: (float, Field(ge=0, le=most)) for kind in DISTRICT_KINDS}
    return create_model(f"PerKindAtMost{most:g}", __base__=PerKind, __doc__=PerKind.__doc__, **bounded)
