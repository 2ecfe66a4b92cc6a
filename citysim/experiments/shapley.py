"""Shapley values of players (lever groups) in a game given by its coalitions' values.

A coalition is a bitmask over ``g`` players (bit i set: player i's levers take
the target regime's values). :func:`shapley_exact` weighs every player's
marginal contribution over all ``2**g`` coalitions; :func:`shapley_sampled`
averages it over random orderings of the players (for more players than can
be enumerated). Values may come per replication (rows): common random numbers
make each replication's game comparable, and the spread over replications
gives the confidence intervals.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["coalitions_of", "shapley_exact", "shapley_sampled"]


def shapley_exact(values: np.ndarray) -> np.ndarray:
    """Exact Shapley values: ``values[..., mask]`` for every mask of g players -> ``[..., g]``.

    Example:
        >>> shapley_exact(np.array([0.0, 1.0, 2.0, 3.0]))  # additive: each player's own effect
        array([1., 2.])
    """
    values = np.asarray(values, dtype=float)
    g = int(round(math.log2(values.shape[-1])))
    if 2**g != values.shape[-1]:
        raise ValueError(f"values must have 2**g entries on the last axis, got {values.shape[-1]}")
    weights = [math.factorial(s) * math.factorial(g - s - 1) / math.factorial(g) for s in range(g)]
    out = np.zeros((*values.shape[:-1], g))
    for i in range(g):
        bit = 1 << i
        for mask in range(2**g):
            if not mask & bit:
                out[..., i] += weights[bin(mask).count("1")] * (values[..., mask | bit] - values[..., mask])
    return out


def coalitions_of(orders: np.ndarray) -> list[int]:
    """Every coalition the orderings visit (each ordering's prefixes), sorted."""
    masks = {0}
    for order in orders:
        mask = 0
        for player in order:
            mask |= 1 << int(player)
            masks.add(mask)
    return sorted(masks)


def shapley_sampled(value: dict[int, np.ndarray], orders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shapley values averaged over the given orderings of the players, and their standard errors.

    Args:
        value: each visited coalition's values, an array over replications.
        orders: ``(P, g)`` orderings of the g players.

    Returns:
        ``(estimate, standard_error)``, each of shape ``(g,)``; the error combines the spread over
        orderings and over replications.
    """
    orders = np.asarray(orders)
    n_orders, g = orders.shape
    reps = len(next(iter(value.values())))
    marginal = np.zeros((n_orders, reps, g))
    for p, order in enumerate(orders):
        mask = 0
        for player in order:
            nxt = mask | (1 << int(player))
            marginal[p, :, player] = value[nxt] - value[mask]
            mask = nxt
    estimate = np.nanmean(marginal, axis=(0, 1))
    by_order = np.nanmean(marginal, axis=1)  # (P, g)
    by_rep = np.nanmean(marginal, axis=0)  # (R, g)
    var = np.zeros(g)
    if n_orders > 1:
        var += np.nanvar(by_order, axis=0, ddof=1) / n_orders
    if reps > 1:
        var += np.nanvar(by_rep, axis=0, ddof=1) / reps
    return estimate, np.sqrt(var)
