"""Grid workers (网格员): the city's capillaries."""

from __future__ import annotations

import mesa


class GridWorker(mesa.Agent):
    """One grid worker: patrols their cells, takes reports in person, handles tasks.

    Tasks from the street centre go to the street's grid workers as a team
    (the street's ``grid`` unit); patrol time is what paperwork, tasks and
    proactive visits leave of the shift.

    Args:
        model: the city model.
        street: street index.
        cells: indices of the cells this worker is responsible for.
    """

    def __init__(self, model, street: int, cells: list[int]) -> None:
        super().__init__(model)
        self.street = int(street)
        self.cells = list(cells)

    @property
    def unit(self) -> int:
        """The engine unit of this worker's street team."""
        return int(self.model.units.grid[self.street])
