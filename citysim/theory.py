"""Queueing theory that citysim must reproduce (see ``citysim validate``).

* :func:`mmc` — the M/M/c queue: Erlang C probability of waiting, mean wait,
  the waiting-time distribution ``P(Wq > t) = C·exp(-(cμ - λ)t)``, mean number
  in system ``L`` (Little's law ``L = λW``).
* :func:`pollaczek_khinchine` — the M/G/1 mean wait ``λE[S²] / (2(1 - ρ))``.
* :func:`jackson` — an open Jackson network of M/M/c nodes with Markov routing:
  the traffic equations ``λ = γ + Pᵀλ`` and the product form (each node behaves
  as an M/M/c queue with its total arrival rate).
* :func:`fork_join_means` — two tasks with independent durations done in
  parallel (mean of the maximum) or in sequence (mean of the sum), by closed
  form for exponentials and numerical integration otherwise.
* :func:`erlang_a` — the M/M/c+M queue (Erlang-A: callers with exponential
  patience who hang up; Garnett, Mandelbaum & Reiman 2002) from its birth-death
  chain: probability of abandonment, mean wait of those served and of all arrivals.
* :func:`cobham` — the M/M/c queue with non-preemptive priority classes (one
  service rate): each class's mean wait by Cobham's formula
  ``W_k = C / (cμ (1 - σ_{k-1})(1 - σ_k))``, ``σ_k`` the load of classes up to k.

Rates are per minute, times in minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from citysim.distributions import Deterministic, Exponential, Gamma, Lognormal, Uniform

__all__ = [
    "ErlangA",
    "MMc",
    "cdf",
    "cobham",
    "erlang_a",
    "erlang_c",
    "fork_join_means",
    "jackson",
    "mmc",
    "pollaczek_khinchine",
]


def erlang_c(c: int, offered: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load ``λ/μ``."""
    if offered >= c:
        return 1.0
    # Erlang B by the stable recursion, then C from B
    b = 1.0
    for k in range(1, c + 1):
        b = offered * b / (k + offered * b)
    rho = offered / c
    return b / (1 - rho + rho * b)


@dataclass(frozen=True)
class MMc:
    """An M/M/c queue: arrival rate ``lam``, service rate ``mu`` per server, ``c`` servers."""

    lam: float
    mu: float
    c: int

    @property
    def rho(self) -> float:
        return self.lam / (self.c * self.mu)

    @property
    def p_wait(self) -> float:
        return erlang_c(self.c, self.lam / self.mu)

    @property
    def wq(self) -> float:
        """Mean wait in queue."""
        return self.p_wait / (self.c * self.mu - self.lam)

    @property
    def w(self) -> float:
        """Mean time in system."""
        return self.wq + 1 / self.mu

    @property
    def l(self) -> float:  # noqa: E743 - the queueing symbol
        """Mean number in system (Little: λW)."""
        return self.lam * self.w

    def wait_tail(self, t: float | np.ndarray) -> float | np.ndarray:
        """``P(Wq > t)`` for t ≥ 0."""
        return self.p_wait * np.exp(-(self.c * self.mu - self.lam) * np.asarray(t, dtype=float))

    def wait_cdf(self, t: float | np.ndarray) -> float | np.ndarray:
        return 1 - self.wait_tail(t)


def mmc(lam: float, mu: float, c: int) -> MMc:
    """The M/M/c queue with these rates (must be stable)."""
    q = MMc(lam, mu, c)
    if q.rho >= 1:
        raise ValueError(f"unstable queue: rho = {q.rho:.3f} >= 1")
    return q


def pollaczek_khinchine(lam: float, mean_s: float, second_moment_s: float) -> float:
    """Mean wait in queue of an M/G/1 queue."""
    rho = lam * mean_s
    if rho >= 1:
        raise ValueError(f"unstable queue: rho = {rho:.3f} >= 1")
    return lam * second_moment_s / (2 * (1 - rho))


def second_moment(dist) -> float:
    """E[S²] of a duration distribution."""
    if isinstance(dist, Exponential):
        return 2 * dist.mean**2
    if isinstance(dist, Deterministic):
        return dist.value**2
    if isinstance(dist, Lognormal | Gamma):
        return dist.mean**2 * (1 + dist.cv**2)
    if isinstance(dist, Uniform):
        return (dist.low**2 + dist.low * dist.high + dist.high**2) / 3
    raise TypeError(f"no second moment for {dist!r}")


def cdf(dist, t: np.ndarray | float) -> np.ndarray:
    """The CDF of a duration distribution."""
    t = np.asarray(t, dtype=float)
    if isinstance(dist, Exponential):
        return np.where(t < 0, 0.0, -np.expm1(-t / dist.mean))
    if isinstance(dist, Deterministic):
        return (t >= dist.value).astype(float)
    if isinstance(dist, Lognormal):
        s2 = np.log1p(dist.cv**2)
        mu = np.log(dist.mean) - s2 / 2
        with np.errstate(divide="ignore"):
            return np.where(t <= 0, 0.0, special.ndtr((np.log(np.maximum(t, 1e-300)) - mu) / np.sqrt(s2)))
    if isinstance(dist, Gamma):
        shape = 1 / dist.cv**2
        from scipy import stats  # here: scipy.stats takes half a second to import, and few scenarios need it

        return stats.gamma.cdf(t, shape, scale=dist.mean / shape)
    if isinstance(dist, Uniform):
        return np.clip((t - dist.low) / (dist.high - dist.low), 0, 1)
    raise TypeError(f"no CDF for {dist!r}")


@dataclass(frozen=True)
class JacksonNode:
    """One node of an open Jackson network in steady state."""

    lam: float  # total arrival rate (external + routed)
    queue: MMc

    @property
    def l(self) -> float:  # noqa: E743
        return self.queue.l

    @property
    def w(self) -> float:
        """Mean time in the node per visit."""
        return self.queue.w


def jackson(external: np.ndarray, routing: np.ndarray, mu: np.ndarray, servers: np.ndarray) -> list[JacksonNode]:
    """Solve an open Jackson network.

    Args:
        external: external arrival rate of each node.
        routing: ``routing[i, j]`` chance a job leaving node i goes to node j (rows sum ≤ 1).
        mu: service rate of a server at each node.
        servers: servers at each node.
    """
    external = np.asarray(external, dtype=float)
    routing = np.asarray(routing, dtype=float)
    lam = np.linalg.solve(np.eye(len(external)) - routing.T, external)
    return [JacksonNode(float(lam[i]), mmc(float(lam[i]), float(mu[i]), int(servers[i]))) for i in range(len(lam))]


def fork_join_means(a, b) -> tuple[float, float]:
    """Mean duration of two independent tasks done in parallel (max) and in sequence (sum)."""
    total = a.mean_min + b.mean_min
    if isinstance(a, Exponential) and isinstance(b, Exponential):
        ra, rb = 1 / a.mean, 1 / b.mean
        return 1 / ra + 1 / rb - 1 / (ra + rb), total
    # E[max] = ∫ (1 - F_a(t) F_b(t)) dt
    upper = 50 * max(a.mean_min, b.mean_min)
    from scipy import integrate

    value, _ = integrate.quad(lambda t: 1 - cdf(a, t) * cdf(b, t), 0, upper, limit=500)
    return float(value), total


@dataclass(frozen=True)
class ErlangA:
    """Steady state of an M/M/c+M queue (see :func:`erlang_a`)."""

    p_abandon: float  # share of arrivals who hang up before being served
    wq_served: float  # mean wait of those served
    wq_all: float  # mean wait of all arrivals (those who hang up: until they do)
    lq: float  # mean number waiting (time average)


def erlang_a(lam: float, mu: float, c: int, theta: float, tol: float = 1e-12) -> ErlangA:
    """The Erlang-A queue: Poisson arrivals ``lam``, ``c`` servers of rate ``mu``, exponential patience of rate
    ``theta`` (a waiting caller hangs up at that rate), first come, first served.

    The number in system is a birth-death chain (birth ``lam``, death ``min(n, c) mu + max(n - c, 0) theta``),
    stable for any load when ``theta > 0``; it is truncated where its probabilities fall below ``tol``. By PASTA an
    arrival sees the stationary distribution; one who finds ``n >= c`` in the system has ``n - c`` callers ahead,
    and reaches a server after stages of rates ``c mu + m theta`` (m ahead: a service ends, or one of them hangs
    up), racing its own patience (rate ``theta``) at each.
    """
    if theta <= 0:
        raise ValueError("Erlang-A needs a positive abandonment rate (else: Erlang C)")
    # stationary distribution, unnormalised, in logs (no overflow at heavy loads)
    logs = [0.0]
    n = 0
    while True:
        n += 1
        death = min(n, c) * mu + max(n - c, 0) * theta
        logs.append(logs[-1] + np.log(lam / death))
        if n > c and (logs[-1] - max(logs)) < np.log(tol) and lam < death:
            break
    p = np.exp(np.array(logs) - max(logs))
    p /= p.sum()
    states = np.arange(len(p))
    lq = float(np.sum(np.maximum(states - c, 0) * p))
    served = wait_served = wait_all = 0.0
    for k in range(len(p)):
        if k < c:
            served += p[k]
            continue
        reach = 1.0  # chance of reaching the current stage still waiting
        expected = 0.0  # E[time waited over the stages] (each stage: Exp(total) while still waiting)
        for m in range(k - c, -1, -1):
            rate = c * mu + m * theta
            total = rate + theta
            expected += reach / total
            reach *= rate / total
        served += p[k] * reach
        wait_all += p[k] * expected
        wait_served += p[k] * reach * sum(1.0 / (c * mu + m * theta + theta) for m in range(k - c + 1))
    return ErlangA(
        p_abandon=float(1.0 - served),
        wq_served=float(wait_served / served),
        wq_all=float(wait_all),
        lq=lq,
    )


def cobham(lams: np.ndarray, mu: float, c: int) -> np.ndarray:
    """Mean wait of each class (0 most urgent) in an M/M/c queue with non-preemptive priorities, one service rate.

    Args:
        lams: arrival rate of each class, most urgent first.
        mu: service rate of a server (the same for every class).
        c: servers.
    """
    lams = np.asarray(lams, dtype=float)
    lam = float(lams.sum())
    rho = lam / (c * mu)
    if rho >= 1:
        raise ValueError(f"unstable queue: rho = {rho:.3f} >= 1")
    w0 = erlang_c(c, lam / mu) / (c * mu)  # mean residual time until a server frees, for an arrival that waits
    sigma = np.concatenate([[0.0], np.cumsum(lams / (c * mu))])
    return w0 / ((1 - sigma[:-1]) * (1 - sigma[1:]))
