"""Two cities on one incident stream, stepped together an hour at a time.

:class:`Classroom` is the Mesa model the page drives (Mesa's ``ModelController``
calls :meth:`Classroom.step` on Step and Play, and rebuilds it with the same
arguments on Reset). It holds two :class:`~citysim.dashboard.live.LiveCity`
runs of one scenario and seed under two regimes: the same incidents occur at
the same places and times in both (common random numbers), so what differs is
what each city makes of them. A lever change builds a new classroom with
``hours=`` the current time: the same incidents replayed under the new levers.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

import mesa
import numpy as np

from citysim.dashboard.live import LiveCity, Look
from citysim.regimes import Regime, apply_overrides, presets
from citysim.scenario import Scenario, load_scenario

__all__ = ["FIRST_SHOWN", "Classroom", "regime_choices", "scenario_at"]

FIRST_SHOWN = 5
"""How many of the first incidents after the start the page lists side by side."""

FOLLOW_WINDOW_H = 24
"""The incident of the moment is the most severe (then the latest) of the last this many hours."""


@cache
def scenario_at(path: str) -> Scenario:
    """A scenario file, read once per process (the page rebuilds models often)."""
    return load_scenario(Path(path))


def regime_choices(scenario: Scenario) -> list[str]:
    """Regimes a user can pick: the presets, then the scenario's own."""
    return list(dict.fromkeys([*presets(), *scenario.regimes]))


def regime_with(scenario: Scenario, name: str, levers: dict[str, object]) -> Regime:
    """A preset or scenario regime with some levers set (as ``--set lever=value`` would)."""
    base = scenario.regime_named(name)
    changed = [f"{k}={v}" for k, v in levers.items() if getattr(base, k) != v]
    return apply_overrides(base, changed)


class Classroom(mesa.Model):
    """A scenario under two regimes, side by side, one simulated hour per step.

    Args:
        scenario_path: the scenario file.
        left: the first panel's regime.
        right: the second panel's regime.
        seed: the run's seed, shared by both cities.
        hours: hours to replay at once after the warm-up (a rebuilt classroom catching up).
    """

    def __init__(self, scenario_path: str, left: Regime, right: Regime, seed: int = 1, hours: int = 0) -> None:
        super().__init__(rng=np.random.default_rng(seed))  # Mesa's own generator; citysim draws from Streams only
        self.scenario_path = str(scenario_path)
        self.scenario = scenario_at(self.scenario_path)
        self.seed = seed
        self._lock = threading.Lock()  # Play steps in a thread while the page reads
        self.cities = (LiveCity(self.scenario, left, seed), LiveCity(self.scenario, right, seed))
        first = self.cities[0].first_id
        self.first_ids = list(range(first, first + FIRST_SHOWN))
        self.notable: list[tuple[int, int, float]] = []  # (id, severity, occurred_at) of followed candidates
        self.pinned: int | None = None
        for city in self.cities:
            city.watch(self.first_ids)
        for _ in range(hours):
            self._advance()
        self.steps = hours
        self._looks: tuple[Look, Look] | None = None

    @property
    def hours(self) -> int:
        """Hours since the start."""
        return self.cities[0].hours

    @property
    def now_min(self) -> float:
        return self.cities[0].model.now

    def _advance(self) -> None:
        begun = [city.step() for city in self.cities]
        for ids, severity, occurred in begun[0]:  # the same incidents in both cities
            for city in self.cities:
                city.watch(ids)
            self.notable.extend(zip(ids.tolist(), severity.tolist(), occurred.tolist(), strict=True))
        # forget candidates older than two windows (bounded memory over a long run)
        horizon = self.now_min - 2 * FOLLOW_WINDOW_H * 60.0
        self.notable = [n for n in self.notable if n[2] >= horizon]
        keep = {*self.first_ids, *([self.pinned] if self.pinned is not None else []), *(n[0] for n in self.notable)}
        for city in self.cities:
            city.tally.keep_only(keep)
        self.running = not any(city.finished for city in self.cities)
        self._looks = None

    def step(self) -> None:
        """Simulate one more hour in both cities."""
        with self._lock:
            self._advance()

    def looks(self) -> tuple[Look, Look]:
        """Both cities now (computed once per step)."""
        with self._lock:
            if self._looks is None:
                self._looks = (self.cities[0].look(), self.cities[1].look())
            return self._looks

    def followed_id(self) -> int | None:
        """The incident of the moment: pinned by the user, else the most severe of the last day, latest first."""
        if self.pinned is not None:
            return self.pinned
        now = self.now_min
        recent = [n for n in self.notable if now - FOLLOW_WINDOW_H * 60.0 <= n[2] <= now]
        if not recent:
            return None
        return max(recent, key=lambda n: (n[1], n[2]))[0]

    def recent_notable(self, limit: int = 8) -> list[int]:
        """Ids of the latest notable incidents that have occurred (newest first)."""
        now = self.now_min
        return [n[0] for n in sorted(self.notable, key=lambda n: -n[2]) if n[2] <= now][:limit]
