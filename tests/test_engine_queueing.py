"""The engine's queues: callers who hang up and redial, urgent jobs first; exact logs, both engines alike."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from citysim.engine import DELAY, NEVER, NO_STEP, Batch, Network
from tests.test_engine import ENGINES, log, one_step_jobs

nan = float("nan")


@pytest.fixture(params=ENGINES, ids=lambda cls: cls.__name__)
def Net(request):
    return request.param


def calls(release, dur, patience=None, prio=None):
    """One call per job at unit 0; a caller who hangs up gives up."""
    return one_step_jobs(release, dur, patience=None if patience is None else np.asarray(patience, float), prio=prio)


def same(a, b):
    return all((x == y) or (x != x and y != y) for r, s in zip(a, b, strict=True) for x, y in zip(r, s, strict=True))


def test_a_caller_whose_patience_runs_out_hangs_up_and_gives_up(env, Net):
    net = Net(env, [1])
    b = calls([0, 1], [10, 5], patience=[NEVER, 3])
    net.add(b)
    net.run()
    assert same(log(b), [(0, 0, 10), (1, nan, 4)])  # hung up at 1 + 3, never answered
    assert b.finished_at().tolist() == [10, 4] and b.done
    assert net.queue_length(0) == 0


def test_a_caller_answered_in_time_never_hangs_up(env, Net):
    net = Net(env, [1])
    b = calls([0, 1], [10, 5], patience=[NEVER, 9])
    net.add(b)
    net.run()
    assert log(b) == [(0, 0, 10), (1, 10, 15)]
    assert net.events == 2 + 2 + 1  # releases, ends, and one end of patience that finds the caller answered


def test_a_server_freeing_as_patience_runs_out_answers_the_earlier_event(env, Net):
    # the end of patience (scheduled at minute 1, for minute 10) comes after the service end scheduled at minute 0
    net = Net(env, [1])
    b = calls([0, 1], [10, 5], patience=[NEVER, 9.0])
    net.add(b)
    net.run()
    assert log(b)[1] == (1, 10, 15)


def test_a_caller_who_hangs_up_redials_after_a_delay(env, Net):
    # job 1: call (patience 3) -> on hanging up, wait 5 -> call again (patient) -> then a visit at unit 1
    net = Net(env, [1, 1])
    b = Batch(
        first=np.array([0, 1]),
        release=np.array([0.0, 1.0]),
        unit=np.array([0, 0, DELAY, 0, 1]),
        dur=np.array([10.0, 2.0, 5.0, 2.0, 7.0]),
        nxt=np.array([NO_STEP, 4, 3, 4, NO_STEP]),
        alt=np.array([NO_STEP, 2, NO_STEP, NO_STEP, NO_STEP]),
        patience=np.array([NEVER, 3.0, NEVER, NEVER, NEVER]),
    )
    net.add(b)
    net.run()
    assert same(log(b)[1:], [(1, nan, 4), (4, 4, 9), (9, 10, 12), (12, 12, 19)])
    assert b.finished_at().tolist() == [10, 19]


def test_a_caller_in_the_middle_of_the_queue_leaves_it_and_the_rest_keep_their_order(env, Net):
    net = Net(env, [1])
    b = calls([0, 1, 2, 3], [10, 1, 1, 1], patience=[NEVER, NEVER, 3, NEVER])
    net.add(b)
    net.run()
    assert same(log(b), [(0, 0, 10), (1, 10, 11), (2, nan, 5), (3, 11, 12)])


def test_urgent_jobs_are_served_first_without_interrupting_a_service(env, Net):
    net = Net(env, [1], classes=3)
    b = calls([0, 1, 2, 3, 4], [10, 1, 1, 1, 1], prio=np.array([2, 2, 0, 1, 0]))
    net.add(b)
    net.run()
    starts = [s for _, s, _ in log(b)]
    assert starts == [0, 13, 10, 12, 11]  # class 0 (arrived 2, 4), then class 1, then class 2; job 0 never interrupted


def test_a_shift_change_starts_waiting_jobs_most_urgent_first(env, Net):
    net = Net(env, [0], classes=2)
    b = calls([0, 1, 2], [5, 5, 5], prio=np.array([1, 1, 0]))
    net.add(b)
    net.run(10)
    assert net.queue_length(0) == 3
    net.set_servers(0, 2)
    net.run()
    assert [s for _, s, _ in log(b)] == [10, 15, 10]


def test_more_classes_than_the_network_has_are_refused(env, Net):
    with pytest.raises(ValueError, match="priority classes"):
        Net(env, [1]).add(calls([0], [1], prio=np.array([1])))


def test_a_waiting_caller_can_not_be_in_a_parallel_group():
    with pytest.raises(ValueError, match="parallel group"):
        Batch(
            first=np.array([0]),
            release=np.zeros(1),
            unit=np.array([0, 1]),
            dur=np.ones(2),
            nxt=np.array([NO_STEP, NO_STEP]),
            group=np.array([0, 0]),
            width=np.array([2, 1]),
            patience=np.array([3.0, NEVER]),
        )


def random_batch(rng, n_jobs, n_units, classes, t0=0.0):
    """Jobs of 1-4 calls or services with random patience, redials, classes and delays."""
    unit, dur, nxt, alt, pat, prio, first = [], [], [], [], [], [], []
    for _ in range(n_jobs):
        first.append(len(unit))
        tries = int(rng.integers(1, 4))
        base = len(unit)
        # a call with redials: call, wait, call, wait, call; then one visit
        after = base + 2 * tries - 1
        for k in range(tries):
            c = base + 2 * k
            unit.append(int(rng.integers(0, n_units)))
            dur.append(float(rng.exponential(2.0)))
            nxt.append(after)
            alt.append(c + 1 if k < tries - 1 else NO_STEP)
            pat.append(float(rng.exponential(3.0)) if rng.random() < 0.8 else NEVER)
            prio.append(int(rng.integers(0, classes)))
            if k < tries - 1:
                unit.append(DELAY)
                dur.append(float(rng.exponential(4.0)))
                nxt.append(c + 2)
                alt.append(NO_STEP)
                pat.append(NEVER)
                prio.append(0)
        unit.append(int(rng.integers(0, n_units)))
        dur.append(float(rng.exponential(3.0)))
        nxt.append(NO_STEP)
        alt.append(NO_STEP)
        pat.append(NEVER)
        prio.append(int(rng.integers(0, classes)))
    return Batch(
        first=np.array(first),
        release=t0 + np.sort(rng.uniform(0, 200, n_jobs)),
        unit=np.array(unit),
        dur=np.array(dur),
        nxt=np.array(nxt),
        alt=np.array(alt),
        patience=np.array(pat),
        prio=np.array(prio),
    )


@pytest.mark.skipif(len(ENGINES) < 2, reason="numba not installed")
@pytest.mark.parametrize("seed", range(4))
def test_both_engines_give_identical_logs_with_hang_ups_redials_classes_and_shift_changes(seed):
    logs = []
    for Net in ENGINES:
        rng = np.random.default_rng(seed)
        env = simpy.Environment()
        net = Net(env, [2, 1, 3], classes=3)
        batches = [random_batch(rng, 150, 3, 3, t0=100.0 * d) for d in range(3)]
        for d, b in enumerate(batches):
            net.add(b)
            net.run(100.0 * d + 50)
            net.set_all_servers(np.array([1 + d % 2, 2, 0]))
            net.run(100.0 * d + 90)
            net.set_all_servers(np.array([2, 1, 3]))
        net.run()
        logs.append(([log(b) for b in batches], [b.finished_at().tolist() for b in batches], net.events))
    (la, fa, ea), (lb, fb, eb) = logs
    assert all(same(x, y) for x, y in zip(la, lb, strict=True))
    assert fa == fb and ea == eb
    hung_up = sum(np.count_nonzero(np.isnan(b.times()[1]) & ~np.isnan(b.times()[2])) for b in batches)
    assert hung_up > 20  # the test exercises hang-ups


def test_the_python_engine_is_the_one_without_numba():
    assert ENGINES[0] is Network


def test_an_answered_callers_end_of_patience_never_reaches_a_later_caller(env, Net):
    # the compiled engine gives a finished batch's space to the next one: the end of patience still
    # pending for a caller answered long ago must not hang up whoever waits in that place now
    net = Net(env, [1])
    first = calls([0, 1], [2, 2], patience=[NEVER, 100])  # the second caller is answered at 2; patience ends at 101
    net.add(first)
    net.run(10)
    assert first.done
    assert log(first) == [(0, 0, 2), (1, 2, 4)]
    net.forget(first)
    later = calls([10, 10], [200, 5], patience=[NEVER, NEVER])  # the second caller waits from 10 to 210
    net.add(later)
    net.run()
    assert log(later) == [(10, 10, 210), (10, 210, 215)]
