"""The theory citysim is checked against, checked against textbook values."""

from __future__ import annotations

import numpy as np
import pytest

from citysim.distributions import Deterministic, Exponential, Lognormal
from citysim.theory import cdf, erlang_c, fork_join_means, jackson, mmc, pollaczek_khinchine, second_moment


def test_mm1_is_the_textbook_queue():
    q = mmc(0.8, 1.0, 1)
    assert q.p_wait == pytest.approx(0.8)
    assert q.wq == pytest.approx(0.8 / (1.0 - 0.8))
    assert q.l == pytest.approx(0.8 / 0.2)
    assert q.wait_tail(1.0) == pytest.approx(0.8 * np.exp(-0.2))


def test_erlang_c_known_values():
    # M/M/2 with offered load 1: C = a^c/c! * c/(c-a) / (sum + ...) = 1/3
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # a classic call-centre table value: c = 10, a = 8 erlangs -> C ≈ 0.4092
    assert erlang_c(10, 8.0) == pytest.approx(0.40918, abs=1e-4)
    assert erlang_c(3, 3.5) == 1.0


def test_unstable_queues_are_refused():
    with pytest.raises(ValueError, match="unstable"):
        mmc(2.0, 1.0, 2)


def test_pollaczek_khinchine_reduces_to_mm1_and_halves_for_deterministic_service():
    lam, s = 0.5, 1.0
    assert pollaczek_khinchine(lam, s, second_moment(Exponential(mean=s))) == pytest.approx(mmc(lam, 1 / s, 1).wq)
    assert pollaczek_khinchine(lam, s, second_moment(Deterministic(value=s))) == pytest.approx(
        mmc(lam, 1 / s, 1).wq / 2
    )


def test_jackson_tandem_and_feedback():
    # tandem: both nodes see the external rate
    nodes = jackson(np.array([1.0, 0.0]), np.array([[0, 1.0], [0, 0]]), np.array([2.0, 3.0]), np.array([1, 1]))
    assert [n.lam for n in nodes] == pytest.approx([1.0, 1.0])
    # feedback to itself with probability 1/2 doubles the rate
    (node,) = jackson(np.array([1.0]), np.array([[0.5]]), np.array([4.0]), np.array([1]))
    assert node.lam == pytest.approx(2.0)
    assert node.l == pytest.approx(0.5 / 0.5)


def test_fork_join_closed_form_matches_integration():
    a, b = Exponential(mean=1.0), Exponential(mean=2.0)
    closed, total = fork_join_means(a, b)
    assert closed == pytest.approx(1 + 2 - 1 / (1 + 0.5))
    assert total == 3.0
    # the numerical route on (almost) the same exponentials
    numeric, _ = fork_join_means(Lognormal(mean=1.0, cv=1e-6), Deterministic(value=2.0))
    assert numeric == pytest.approx(2.0, abs=1e-3)


def test_cdfs_agree_with_sampling():
    rng = np.random.default_rng(0)
    u = rng.random(200_000)
    for dist in (Exponential(mean=2.0), Lognormal(mean=3.0, cv=0.7)):
        x = dist.ppf(u)
        for t in (0.5, 2.0, 5.0):
            assert cdf(dist, t) == pytest.approx(np.mean(x <= t), abs=0.005)
