"""Checks of command-line options, shared by citysim's commands and the Python API.

Each check refuses a bad value with one line naming the option and what is
allowed (an :class:`~citysim.errors.OptionError`, which the CLI prints with
exit status 2). The bounds are those of the pydantic models
(:data:`~citysim.schema.common.WholeDays`, :data:`~citysim.schema.common.Seed`)
and of :mod:`citysim.limits`.

A click option takes one of the parameter types below::

    @click.option("--days", type=WHOLE_DAYS)
    @click.option("--warmup-days", type=WHOLE_DAYS_OR_ZERO)
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import click

from citysim.errors import OptionError
from citysim.limits import MAX_DAYS, MAX_SEED, MAX_WORKERS

__all__ = [
    "SEED",
    "WHOLE_DAYS",
    "WHOLE_DAYS_OR_ZERO",
    "WORKERS",
    "WholeDaysType",
    "WholeNumberType",
    "seed",
    "whole_days",
    "whole_number",
    "writable_folder",
]


def whole_number(value: object, option: str, low: int, high: int, what: str = "a whole number") -> int:
    """``value`` (an int, or text such as ``"7"``) as an int from ``low`` to ``high``.

    A float with nothing after the point (``7.0``) is taken as the int; a fraction, ``nan``,
    ``inf`` or anything else is refused.

    Raises:
        OptionError: ``{option}: {value} is not allowed; allowed: {what} from {low} to {high}``.
    """
    number: object = value
    if isinstance(value, str):
        text = value.strip()
        try:
            number = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                number = None
    if isinstance(number, float) and math.isfinite(number) and number.is_integer():
        number = int(number)
    if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
        raise OptionError(option, f"{value} is not allowed; allowed: {what} from {low:,} to {high:,}")
    return number


def whole_days(value: object, option: str = "days", minimum: int = 1) -> int:
    """A number of simulated days: whole days from ``minimum`` to :data:`~citysim.limits.MAX_DAYS`.

    A run counts each day's incidents from the day's start, so part of a day would count a whole
    day's incidents over less time: fractions are refused.
    """
    return whole_number(value, option, minimum, MAX_DAYS, "whole days")


def seed(value: object, option: str = "seed") -> int:
    """A run seed: a whole number from 0 to :data:`~citysim.limits.MAX_SEED`."""
    return whole_number(value, option, 0, MAX_SEED, "a whole number")


class WholeNumberType(click.ParamType):
    """A click parameter type: a whole number in a range, refused with one line naming the option."""

    name = "integer"

    def __init__(self, low: int, high: int, what: str = "a whole number") -> None:
        self.low, self.high, self.what = low, high, what

    def convert(self, value, param, ctx) -> int:
        option = param.opts[0] if param is not None and param.opts else self.name
        return whole_number(value, option, self.low, self.high, self.what)


class WholeDaysType(WholeNumberType):
    """A click parameter type: whole days from ``minimum`` to :data:`~citysim.limits.MAX_DAYS`."""

    name = "days"

    def __init__(self, minimum: int = 1) -> None:
        super().__init__(minimum, MAX_DAYS, "whole days")


WHOLE_DAYS = WholeDaysType()
"""``--days``: whole days, at least one."""

WHOLE_DAYS_OR_ZERO = WholeDaysType(minimum=0)
"""``--warmup-days``, ``--follow-up-days``: whole days, possibly none."""

SEED = WholeNumberType(0, MAX_SEED)
"""``--seed``: a whole number from 0 to 2**32 - 1."""

WORKERS = WholeNumberType(1, MAX_WORKERS)
"""``--workers``: worker processes, at least one."""


def writable_folder(path: str | Path, option: str = "--out") -> Path:
    """Create an output folder (and its parents) and make sure files can be written in it.

    Raises:
        OptionError: ``{option}: cannot write to {path}: {reason}`` (a file in the way, a
            read-only or virtual file system, no permission ...).
    """
    folder = Path(path)
    try:
        if folder.exists() and not folder.is_dir():
            raise OptionError(option, f"cannot write to {folder}: it is a file, not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise OptionError(option, f"cannot write to {folder}: {exc.strerror or exc}") from None
    return folder
