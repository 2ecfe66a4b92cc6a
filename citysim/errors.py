"""One exception base for everything a user can get wrong."""

from __future__ import annotations

__all__ = ["CitysimError", "ScenarioError"]


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
