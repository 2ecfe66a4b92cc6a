"""Shapley values against games whose values are known (efficiency alone would prove nothing)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from citysim.experiments.attribute import lever_groups
from citysim.experiments.shapley import coalitions_of, shapley_exact, shapley_sampled
from citysim.regimes import LEVERS


def game(g: int, value) -> np.ndarray:
    """A game's value for every coalition (bitmask) of g players."""
    return np.array([value({i for i in range(g) if mask >> i & 1}) for mask in range(2**g)], dtype=float)


def test_an_additive_game_gives_each_group_its_own_effect():
    effects = [3.0, -1.5, 0.25, 7.0, 0.0]
    phi = shapley_exact(game(5, lambda s: sum(effects[i] for i in s)))
    np.testing.assert_allclose(phi, effects)


def test_a_pure_interaction_is_split_equally():
    phi = shapley_exact(game(4, lambda s: 12.0 if len(s) == 4 else 0.0))
    np.testing.assert_allclose(phi, [3.0, 3.0, 3.0, 3.0])


def test_a_pairwise_interaction_is_split_between_its_two_players_only():
    effects = [1.0, 2.0, 4.0]
    phi = shapley_exact(game(3, lambda s: sum(effects[i] for i in s) + (10.0 if {0, 2} <= s else 0.0)))
    np.testing.assert_allclose(phi, [6.0, 2.0, 9.0])


def test_a_player_that_changes_nothing_gets_nothing():
    phi = shapley_exact(game(3, lambda s: 5.0 if {0, 1} <= s else 0.0))
    np.testing.assert_allclose(phi, [2.5, 2.5, 0.0])


def test_exact_values_per_replication_keep_their_rows():
    rows = np.stack([game(2, lambda s, k=k: k * len(s)) for k in (1.0, 2.0)])
    np.testing.assert_allclose(shapley_exact(rows), [[1.0, 1.0], [2.0, 2.0]])


def test_every_ordering_sampled_once_gives_the_exact_values():
    values = game(3, lambda s: len(s) ** 2 + (3.0 if 1 in s else 0.0))
    orders = np.array(list(itertools.permutations(range(3))))
    assert coalitions_of(orders) == list(range(8))
    estimate, error = shapley_sampled({m: np.array([values[m]]) for m in range(8)}, orders)
    np.testing.assert_allclose(estimate, shapley_exact(values))
    assert error.shape == (3,)


def test_sampled_orderings_converge_with_an_honest_interval():
    rng = np.random.default_rng(5)
    weights = rng.normal(size=6)
    values = game(6, lambda s: sum(weights[i] for i in s) + 4.0 * (len(s) >= 4))
    orders = np.array([rng.permutation(6) for _ in range(400)])
    masks = coalitions_of(orders)
    estimate, error = shapley_sampled({m: np.array([values[m]]) for m in masks}, orders)
    exact = shapley_exact(values)
    assert np.all(np.abs(estimate - exact) < 4 * error + 1e-9)
    assert np.all(error < 0.2)


def test_lever_groups_cover_every_lever_once():
    groups = lever_groups()
    levers = [lv for g in groups.values() for lv in g["levers"]]
    assert sorted(levers) == sorted(LEVERS)
    assert len(groups) == 8
    assert {g["side"] for g in groups.values()} == {"technology", "institution"}


@pytest.mark.parametrize("g", [1, 2, 8])
def test_exact_values_add_up_to_the_whole_difference(g):
    values = game(g, lambda s: float(sum(2**i for i in s)) ** 0.5)
    assert shapley_exact(values).sum() == pytest.approx(values[-1] - values[0])
