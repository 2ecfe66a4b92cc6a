"""Distributions of durations, sampled by inverse transform from uniforms.

Every duration in a scenario (service, travel jitter, report delay, time to
harm ...) is one of these tables, in minutes::

    { dist = "exponential", mean = 30 }
    { dist = "deterministic", value = 6 }
    { dist = "lognormal", mean = 45, cv = 0.8 }
    { dist = "gamma", mean = 45, cv = 0.5 }
    { dist = "uniform", low = 5, high = 15 }

They are sampled by :meth:`ppf` from uniform numbers drawn per incident and
stage, so that the same incident keeps the same dice under every regime
(common random numbers), whatever family a scenario picks.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy import special, stats

__all__ = [
    "Deterministic",
    "Distribution",
    "Exponential",
    "Gamma",
    "Lognormal",
    "Uniform",
]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def ppf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def mean_min(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError


class Exponential(_Dist):
    """Memoryless durations (Poisson processes, M/M/c service)."""

    dist: Literal["exponential"] = "exponential"
    mean: float = Field(gt=0, description="mean, minutes")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return -self.mean * np.log1p(-u)

    @property
    def mean_min(self) -> float:
        return self.mean


class Deterministic(_Dist):
    """A fixed duration (M/D/1 service, fixed delays); zero switches a stage's time off."""

    dist: Literal["deterministic"] = "deterministic"
    value: float = Field(ge=0, description="duration, minutes")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value)

    @property
    def mean_min(self) -> float:
        return self.value


class Lognormal(_Dist):
    """Right-skewed durations given by mean and coefficient of variation."""

    dist: Literal["lognormal"] = "lognormal"
    mean: float = Field(gt=0, description="mean, minutes")
    cv: float = Field(gt=0, le=10, description="standard deviation / mean")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        sigma2 = np.log1p(self.cv**2)
        mu = np.log(self.mean) - sigma2 / 2
        return np.exp(mu + np.sqrt(sigma2) * special.ndtri(u))

    @property
    def mean_min(self) -> float:
        return self.mean


class Gamma(_Dist):
    """Gamma durations given by mean and coefficient of variation (cv=1 is exponential)."""

    dist: Literal["gamma"] = "gamma"
    mean: float = Field(gt=0, description="mean, minutes")
    cv: float = Field(gt=0, le=10, description="standard deviation / mean")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return stats.gamma.ppf(u, shape, scale=self.mean / shape)

    @property
    def mean_min(self) -> float:
        return self.mean


class Uniform(_Dist):
    """Durations spread evenly between two bounds."""

    dist: Literal["uniform"] = "uniform"
    low: float = Field(ge=0, description="lower bound, minutes")
    high: float = Field(gt=0, description="upper bound, minutes")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * u

    @property
    def mean_min(self) -> float:
        return (self.low + self.high) / 2


Distribution = Annotated[Exponential | Deterministic | Lognormal | Gamma | Uniform, Field(discriminator="dist")]
"""Any supported duration distribution (a TOML table with a ``dist`` key)."""
