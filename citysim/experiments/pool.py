"""Local worker processes that run one function over many items, and stop with their parent.

:class:`WorkerPool` starts ``workers`` processes (forked where the platform
allows, sharing the parent's memory until written), hands them items one at a
time in the order given and yields each result as it arrives. Unlike a
:class:`concurrent.futures.ProcessPoolExecutor` it

* never leaves a worker behind: leaving the ``with`` block (normally, on
  Ctrl-C or on an error) terminates them, and on Linux a worker is killed by
  the kernel if its parent is killed (``SIGKILL`` included);
* survives a worker that dies mid-item (out of memory, a crash): that item is
  reported as failed and a fresh worker takes the next one;
* keeps only as many items in flight as there are workers, so the order of the
  items is the order in which they start (longest first, if so sorted).
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing as mp
import os
import queue
import signal
import sys
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["WorkerDied", "WorkerPool", "default_workers"]


class WorkerDied(RuntimeError):
    """An item whose worker process died before returning (its exit code in the message)."""


def default_workers() -> int:
    """Worker processes by default: the CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (even by SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _worker_loop(fn: Callable[[Any], Any], tasks, results) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    _die_with_parent()
    pid = os.getpid()
    while True:
        item = tasks.get()
        if item is None:
            return
        position, payload = item
        results.put(("start", position, pid))
        try:
            results.put(("done", position, fn(payload)))
        except Exception:
            results.put(("error", position, traceback.format_exc(limit=8)))


class WorkerPool:
    """``workers`` processes applying ``fn`` to items; use as a context manager.

    Args:
        fn: a module-level function of one item (pickled for spawned workers).
        workers: number of processes (at least 1).

    Example:
        >>> with WorkerPool(abs, workers=2) as pool:
        ...     sorted(pool.run([-1, -2, 3]))
        [(0, 1), (1, 2), (2, 3)]
    """

    def __init__(self, fn: Callable[[Any], Any], workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.fn = fn
        self.workers = workers
        methods = mp.get_all_start_methods()
        self._ctx = mp.get_context("fork" if "fork" in methods else "spawn")
        self._procs: list = []
        self._tasks = None
        self._results = None

    def __enter__(self) -> WorkerPool:
        self._tasks, self._results = self._ctx.Queue(), self._ctx.Queue()
        # Forked workers share the parent's pages until they write to them; the garbage collector
        # writes to every object it visits, so objects alive now are frozen out of its reach.
        gc.collect()
        gc.freeze()
        try:
            for _ in range(self.workers):
                self._start_worker()
        finally:
            gc.unfreeze()
        return self

    def _start_worker(self) -> None:
        proc = self._ctx.Process(target=_worker_loop, args=(self.fn, self._tasks, self._results), daemon=True)
        proc.start()
        self._procs.append(proc)

    def __exit__(self, *exc_info: object) -> None:
        self.close(graceful=exc_info[0] is None)

    def close(self, graceful: bool = True) -> None:
        """Stop every worker: let idle ones exit, terminate the rest."""
        if graceful and self._tasks is not None:
            for proc in self._procs:
                if proc.is_alive():
                    self._tasks.put(None)
            for proc in self._procs:
                proc.join(timeout=5)
        for proc in self._procs:
            if proc.is_alive():
                proc.terminate()
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
        self._procs = []
        for q in (self._tasks, self._results):
            if q is not None:
                q.cancel_join_thread()
                q.close()
        self._tasks = self._results = None

    def run(self, items: Iterable[Any]) -> Iterator[tuple[int, Any]]:
        """Yield ``(position, result)`` for every item, as each finishes.

        An item whose function raised yields a ``RuntimeError`` carrying the worker's traceback
        text; an item whose worker died yields a :class:`WorkerDied`.
        """
        if self._tasks is None:
            raise RuntimeError("use WorkerPool as a context manager")
        waiting = deque(enumerate(items))
        started: dict[int, int] = {}  # position -> pid
        in_flight = 0
        while waiting or in_flight:
            while waiting and in_flight < self.workers:
                self._tasks.put(waiting.popleft())
                in_flight += 1
            try:
                kind, position, value = self._results.get(timeout=0.5)
            except queue.Empty:
                for position, error in self._reap(started):
                    in_flight -= 1
                    yield position, error
                continue
            if kind == "start":
                started[position] = value
                continue
            started.pop(position, None)
            in_flight -= 1
            yield position, (value if kind == "done" else RuntimeError(value))

    def _reap(self, started: dict[int, int]) -> list[tuple[int, WorkerDied]]:
        """Replace dead workers; the items they had started are lost (reported as failed)."""
        lost = []
        for proc in list(self._procs):
            if proc.is_alive():
                continue
            self._procs.remove(proc)
            for position in [p for p, pid in started.items() if pid == proc.pid]:
                del started[position]
                lost.append((position, WorkerDied(f"worker process died (exit code {proc.exitcode})")))
            self._start_worker()
        return lost
