"""Same scenario and seed, same numbers: in one process, across processes, across regimes."""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import citysim
from citysim.rng import Streams
from tests.conftest import NO_WINDOW

SMALL = str(Path(__file__).resolve().parents[1] / "scenarios" / "small.toml")


def digest(result: citysim.Result) -> str:
    h = hashlib.sha256()
    for name in ("incidents", "stages", "alerts", "units", "cells"):
        h.update(pd.util.hash_pandas_object(result.tables[name], index=False).to_numpy().tobytes())
    return h.hexdigest()


def _digest_in_child(args: tuple[str, str, int]) -> str:
    scenario, regime, seed = args
    return digest(citysim.simulate(scenario, regime=regime, seed=seed, days=4, **NO_WINDOW))


def test_same_seed_gives_identical_tables():
    a = citysim.simulate(SMALL, regime="fragmented", seed=3, days=4, **NO_WINDOW)
    b = citysim.simulate(SMALL, regime="fragmented", seed=3, days=4, **NO_WINDOW)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])


def test_another_seed_gives_other_incidents():
    a = citysim.simulate(SMALL, seed=3, days=2, **NO_WINDOW).incidents
    b = citysim.simulate(SMALL, seed=4, days=2, **NO_WINDOW).incidents
    assert not (len(a) == len(b) and (a.occurred_at.to_numpy() == b.occurred_at.to_numpy()).all())


def test_same_tables_in_other_processes():
    here = digest(citysim.simulate(SMALL, regime="integrated", seed=9, days=4, **NO_WINDOW))
    with mp.get_context("spawn").Pool(2) as pool:
        there = pool.map(_digest_in_child, [(SMALL, "integrated", 9)] * 2)
    assert there == [here, here]


def test_streams_are_reproducible_and_independent():
    s = Streams(5)
    assert s.generator("occurrence", 2).random() == Streams(5).generator("occurrence", 2).random()
    assert s.generator("occurrence", 2).random() != s.generator("occurrence", 3).random()
    assert s.generator("occurrence", 2).random() != s.generator("detection", 2).random()


def test_an_extra_step_for_one_incident_never_shifts_another_incidents_draws():
    # more misrouting (fewer accurate operators) adds transfer steps to some incidents;
    # incidents that never touch a transfer keep exactly their service and travel times
    base = citysim.simulate(SMALL, regime="integrated", seed=2, days=4, **NO_WINDOW)
    more = citysim.simulate(
        SMALL, regime="integrated", seed=2, days=4, overrides=["staff_digital_skill=0"], **NO_WINDOW
    )
    ids_with_transfers = set(base.stages.query("stage == 'transfer'").incident_id) | set(
        more.stages.query("stage == 'transfer'").incident_id
    )
    assert len(ids_with_transfers) > 0

    def handling(result):
        s = result.stages.query("stage == 'handling' and attempt == 0")
        s = s[~s.incident_id.isin(ids_with_transfers)]
        s = s[s.ended_at.notna()]
        return (s.ended_at - s.started_at).round(6).groupby(s.incident_id).apply(sorted)

    a, b = handling(base), handling(more)
    common = a.index.intersection(b.index)
    assert len(common) > 50
    assert (a[common] == b[common]).all()


def test_model_code_asks_levers_never_regime_names():
    root = Path(citysim.__file__).parent
    names = "|".join(["fragmented", "integrated", "tech_only", "institution_only"])
    offenders = []
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"regime\.name\s*(==|!=|in)", text) or re.search(rf"==\s*[\"']({names})[\"']", text):
            offenders.append(path.name)
    assert offenders == []


def _has_numba() -> bool:
    try:
        import citysim._fast  # noqa: F401
    except ImportError:
        return False
    return True


SHOCKS = [
    {
        "kind": "storm",
        "start_day": 1,
        "end_day": 3,
        "incident_types": ["waterlogging", "urban_complaint"],
        "multiplier": 6.0,
    },
    {
        "kind": "staff_absence",
        "start_day": 0.5,
        "end_day": 4,
        "units": ["street_centres", "grid_workers", "water"],
        "share": 0.4,
    },
    {"kind": "sensor_outage", "start_day": 1, "end_day": 2, "sensor_types": ["gas"]},
]
VALIDATION = Path(__file__).resolve().parents[1] / "scenarios" / "validation"


@pytest.mark.skipif(not _has_numba(), reason="numba not installed")
@pytest.mark.parametrize(
    "case",
    ["fragmented", "integrated", "tech_only", "institution_only", "shocks", "jackson", "fork_joint", "fork_sequential"],
)
def test_compiled_engine_gives_identical_tables(monkeypatch, small_dict, case):
    import copy

    from citysim.scenario import scenario_from_dict

    if case in ("jackson", "fork_joint", "fork_sequential"):
        scenario, regime, days = citysim.load_scenario(VALIDATION / f"{case}.toml"), "queueing", 2
    else:
        d = copy.deepcopy(small_dict)
        for district in d["city"]["districts"]:
            district["population"] *= 6
        d["shocks"] = SHOCKS if case == "shocks" else []
        scenario = scenario_from_dict(d, "small.toml (x6)")
        regime, days = ("integrated" if case == "shocks" else case), 5
    runs = {}
    for engine in ("python", "numba"):
        monkeypatch.setenv("CITYSIM_ENGINE", engine)
        runs[engine] = citysim.simulate(scenario, regime=regime, seed=5, days=days, **NO_WINDOW)
    for name in ("incidents", "stages", "alerts", "units"):
        pd.testing.assert_frame_equal(runs["python"].tables[name], runs["numba"].tables[name])
    assert len(runs["numba"].stages) > 1000
    if case == "fragmented":  # callers hung up, redialled and gave up at the department hotlines, alike
        calls, stages = runs["numba"].incidents, runs["numba"].stages
        assert calls.hung_up.sum() > 20 and calls.gave_up.sum() > 5 and (stages.stage == "redial_wait").any()


@pytest.mark.parametrize("engine", ["python", "numba"] if _has_numba() else ["python"])
def test_carrying_old_days_forward_changes_nothing(monkeypatch, small_dict, engine):
    """Writing old days' finished incidents early and carrying the rest keeps every number (the small
    writes of a merge of carries joined into one write among them)."""
    import copy

    from citysim import derive
    from citysim import model as model_module
    from citysim.model import CityModel
    from citysim.scenario import scenario_from_dict

    monkeypatch.setenv("CITYSIM_ENGINE", engine)
    joined = []

    def concat_rows(parts):
        joined.append(len(parts))
        return derive.concat_rows(parts)

    monkeypatch.setattr(model_module, "concat_rows", concat_rows)
    d = copy.deepcopy(small_dict)
    d["shocks"] = SHOCKS
    scenario = scenario_from_dict(d, "small.toml + shocks")
    out = {}
    for carry in (False, True):
        m = CityModel(scenario, scenario.regime_named("fragmented"), seed=7, horizon_days=30, carry=carry)
        m.run()
        out[carry] = m.sink.frames()
    for name, keys in (
        ("incidents", ["id"]),
        ("stages", ["incident_id", "attempt", "queued_at", "stage"]),
        ("alerts", ["alert_id"]),
        ("units", ["unit"]),
    ):
        a, b = (out[c][name].sort_values(keys, kind="stable").reset_index(drop=True) for c in (False, True))
        pd.testing.assert_frame_equal(a, b)
    assert max(joined, default=0) >= 2  # some merge wrote several carries' rows as one


def test_tables_streamed_to_parquet_read_back_as_kept_in_memory(tmp_path):
    """simulate(out=DIR) streams rows as incidents end; read back, they are the in-memory tables, in id order."""
    kept = citysim.simulate(SMALL, regime="fragmented", seed=3, days=10, **NO_WINDOW)
    streamed = citysim.simulate(SMALL, regime="fragmented", seed=3, days=10, out=tmp_path, **NO_WINDOW)
    for name in ("incidents", "stages", "alerts"):
        pd.testing.assert_frame_equal(streamed.tables[name], kept.tables[name], check_dtype=False)
    assert streamed.metrics["response"] == kept.metrics["response"]


def test_stopping_the_clock_every_hour_changes_nothing(small):
    # the dashboard steps an hour at a time: the day is compiled when it begins, the clock stops anywhere
    from citysim.events import MemorySink
    from citysim.model import CityModel

    def tables(step_hours: float | None) -> dict:
        sink = MemorySink()
        model = CityModel(small, small.regime_named("fragmented"), seed=3, horizon_days=3, sink=sink)
        if step_hours is None:
            model.run()
        else:
            while model.now < model.horizon:
                model.run_to(model.now + step_hours * 60)
                assert model.now <= model.horizon
            model.finish()
        return sink.frames()

    whole, hourly = tables(None), tables(1.0)
    for name in whole:
        pd.testing.assert_frame_equal(whole[name], hourly[name])
    odd = tables(2.5)
    pd.testing.assert_frame_equal(whole["incidents"], odd["incidents"])


PRESETS = ("fragmented", "integrated", "tech_only", "institution_only")


def test_the_same_incidents_occur_and_keep_their_dice_under_every_preset(small):
    from citysim.model import CityModel

    occurred, dice, detection = {}, {}, {}
    for name in PRESETS:
        run = citysim.simulate(small, name, seed=6, days=2, warmup_days=1, follow_up_days=0)
        occurred[name] = run.incidents[["id", "type", "cell", "cohort", "occurred_at"]]
        model = CityModel(small, small.regime_named(name), seed=6, horizon_days=1)
        model.run_to(1.0)  # the first day is sampled and compiled
        day = model.compiler.dice  # the numbers of every purpose it took, drawn whole
        dice[name] = {purpose: day.u(purpose, *shape) for purpose, shape in day.shapes.items()}
        detection[name] = model.streams.generator("detection", 0).random(5)
    for name in PRESETS[1:]:
        pd.testing.assert_frame_equal(occurred[name], occurred[PRESETS[0]])
        shared = set(dice[name]) & set(dice[PRESETS[0]])
        assert len(shared) >= 8  # intake, routing, dispatch, field ... drawn under both
        for key in shared:
            np.testing.assert_array_equal(dice[name][key], dice[PRESETS[0]][key])
        np.testing.assert_array_equal(detection[name], detection[PRESETS[0]])


def test_meetings_and_polls_keep_each_desks_own_phase_under_every_regime(small):
    from citysim.model import CityModel

    phases = [CityModel(small, small.regime_named(n), seed=2).desk_phase for n in PRESETS]
    for p in phases[1:]:
        np.testing.assert_array_equal(p, phases[0])  # keyed by the desk's name, not by the regime
    assert len(np.unique(phases[0])) == phases[0].size  # no citywide minute 0
    assert ((phases[0] >= 0) & (phases[0] < 1)).all()


def test_multi_department_cases_resolve_within_a_week_under_weekly_meetings(busy_town):
    run = citysim.simulate(busy_town, "fragmented", seed=3, days=7, warmup_days=0, follow_up_days=0)
    inc = run.incidents
    multi = inc["type"].isin([t for t, it in busy_town.incident_types.items() if len(it.departments) > 1])
    assert multi.sum() > 100
    assert (inc.loc[multi, "status"] == "resolved").mean() > 0.1  # none would with every meeting at the horizon
    waits = run.stages.query("stage == 'handoff_wait'")
    ended = waits["ended_at"].dropna() % (168 * 60)
    assert ended.round(3).nunique() > 1  # meetings at each desk's own time of the week


@pytest.mark.skipif(not _has_numba(), reason="numba is not installed")
def test_day_accounting_compiled_and_in_numpy_agree_bit_for_bit(monkeypatch, small):
    """Units' busy time, work offered, waits, needs given up: numba's kernels give numpy's to the last bit."""
    from citysim import accounting
    from citysim.model import CityModel

    model = CityModel(small, small.regime_named("fragmented"), seed=3, horizon_days=3)
    model.run_to(2.5 * 1440)  # two whole days and half of one
    kernel = accounting._plan_use
    assert kernel is not accounting._plan_use_numpy  # numba's, where installed
    uses = []
    for impl in (kernel, accounting._plan_use_numpy):
        monkeypatch.setattr(accounting, "_plan_use", impl)
        n_units = len(model.units)
        uses.append([accounting.day_use(model._plans(), n_units, d * 1440.0, (d + 1) * 1440.0) for d in (1, 2)])
    assert uses[0][0].busy_total.sum() > 0
    for compiled, numpy_ in zip(*uses, strict=True):
        for role in accounting.BUSY_ROLES:
            np.testing.assert_array_equal(compiled.busy[role], numpy_.busy[role])
        for field in ("offered", "wait_unit", "wait_min", "wait_sum", "wait_count"):
            np.testing.assert_array_equal(getattr(compiled, field), getattr(numpy_, field))
        assert len(compiled.wait_min) > 0
    # trust's scores (needs met in time, late, not met or given up): the same sums compiled and in numpy
    from citysim import trust as trust_module

    for b in (cd.plan.batch for cd in model.active):  # a job's steps run from its first to the next job's
        steps_of_job = np.diff(np.append(b.first_np, b.n_steps))
        np.testing.assert_array_equal(b.job_np, np.repeat(np.arange(b.n_jobs), steps_of_job))
    target = np.array([t.target_min for t in small.incident_types.values()])
    args = (model.active, 1440.0, 2.5 * 1440, model.trust.shape, model.city.cell_district, target)
    compiled = trust_module.day_scores(*args)
    assert trust_module._scores is not trust_module._scores_numpy
    monkeypatch.setattr(trust_module, "_scores", trust_module._scores_numpy)
    for got, want in zip(compiled, trust_module.day_scores(*args), strict=True):
        np.testing.assert_array_equal(got, want)
    total, count = compiled
    assert count.sum() > 100 and 0 < total.sum() < count.sum()  # some needs met late or not at all
    gave_up = [trust_module._gave_up_numpy(np.arange(b.n_jobs), b.first_np, b.n_steps, *b.times()[1:], b.links[2])
               for b in (cd.plan.batch for cd in model.active)]  # fmt: skip
    assert sum(int(g.sum()) for g in gave_up) > 0  # the scores saw needs given up


@pytest.mark.parametrize("engine", ["python", "numba"] if _has_numba() else ["python"])
def test_each_plan_counts_the_needs_given_up_as_its_steps_show_them(monkeypatch, small, engine):
    """A plan's count of needs given up (trust looks for them only where there are some) is what its steps say."""
    from citysim import trust as trust_module
    from citysim.model import CityModel

    monkeypatch.setenv("CITYSIM_ENGINE", engine)
    model = CityModel(small, small.regime_named("fragmented"), seed=3, horizon_days=3)
    model.run_to(2.5 * 1440)
    batches = [cd.plan.batch for cd in model.active]
    seen = [
        int(trust_module._gave_up_numpy(np.arange(b.n_jobs), b.first_np, b.n_steps, *b.times()[1:], b.links[2]).sum())
        for b in batches
    ]
    assert [b.gave_up for b in batches] == seen and sum(seen) > 0 and 0 in seen


@pytest.mark.parametrize("engine", ["numba", "python"])
def test_day_use_kept_step_by_step_is_day_use_over_every_step(monkeypatch, busy_town, engine):
    """Each day's use read from the steps each plan keeps (those that may still count) is the use read from
    every held step, day after day (carries and false alarms included), in both engines."""
    if engine == "numba" and not _has_numba():
        pytest.skip("numba is not installed")
    from citysim import model as model_module
    from citysim.accounting import day_use
    from citysim.network import make_network

    monkeypatch.setattr(model_module, "make_network", lambda *a, **k: make_network(*a, **k, engine=engine))
    days, kept = [], []

    def both(plans, n_units, start, end, track=False):
        plans = list(plans)
        every = day_use(plans, n_units, start, end)
        tracked = day_use(plans, n_units, start, end, track=True)
        for f in ("offered", "wait_unit", "wait_min", "wait_sum", "wait_count"):
            np.testing.assert_array_equal(getattr(tracked, f), getattr(every, f))
        for role, busy in every.busy.items():
            np.testing.assert_array_equal(tracked.busy[role], busy)
        days.append(every.busy_total.sum())
        kept.append(sum(len(p.live) for p in plans) / max(sum(p.batch.n_steps for p in plans), 1))
        return tracked

    monkeypatch.setattr(model_module, "day_use", both)
    model = model_module.CityModel(busy_town, busy_town.regime_named("fragmented"), seed=2, horizon_days=12)
    model.run()
    assert len(days) == 12 and min(days) > 0
    assert max(kept[7:]) < 0.5  # most held steps are left out once they can no longer count


@pytest.mark.skipif(not _has_numba(), reason="numba is not installed")
def test_output_rows_compiled_and_in_numpy_agree_bit_for_bit(monkeypatch, busy_town):
    """The incidents, stages and alerts rows of days still running: numba's kernels give numpy's to the last bit
    (and the same types)."""
    from citysim import derive
    from citysim.model import CityModel

    model = CityModel(busy_town, busy_town.regime_named("fragmented"), seed=4, horizon_days=3)
    model.run_to(1.5 * 1440)  # a day done, one half run: steps waiting, running and ended
    assert derive._step_facts is not derive._step_facts_numpy  # numba's, where installed
    assert derive._stage_rows is not derive._stage_rows_numpy

    def rows() -> list:  # each day's rows, all of them and those of two incidents in three
        return [
            derive.incident_and_stage_rows(cd, model.now, model._names, keep)
            for cd in model.active
            for keep in (None, np.arange(len(cd.incidents)) % 3 != 1)
        ]

    compiled = rows()
    monkeypatch.setattr(derive, "_step_facts", derive._step_facts_numpy)
    monkeypatch.setattr(derive, "_stage_rows", derive._stage_rows_numpy)
    in_numpy = rows()
    checked = 0
    for got, want in zip(compiled, in_numpy, strict=True):
        for table_got, table_want in zip(got, want, strict=True):
            for name, col in table_got.items():
                a, b = (getattr(c, "codes", c) for c in (col, table_want[name]))
                assert np.array_equal(np.asarray(a), np.asarray(b), equal_nan=a.dtype.kind == "f"), name
                assert np.asarray(a).dtype == np.asarray(b).dtype, name
                checked += len(a)
    inc = compiled[0][0]
    assert checked > 10_000 and np.isfinite(inc["resolved_at"]).any() and np.isnan(inc["resolved_at"]).any()
    assert inc["transfers"].sum() > 0 and inc["gave_up"].any() and np.isfinite(inc["arrived_at"]).any()
    stages = compiled[0][1]  # field visits whose team got there (a handling row), and some not yet
    handling = np.asarray(stages["stage"].codes) == derive.STAGES.index("handling")
    assert handling.any() and np.isnan(stages["ended_at"]).any()
    # rows kept: those of the incidents kept, in the same order, in all three tables
    part = compiled[1]
    kept_ids = inc["id"][np.arange(len(inc["id"])) % 3 != 1]
    assert np.array_equal(part[0]["id"], kept_ids) and 0 < len(kept_ids) < len(inc["id"])
    for table in (1, 2):
        full, some = compiled[0][table], part[table]
        sel = np.isin(np.asarray(full["incident_id"]), kept_ids)
        for name, col in full.items():
            a, b = (np.asarray(getattr(c, "codes", c)) for c in (col, some[name]))
            assert np.array_equal(a[sel], b, equal_nan=a.dtype.kind == "f"), name
    assert len(part[1]["incident_id"]) < len(stages["incident_id"])


@pytest.mark.skipif(not _has_numba(), reason="numba is not installed")
def test_step_facts_of_incidents_whose_steps_lie_apart_are_numpys(busy_town):
    """The compiled step facts go over each incident's steps together; should one incident's jobs lie apart
    (two jobs of one incident with another between), the kernel says so and numpy's passes give the facts."""
    from citysim import derive
    from citysim.model import CityModel

    model = CityModel(busy_town, busy_town.regime_named("fragmented"), seed=4, horizon_days=2)
    model.run_to(1.5 * 1440)
    cd = model.active[0]
    plan, batch = cd.plan, cd.plan.batch
    q, s, e = (np.asarray(a) for a in batch.times())
    _, _, alt, job = batch.links
    apart = plan.job_incident.copy()
    apart[2] = apart[0]  # jobs 0 and 2 of one incident, job 1 of another between them
    for job_incident in (plan.job_incident, apart):
        args = (job_incident, job, batch.bases[1], plan.role, plan.attempt, q, s, e, plan.travel, plan.call_try,
                alt, cd.attempts_planned - 1, ~cd.dispatched, derive._FACT_ROLES, batch.unit_np)  # fmt: skip
        assert derive._together(*args)[0] == (job_incident is plan.job_incident)  # apart: said so
        got, want = derive._step_facts(*args), derive._step_facts_numpy(*args)
        for a, b in zip(got, want, strict=True):
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f")  # (types as the rows make them: above)
    assert (derive._step_facts_numpy(*args)[9] >= 0).sum() > 100  # levels found (the second pass ran)
