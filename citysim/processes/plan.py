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
    """Per-row ``values`` at ``rows`` (indices or a mask; a value for all, or None, as it is)."""
    return values if values is None or np.ndim(values) == 0 else np.asarray(values)[rows]


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
            on = redials >= k
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
        k = len(self.slots)
        if k == 0:  # a day without incidents (a tiny town, a low rate): an empty plan
            self.add("intake", 0, np.zeros(self.n, dtype=bool), DELAY, 0.0)
            k = 1
        # every step of every slot, then ordered by incident (stable: slot order within an incident)
        row_all = np.concatenate([s.rows for s in self.slots])
        order = np.argsort(row_all, kind="stable")
        row_all = row_all[order]
        slot_of = np.repeat(np.arange(k), [len(s.rows) for s in self.slots])[order]
        n_steps = len(row_all)

        def column(attr: str, fill: float, dtype) -> np.ndarray:
            parts = [
                np.full(len(s.rows), fill, dtype) if getattr(s, attr) is None else getattr(s, attr) for s in self.slots
            ]
            return np.concatenate(parts).astype(dtype, copy=False)[order]

        unit = column("unit", DELAY, np.int64)
        dur = column("dur", 0.0, np.float64)
        travel = column("travel", 0.0, np.float64)
        role = np.array([s.role for s in self.slots], dtype=np.int8)[slot_of]
        attempt = np.array([s.attempt for s in self.slots], dtype=np.int8)[slot_of]
        align_k = np.array([s.align for s in self.slots])
        align = phase = None
        if np.any(align_k > 0):
            align = align_k[slot_of]
            phase = column("phase", 0.0, np.float64)
        group_k = np.array([s.group for s in self.slots])[slot_of]

        rows, first, steps_per = np.unique(row_all, return_index=True, return_counts=True)
        row_of = np.repeat(np.arange(len(rows)), steps_per)
        last = first + steps_per - 1
        nxt = np.arange(1, n_steps + 1, dtype=np.int64)
        nxt[last] = NO_STEP

        group = width = None
        if np.any(group_k > 0):
            group = np.full(n_steps, NO_STEP, dtype=np.int64)
            width = np.ones(n_steps, dtype=np.int64)
            # runs of consecutive steps of one job sharing a group id
            same = np.zeros(n_steps, dtype=bool)
            same[1:] = (group_k[1:] == group_k[:-1]) & (row_of[1:] == row_of[:-1]) & (group_k[1:] > 0)
            starts = np.flatnonzero((group_k > 0) & ~same)
            run_id = np.cumsum(~same) - 1
            run_of_start = run_id[starts]
            lengths = np.bincount(run_id, minlength=run_id.max() + 1)[run_of_start]
            multi = starts[lengths > 1]
            multi_len = lengths[lengths > 1]
            for head, length in zip(multi.tolist(), multi_len.tolist(), strict=True):
                group[head : head + length] = head
                width[head] = length
                after = nxt[head + length - 1]
                nxt[head : head + length] = after
        prio = column("prio", 0, np.int64)
        call_k = np.array([s.call for s in self.slots])[slot_of]
        call_try = np.array([s.call_try for s in self.slots], dtype=np.int8)[slot_of]
        patience = alt = None
        if np.any(call_k > 0):
            patience = column("patience", NEVER, np.float64)
            alt = np.full(n_steps, NO_STEP, dtype=np.int64)
            # runs of consecutive steps of one job in one call: try, wait, try ... try
            same = np.zeros(n_steps, dtype=bool)
            same[1:] = (call_k[1:] == call_k[:-1]) & (row_of[1:] == row_of[:-1]) & (call_k[1:] > 0)
            run_id = np.cumsum(~same) - 1
            run_last = np.zeros(run_id[-1] + 1, dtype=np.int64)
            run_last[run_id] = np.arange(n_steps)  # the last step of each run wins
            last_of = run_last[run_id]
            tries = np.flatnonzero(call_try >= 0)
            alt[tries] = np.where(tries < last_of[tries], tries + 1, NO_STEP)  # hung up: the redial, or give up
            nxt[tries] = nxt[last_of[tries]]  # answered: on after the call
        batch = Batch(
            first=first.astype(np.int64),
            release=np.asarray(release, dtype=np.float64)[rows],
            unit=unit,
            dur=dur,
            nxt=nxt,
            align=align,
            phase=phase,
            group=group,
            width=width,
            tag=tag,
            patience=patience,
            alt=alt,
            prio=prio,
        )
        return Plan(batch=batch, job_incident=rows, role=role, attempt=attempt, travel=travel, call_try=call_try)
