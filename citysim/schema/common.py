"""What every part of a scenario shares: district kinds, channels, levels and the base model."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CHANNELS", "DISTRICT_KINDS", "LEVELS", "PerKind", "Share"]

DISTRICT_KINDS = ("core", "urban", "suburban", "rural", "mountain")
"""Kinds of district (区县), from dense city core to mountain county."""

CHANNELS = ("phone", "online", "app", "in_person")
"""Ways a resident can report: hotline call, web form, app, or in person to a grid worker."""

LEVELS = ("street", "district", "city")
"""Levels of operations centres, lowest first."""

DistrictKind = Literal["core", "urban", "suburban", "rural", "mountain"]
Level = Literal["street", "district", "city"]
Share = Annotated[float, Field(ge=0, le=1)]


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
