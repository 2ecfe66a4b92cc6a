"""Plans: the steps each job will take, assembled in bulk from slots.

The model decides an incident's path with numpy, for all of a day's
incidents at once. It does so slot by slot, in the order of an incident's
life: a slot is one possible step (the intake call, the second transfer, the
data wait, the gas team's visit ...) with, for every incident, whether it
takes that step, at which unit and for how long. :class:`PlanBuilder` then
drops the slots an incident skips and lays the remaining steps end to end,
giving the engine's :class:`~citysim.engine.Batch`.

Slots can be marked as one *parallel group* (joint dispatch of several
departments): the members an incident takes, if more than one, become a
group entered at once and left when all have ended.

A *call* (:meth:`PlanBuilder.add_call`) is a service the resident may hang up
on: its first try, then for each redial the resident would make a wait and
another try, each try with its own patience. The engine takes the branch: an
answered try goes on after the last try, a hung-up one to the next redial (or,
after the last the resident would make, the job ends: the need is given up).
Every step has a priority class (the incident's, unless the slot says otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from citysim.batch import DELAY, NEVER, NO_STEP, Batch
from citysim.compiled import compiled_or
from citysim.sorting import rows_order

__all__ = ["ROLES", "PlanBuilder", "Plan"]

ROLES = (
    "intake",
    "verify",
    "transfer_wait",
    "transfer",
    "data_wait",
    "dispatch",
    "field",
    "handoff_wait",
    "callback_wait",
    "callback",
    "rereport_wait",
    "redial_wait",
)
"""What a step is, as written to ``stages.parquet`` (``field`` is split there
into ``travel`` and ``handling``)."""
ROLE = {name: i for i, name in enumerate(ROLES)}


@dataclass
class _Slot:
    """The incidents taking one possible step (``rows``) and the step's values for each of them."""

    role: int
    attempt: int
    rows: np.ndarray
    unit: np.ndarray
    dur: np.ndarray
    travel: np.ndarray | None
    align: float
    phase: np.ndarray | None
    group: int
    prio: np.ndarray | None = None
    patience: np.ndarray | None = None
    call: int = 0  # a call group's id (its tries and redial waits), 0: none
    call_try: int = -1  # try number within the call (0 first), -1: not a try


def _at(values, rows: np.ndarray):
    """Per-row ``values`` at ``rows`` (indices, a mask or a slice; a value for all, or None, as it is)."""
    return values if values is None or np.ndim(values) == 0 else np.asarray(values)[rows]


def _key_runs_numpy(same_job: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs of consecutive steps of one job (``same_job``: a step of the step before's job) sharing a positive
    ``key``: their first steps and lengths (numpy; numba's kernel gives the same)."""
    same = same_job.copy()
    same[1:] &= (key[1:] == key[:-1]) & (key[1:] > 0)
    starts = np.flatnonzero(~same)
    lengths = np.diff(starts, append=len(key))
    keep = key[starts] > 0
    return starts[keep], lengths[keep]


_key_runs = compiled_or("key_runs", _key_runs_numpy, module="citysim.processes._kernels")


def _spread(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices ``starts[j] .. starts[j] + lengths[j] - 1`` of every run ``j``, in order."""
    return np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())


COLUMNS = ("unit", "prio", "dur", "travel", "phase", "patience")
"""A slot's values laid out per step, in the order :func:`_lay_out_numpy` takes them."""
FILLS = (DELAY, 0, 0.0, 0.0, 0.0, NEVER)
"""Each column's value at the steps of a slot without values for it."""


def _lay_out_numpy(n, rows, columns, fills, keys, align, wanted):
    """The steps of slots, ordered by incident, slot order within an incident (numpy; numba's ``lay_out``
    gives the same).

    Args:
        n: number of incidents.
        rows: each slot's incidents, ascending.
        columns: for each of :data:`COLUMNS`, each slot's values at its rows, or None (the column's fill).
        fills: :data:`FILLS`.
        keys: ``[key, slot]`` each slot's role, attempt, group, call and call try.
        align: each slot's alignment.
        wanted: whether to lay out alignments (and phases), parallel groups, calls (patience, alt).

    Returns:
        Each job's incident and first step; per step ``nxt``, ``group``, ``width``, ``alt``, the
        :data:`COLUMNS` but with ``align`` after ``phase``, ``role``, ``attempt``, ``call_try`` (empty
        where not wanted).
    """
    has_align, has_groups, has_calls = wanted.tolist()
    # every step of every slot, then ordered by incident (stable: slot order within an incident)
    sizes = [len(r) for r in rows]
    ends = np.cumsum(sizes)
    row_all = np.concatenate(rows)
    order = rows_order(row_all, n)
    row_all = row_all[order]
    slot_of = np.repeat(np.arange(len(rows)), sizes)[order]
    m = len(row_all)

    def column(c: int, wanted: bool = True) -> np.ndarray:
        dtype = np.int64 if c < 2 else np.float64
        if not wanted:
            return np.zeros(0, dtype)
        out = np.full(m, fills[c], dtype)
        for values, end, size in zip(columns[c], ends.tolist(), sizes, strict=True):
            if values is not None:
                out[end - size : end] = values
        return out[order]

    def per_slot(values: np.ndarray, dtype, wanted: bool = True) -> np.ndarray:
        return values.astype(dtype)[slot_of] if wanted else np.zeros(0, dtype)

    unit, prio, dur, travel = (column(c) for c in range(4))
    phase, patience = column(4, has_align), column(5, has_calls)
    role, attempt, call_try = (per_slot(keys[c], np.int8) for c in (0, 1, 4))
    step_align = per_slot(align, np.float64, has_align)

    steps_per_incident = np.bincount(row_all, minlength=n)
    job_incident = np.flatnonzero(steps_per_incident)
    steps_per = steps_per_incident[job_incident]
    last = np.cumsum(steps_per) - 1
    first = last - steps_per + 1
    nxt = np.arange(1, m + 1, dtype=np.int64)
    nxt[last] = NO_STEP
    same_job = np.zeros(m, dtype=bool)
    same_job[1:] = row_all[1:] == row_all[:-1]

    def runs(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _key_runs(same_job, np.ascontiguousarray(key[slot_of], dtype=np.int64))

    group = np.full(m if has_groups else 0, NO_STEP, dtype=np.int64)
    width = np.ones(m if has_groups else 0, dtype=np.int64)
    if has_groups:
        starts, lengths = runs(keys[2])
        multi = lengths > 1
        head, length = starts[multi], lengths[multi]
        members = _spread(head, length)
        group[members] = np.repeat(head, length)
        width[head] = length
        nxt[members] = np.repeat(nxt[head + length - 1], length)
    alt = np.full(m if has_calls else 0, NO_STEP, dtype=np.int64)
    if has_calls:
        # runs of consecutive steps of one job in one call: try, wait, try ... try
        starts, lengths = runs(keys[3])
        last_of = np.arange(m)  # per step in a call, the call's last step
        last_of[_spread(starts, lengths)] = np.repeat(starts + lengths - 1, lengths)
        tries = np.flatnonzero(call_try >= 0)
        alt[tries] = np.where(tries < last_of[tries], tries + 1, NO_STEP)  # hung up: the redial, or give up
        nxt[tries] = nxt[last_of[tries]]  # answered: on after the call
    columns = (unit, prio, dur, travel, phase, step_align, patience, role, attempt, call_try)
    return (job_incident, first, nxt, group, width, alt) + columns


_lay_out = compiled_or("lay_out", _lay_out_numpy, module="citysim.processes._plan_kernels")


@dataclass
class Plan:
    """A compiled batch with, per step, what the output tables need to know."""

    batch: Batch
    job_incident: np.ndarray  # per job: index of the incident in the day
    role: np.ndarray  # per step
    attempt: np.ndarray  # per step
    travel: np.ndarray  # per step: minutes of the service spent reaching the site
    call_try: np.ndarray | None = None  # per step: try of a call (0 first, 1 first redial ...), -1 other steps
    extra: dict = field(default_factory=dict)
    live: np.ndarray | None = None  # steps that may still count in a later day's use (None: all; see day_use)

    def __post_init__(self) -> None:
        if self.call_try is None:
            self.call_try = np.full(len(self.role), -1, dtype=np.int8)


class PlanBuilder:
    """Collects slots for ``n`` incidents, then assembles their plans.

    Args:
        n: number of incidents (rows) in every slot.
        prio: each incident's priority class (default: 0 for all).
    """

    def __init__(self, n: int, prio: np.ndarray | None = None) -> None:
        self.n = n
        self.prio = np.zeros(n, dtype=np.int64) if prio is None else np.asarray(prio, dtype=np.int64)
        self.slots: list[_Slot] = []
        self._ids = [0, 0]  # the last parallel-group id and call id handed out
        self._incident: np.ndarray | None = None  # the incident of each row (None: row i is incident i)

    def subset(self, rows: np.ndarray) -> PlanBuilder:
        """A builder for the incidents ``rows`` (ascending) only, adding to this builder's slots.

        Its row ``i`` is this builder's row ``rows[i]``: masks and per-incident values given to
        it are of length ``len(rows)``; group and call ids are shared with this builder.
        """
        sub = PlanBuilder.__new__(PlanBuilder)
        sub.n = len(rows)
        sub.prio = self.prio[rows]
        sub.slots = self.slots
        sub._ids = self._ids
        sub._incident = rows if self._incident is None else self._incident[rows]
        return sub

    def new_group(self) -> int:
        """A fresh parallel-group id for :meth:`add`."""
        self._ids[0] += 1
        return self._ids[0]

    def add(self, role: str, attempt: int, active: np.ndarray, unit, dur, **options) -> None:
        """Append one slot (a possible step) after the slots added so far.

        Args:
            role, attempt: as :meth:`add_at`.
            active: which incidents take this step.
            unit, dur: as :meth:`add_at`, per incident or one for all.
            options: ``travel``, ``align``, ``phase``, ``group``, ``prio`` as :meth:`add_at`, per
                incident where it takes values per row.
        """
        if len(active) != self.n:
            raise ValueError(f"slot {role!r}: {len(active)} rows for {self.n} incidents")
        rows = np.flatnonzero(active)
        at_rows = {k: _at(v, rows) for k, v in options.items()}
        self.add_at(role, attempt, rows, _at(unit, rows), _at(dur, rows), **at_rows)

    def add_at(
        self,
        role: str,
        attempt: int,
        rows: np.ndarray,
        unit: np.ndarray | int,
        dur: np.ndarray | float,
        *,
        travel: np.ndarray | None = None,
        align: float = 0.0,
        phase: np.ndarray | float = 0.0,
        group: int = 0,
        prio: np.ndarray | int | None = None,
        patience: np.ndarray | None = None,
    ) -> None:
        """Append one slot taken by the incidents ``rows``, with its values for those incidents.

        Only the incidents taking a step need their values computed: a caller sampling a
        duration for a few rows does so for those rows alone.

        Args:
            role: one of :data:`ROLES`.
            attempt: 0 for the first attempt, 1 after the first reopening ...
            rows: the incidents taking this step, ascending (kept: not to be changed afterwards).
            unit: the unit serving it (``DELAY`` for a pure delay), per row or one for all.
            dur: minutes of service or delay, per row or one for all.
            travel: for field steps, the part of ``dur`` spent getting there.
            align: for delays, continue only at the next ``phase + k * align`` minutes.
            phase: for aligned delays, the offset of each incident's cycle (minutes; e.g. the
                meeting time of the desk it waits for, see :mod:`citysim.phases`).
            group: a :meth:`new_group` id to join consecutive slots into a parallel group.
            prio: the priority class at the unit, per row or one for all (default: the incident's).
            patience: for a call's try, minutes the resident holds on, per row (see :meth:`add_call`).
        """

        def per_row(values, dtype) -> np.ndarray:
            values = np.asarray(values, dtype=dtype)
            return np.full(len(rows), values, dtype=dtype) if values.ndim == 0 else values

        dur_r = per_row(dur, np.float64)
        if not np.all(np.isfinite(dur_r)):
            raise ValueError(f"slot {role!r}: infinite duration")
        travel_r = None if travel is None else per_row(travel, np.float64)
        phase_r = per_row(phase, np.float64) if align > 0 else None
        if prio is None:
            prio = self.prio[rows]
        prio_r = per_row(prio, np.int64)
        patience_r = None if patience is None else per_row(patience, np.float64)
        incident = rows if self._incident is None else self._incident[rows]
        self.slots.append(
            _Slot(
                ROLE[role],
                attempt,
                incident,
                per_row(unit, np.int64),
                dur_r,
                travel_r,
                align,
                phase_r,
                group,
                prio_r,
                patience_r,
            )
        )

    def add_call(
        self,
        role: str,
        attempt: int,
        rows: np.ndarray,
        unit: np.ndarray | int,
        dur: np.ndarray | float,
        patience: np.ndarray,
        redials: np.ndarray,
        redial_delay: np.ndarray,
        prio: np.ndarray | int | None = None,
    ) -> None:
        """Append a call by the incidents ``rows``: its first try and, for each, the redials the resident would make.

        Args:
            role, attempt, rows, unit, dur, prio: as :meth:`add_at` (each try is served alike).
            patience: ``[row, try]`` minutes the resident holds on each try (``inf``: for ever).
            redials: per row, how many times the resident would call again after hanging up.
            redial_delay: ``[row, redial]`` minutes from hanging up to calling again.
        """
        self._ids[1] += 1
        call = self._ids[1]
        for k in range(patience.shape[1]):
            on = np.flatnonzero(redials >= k)
            if len(on) == len(rows):  # every row (the first try): the values as they are, not copies
                on = slice(None)
            if k > 0:
                self.add_at("redial_wait", attempt, rows[on], DELAY, redial_delay[on, k - 1])
                self._mark(call, -1)
            unit_k, dur_k, prio_k = _at(unit, on), _at(dur, on), _at(prio, on)
            self.add_at(role, attempt, rows[on], unit_k, dur_k, prio=prio_k, patience=patience[on, k])
            self._mark(call, k)

    def _mark(self, call: int, call_try: int) -> None:
        slot = self.slots[-1]
        slot.call, slot.call_try = call, call_try

    def build(self, release: np.ndarray, tag: object = None) -> Plan:
        """Lay out the plans of incidents with at least one step.

        Args:
            release: per incident, when it enters its first step (minutes).
            tag: passed to the batch.
        """
        if not self.slots:  # a day without incidents (a tiny town, a low rate): an empty plan
            self.add("intake", 0, np.zeros(self.n, dtype=bool), DELAY, 0.0)
        slots = self.slots
        wanted = np.array(
            [
                any(s.align > 0 for s in slots),
                any(s.group > 0 and len(s.rows) for s in slots),
                any(s.call > 0 and len(s.rows) for s in slots),
            ]
        )
        has_align, has_groups, has_calls = wanted.tolist()
        laid = _lay_out(
            self.n,
            [s.rows for s in slots],
            [[getattr(s, c) for s in slots] for c in COLUMNS],
            FILLS,
            np.array([[s.role, s.attempt, s.group, s.call, s.call_try] for s in slots], dtype=np.int64).T.copy(),
            np.array([s.align for s in slots], dtype=np.float64),
            wanted,
        )
        rows, first, nxt, group, width, alt, unit, prio, dur, travel, phase, align, patience, *per_step = laid
        role, attempt, call_try = per_step
        batch = Batch(
            first=first,
            release=np.asarray(release, dtype=np.float64)[rows],
            unit=unit,
            dur=dur,
            nxt=nxt,
            align=align if has_align else None,
            phase=phase if has_align else None,
            group=group if has_groups else None,
            width=width if has_groups else None,
            tag=tag,
            patience=patience if has_calls else None,
            alt=alt if has_calls else None,
            prio=prio,
        )
        return Plan(batch=batch, job_incident=rows, role=role, attempt=attempt, travel=travel, call_try=call_try)
