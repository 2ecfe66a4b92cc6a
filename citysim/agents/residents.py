"""Residents, as cohorts per district (counts per cell live in the city arrays)."""

from __future__ import annotations

import mesa


class ResidentCohort(mesa.Agent):
    """The residents of one cohort in one district, and their trust.

    Args:
        model: the city model.
        cohort: cohort name.
        cohort_index: its index.
        district: district index.
    """

    def __init__(self, model, cohort: str, cohort_index: int, district: int) -> None:
        super().__init__(model)
        self.cohort = cohort
        self.cohort_index = cohort_index
        self.district = district

    @property
    def trust(self) -> float:
        """Current trust that reporting helps (moves with experience)."""
        return float(self.model.trust[self.cohort_index, self.district])

    @property
    def population(self) -> float:
        """Residents of this cohort in this district."""
        city = self.model.city
        return float(city.cohort_count[city.cell_district == self.district, self.cohort_index].sum())
