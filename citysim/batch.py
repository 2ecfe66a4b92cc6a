"""Jobs and their plans, as the engines run them: :class:`Batch`.

A *job* (an incident, a false alarm) walks a pre-compiled *plan*: a chain of
steps, each a service at a staffed unit or a pure delay, decided in bulk by the
model before the job starts. Two things are left to the clock:

* the **wait** for a free server, in the unit's queue for the step's priority
  class (``prio``: 0 the most urgent, served first; first come, first served
  within a class; a service under way is never interrupted);
* a **hang-up**: a step with a finite ``patience`` whose job is still waiting
  when its patience runs out leaves the queue then. The job goes on at the
  step's ``alt`` (the wait before a redial, then the redial itself: a step of
  its own), or ends there (``alt = -1``: the caller gave up). Such a step
  keeps ``queued`` and ``ended`` (when the caller hung up) and no ``started``.

Both engines (:mod:`citysim.engine`, :mod:`citysim._fast`) run the same
batches with identical results.
"""

from __future__ import annotations

from array import array

import numpy as np

__all__ = ["DELAY", "NEVER", "NO_STEP", "Batch"]

NO_STEP = -1
"""``nxt`` of a job's last step, ``group`` of a step outside any parallel group, ``alt`` of a
step whose caller gives up on hanging up."""
DELAY = -1
"""``unit`` of a pure delay step."""
NEVER = np.inf
"""``patience`` of a step whose job never leaves the queue."""


def _doubles(values: np.ndarray) -> array:
    out = array("d")
    out.frombytes(np.ascontiguousarray(values, dtype=np.float64).tobytes())
    return out


def _ints(values: np.ndarray) -> array:
    out = array("q")
    out.frombytes(np.ascontiguousarray(values, dtype=np.int64).tobytes())
    return out


def _unlinked(values: np.ndarray, base: int) -> np.ndarray:
    return values if base == 0 else np.where(values >= 0, values - base, NO_STEP)


LENT = (
    *("unit_np", "dur_np", "align_np", "phase_np", "width_np", "patience_np", "prio_np"),
    *("_nxt", "_group", "_alt", "_job"),
    *("queued", "started", "ended", "finished"),
)
"""What an engine may keep for a batch (:meth:`Batch.lend`): the plan's columns and the records."""


def _view(values) -> np.ndarray:
    """A numpy view of a record array (an array.array here, or an arena view in the compiled engine)."""
    return values if isinstance(values, np.ndarray) else np.frombuffer(values, dtype=np.float64)


_NOT_YET = "not yet made"
"""A new batch's records before anything asks for them (an engine that keeps them elsewhere starts them blank
there, and the batch never makes its own); ``None`` is a forgotten batch's, whose records cannot be read."""


class Batch:
    """Jobs released together (one day's incidents, one day's false alarms) and their plans.

    Steps of all jobs are stored column by column (one array per attribute,
    one slot per step), jobs' steps consecutive.

    Args:
        first: first step of each job.
        release: when each job enters its first step, minutes (``inf``: never).
        unit: unit of each step, or ``-1`` for a pure delay.
        dur: service or delay duration of each step, minutes.
        nxt: step that follows each step, ``-1`` after the job's last.
        align: for delays, wait on until the next ``phase + k * align`` (``0``: don't).
        group: for members of a parallel group, the group's first step, else ``-1``.
        width: for a parallel group's first step, the number of members, else 1.
        tag: anything the owner needs to find its records again (e.g. the day).
        phase: for aligned delays, minutes by which the unit's cycle is offset from minute 0.
        patience: for services, minutes the job waits in the queue before leaving it (``inf``: for ever).
        alt: for services with a finite patience, the step the job takes after leaving the queue
            (``-1``: the job ends there).
        prio: for services, the priority class (0 most urgent), below the network's number of classes.
    """

    __slots__ = (
        "tag",
        "n_jobs",
        "n_steps",
        "first_np",
        "release_np",
        "unit_np",
        "dur_np",
        "_nxt",
        "align_np",
        "phase_np",
        "_group",
        "width_np",
        "_job",
        "patience_np",
        "_alt",
        "prio_np",
        "bases",
        "unit",
        "dur",
        "nxt",
        "align",
        "phase",
        "group",
        "width",
        "job",
        "patience",
        "alt",
        "prio",
        "has_align",
        "has_groups",
        "has_patience",
        "queued",
        "started",
        "ended",
        "finished",
        "pending",
        "unfinished",
        "gave_up",
        "never",
        "_release_first",
        "_release_times",
        "_slot",
    )

    def __init__(
        self,
        first: np.ndarray,
        release: np.ndarray,
        unit: np.ndarray,
        dur: np.ndarray,
        nxt: np.ndarray,
        align: np.ndarray | None = None,
        group: np.ndarray | None = None,
        width: np.ndarray | None = None,
        tag: object = None,
        phase: np.ndarray | None = None,
        patience: np.ndarray | None = None,
        alt: np.ndarray | None = None,
        prio: np.ndarray | None = None,
    ) -> None:
        n_steps = len(unit)
        if not (len(dur) == len(nxt) == n_steps):
            raise ValueError("unit, dur and nxt must have one entry per step")
        if np.any(np.asarray(dur) < 0):
            raise ValueError("durations must be non-negative")
        self.tag = tag
        self.n_jobs = len(first)
        self.n_steps = n_steps
        self.first_np = np.asarray(first, dtype=np.int64)
        self.release_np = np.asarray(release, dtype=np.float64)
        self.unit_np = np.asarray(unit, dtype=np.int64)
        self.dur_np = np.asarray(dur, dtype=np.float64)
        self._nxt = np.asarray(nxt, dtype=np.int64)
        self.bases = (0, 0)
        self.has_align = align is not None and bool(np.any(np.asarray(align) > 0))
        self.has_groups = width is not None and bool(np.any(np.asarray(width) > 1))
        self.align_np = np.asarray(align, dtype=np.float64) if self.has_align else np.zeros(n_steps)
        self.phase_np = (
            np.asarray(phase, dtype=np.float64) if self.has_align and phase is not None else np.zeros(n_steps)
        )
        self._group = np.asarray(group, dtype=np.int64) if self.has_groups else np.full(n_steps, NO_STEP)
        self.width_np = np.asarray(width, dtype=np.int64) if self.has_groups else np.ones(n_steps, dtype=np.int64)
        self.patience_np = np.full(n_steps, NEVER) if patience is None else np.asarray(patience, dtype=np.float64)
        if patience is not None and not np.all(self.patience_np >= 0):  # NaN is not
            raise ValueError("patience must be non-negative (inf: never leaves the queue)")
        finite = np.isfinite(self.patience_np) if patience is not None else None
        self.has_patience = finite is not None and bool(np.any(finite & (self.unit_np >= 0)))
        if self.has_patience and self.has_groups and np.any(finite & (self._group >= 0)):
            raise ValueError("a step in a parallel group cannot leave its queue (finite patience)")
        self._alt = np.full(n_steps, NO_STEP, dtype=np.int64) if alt is None else np.asarray(alt, dtype=np.int64)
        self.prio_np = np.zeros(n_steps, dtype=np.int64) if prio is None else np.asarray(prio, dtype=np.int64)
        if len(self.patience_np) != n_steps or len(self._alt) != n_steps or len(self.prio_np) != n_steps:
            raise ValueError("patience, alt and prio must have one entry per step")
        if np.any(self.prio_np < 0):
            raise ValueError("priority classes are numbered from 0 (the most urgent)")
        # records: numpy here, made when first asked for; the engine that runs the batch may keep them
        # elsewhere (see Network.add)
        self.queued = self.started = self.ended = self.finished = _NOT_YET
        counts = np.diff(np.append(self.first_np, n_steps))
        if self.n_jobs and (self.first_np[0] != 0 or np.any(counts < 1)):
            raise ValueError("each job needs at least one step, jobs' steps consecutive from step 0")
        self._job = np.repeat(np.arange(self.n_jobs), counts)
        self.pending: dict[int, int] = {}
        self.unfinished = int(np.count_nonzero(np.isfinite(self.release_np)))
        self.gave_up = 0  # jobs whose need was given up (a try hung up with no try after it), so far
        self.never = self.n_jobs - self.unfinished

    # links (next step, group, step after a hang-up: -1 for none) and jobs, as stored: shifted by ``bases``
    @property
    def nxt_np(self) -> np.ndarray:
        """The step after each step (``-1``: the job's last)."""
        return _unlinked(self._nxt, self.bases[0])

    @property
    def group_np(self) -> np.ndarray:
        """Each step's parallel group's first step (``-1``: none)."""
        return _unlinked(self._group, self.bases[0])

    @property
    def alt_np(self) -> np.ndarray:
        """The step after each step's caller hangs up (``-1``: the caller gives up)."""
        return _unlinked(self._alt, self.bases[0])

    @property
    def job_np(self) -> np.ndarray:
        """Each step's job."""
        return self._job if self.bases[1] == 0 else self._job - self.bases[1]

    def links_of(self, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``nxt``, ``group`` and ``alt`` of some steps only (as :attr:`nxt_np` ... give them for all)."""
        return tuple(_unlinked(a[steps], self.bases[0]) for a in (self._nxt, self._group, self._alt))

    @property
    def links(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``nxt``, ``group``, ``alt`` and ``job`` as stored: numbered from :attr:`bases` (steps, jobs)."""
        return self._nxt, self._group, self._alt, self._job

    def lend(self, stored: dict[str, np.ndarray], bases: tuple[int, int]) -> None:
        """Read plan and records from an engine's storage from now on (views holding the same values).

        ``stored`` maps the attributes in :data:`LENT` to the views; an engine keeps steps and jobs
        of many batches in one place, so links and jobs there are numbered from ``bases``
        (steps, jobs). The batch's own arrays are let go: a day's plan is held once, not twice.
        """
        for name in LENT:
            setattr(self, name, stored[name])
        self.bases = bases

    def let_go(self) -> None:
        """Drop the plan and records: the batch's engine has forgotten it (and may give their space to others).

        Reading them afterwards fails rather than reading another batch's steps.
        """
        for name in LENT:
            setattr(self, name, None)

    @property
    def classes(self) -> int:
        """Priority classes its steps use (the highest class number plus one)."""
        return int(self.prio_np.max(initial=0)) + 1

    def prepare_hot_loop(self) -> None:
        """Copies of the plan and records the pure-Python engine reads fastest (array.array, 4x smaller than lists)."""
        self.unit, self.dur, self.nxt = _ints(self.unit_np), _doubles(self.dur_np), _ints(self.nxt_np)
        self.align, self.phase, self.group = _doubles(self.align_np), _doubles(self.phase_np), _ints(self.group_np)
        self.width, self.job = _ints(self.width_np), _ints(self.job_np)
        self.patience, self.alt, self.prio = _doubles(self.patience_np), _ints(self.alt_np), _ints(self.prio_np)
        self.queued, self.started, self.ended = (_doubles(np.asarray(a)) for a in self.times())
        self.finished = _doubles(np.asarray(self.finished_at()))

    def times(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Queued, started and ended time of every step (NaN where not yet; started NaN and ended not: hung up)."""
        self._make_records()
        return _view(self.queued), _view(self.started), _view(self.ended)

    @property
    def has_records(self) -> bool:
        """Whether its records were made (a new batch's are not until asked for: all NaN then)."""
        return self.queued is not _NOT_YET

    def _make_records(self) -> None:
        if self.queued is _NOT_YET:
            self.queued, self.started, self.ended = (np.full(self.n_steps, np.nan) for _ in range(3))
            self.finished = np.full(self.n_jobs, np.nan)

    def finished_at(self) -> np.ndarray:
        """When each job ended its last step (NaN: not yet)."""
        self._make_records()
        return _view(self.finished)

    @property
    def done(self) -> bool:
        """Whether every job that will ever start has finished."""
        return self.unfinished == 0
