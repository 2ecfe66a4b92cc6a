"""Where and when incidents occur: the part of the city no regime changes.

For each simulated day and incident type, the number of occurrences is
Poisson with mean ``Σ cells, cohorts  residents × rate × multipliers``; each
occurrence is placed in a (cell, cohort) with probability proportional to its
share of that mean, at a time of day drawn from the type's hourly profile
(consultations by day, hazards round the clock; uniform over the day without one). Storms and public events add
occurrences in their districts while they last (drawn from their own streams,
so the base incidents stay the same with or without a shock). The draws come
from the ``occurrence`` stream of the day only: under every regime the same
incidents occur at the same places and times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from citysim.city import City
from citysim.compiled import compiled_or
from citysim.rng import Streams
from citysim.scenario import DISTRICT_KINDS, OccurrenceShock, Scenario
from citysim.sorting import stable_argsort

__all__ = [
    "DayIncidents",
    "OccurrenceSampler",
    "cumulative_profile",
    "pick_cumulative",
    "profile_mass",
    "time_of_day",
]

DAY_MIN = 1440.0


@dataclass
class DayIncidents:
    """One day's incidents as columns, in order of occurrence."""

    day: int
    first_id: int
    type: np.ndarray
    cell: np.ndarray
    cohort: np.ndarray
    occurred_at: np.ndarray
    time_to_harm: np.ndarray  # minutes after occurrence; inf for non-hazards
    id_array: np.ndarray | None = None  # ids when not first_id, first_id + 1, ... (a carried-forward subset)

    def __len__(self) -> int:
        return len(self.type)

    @property
    def ids(self) -> np.ndarray:
        if self.id_array is not None:
            return self.id_array
        return self.first_id + np.arange(len(self.type), dtype=np.int64)


def _place_mask(places: list[str], city: City) -> np.ndarray:
    """Cells in the named districts or district kinds (all cells if none named)."""
    if not places:
        return np.ones(city.n_cells, dtype=bool)
    districts = [i for i, n in enumerate(city.district_names) if n in places]
    kinds = [i for i, k in enumerate(DISTRICT_KINDS) if k in places]
    return np.isin(city.cell_district, districts) | np.isin(city.cell_kind, kinds)


def pick_cumulative(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``np.searchsorted(cum, u, side="right")``, looked up in increasing order of ``u``.

    The same indices; a large ``cum`` (a city's cells and cohorts) is then read from
    one end to the other instead of at random.
    """
    order = np.argsort(u)
    out = np.empty(len(u), dtype=np.intp)
    out[order] = np.searchsorted(cum, u[order], side="right")
    return out


def bucket_index(cum: np.ndarray, per_bucket: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Equal slices of ``cum``'s range (edges) and, per edge, how many entries are at most it: where
    :func:`pick_in_buckets` starts looking for a value."""
    k = max(1, len(cum) // per_bucket)
    edges = np.arange(k + 1) * (float(cum[-1]) / k) if len(cum) else np.zeros(k + 1)
    return edges, np.searchsorted(cum, edges, side="right").astype(np.int64)


def _pick_in_buckets_numpy(cum: np.ndarray, edges: np.ndarray, starts: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``np.searchsorted(cum, u, side="right")`` (numpy needs no buckets: it looks ``u`` up in increasing order)."""
    return pick_cumulative(cum, u)


pick_in_buckets = compiled_or("pick_in_buckets", _pick_in_buckets_numpy, module="citysim.processes._kernels")


def cumulative_profile(weights: list[float] | None) -> np.ndarray | None:
    """The cumulative share of a day's occurrences by each hour (25 values from 0 to 1); None: uniform."""
    if weights is None:
        return None
    w = np.asarray(weights, dtype=float)
    return np.concatenate([[0.0], np.cumsum(w) / w.sum()])


def profile_mass(cp: np.ndarray | None, a: float, b: float) -> float:
    """Share of a day's occurrences between minutes of the day ``a`` and ``b`` (0 <= a <= b <= 1440)."""
    if cp is None:
        return (b - a) / DAY_MIN

    def at(x: float) -> float:
        h = min(int(x // 60), 23)
        return cp[h] + (x - 60 * h) / 60.0 * (cp[h + 1] - cp[h])

    return at(b) - at(a)


def time_of_day(cp: np.ndarray, u: np.ndarray, a: float = 0.0, b: float = DAY_MIN) -> np.ndarray:
    """Minutes of the day of occurrences with uniform numbers ``u``, by the profile, within [a, b)."""
    lo = profile_mass(cp, 0.0, a)
    return _profile_minutes(cp, np.asarray(u, dtype=np.float64), lo, profile_mass(cp, a, b), a, np.nextafter(b, a))


def _profile_minutes_numpy(cp: np.ndarray, u: np.ndarray, lo: float, mass: float, a: float, top: float) -> np.ndarray:
    """The minute of the day at which the profile's cumulative share reaches ``lo + u * mass``, within [a, top]."""
    y = lo + u * mass
    h = np.clip(np.searchsorted(cp, y, side="right") - 1, 0, 23)
    width = cp[h + 1] - cp[h]
    frac = np.divide(y - cp[h], width, out=np.zeros_like(y), where=width > 0)
    return np.clip(60.0 * h + 60.0 * frac, a, top)


_profile_minutes = compiled_or("profile_minutes", _profile_minutes_numpy, module="citysim.processes._kernels")


class OccurrenceSampler:
    """Samples each day's incidents of a city.

    Args:
        scenario: the scenario (rates, multipliers, shocks).
        city: the built city (cohort counts per cell).
        streams: the run's random streams.
    """

    def __init__(self, scenario: Scenario, city: City, streams: Streams, shock_offset_min: float = 0.0) -> None:
        self.scenario = scenario
        self.city = city
        self.streams = streams
        self.type_names = list(scenario.incident_types)
        n_cells, n_cohorts = city.cohort_count.shape
        self.n_cohorts = n_cohorts
        scale = scenario.city.rate_scale
        self.weights = []  # per type: flat [cell * n_cohorts + cohort] expected occurrences/day
        for name in self.type_names:
            t = scenario.incident_types[name]
            kind_mult = np.ones(len(DISTRICT_KINDS))
            if t.rate_by_kind is not None:
                kind_mult = np.array([t.rate_by_kind.of(k) for k in DISTRICT_KINDS])
            cohort_mult = np.array([t.rate_by_cohort.get(c, 1.0) for c in city.cohort_names])
            w = city.cohort_count * kind_mult[city.cell_kind][:, None] * cohort_mult[None, :]
            self.weights.append((w * t.rate_per_1000_day / 1000.0 * scale).ravel())
        self.cum = [np.cumsum(w) for w in self.weights]
        self._buckets = {id(c): bucket_index(c) for c in self.cum}  # the day's draws look their cell up there
        profiles = scenario.hourly_profiles
        self.profile = [
            cumulative_profile(None if t.hourly_profile is None else profiles[t.hourly_profile])
            for t in scenario.incident_types.values()
        ]
        self.shocks = [
            (i, s, s.minutes(shock_offset_min), _place_mask(s.districts, city))
            for i, s in enumerate(scenario.shocks)
            if isinstance(s, OccurrenceShock)
        ]
        tth = []
        for name in self.type_names:
            t = scenario.incident_types[name]
            tth.append(t.time_to_harm if t.hazard else None)
        self._tth = tth

    def expected_by_type_district(self) -> np.ndarray:
        """Expected occurrences a day without shocks, by [incident type, district]."""
        district = np.repeat(self.city.cell_district, self.n_cohorts)
        return np.array([np.bincount(district, weights=w, minlength=self.city.n_districts) for w in self.weights])

    def expected_by_type_hour(self) -> np.ndarray:
        """Expected occurrences a day without shocks, by [incident type, hour of the day]."""
        out = []
        for w, cp in zip(self.weights, self.profile, strict=True):
            share = np.full(24, 1 / 24) if cp is None else np.diff(cp)
            out.append(w.sum() * share)
        return np.array(out)

    def expected_per_day(self) -> float:
        """Expected occurrences on a day without shocks."""
        return float(sum(c[-1] for c in self.cum if len(c)))

    def _draw(
        self, rng: np.random.Generator, t: int, weights_cum: np.ndarray, mean: float, t0: float, t1: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = rng.poisson(mean)
        u = rng.random(n) * weights_cum[-1]
        buckets = self._buckets.get(id(weights_cum)) or bucket_index(weights_cum)
        idx = np.minimum(pick_in_buckets(weights_cum, *buckets, u), len(weights_cum) - 1)
        cp = self.profile[t]
        if cp is None:
            times = t0 + rng.random(n) * (t1 - t0)
        else:
            day0 = np.floor(t0 / DAY_MIN) * DAY_MIN
            times = day0 + time_of_day(cp, rng.random(n), t0 - day0, t1 - day0)
        return np.full(n, t, dtype=np.int64), idx, times

    def sample(self, day: int, first_id: int) -> DayIncidents:
        """The incidents occurring on ``day`` (numbered from ``first_id``)."""
        rng = self.streams.generator("occurrence", day)
        t0, t1 = day * DAY_MIN, (day + 1) * DAY_MIN
        parts = []
        for t, cum in enumerate(self.cum):
            if len(cum) and cum[-1] > 0:
                parts.append(self._draw(rng, t, cum, cum[-1], t0, t1))
        for i, shock, (s_lo, s_hi), mask in self.shocks:
            lo, hi = max(t0, s_lo), min(t1, s_hi)
            if hi <= lo:
                continue
            srng = self.streams.generator("shock", i, day)
            cell_mask = np.repeat(mask, self.n_cohorts)
            for name in shock.incident_types:
                t = self.type_names.index(name)
                w = np.where(cell_mask, self.weights[t], 0.0)
                cum = np.cumsum(w)
                if cum[-1] <= 0:
                    continue
                if shock.multiplier >= 1:
                    frac = profile_mass(self.profile[t], lo - t0, hi - t0)  # of the day's occurrences of the type
                    parts.append(self._draw(srng, t, cum, (shock.multiplier - 1) * cum[-1] * frac, lo, hi))
                else:  # thin the base occurrences inside the window
                    keep_u = srng.random(sum(len(p[0]) for p in parts))
                    parts = self._thin(parts, t, cell_mask, lo, hi, shock.multiplier, keep_u)
        if parts:
            types = np.concatenate([p[0] for p in parts])
            flat = np.concatenate([p[1] for p in parts])
            times = np.concatenate([p[2] for p in parts])
        else:
            types, flat, times = (np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0),)
        order = stable_argsort(times)
        types, flat, times = types[order], flat[order], times[order]
        tth = np.full(len(types), np.inf)
        hrng = self.streams.generator("time_to_harm", day)
        u = hrng.random(len(types))
        for t, dist in enumerate(self._tth):
            if dist is not None:
                sel = types == t
                tth[sel] = dist.ppf(u[sel])
        return DayIncidents(
            day=day,
            first_id=first_id,
            type=types,
            cell=flat // self.n_cohorts,
            cohort=flat % self.n_cohorts,
            occurred_at=times,
            time_to_harm=tth,
        )

    @staticmethod
    def _thin(parts, t, cell_mask, lo, hi, keep_share, keep_u):
        out, offset = [], 0
        for types, idx, times in parts:
            u = keep_u[offset : offset + len(types)]
            offset += len(types)
            hit = (types == t) & cell_mask[idx] & (times >= lo) & (times < hi)
            keep = ~hit | (u < keep_share)
            out.append((types[keep], idx[keep], times[keep]))
        return out
