"""Line departments (条): gas, fire, water, urban management ..."""

from __future__ import annotations

import mesa


class Department(mesa.Agent):
    """A department with its own hotline, and a desk and field teams in every district.

    Args:
        model: the city model.
        name: department name.
        index: its index in the city's department list.
    """

    def __init__(self, model, name: str, index: int) -> None:
        super().__init__(model)
        self.name = name
        self.index = index
        units = model.units
        self.hotline_unit = int(units.hotline[index])
        self.desk_units = units.desk[index].tolist()
        self.team_units = units.team[index].tolist()

    @property
    def teams_busy(self) -> int:
        """Field teams out on a job now, over all districts."""
        return sum(self.model.network.busy(u) for u in self.team_units)

    @property
    def backlog(self) -> int:
        """Cases waiting at its hotline, desks and teams now."""
        net = self.model.network
        return sum(net.queue_length(u) for u in [self.hotline_unit, *self.desk_units, *self.team_units])
