"""An incident's dice taken without drawing the rest of the day's stream: the same numbers."""

from __future__ import annotations

import copy
import importlib.util

import numpy as np
import pandas as pd
import pytest

import citysim
from citysim import rng
from citysim.processes.dice import Dice
from citysim.rng import Streams, uniforms_at
from citysim.scenario import scenario_from_dict
from tests.conftest import NO_WINDOW

SHAPES = [  # the whole array, and leading indices into a row
    ((300, 5, 4, 3), (0, 0)),
    ((300, 5, 4, 3), (2, 1)),
    ((300, 5, 4, 3), (4, 3, 2)),
    ((300, 5, 4), (1,)),
    ((300, 5, 5), (0,)),
    ((300, 5), (4,)),
    ((300, 7), ()),
]


def _rows(n: int) -> list[np.ndarray]:
    picked = np.sort(np.random.default_rng(0).choice(n, 37, replace=False))
    return [np.arange(n), picked, np.array([n - 1]), np.array([0]), np.zeros(0, dtype=np.int64)]


@pytest.mark.skipif(rng.numba is None, reason="numba not installed")
@pytest.mark.parametrize(("shape", "index"), SHAPES)
def test_numbers_computed_alone_are_those_of_the_whole_draw(shape, index):
    streams = Streams(7)
    whole = streams.generator("incident:x", 3).random(shape)
    for rows in _rows(shape[0]):
        got = uniforms_at(streams.pcg_state("incident:x", 3), shape, rows, index)
        assert np.array_equal(got, whole[(rows, *index)])
    assert uniforms_at(streams.pcg_state("incident:x", 3), shape, np.array([2, 1]), index) is None  # not ascending


@pytest.mark.skipif(rng.numba is None, reason="numba not installed")
def test_numbers_computed_alone_far_into_a_long_stream():
    """Rows far apart (jumps of many rows at once) and far from the start, a row's numbers in the middle."""
    shape, index = (200_003, 4, 3), (2,)
    whole = Streams(11).generator("incident:far", 9).random(shape)
    for rows in (np.array([0, 131_071, 131_072, 200_002]), np.array([65_537, 65_538, 199_999]), np.array([200_002])):
        got = uniforms_at(Streams(11).pcg_state("incident:far", 9), shape, rows, index)
        assert np.array_equal(got, whole[(rows, *index)])
    assert uniforms_at(Streams(11).pcg_state("incident:far", 9), shape, np.array([3, 3]), index) is None


@pytest.mark.parametrize("numba", ["installed", "missing"])
def test_dice_at_is_the_whole_draw_indexed(monkeypatch, numba):
    if numba == "missing":
        monkeypatch.setattr(rng, "numba", None)
    for shape, index in SHAPES:
        whole = Dice(Streams(7), "incident", 3, shape[0]).u("x", *shape[1:])
        for rows in [*_rows(shape[0]), np.array([5, 5, 1])]:
            got = Dice(Streams(7), "incident", 3, shape[0]).at("x", shape[1:], rows, *index)
            assert np.array_equal(got, whole[(rows, *index)])


@pytest.mark.parametrize("regime", ["fragmented", "integrated"])
def test_plans_are_the_same_without_numba(monkeypatch, small_dict, regime):
    d = copy.deepcopy(small_dict)
    for district in d["city"]["districts"]:
        district["population"] *= 6
    scenario = scenario_from_dict(d, "small.toml (x6)")
    runs = {}
    for numba in ("installed", "missing"):
        if numba == "missing":
            monkeypatch.setattr(rng, "numba", None)
        runs[numba] = citysim.simulate(scenario, regime=regime, seed=5, days=4, **NO_WINDOW)
    for name in ("incidents", "stages", "alerts", "units"):
        pd.testing.assert_frame_equal(runs["installed"].tables[name], runs["missing"].tables[name])
    assert len(runs["missing"].stages) > 1000


@pytest.mark.parametrize("per_bucket", [1, 3, 8])
def test_picking_a_cell_by_buckets_is_searchsorted(per_bucket):
    """Occurrences find their cell (and cohort) in the cumulative weights as ``np.searchsorted`` would:
    zero weights (ties), values equal to an entry or an edge, the first and the last value."""
    from citysim.processes.occurrence import _pick_in_buckets_numpy, bucket_index, pick_in_buckets

    gen = np.random.default_rng(per_bucket)
    checked = 0
    for trial in range(60):
        n = int(gen.integers(1, 2000))
        w = gen.random(n) * (gen.random(n) < 0.6)  # many cells without anyone
        if trial % 5 == 0:
            w[:] = 0.0
            w[gen.integers(n)] = 1.0  # all in one cell
        cum = np.cumsum(w)
        if cum[-1] <= 0:
            continue
        edges, starts = bucket_index(cum, per_bucket)
        u = np.concatenate(
            [gen.random(300) * cum[-1], cum[gen.integers(0, n, 40)], edges[:-1], [0.0, np.nextafter(cum[-1], 0)]]
        )
        want = np.searchsorted(cum, u, side="right")
        for pick in (pick_in_buckets, _pick_in_buckets_numpy):
            np.testing.assert_array_equal(pick(cum, edges, starts, u), want)
        checked += len(u)
    assert checked > 10_000


def test_times_of_day_compiled_are_numpys(monkeypatch):
    """Occurrence times read off an hourly profile: the compiled pass gives numpy's minutes to the last bit,
    hours without occurrences, a day's part (a shock's window) and numbers at the profile's steps included."""
    from citysim.processes import occurrence

    compiled, twin = occurrence._profile_minutes, occurrence._profile_minutes_numpy
    assert compiled is not twin or importlib.util.find_spec("numba") is None
    gen = np.random.default_rng(11)
    spread = 0
    for trial in range(40):
        w = gen.random(24) * (gen.random(24) < 0.7)
        w[gen.integers(24)] += 0.5
        cp = occurrence.cumulative_profile(list(w))
        a, b = (0.0, 1440.0) if trial % 2 else tuple(np.sort(gen.uniform(0, 1440, 2)))
        u = np.concatenate([gen.random(500), [0.0, np.nextafter(1.0, 0.0)], cp[1:-1]])
        got = []
        for minutes in (compiled, twin):
            monkeypatch.setattr(occurrence, "_profile_minutes", minutes)
            got.append(occurrence.time_of_day(cp, u, a, b))
        np.testing.assert_array_equal(got[0], got[1])
        assert got[0].min() >= a and got[0].max() < b
        spread += len(np.unique(got[0])) > 400  # (a window within hours without occurrences has one time)
    assert spread > 30


def test_first_detection_compiled_is_numpys():
    """Who detects an incident first, when and through which channel: the compiled pass gives numpy's, with
    ties (the first detector wins), never (all infinite) and NaN (numpy's argmin takes the first NaN)."""
    from citysim.processes import detection

    if importlib.util.find_spec("numba") is not None:
        assert detection._first_detection is not detection._first_detection_numpy
    gen = np.random.default_rng(5)
    n = 5000
    times = np.round(gen.exponential(60.0, (5, n)), 0)  # whole minutes: many ties
    times[gen.random((5, n)) < 0.5] = np.inf
    times[:, :200] = np.inf
    times[gen.integers(5, size=50), gen.integers(n, size=50)] = np.nan
    resident = np.where(gen.random(n) < 0.9, gen.integers(0, 4, n), -1)
    resident[np.isfinite(times[3])] = gen.integers(0, 4, int(np.isfinite(times[3]).sum()))
    got = [
        f(times, resident, detection._BY_CHANNEL)
        for f in (detection._first_detection, detection._first_detection_numpy)
    ]
    for a, b in zip(*got, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    by, _, channel = got[1]
    assert set(np.unique(by)) == {-1, 0, 1, 2, 3, 4} and set(np.unique(channel)) >= {-1, 0, 1, 2, 3, 4, 5}


def test_stable_orders_are_numpys():
    """The radix and counting sorts give ``np.argsort(kind="stable")``'s indices: ties in place, -0.0 equal
    to 0.0, NaN (of either sign) last, infinities, subnormals, keys sharing high or low bits."""
    from citysim.sorting import _rows_order_numpy, _stable_argsort_numpy, rows_order, stable_argsort

    gen = np.random.default_rng(7)
    special = np.array([0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1.0, -1.0, 5e-324, -5e-324, 1e308, -1e308])
    cases = [
        np.zeros(0),
        np.array([2.5]),
        np.full(500, 3.0),
        special,
        gen.choice(special, 3000),
        gen.random(20_000) * 1440 + 30_000,  # release times of a day
        np.round(gen.normal(size=20_000), 1),  # many ties
        np.ldexp(1.0, gen.integers(-60, 60, 5000)) * gen.choice([-1.0, 1.0], 5000),  # low bits all equal
    ]
    for x in cases:
        want = np.argsort(x, kind="stable")
        for order in (stable_argsort, _stable_argsort_numpy):
            np.testing.assert_array_equal(order(x), want)
    for n in (1, 7, 5000):
        rows = gen.integers(0, n, 20_000)
        rows[: n // 2] = np.arange(n // 2)  # runs already in order, as a plan's slots are
        for order in (rows_order, _rows_order_numpy):
            np.testing.assert_array_equal(order(rows, n), np.argsort(rows, kind="stable"))
    np.testing.assert_array_equal(rows_order(np.zeros(0, np.int64), 3), np.zeros(0, np.int64))


@pytest.mark.skipif(rng.numba is None, reason="numba not installed")
def test_runs_of_a_plans_steps_compiled_and_in_numpy_agree():
    """Runs of one job's consecutive steps sharing a positive key (parallel groups, calls): numba's kernel
    gives numpy's first steps and lengths, with zero keys, runs across jobs and a run at either end."""
    from citysim.processes._kernels import key_runs
    from citysim.processes.plan import _key_runs_numpy

    gen = np.random.default_rng(3)
    for n in (0, 1, 2, 7, 500, 5000):
        job = np.sort(gen.integers(0, max(n // 3, 1), n))
        same_job = np.zeros(n, dtype=bool)
        same_job[1:] = job[1:] == job[:-1]
        for high in (1, 2, 4):
            key = gen.integers(0, high + 1, n).astype(np.int64)
            want = _key_runs_numpy(same_job, key)
            got = key_runs(same_job, key)
            for a, b in zip(got, want, strict=True):
                np.testing.assert_array_equal(a, b)
            if n >= 500:
                assert (want[1] > 1).any() and len(want[0]) > 10
