"""Operations centres (块): city, district and street levels."""

from __future__ import annotations

import mesa


class OperationsCentre(mesa.Agent):
    """An operations centre at one level.

    The city centre runs the unified hotline, supervision and call-backs; a
    district centre dispatches department teams; a street centre registers
    in-person and patrol reports and tasks grid workers.

    Args:
        model: the city model.
        level: ``"city"``, ``"district"`` or ``"street"``.
        district: district index (None for the city centre).
        street: street index (street centres only).
        units: the engine units this centre staffs.
    """

    def __init__(self, model, level: str, district: int | None, street: int | None, units: list[int]) -> None:
        super().__init__(model)
        self.level = level
        self.district = district
        self.street = street
        self.units = [int(u) for u in units]

    @property
    def staff_on_duty(self) -> int:
        """Staff on duty now, over all its units."""
        return sum(self.model.network.servers[u] for u in self.units)

    @property
    def queue_length(self) -> int:
        """Cases waiting for this centre now."""
        return sum(self.model.network.queue_length(u) for u in self.units)
