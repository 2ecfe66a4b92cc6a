"""Headline figures do not move with the length of the measurement window (the city is at equilibrium)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats

import citysim


@pytest.fixture(scope="module")
def by_window_length(busy_town) -> dict[int, pd.DataFrame]:
    """Headline figures of the busy town under fragmented, 5 seeds, windows of 14 and 28 days (a week each side)."""
    out = {}
    for days in (14, 28):
        rows = [
            citysim.simulate(busy_town, "fragmented", seed=s, days=days, warmup_days=7, follow_up_days=7).metrics[
                "headline"
            ]
            for s in range(5)
        ]
        out[days] = pd.DataFrame(rows)
    return out


STABLE = {  # figure -> largest CI half-width allowed (hours for times, absolute for shares)
    "resolution_median_h": 2.0,  # about 21 h under fragmented, with some 8% of needs given up (never resolved)
    "report_resolution_median_h": 0.5,
    "resolved_within_24h": 0.02,
    "resolved_within_72h": 0.02,
    "detected_share": 0.02,
    "needs_met_share": 0.02,
    "needs_met_worst_best_cohort": 0.05,
}


@pytest.mark.parametrize("figure", list(STABLE))
def test_headline_figures_do_not_move_with_the_windows_length(by_window_length, figure):
    a, b = by_window_length[14][figure], by_window_length[28][figure]
    level = 1 - 0.01 / len(STABLE)  # Bonferroni over the figures
    for x in (a, b):
        half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
        assert half < STABLE[figure], f"{figure}: CI half-width {half:.3g} too wide to tell"
    p = stats.ttest_ind(a, b, equal_var=False).pvalue
    assert p > 0.01 / len(STABLE), f"{figure}: 14 days {a.mean():.4g} vs 28 days {b.mean():.4g} (p={p:.2g})"
