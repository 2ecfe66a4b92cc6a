"""Carrying an old day's unfinished incidents forward, so memory stays bounded.

Most of a day's incidents end within days, but a few (a need found by a
grid worker weeks later, a case reopened twice) keep the day open for a long
time. Holding the whole day for them would make a year's memory grow with
its length. So once a day is :data:`CARRY_AFTER_DAYS` old, its finished
incidents are written out and the unfinished ones move to a *carry*: a
compact batch with the same plans, the same records so far, the same places
in every queue and on the event list, only renumbered. A carry is compacted
again when half of it has ended, and small carries are merged so that there
are never more than :data:`MAX_CARRIES`. Results do not change (a test compares runs with and without
carrying).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from citysim.batch import NO_STEP, Batch, _doubles, _ints
from citysim.processes.incident import CompiledDay
from citysim.processes.plan import Plan
from citysim.sorting import stable_argsort

__all__ = ["CARRY_AFTER_DAYS", "MAX_CARRIES", "carry_forward"]

CARRY_AFTER_DAYS = 7
"""Age (days) after which a day's finished incidents are written out and the rest carried forward."""

MAX_CARRIES = 8
"""Carries held at most: beyond, the small ones are merged (each carry is also compacted when half has ended)."""


def carry_forward(parts: list[tuple[CompiledDay, np.ndarray, int]]) -> tuple[CompiledDay, list[np.ndarray]]:
    """One compiled day holding the unfinished jobs of several days, and each day's old-to-new step numbers.

    Args:
        parts: for each day, ``(compiled day, its unfinished jobs, how many of its jobs in
            release order have been released)``.

    The new batch's records so far are copied over; its release list holds the jobs not yet
    released, all days together, in order of release time (earlier days first at equal times).
    """
    pieces, step_maps = [], []
    offset = 0
    for cd, keep_jobs, _ in parts:
        b = cd.plan.batch
        jobs = np.sort(np.asarray(keep_jobs, dtype=np.int64))
        counts = np.diff(np.append(b.first_np, b.n_steps))[jobs]
        starts = b.first_np[jobs]
        local = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        steps = np.repeat(starts - local, counts) + np.arange(counts.sum(), dtype=np.int64)
        step_map = np.full(b.n_steps, NO_STEP, dtype=np.int64)
        step_map[steps] = offset + np.arange(len(steps))
        pieces.append((cd, jobs, steps, counts, local + offset, step_map))
        step_maps.append(step_map)
        offset += len(steps)

    def cat(f) -> np.ndarray:
        return np.concatenate([f(*p) for p in pieces]) if pieces else np.zeros(0)

    links = [p[0].plan.batch.links_of(p[2]) for p in pieces]  # nxt, group, alt of the steps kept

    def remapped(name):
        k = ("nxt", "group", "alt").index(name)
        out = []
        for p, kept_links in zip(pieces, links, strict=True):
            values, step_map = kept_links[k], p[5]
            out.append(np.where(values >= 0, step_map[np.maximum(values, 0)], values))
        return np.concatenate(out)

    any_align = any(p[0].plan.batch.has_align for p in pieces)
    any_groups = any(p[0].plan.batch.has_groups for p in pieces)
    new = Batch(
        first=cat(lambda cd, jobs, steps, counts, first, sm: first).astype(np.int64),
        release=cat(lambda cd, jobs, *_: cd.plan.batch.release_np[jobs]),
        unit=cat(lambda cd, jobs, steps, *_: cd.plan.batch.unit_np[steps]).astype(np.int64),
        dur=cat(lambda cd, jobs, steps, *_: cd.plan.batch.dur_np[steps]),
        nxt=remapped("nxt"),
        align=cat(lambda cd, jobs, steps, *_: cd.plan.batch.align_np[steps]) if any_align else None,
        phase=cat(lambda cd, jobs, steps, *_: cd.plan.batch.phase_np[steps]) if any_align else None,
        group=remapped("group") if any_groups else None,
        width=cat(lambda cd, jobs, steps, *_: cd.plan.batch.width_np[steps]).astype(np.int64) if any_groups else None,
        tag="carried",
        patience=cat(lambda cd, jobs, steps, *_: cd.plan.batch.patience_np[steps]),
        alt=remapped("alt") if pieces else None,
        prio=cat(lambda cd, jobs, steps, *_: cd.plan.batch.prio_np[steps]).astype(np.int64),
    )
    for k, dst in enumerate(new.times()):
        dst[:] = cat(lambda cd, jobs, steps, *_, k=k: cd.plan.batch.times()[k][steps])
    new.finished_at()[:] = cat(lambda cd, jobs, *_: cd.plan.batch.finished_at()[jobs])
    new.unfinished = new.n_jobs
    new.pending = {}
    for cd, *_, step_map in pieces:
        new.pending.update({int(step_map[g]): c for g, c in cd.plan.batch.pending.items() if step_map[g] >= 0})
    # jobs not yet released, all days together, by release time
    rel_first = [
        step_map[np.asarray(cd.plan.batch._release_first, dtype=np.int64)[done:]]
        for (cd, *_, step_map), (_, _, done) in zip(pieces, parts, strict=True)
    ]
    rel_times = [
        np.asarray(cd.plan.batch._release_times, dtype=np.float64)[done:]
        for (cd, *_), (_, _, done) in zip(pieces, parts, strict=True)
    ]
    times = np.concatenate(rel_times) if rel_times else np.zeros(0)
    order = stable_argsort(times)
    new._release_first = _ints(np.concatenate(rel_first)[order] if rel_first else np.zeros(0, np.int64))
    new._release_times = _doubles(times[order])

    def rows(cd, jobs, *_):
        return cd.plan.job_incident[jobs]

    incidents = [p[0].incidents for p in pieces]
    detections = [p[0].detection for p in pieces]
    sel = [rows(*p) for p in pieces]
    new_inc = replace(
        incidents[0],
        day=min(i.day for i in incidents),
        type=np.concatenate([i.type[r] for i, r in zip(incidents, sel, strict=True)]),
        cell=np.concatenate([i.cell[r] for i, r in zip(incidents, sel, strict=True)]),
        cohort=np.concatenate([i.cohort[r] for i, r in zip(incidents, sel, strict=True)]),
        occurred_at=np.concatenate([i.occurred_at[r] for i, r in zip(incidents, sel, strict=True)]),
        time_to_harm=np.concatenate([i.time_to_harm[r] for i, r in zip(incidents, sel, strict=True)]),
        id_array=np.concatenate([i.ids[r] for i, r in zip(incidents, sel, strict=True)]),
    )
    det0 = detections[0]
    new_det = type(det0)(
        **{
            k: np.concatenate([getattr(d, k)[r] for d, r in zip(detections, sel, strict=True)])
            for k in det0.__dataclass_fields__
        }
    )
    new_plan = Plan(
        batch=new,
        job_incident=np.arange(new.n_jobs),
        role=cat(lambda cd, jobs, steps, *_: cd.plan.role[steps]).astype(np.int8),
        attempt=cat(lambda cd, jobs, steps, *_: cd.plan.attempt[steps]).astype(np.int8),
        travel=cat(lambda cd, jobs, steps, *_: cd.plan.travel[steps]),
        call_try=cat(lambda cd, jobs, steps, *_: cd.plan.call_try[steps]).astype(np.int8),
    )
    new_cd = CompiledDay(
        incidents=new_inc,
        detection=new_det,
        plan=new_plan,
        attempts_planned=cat(lambda cd, jobs, *_: cd.attempts_planned[cd.plan.job_incident[jobs]]).astype(np.int64),
        closed_unmet=cat(lambda cd, jobs, *_: cd.closed_unmet[cd.plan.job_incident[jobs]]).astype(bool),
        dispatched=cat(lambda cd, jobs, *_: cd.dispatched[cd.plan.job_incident[jobs]]).astype(bool),
        grid_first=cat(lambda cd, jobs, *_: cd.grid_first[cd.plan.job_incident[jobs]]).astype(bool),
    )
    new_cd.is_carry = True
    return new_cd, step_maps
