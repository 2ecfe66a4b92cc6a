"""Designs: which parameter values each run gets, and how they are set in a scenario.

A design first draws points in the unit hypercube (one coordinate per
parameter) and then maps each coordinate through its parameter's inverse
distribution function, so that every design kind treats distributions alike:

* ``grid``: every combination of each parameter's values (no unit points);
* ``lhs``: a Latin hypercube (each parameter's range cut in ``samples``
  strata, one point in each);
* ``sobol``: Saltelli's extension of the Sobol sequence (SALib), for Sobol indices;
* ``morris``: Morris trajectories on a ``levels`` grid (SALib), for elementary effects.

Every random draw comes from the Generator it is given (seeded from the
experiment's seed). :func:`apply_point` sets a point's values in a scenario
(as a plain dict, sharing what it does not change) and in the lever values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from citysim.errors import CitysimError, ScenarioError
from citysim.experiments.spec import Design, Parameter

__all__ = ["apply_point", "design_points", "expand_path", "grid_values", "needs_salib", "value_at"]

_EDGE = 1e-6  # unit coordinates are kept inside (0, 1) so unbounded distributions stay finite


def grid_values(p: Parameter) -> list[Any]:
    """A parameter's levels in a grid: its values, or ``levels`` points evenly from low to high."""
    if p.values is not None:
        return list(p.values)
    if p.dist == "normal":
        return [float(v) for v in stats.norm.ppf(np.linspace(0.1, 0.9, p.levels), p.mean, p.sd)]
    return [float(v) for v in np.linspace(p.low, p.high, p.levels)]


def value_at(p: Parameter, u: np.ndarray) -> list[Any]:
    """Values of a parameter at unit coordinates ``u`` (its inverse distribution function)."""
    u = np.clip(np.asarray(u, dtype=float), _EDGE, 1 - _EDGE)
    if p.dist == "choice" or p.values is not None:
        values = p.values or []
        return [values[min(int(x * len(values)), len(values) - 1)] for x in u]
    if p.dist == "uniform":
        out = p.low + u * (p.high - p.low)
    elif p.dist == "loguniform":
        out = np.exp(np.log(p.low) + u * (np.log(p.high) - np.log(p.low)))
    elif p.dist == "triangular":
        width = p.high - p.low
        out = stats.triang.ppf(u, (p.mode - p.low) / width, loc=p.low, scale=width)
    else:  # normal
        out = stats.norm.ppf(u, p.mean, p.sd)
    return [float(x) for x in out]


def needs_salib(what: str):
    """SALib's modules, or a user error saying how to install them."""
    try:
        from SALib.analyze import morris as morris_analyze
        from SALib.analyze import sobol as sobol_analyze
        from SALib.sample import morris as morris_sample
        from SALib.sample import sobol as sobol_sample
    except ImportError:
        raise CitysimError(f"{what} needs SALib: pip install 'citysim[sensitivity]'") from None
    return sobol_sample, sobol_analyze, morris_sample, morris_analyze


def unit_problem(k: int) -> dict[str, Any]:
    """SALib's problem for k parameters on the unit hypercube."""
    return {"num_vars": k, "names": [f"x{j}" for j in range(k)], "bounds": [[0.0, 1.0]] * k}


def _latin_hypercube(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    strata = np.stack([rng.permutation(n) for _ in range(k)], axis=1)
    return (strata + rng.random((n, k))) / n


def design_points(
    design: Design, parameters: Sequence[Parameter], rng: np.random.Generator
) -> tuple[list[dict[str, Any]], np.ndarray | None]:
    """The design's points (parameter label -> value) and, except for grids, their unit coordinates."""
    labels = [p.label for p in parameters]
    if design.kind == "grid":
        combos = itertools.product(*(grid_values(p) for p in parameters))
        return [dict(zip(labels, combo, strict=True)) for combo in combos], None
    k = len(parameters)
    if design.kind == "lhs":
        unit = _latin_hypercube(design.samples, k, rng)
    elif design.kind == "sobol":
        sobol_sample = needs_salib("a sobol design")[0]
        unit = sobol_sample.sample(
            unit_problem(k), design.samples, calc_second_order=design.second_order, scramble=True, seed=rng
        )
    else:
        morris_sample = needs_salib("a morris design")[2]
        unit = morris_sample.sample(unit_problem(k), design.samples, num_levels=design.levels, seed=rng)
    columns = [value_at(p, unit[:, j]) for j, p in enumerate(parameters)]
    points = [dict(zip(labels, row, strict=True)) for row in zip(*columns, strict=True)]
    return points, unit


def expand_path(data: Mapping[str, Any], path: str) -> list[tuple[Any, ...]]:
    """Concrete key paths matching a dotted field path (``*`` matches every key; ``[i]`` a list item).

    Raises:
        KeyError: with a message naming the first part of the path that does not exist.
    """
    parts: list[Any] = []
    for piece in path.split("."):
        name, *indices = piece.replace("]", "").split("[")
        if name:
            parts.append(name)
        parts.extend(int(i) for i in indices)
    found: list[tuple[Any, ...]] = [()]
    for depth, part in enumerate(parts):
        nxt = []
        for prefix in found:
            node = _get(data, prefix)
            if part == "*" and isinstance(node, Mapping):
                nxt.extend((*prefix, key) for key in node)
            elif isinstance(node, Mapping) and part in node:
                nxt.append((*prefix, part))
            elif isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node):
                nxt.append((*prefix, part))
            else:
                where = ".".join(str(x) for x in parts[:depth]) or "the top level"
                there = ", ".join(map(str, node)) if isinstance(node, Mapping) else f"{len(node)} items"
                raise KeyError(
                    f"no field {part!r} at {where}; there: {there}"
                    if isinstance(node, Mapping | list)
                    else f"{where} is a value, not a table"
                )
        found = nxt
    return found


def _get(data: Any, keys: tuple[Any, ...]) -> Any:
    for key in keys:
        data = data[key]
    return data


def _with(data: Any, keys: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``data`` with the value at ``keys`` replaced, copying only the containers on the path."""
    if not keys:
        return value
    copy = list(data) if isinstance(data, list) else dict(data)
    copy[keys[0]] = _with(data[keys[0]], keys[1:], value)
    return copy


def _set_field(data: dict[str, Any], keys: tuple[Any, ...], value: Any, p: Parameter) -> dict[str, Any]:
    old = _get(data, keys)
    new = value * old if p.scale else value
    if isinstance(old, int) and not isinstance(old, bool) and isinstance(new, float):
        new = int(round(new))
    if p.rescale_siblings:
        siblings = _get(data, keys[:-1])
        rest = sum(v for k, v in siblings.items() if k != keys[-1])
        factor = (1 - new) / rest if rest > 0 else 0.0
        shares = {k: (new if k == keys[-1] else v * factor) for k, v in siblings.items()}
        return _with(data, keys[:-1], shares)
    return _with(data, keys, new)


def apply_point(
    scenario: dict[str, Any],
    levers: dict[str, Any],
    parameters: Sequence[Parameter],
    point: Mapping[str, Any],
    source: str = "experiment",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A scenario dict and lever values with a design point's values set.

    Raises:
        ScenarioError: a field path that does not exist, naming the parameter.
    """
    levers = dict(levers)
    for i, p in enumerate(parameters):
        value = point[p.label]
        if p.lever is not None:
            levers[p.lever] = value
            continue
        for path in p.fields:
            try:
                matches = expand_path(scenario, path)
            except KeyError as exc:
                raise ScenarioError(source, f"parameters[{i}].field", f"{path!r}: {exc.args[0]}") from None
            for keys in matches:
                old = _get(scenario, keys)
                if isinstance(old, Mapping | list):
                    raise ScenarioError(source, f"parameters[{i}].field", f"{path!r} is a table, not a value")
                if p.scale and not is_finite_number(old):
                    raise ScenarioError(source, f"parameters[{i}].scale", f"{path!r} is {old!r}, not a number")
                scenario = _set_field(scenario, keys, value, p)
    return scenario, levers


def is_finite_number(value: Any) -> bool:
    """A value that can stand in a numeric design matrix."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
