"""The engine: staffed units as counters plus FIFO queues, checked on exact logs."""

from __future__ import annotations

import numpy as np
import pytest

from citysim.engine import DELAY, NO_STEP, Batch, Network

ENGINES = [Network]
try:
    from citysim._fast import FastNetwork

    ENGINES.append(FastNetwork)
except ImportError:  # numba not installed: only the pure-Python engine is tested
    pass


@pytest.fixture(params=ENGINES, ids=lambda cls: cls.__name__)
def Net(request):
    """Each engine: the pure-Python one, and the numba one where installed."""
    return request.param


def one_step_jobs(release, dur, unit=0, **options):
    """A job of one step at ``unit`` per release time (``options``: Batch's, e.g. patience, prio)."""
    n = len(release)
    return Batch(
        first=np.arange(n),
        release=np.asarray(release, float),
        unit=np.full(n, unit),
        dur=np.asarray(dur, float),
        nxt=np.full(n, NO_STEP),
        **options,
    )


def log(batch):
    q, s, e = batch.times()
    return [(float(a), float(b), float(c)) for a, b, c in zip(q, s, e, strict=True)]


PLAN = ("unit", "dur", "nxt", "align", "phase", "group", "width", "job", "patience", "alt", "prio")


def plan(batch):
    """A batch's plan as it reads it (the compiled engine keeps it in its arena once placed)."""
    return {name: np.asarray(getattr(batch, f"{name}_np")).tolist() for name in PLAN}


def test_two_clerks_serve_three_customers_first_come_first_served(env, Net):
    net = Net(env, [2])
    b = one_step_jobs([0, 1, 2], [10, 10, 10])
    net.add(b)
    net.run()
    assert log(b) == [(0, 0, 10), (1, 1, 11), (2, 10, 20)]
    assert b.finished_at().tolist() == [10, 11, 20]
    assert b.done


def test_ties_are_served_in_release_order(env, Net):
    net = Net(env, [1])
    b = one_step_jobs([5, 5, 5], [1, 2, 3])
    net.add(b)
    net.run()
    assert [s for _, s, _ in log(b)] == [5, 6, 8]


def test_a_job_walks_its_steps_through_delays_and_units(env, Net):
    # job 0: desk (unit 0) 4 min, wait 3 min, team (unit 1) 5 min
    net = Net(env, [1, 1])
    b = Batch(
        first=np.array([0]),
        release=np.array([1.0]),
        unit=np.array([0, DELAY, 1]),
        dur=np.array([4.0, 3.0, 5.0]),
        nxt=np.array([1, 2, NO_STEP]),
    )
    net.add(b)
    net.run()
    assert log(b) == [(1, 1, 5), (5, 5, 8), (8, 8, 13)]


def test_aligned_delay_waits_for_the_next_meeting(env, Net):
    # a hand-off at minute 7 waits for the meeting at minute 60
    net = Net(env, [1])
    b = Batch(
        first=np.array([0]),
        release=np.array([0.0]),
        unit=np.array([0, DELAY, 0]),
        dur=np.array([7.0, 0.0, 1.0]),
        nxt=np.array([1, 2, NO_STEP]),
        align=np.array([0, 60.0, 0]),
    )
    net.add(b)
    net.run()
    assert log(b)[1] == (7, 7, 60)
    assert log(b)[2] == (60, 60, 61)


def test_parallel_group_continues_when_all_members_end(env, Net):
    # steps 0 and 1 in parallel (5 and 9 min, two units), then step 2 (1 min)
    net = Net(env, [1, 1, 1])
    b = Batch(
        first=np.array([0]),
        release=np.array([0.0]),
        unit=np.array([0, 1, 2]),
        dur=np.array([5.0, 9.0, 1.0]),
        nxt=np.array([2, 2, NO_STEP]),
        group=np.array([0, 0, NO_STEP]),
        width=np.array([2, 1, 1]),
    )
    net.add(b)
    net.run()
    assert log(b) == [(0, 0, 5), (0, 0, 9), (9, 9, 10)]


def test_servers_going_off_duty_finish_their_job_first(env, Net):
    net = Net(env, [2])
    b = one_step_jobs([0, 0, 0], [10, 10, 10])
    net.add(b)
    net.run(1)
    net.set_servers(0, 1)  # one clerk leaves at minute 1, after finishing
    net.run()
    assert log(b) == [(0, 0, 10), (0, 0, 10), (0, 10, 20)]
    net.set_servers(0, 0)
    assert net.busy(0) == 0


def test_servers_coming_on_duty_take_waiting_jobs(env, Net):
    net = Net(env, [0])
    b = one_step_jobs([0, 0], [3, 3])
    net.add(b)
    net.run(30)
    assert net.queue_length(0) == 2
    net.set_servers(0, 2)
    net.run()
    assert log(b) == [(0, 30, 33), (0, 30, 33)]


def test_jobs_released_after_the_horizon_never_start(env, Net):
    net = Net(env, [1])
    b = one_step_jobs([0, 100], [1, 1])
    net.add(b)
    net.run(50)
    assert np.isnan(b.times()[0][1])
    assert not b.done


def test_one_event_per_service_step(env, Net):
    net = Net(env, [3])
    b = one_step_jobs(np.arange(100.0), np.full(100, 2.5))
    net.add(b)
    net.run()
    assert net.events == 200  # one release and one end per job


def test_single_server_queue_reproduces_the_lindley_recursion(env, Net):
    rng = np.random.default_rng(3)
    arrivals = np.cumsum(rng.exponential(1.0, 2000))
    service = rng.exponential(0.8, 2000)
    net = Net(env, [1])
    b = one_step_jobs(arrivals, service)
    net.add(b)
    net.run()
    start = np.empty_like(arrivals)
    free = 0.0
    for k, (a, s) in enumerate(zip(arrivals, service, strict=True)):
        start[k] = max(a, free)
        free = start[k] + s
    np.testing.assert_allclose(b.times()[1], start, rtol=0, atol=1e-9)


def test_bad_batches_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        one_step_jobs([0], [-1])
    with pytest.raises(ValueError, match="at least one step"):
        Batch(
            first=np.array([0, 0]), release=np.zeros(2), unit=np.zeros(1, int), dur=np.ones(1), nxt=np.array([NO_STEP])
        )
    for patience in (np.nan, -1.0, -np.inf):
        with pytest.raises(ValueError, match="patience must be non-negative"):
            Batch(
                first=np.array([0]),
                release=np.zeros(1),
                unit=np.zeros(2, int),
                dur=np.ones(2),
                nxt=np.array([1, NO_STEP]),
                patience=np.array([np.inf, patience]),
            )


def test_time_worked_past_going_off_duty_is_counted(env, Net):
    net = Net(env, [1])
    b = one_step_jobs([0], [10])
    net.add(b)
    net.run(4)
    net.set_servers(0, 0)  # shift ends at minute 4; the job ends at minute 10
    net.run()
    assert list(net.overtime) == [6.0]


def delay_chains(n_jobs: int, k: int, t0: float = 0.0) -> Batch:
    """n_jobs jobs of k one-minute delays each, released a minute apart from t0."""
    n = n_jobs * k
    nxt = np.arange(1, n + 1)
    nxt[k - 1 :: k] = NO_STEP
    return Batch(
        first=np.arange(n_jobs) * k,
        release=t0 + np.arange(n_jobs, dtype=float),
        unit=np.full(n, DELAY),
        dur=np.ones(n),
        nxt=nxt,
    )


def test_records_of_held_batches_survive_others_coming_and_going(env, Net):
    # the compiled engine reuses the space of forgotten batches (a batch's steps and jobs may then lie in
    # different orders) and compacts its arena when no gap is large enough: nothing held may change
    net = Net(env, [1])
    a, b = delay_chains(100, 1), delay_chains(100, 1)
    planned = {id(x): plan(x) for x in (a, b)}
    net.add(a)
    net.add(b)
    net.run(1_000)
    net.forget(a)
    c, f, g = (delay_chains(n, k, t0=1_000) for n, k in ((50, 3), (10, 3_200), (12, 10)))  # c's jobs: where a's were
    planned |= {id(x): plan(x) for x in (c, f, g)}
    for x in (c, f, g):
        net.add(x)
    net.run(10_000)
    net.forget(f)  # a gap too small for d, with room enough in all
    held = {id(x): (log(x), x.finished_at().tolist()) for x in (b, c, g)}
    d = delay_chains(10, 3_400, t0=10_000)
    net.add(d)
    net.run()
    for x in (b, c, g):
        assert (log(x), x.finished_at().tolist()) == held[id(x)]
    for x in (b, c, g):  # after others took the space of those forgotten, and things moved
        assert plan(x) == planned[id(x)]
    if hasattr(net, "_top"):  # the compiled engine gave a's and f's space away: reading them fails, never misleads
        for x in (a, f):
            with pytest.raises(TypeError):
                log(x)
    assert c.finished_at().tolist() == [1_003.0 + j for j in range(50)]
    assert d.finished_at().tolist() == [13_400.0 + j for j in range(10)]


def test_gaps_too_small_for_a_batch_are_closed_rather_than_the_arena_spread(env, Net):
    # two freed gaps, each too small for the next batch but together larger than it: the compiled engine
    # moves what is held together instead of using ever more memory above it (and nothing held changes)
    net = Net(env, [1])
    b, f1, c, f2, g = (delay_chains(n, k) for n, k in ((100, 1), (10, 1_000), (100, 1), (10, 1_000), (100, 1)))
    planned = {id(x): plan(x) for x in (b, f1, c, f2, g)}
    for x in (b, f1, c, f2, g):
        net.add(x)
    net.run(5_000)
    net.forget(f1)
    net.forget(f2)
    held = {id(x): (log(x), x.finished_at().tolist()) for x in (b, c, g)}
    h = delay_chains(10, 1_500, t0=5_000)
    net.add(h)
    if hasattr(net, "_top"):
        assert net._top == 300 + 15_000  # b, c, g and h side by side
    net.run()
    for x in (b, c, g):
        assert (log(x), x.finished_at().tolist()) == held[id(x)]
    for x in (b, c, g):
        assert plan(x) == planned[id(x)]
    assert h.finished_at().tolist() == [6_500.0 + j for j in range(10)]


@pytest.mark.skipif(len(ENGINES) == 1, reason="numba not installed")
def test_the_event_heap_pops_in_time_then_scheduling_order_after_entries_are_taken_out():
    # a replaced batch's pending releases are taken out of the compiled engine's heap, which is then rebuilt
    from citysim._fast_kernels import _heapify, _pop, _push

    rng = np.random.default_rng(7)
    n = 3_000
    ht, hs, ha, hn = np.zeros(n), np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(3, np.int64)
    for k, t in enumerate(rng.integers(0, 300, n).astype(float)):  # many ties in time
        _push(ht, hs, ha, hn, t, k)
    keep = rng.random(n) > 0.3
    m = int(keep.sum())
    ht[:m], hs[:m], ha[:m] = ht[:n][keep].copy(), hs[:n][keep].copy(), ha[:n][keep].copy()
    expected = sorted(zip(ht[:m].tolist(), hs[:m].tolist(), ha[:m].tolist(), strict=True))
    hn[0] = m
    _heapify(ht, hs, ha, m)
    popped = []
    while hn[0] > 0:
        popped.append((float(ht[0]), int(hs[0]), int(ha[0])))
        _pop(ht, hs, ha, hn)
    assert popped == expected


@pytest.mark.skipif(len(ENGINES) == 1, reason="numba not installed")
def test_an_event_pushed_in_the_place_of_the_one_processed_pops_as_after_a_pop_and_a_push():
    # the event loop leaves the event it processes at the top and lets the first event it pushes take its place
    # (one sift down): the heap then pops what popping first and pushing after would, in the same order
    from citysim._fast_kernels import _pop, _push

    rng = np.random.default_rng(11)
    n = 4_000

    a = np.zeros(n), np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(3, np.int64)
    for k, t in enumerate(rng.integers(0, 200, n // 2).astype(float)):  # many ties in time
        _push(*a, t, k)
    b = tuple(x.copy() for x in a)
    order_a, order_b = [], []
    for step in range(3 * n):
        if a[3][0] == 0:
            break
        pushes = [(float(a[0][0]) + float(d), n + step * 3 + j) for j, d in enumerate(rng.integers(0, 50, step % 3))]
        order_a.append((float(a[0][0]), int(a[2][0])))
        _pop(*a)
        for t, x in pushes:
            _push(*a, t, x)
        order_b.append((float(b[0][0]), int(b[2][0])))
        b[3][2] = 1  # the top is being processed
        for t, x in pushes:
            _push(*b, t, x)
        if b[3][2]:  # it pushed none
            b[3][2] = 0
            _pop(*b)
    assert len(order_a) > n and order_a == order_b


def test_a_new_batch_makes_its_records_when_asked_and_a_forgotten_one_has_none(env, Net):
    """Records start blank (NaN) wherever they are kept; the compiled engine's forgotten batch cannot be read."""
    fresh = one_step_jobs([0.0, 1.0], [2.0, 2.0])
    assert not fresh.has_records
    q, s, e = fresh.times()
    assert fresh.has_records and np.isnan(np.concatenate([q, s, e, fresh.finished_at()])).all()
    b = one_step_jobs([0.0, 1.0], [2.0, 2.0])
    net = Net(env, [1])
    net.add(b)
    net.run(1.5)  # the first being served, the second waiting: blank where nothing happened yet
    assert log(b)[0][:2] == (0.0, 0.0) and log(b)[1][0] == 1.0
    assert np.isnan([log(b)[0][2], *log(b)[1][1:], *b.finished_at()]).all()
    net.run()
    assert log(b) == [(0.0, 0.0, 2.0), (1.0, 2.0, 4.0)]
    assert list(b.finished_at()) == [2.0, 4.0]
    net.forget(b)
    if Net is not Network:
        with pytest.raises(TypeError):
            b.times()
