"""How calls and cases queue: callers' patience and redials, priority classes.

A scenario's ``[queueing]`` table. Everything here holds in every regime (it is
how people and queues behave, not how a city is governed); the defaults switch
each mechanism off: callers hold for ever, never redial, and every case is in one
class (first come, first served), which is what the queueing-theory checks of
``citysim validate`` assume unless a case says otherwise.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from citysim.distributions import Distribution, Exponential
from citysim.errors import FieldError
from citysim.limits import MAX_CLASSES, MAX_MULTIPLIER, MAX_NAMED, MAX_REDIALS
from citysim.schema.common import Share, _Model

__all__ = ["Patience", "Queueing"]

Multiplier = Annotated[float, Field(gt=0, le=MAX_MULTIPLIER)]
PriorityClass = Annotated[int, Field(ge=0, lt=MAX_CLASSES)]


class Patience(_Model):
    """How long a resident waits in an intake queue before hanging up, by the channel used (minutes).

    A channel without a distribution never hangs up (a web form or an app report waits as long as it takes).
    """

    phone: Distribution | None = Field(default=None, description="a caller on hold at a hotline")
    online: Distribution | None = Field(default=None, description="a web form waiting to be taken in")
    app: Distribution | None = Field(default=None, description="an app report waiting to be taken in")
    in_person: Distribution | None = Field(
        default=None, description="a report made in person, waiting at the street centre"
    )

    def of(self, channel: str) -> Distribution | None:
        """The patience of one channel (None: never hangs up)."""
        return getattr(self, channel)


class Queueing(_Model):
    """Callers who hang up and redial; urgent cases first."""

    patience: Patience = Field(
        default_factory=Patience,
        description="by channel: how long a resident waits at an intake queue (city hotline, a department's "
        "hotline, an emergency line, a street centre) before hanging up; none: never",
    )
    patience_by_cohort: dict[str, Multiplier] = Field(
        default_factory=dict, max_length=MAX_NAMED, description="multiplier on patience by cohort (default 1)"
    )
    redial_probability: Share = Field(
        default=0.0, description="chance a resident who hung up calls again (else the need is given up)"
    )
    redial_delay: Distribution = Field(
        default=Exponential(mean=10.0), description="hanging up to calling again, minutes"
    )
    max_redials: int = Field(
        default=0, ge=0, le=MAX_REDIALS, description="redials at most per call; after the last, the need is given up"
    )
    priority_by_severity: tuple[PriorityClass, PriorityClass, PriorityClass, PriorityClass, PriorityClass] = Field(
        default=(0, 0, 0, 0, 0),
        description="priority class of incident types of severity 1, 2, 3, 4 and 5 (0 most urgent, served first; "
        "first come, first served within a class; a service is never interrupted); with more than one class, "
        "cases of class 0 are urgent (transferred warm when misrouted)",
    )
    unclassified_class: PriorityClass | None = Field(
        default=None,
        description="class of a call or walk-in not yet taken in (nobody knows yet what it is about); default: the "
        "least urgent class",
    )

    @property
    def classes(self) -> int:
        """Number of priority classes."""
        return max(self.priority_by_severity) + 1

    @property
    def intake_class(self) -> int:
        """Class of a report not yet taken in."""
        return self.classes - 1 if self.unclassified_class is None else self.unclassified_class

    @property
    def redials_possible(self) -> bool:
        """Whether anyone ever redials."""
        return self.max_redials > 0 and self.redial_probability > 0

    @model_validator(mode="after")
    def _classes_used(self) -> Queueing:
        if self.unclassified_class is not None and self.unclassified_class >= self.classes:
            raise FieldError(
                "unclassified_class",
                f"{self.unclassified_class} is not a class of priority_by_severity (0 to {self.classes - 1})",
            )
        missing = sorted(set(range(self.classes)) - set(self.priority_by_severity))
        if missing:
            raise FieldError(
                "priority_by_severity", f"classes are numbered 0, 1, 2 ... without gaps: no severity has {missing[0]}"
            )
        return self
