"""Sensor networks: IoT devices of one type, as counts per cell."""

from __future__ import annotations

import mesa


class SensorNetwork(mesa.Agent):
    """All sensors of one type in the city.

    Args:
        model: the city model.
        name: sensor type.
        index: its column in the city's sensor counts.
    """

    def __init__(self, model, name: str, index: int) -> None:
        super().__init__(model)
        self.name = name
        self.index = index

    @property
    def devices(self) -> int:
        """Number of devices in the city."""
        return int(self.model.city.sensor_count[:, self.index].sum())
