"""Trust moved by experience: each day's closed cases score how the city did, cohort by district.

At the end of each simulated day, every job that ended within the day scores its
incident's resident: 1 for a need met within its type's target, 0.5 for one met
late, 0 for one not met (closed prematurely, or the resident hung up and did not
call again). A cohort's trust in a district moves toward the day's mean score there,
by a weight that grows with the number of cases (``behaviour.trust_learning_rate``,
``trust_half_weight``; faster during the warm-up, ``warmup_trust_speedup``).
"""

from __future__ import annotations

import numpy as np

from citysim.compiled import compiled_or

__all__ = ["day_scores", "moved_trust"]


def _gave_up_numpy(jobs, first, n_steps, started, ended, alt) -> np.ndarray:
    """Per job of ``jobs``: a try hung up with no try after it.

    A job's steps run from its ``first`` to the next job's (the last job's to ``n_steps``); ``alt`` as a
    batch stores it (:attr:`~citysim.batch.Batch.links`), negative where the caller gives up.
    """
    job = np.repeat(np.arange(len(first)), np.diff(np.append(first, n_steps)))
    out = np.zeros(len(first), dtype=bool)
    out[job[np.isnan(started) & ~np.isnan(ended) & (alt < 0)]] = True
    return out[jobs]


def _scores_numpy(total, count, fin, start, end, job_incident, occurred, unmet, type_, target, cohort, cell,
                  cell_district, n_dist, first, n_steps, started, ended, alt, any_gave_up) -> None:  # fmt: skip
    """Add the scores of one plan's jobs that ended in ``[start, end)`` to ``total`` and their number to ``count``
    (both ``[cohort * n_dist + district]``, flat). Scores are halves and counts whole numbers: the sums are
    exact in any order, so :func:`citysim._fast_kernels._scores` gives the same bits. Steps are looked at
    for needs given up only where the plan has had some (``any_gave_up``)."""
    done = np.flatnonzero((fin >= start) & (fin < end))
    if not len(done):
        return
    rows = job_incident[done]
    took = fin[done] - occurred[rows]
    met = ~unmet[rows]
    if any_gave_up:
        met &= ~_gave_up_numpy(done, first, n_steps, started, ended, alt)
    score = np.where(met, np.where(took <= target[type_[rows]], 1.0, 0.5), 0.0)
    key = cohort[rows] * n_dist + cell_district[cell[rows]]
    total += np.bincount(key, weights=score, minlength=total.size)
    count += np.bincount(key, minlength=count.size)


_scores = compiled_or("_scores", _scores_numpy)  # one pass over the plan's jobs where numba is installed


def day_scores(days, start: float, end: float, shape: tuple[int, int], cell_district, target) -> tuple:
    """Sum and number of the scores of the jobs that ended in ``[start, end)``, ``[cohort, district]``.

    Args:
        days: the compiled days held (:class:`~citysim.processes.incident.CompiledDay`).
        start, end: the day, minutes.
        shape: cohorts, districts.
        cell_district: each grid cell's district.
        target: each incident type's resolution target, minutes.
    """
    total, count = np.zeros(shape[0] * shape[1]), np.zeros(shape[0] * shape[1])
    for cd in days:
        b, inc = cd.plan.batch, cd.incidents
        _, s, e = b.times()
        _scores(
            total, count, b.finished_at(), float(start), float(end), cd.plan.job_incident, inc.occurred_at,
            cd.closed_unmet, inc.type, target, inc.cohort, inc.cell, cell_district, shape[1],
            b.first_np, b.n_steps, s, e, b.links[2], b.gave_up > 0,
        )  # fmt: skip
    return total.reshape(shape), count.reshape(shape)


def moved_trust(trust: np.ndarray, total: np.ndarray, count: np.ndarray, behaviour, warmup: bool) -> np.ndarray:
    """Trust after a day whose scores sum to ``total`` over ``count`` cases (``[cohort, district]``)."""
    seen = count > 0
    weight = behaviour.trust_learning_rate * count / (count + behaviour.trust_half_weight)
    if warmup:
        weight = np.minimum(weight * behaviour.warmup_trust_speedup, np.maximum(weight, 0.5))
    mean = np.divide(total, count, out=np.zeros_like(total), where=seen)
    return np.where(seen, trust + weight * (mean - trust), trust)
