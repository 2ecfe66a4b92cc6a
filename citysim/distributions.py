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
from scipy import special

from citysim.limits import MAX_MINUTES

__all__ = [
    "Deterministic",
    "Distribution",
    "Exponential",
    "Gamma",
    "Lognormal",
    "Mixture",
    "Uniform",
]


class _Dist(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def ppf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def mean_min(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError


class Exponential(_Dist):
    """Memoryless durations (Poisson processes, M/M/c service)."""

    dist: Literal["exponential"] = "exponential"
    mean: float = Field(gt=0, le=MAX_MINUTES, description="mean, minutes")

    @staticmethod
    def _ppf(u: np.ndarray, mean):
        return -mean * np.log1p(-u)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self._ppf(u, self.mean)

    def _params(self) -> tuple[float, ...]:
        return (self.mean,)

    @property
    def mean_min(self) -> float:
        return self.mean


class Deterministic(_Dist):
    """A fixed duration (M/D/1 service, fixed delays); zero switches a stage's time off."""

    dist: Literal["deterministic"] = "deterministic"
    value: float = Field(ge=0, le=MAX_MINUTES, description="duration, minutes")

    @staticmethod
    def _ppf(u: np.ndarray, value):
        return np.broadcast_to(np.asarray(value, dtype=float), np.shape(u)).copy()

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self._ppf(u, self.value)

    def _params(self) -> tuple[float, ...]:
        return (self.value,)

    @property
    def mean_min(self) -> float:
        return self.value


class Lognormal(_Dist):
    """Right-skewed durations given by mean and coefficient of variation."""

    dist: Literal["lognormal"] = "lognormal"
    mean: float = Field(gt=0, le=MAX_MINUTES, description="mean, minutes")
    cv: float = Field(gt=0, le=10, description="standard deviation / mean")

    @staticmethod
    def _ppf(u: np.ndarray, mean, cv):
        sigma2 = np.log1p(cv**2)
        mu = np.log(mean) - sigma2 / 2
        return np.exp(mu + np.sqrt(sigma2) * special.ndtri(u))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self._ppf(u, self.mean, self.cv)

    def _params(self) -> tuple[float, ...]:
        return (self.mean, self.cv)

    @property
    def mean_min(self) -> float:
        return self.mean


class Gamma(_Dist):
    """Gamma durations given by mean and coefficient of variation (cv=1 is exponential)."""

    dist: Literal["gamma"] = "gamma"
    mean: float = Field(gt=0, le=MAX_MINUTES, description="mean, minutes")
    cv: float = Field(gt=0, le=10, description="standard deviation / mean")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import stats  # here: scipy.stats takes half a second to import, and few scenarios need it

        shape = 1.0 / self.cv**2
        return stats.gamma.ppf(u, shape, scale=self.mean / shape)

    @property
    def mean_min(self) -> float:
        return self.mean


class Uniform(_Dist):
    """Durations spread evenly between two bounds."""

    dist: Literal["uniform"] = "uniform"
    low: float = Field(ge=0, le=MAX_MINUTES, description="lower bound, minutes")
    high: float = Field(gt=0, le=MAX_MINUTES, description="upper bound, minutes")

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * u

    @property
    def mean_min(self) -> float:
        return (self.low + self.high) / 2


Distribution = Annotated[Exponential | Deterministic | Lognormal | Gamma | Uniform, Field(discriminator="dist")]
"""Any supported duration distribution (a TOML table with a ``dist`` key)."""


class Mixture:
    """Distributions chosen per row: ``dists[which[i]]`` for row ``i`` (None: 0), prepared once.

    Rows of the families with a closed form (exponential, deterministic, lognormal) are
    computed in one vectorized expression each, whatever the parameters.
    """

    def __init__(self, dists: list) -> None:
        self.dists = dists
        families: dict[type, list[int]] = {}
        for k, d in enumerate(dists):
            if d is not None:
                families.setdefault(type(d), []).append(k)
        self._families = []  # (family, members, is a member by index, parameters by index or None)
        for family, members in families.items():
            member = np.zeros(len(dists), dtype=bool)
            member[members] = True
            params = None
            if family in (Exponential, Deterministic, Lognormal):  # one formula, a parameter array per row
                params = np.array(
                    [dists[k]._params() if k in members else dists[members[0]]._params() for k in range(len(dists))]
                )
            self._families.append((family, members, member, params))

    def ppf(self, which: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Sample row i from ``dists[which[i]]`` by inverse transform of ``u[i]``, all rows at once."""
        out = np.zeros(len(u))
        which = np.asarray(which)
        for family, members, member, params in self._families:
            rows = np.flatnonzero(member[which])
            if len(rows) == 0:
                continue
            w, uu = which[rows], u[rows]
            if params is not None:
                out[rows] = family._ppf(uu, *(params[w, j] for j in range(params.shape[1])))
            else:
                for k in members:
                    sel = rows[w == k]
                    if len(sel):
                        out[sel] = self.dists[k].ppf(u[sel])
        return out
