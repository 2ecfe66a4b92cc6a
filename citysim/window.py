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

A run stopped early (``citysim run`` on SIGINT or SIGTERM) stops between days and keeps
to the contract (:class:`Stop`): stopped in the warm-up, nothing was measured; in the
window, the window ends there and has no follow-up; in the follow-up, the follow-up
ends there. The result is that of a run asked for the shorter window
(:meth:`Window.cut`), so ``run.toml`` can reproduce it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DAY_MIN", "PERIODS", "Stop", "Window"]

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

    def cut(self, simulated_days: int) -> Window | None:
        """The window of a run stopped after ``simulated_days`` whole days (None: nothing was measured).

        Stopped in the window, the window ends there and there is no follow-up; in the follow-up,
        the follow-up ends there; in the warm-up (or before the window's first day ended), None.

        Example:
            >>> Window(days=14, warmup_days=21, follow_up_days=7).cut(26)
            Window(days=5, warmup_days=21, follow_up_days=0)
        """
        done = simulated_days - self.warmup_days
        if done <= 0:
            return None
        if done < self.days:
            return Window(days=done, warmup_days=self.warmup_days)
        follow_up_days = min(done - self.days, self.follow_up_days)
        return Window(days=self.days, warmup_days=self.warmup_days, follow_up_days=follow_up_days)


@dataclass(frozen=True)
class Stop:
    """A run stopped before its end (a signal, between two days): why, and after how many days.

    Args:
        reason: what stopped it, e.g. ``"SIGINT"``.
        requested: the window the run was asked for.
        simulated_days: whole days simulated when it stopped.

    Example:
        >>> stop = Stop("SIGINT", Window(days=14, warmup_days=21, follow_up_days=7), 26)
        >>> stop.period, stop.window.days
        ('window', 5)
    """

    reason: str
    requested: Window
    simulated_days: int

    @property
    def window(self) -> Window | None:
        """What the result covers (None: stopped in the warm-up, nothing measured)."""
        return self.requested.cut(self.simulated_days)

    @property
    def period(self) -> str:
        """Where it stopped: ``warmup`` (nothing measured), ``window`` or ``follow_up``."""
        w = self.window
        if w is None:
            return "warmup"
        return "window" if w.days < self.requested.days else "follow_up"

    @property
    def stopped(self) -> str:
        """``interrupted (SIGINT)``: the marker written to ``run.toml`` and ``metrics.json``."""
        return f"interrupted ({self.reason})"

    def describe(self) -> str:
        """One line saying where the run stopped and what its result therefore covers."""
        r, w = self.requested, self.window
        if w is None:
            where = (
                f"during the warm-up, after {self.simulated_days} of its {r.warmup_days} days"
                if r.warmup_days
                else "before the window's first day ended"
            )
            return f"{self.stopped.upper()} {where}: nothing was measured"
        if self.period == "window":
            return (
                f"{self.stopped.upper()} in the window, after {w.days} of its {r.days} days: the window is cut "
                f"there, with no follow-up (cases still open then are censored)"
            )
        return (
            f"{self.stopped.upper()} in the follow-up, after {w.follow_up_days} of its {r.follow_up_days} days: "
            f"the window is whole, its cases followed {w.follow_up_days} days after it"
        )

    @classmethod
    def of_record(cls, record) -> Stop | None:
        """The stop a ``run.toml``'s ``[citysim_run]`` table records (:meth:`record`'s inverse; None: complete)."""
        if record.stopped is None:
            return None
        reason = record.stopped.removeprefix("interrupted (").removesuffix(")")
        requested = Window(
            days=record.requested_days,
            warmup_days=record.requested_warmup_days,
            follow_up_days=record.requested_follow_up_days,
        )
        return cls(reason, requested, record.simulated_days)

    def record(self) -> dict[str, object]:
        """What ``run.toml``'s ``[citysim_run]`` table says of the stop (beside the window as measured)."""
        return {
            "stopped": self.stopped,
            "stopped_in": self.period,
            "simulated_days": self.simulated_days,
            **{f"requested_{k}": v for k, v in self.requested.as_dict().items()},
        }
