"""One exception base for everything a user can get wrong."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["CitysimError", "FieldError", "ScenarioError", "format_validation_error"]


class CitysimError(Exception):
    """Base class of citysim's user-facing errors (the CLI prints them, exit status 2)."""


class ScenarioError(CitysimError):
    """A scenario, regime or lever value that cannot be used.

    Args:
        source: The file (or ``--set`` option) the value came from.
        field: Dotted path of the field, e.g. ``departments.gas.teams.core``.
        message: What is wrong and what is allowed.
    """

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        where = f"{source}: {field}: " if field else f"{source}: "
        super().__init__(where + message)


class FieldError(ValueError):
    """A cross-reference error that knows the field it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def format_validation_error(source: str, exc: ValidationError) -> ScenarioError:
    """Turn pydantic's first error into one message naming file, field and what is allowed."""
    err = exc.errors(include_url=False)[0]
    tags = {
        "exponential",
        "deterministic",
        "lognormal",
        "gamma",
        "uniform",
        "storm",
        "public_event",
        "sensor_outage",
        "staff_absence",
    }
    field = ""
    for part in err["loc"]:
        if isinstance(part, int):
            field += f"[{part}]"
        elif part in tags or part.startswith("function-"):
            continue  # discriminated unions add their tag to the location
        else:
            field += f".{part}" if field else part
    msg = err["msg"]
    ctx = err.get("ctx") or {}
    kind = err["type"]
    cause = ctx.get("error")
    if isinstance(cause, FieldError):
        field = ".".join(p for p in (field, cause.field) if p)
        return ScenarioError(source, field, str(cause))
    if kind == "literal_error" and "expected" in ctx:
        msg = f"{err['input']!r} is not one of {ctx['expected']}"
    elif kind == "extra_forbidden":
        msg = "unknown field (check the spelling; see docs/scenario-reference.md)"
    elif kind == "missing":
        msg = "required field is missing"
    elif kind == "union_tag_invalid":
        msg = f"{ctx.get('tag')!r} is not one of {ctx.get('expected_tags')}"
    elif "input" in err and not isinstance(err["input"], dict | list):
        msg = f"{err['input']!r}: {msg.replace('Input should be', 'must be')}"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    more = len(exc.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ScenarioError(source, field, msg)
