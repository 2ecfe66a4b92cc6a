"""Grid workers (网格员): the city's capillaries."""

from __future__ import annotations

import mesa


class GridWorker(mesa.Agent):
    """One grid worker: patrols their cells, takes reports in person, handles tasks.

    Tasks in their cells come to them (their own ``grid`` unit, a queue of
    one); patrol time is what paperwork, yesterday's tasks and proactive
    visits leave of the shift.

    Args:
        model: the city model.
        street: street index.
        cells: indices of the cells this worker is responsible for.
    """

    def __init__(self, model, street: int, cells: list[int], unit: int) -> None:
        super().__init__(model)
        self.street = int(street)
        self.cells = list(cells)
        self.unit = int(unit)

    @property
    def on_duty(self) -> int:
        """1 while the worker's shift is on, 0 off shift."""
        return int(self.model.network.servers[self.unit])

    @property
    def backlog(self) -> int:
        """Tasks waiting for this worker now."""
        return self.model.network.queue_length(self.unit)
