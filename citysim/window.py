"""The measurement contract: a run is a warm-up, a measurement window and a follow-up, in whole days.

* **Warm-up** (``warmup_days``): simulated so that queues, trust and patrols reach
  their usual state, and not counted.
* **Window** (``days``): every incident that occurs in it is measured, whatever
  becomes of it, undetected ones included.
* **Follow-up** (``follow_up_days``): simulated so that the window's incidents can
  go on to their end; incidents occurring in it load the city but are not counted.
  A window incident still open at the end of the follow-up is *censored*: its time
  to resolution is known to be longer than the time it was followed, never dropped.

Simulated time starts at the warm-up (minute 0); shocks (storms, outages) are given
in days since the start of the window, so a longer warm-up does not move them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DAY_MIN", "PERIODS", "Window"]

DAY_MIN = 1440.0
"""Minutes in a day."""

PERIODS = ("warmup", "window", "follow_up")
"""The three parts of a run, in order."""


@dataclass(frozen=True)
class Window:
    """Where the measurement window lies in a run.

    Args:
        days: length of the measurement window, whole days (at least 1).
        warmup_days: simulated before it, not counted.
        follow_up_days: simulated after it; the window's incidents go on, later ones are not counted.

    Example:
        >>> w = Window(days=7, warmup_days=7, follow_up_days=7)
        >>> w.start_min, w.end_min, w.horizon_min
        (10080.0, 20160.0, 30240.0)
    """

    days: int
    warmup_days: int = 0
    follow_up_days: int = 0

    def __post_init__(self) -> None:
        for name in ("days", "warmup_days", "follow_up_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name == "days" else 0):
                raise ValueError(f"{name} must be a whole number of days (at least {1 if name == 'days' else 0})")

    @property
    def total_days(self) -> int:
        """Days simulated in all."""
        return self.warmup_days + self.days + self.follow_up_days

    @property
    def start_min(self) -> float:
        """The window's first minute (the end of the warm-up)."""
        return self.warmup_days * DAY_MIN

    @property
    def end_min(self) -> float:
        """The minute after the window's last (the start of the follow-up)."""
        return (self.warmup_days + self.days) * DAY_MIN

    @property
    def horizon_min(self) -> float:
        """The end of the run: incidents still open then are censored."""
        return self.total_days * DAY_MIN

    @property
    def length_min(self) -> float:
        """The window's length, minutes."""
        return self.days * DAY_MIN

    def period_of_day(self, day: int) -> str:
        """``warmup``, ``window`` or ``follow_up``: the part of the run a simulated day belongs to."""
        if day < self.warmup_days:
            return "warmup"
        return "window" if day < self.warmup_days + self.days else "follow_up"

    def as_dict(self) -> dict[str, int]:
        """The three lengths, as written to ``run.toml`` and ``metrics.json``."""
        return {"warmup_days": self.warmup_days, "days": self.days, "follow_up_days": self.follow_up_days}
