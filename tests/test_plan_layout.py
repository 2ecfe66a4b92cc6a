"""Plans laid out by numba's kernel are numpy's to the element: every array of the plan and its batch."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import citysim
from citysim.batch import DELAY, Batch
from citysim.processes import plan
from citysim.processes.plan import PlanBuilder

pytest.importorskip("numba")
from citysim.processes._plan_kernels import lay_out  # noqa: E402


def _arrays(p: plan.Plan) -> dict:
    """Everything a plan holds: its own arrays and its batch's attributes."""
    out = {name: getattr(p, name) for name in ("job_incident", "role", "attempt", "travel", "call_try", "live")}
    out |= {"batch." + name: getattr(p.batch, name) for name in Batch.__slots__ if hasattr(p.batch, name)}
    return out


def _assert_laid_out_alike(monkeypatch, builder: PlanBuilder, release: np.ndarray) -> plan.Plan:
    built = {}
    for name, kernel in (("numba", lay_out), ("numpy", plan._lay_out_numpy)):
        monkeypatch.setattr(plan, "_lay_out", kernel)
        built[name] = _arrays(copy.deepcopy(builder).build(release, tag="day"))
    assert built["numba"].keys() == built["numpy"].keys()
    for name, want in built["numpy"].items():
        got = built["numba"][name]
        if isinstance(want, np.ndarray):
            assert isinstance(got, np.ndarray) and got.dtype == want.dtype, name
            assert np.array_equal(got, want, equal_nan=True), name
        else:
            assert got == want, name
    return copy.deepcopy(builder).build(release)


def test_a_built_plan_is_the_same_from_either_layout(monkeypatch):
    """Parallel groups, calls with redials, aligned delays, incidents
    without steps, a subset's slots, and an empty day."""
    gen = np.random.default_rng(11)
    n = 400
    b = PlanBuilder(n, prio=gen.integers(0, 3, n))
    b.add("intake", 0, gen.random(n) < 0.9, gen.integers(0, 5, n), gen.random(n))
    tries = 4
    rows = np.flatnonzero(gen.random(n) < 0.6)
    patience = np.where(gen.random((len(rows), tries)) < 0.3, np.inf, gen.random((len(rows), tries)) * 9)
    redials, redial_delay = gen.integers(0, tries, len(rows)), gen.random((len(rows), tries - 1)) * 30
    b.add_call("intake", 0, rows, 3, gen.random(len(rows)), patience, redials, redial_delay, prio=1)
    g = b.new_group()
    for unit in (5, 6, 7):
        b.add("field", 0, gen.random(n) < 0.5, unit, gen.random(n) * 60, travel=gen.random(n), group=g)
    b.add("data_wait", 0, gen.random(n) < 0.4, DELAY, 5.0, align=60.0, phase=gen.random(n) * 60)
    sub = b.subset(np.flatnonzero(gen.random(n) < 0.5))
    rows = np.arange(sub.n)[gen.random(sub.n) < 0.7]
    sub.add_call(
        "transfer", 1, rows, 8, 2.0, np.full((len(rows), 2), 4.0), np.ones(len(rows), int), np.ones((len(rows), 1))
    )
    g = sub.new_group()
    sub.add("field", 1, gen.random(sub.n) < 0.8, 9, 1.0, group=g)
    sub.add("field", 1, gen.random(sub.n) < 0.8, 10, 1.0, group=g)
    p = _assert_laid_out_alike(monkeypatch, b, gen.random(n) * 100)
    assert p.batch.has_groups and p.batch.has_align and p.batch.has_patience
    assert (p.batch.alt_np >= 0).any() and (p.batch.width_np > 2).any() and len(p.job_incident) < n
    empty = _assert_laid_out_alike(monkeypatch, PlanBuilder(5), np.zeros(5))
    assert empty.batch.n_jobs == 0 and empty.batch.n_steps == 0
    _assert_laid_out_alike(monkeypatch, PlanBuilder(0), np.zeros(0))


@pytest.mark.parametrize("regime", ["fragmented", "integrated"])
def test_a_days_plans_are_the_same_from_either_layout(monkeypatch, small_dict, regime):
    """A small town's days (incidents and false alarms), as the model builds them."""
    builders = []
    build = PlanBuilder.build

    def keep(self, release, tag=None):
        builders.append((copy.deepcopy(self), np.array(release)))
        return build(self, release, tag)

    monkeypatch.setattr(PlanBuilder, "build", keep)
    scenario = citysim.scenario.scenario_from_dict(small_dict, "small.toml")
    citysim.simulate(scenario, regime=regime, seed=3, days=2, keep_tables=False)
    monkeypatch.setattr(PlanBuilder, "build", build)
    assert len(builders) >= 2 and sum(len(s.rows) for s in builders[0][0].slots) > 100
    for builder, release in builders:
        _assert_laid_out_alike(monkeypatch, builder, release)
