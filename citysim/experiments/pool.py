"""Local worker processes that run one function over many items, and stop with their parent.

:class:`WorkerPool` starts ``workers`` processes (forked where the platform
allows, sharing the parent's memory until written), hands each idle worker one
item at a time, in the order given, over its own pipe, and yields each result
as it arrives. Unlike a :class:`concurrent.futures.ProcessPoolExecutor` it

* never leaves a worker behind: leaving the ``with`` block (normally, on
  Ctrl-C or on an error) terminates them, and on Linux a worker is killed by
  the kernel if its parent is killed (``SIGKILL`` included);
* survives a worker that dies mid-item (out of memory, a crash): the parent
  knows which item each worker holds, reports that one as failed and starts a
  fresh worker for the next;
* keeps only as many items in flight as there are workers, so the order of the
  items is the order in which they start (longest first, if so sorted);
* replaces a worker whose memory has grown past :data:`GROWTH_LIMIT` times
  its size after its first item (what runs leave behind adds up over hundreds
  of runs): it hands its next item back, unstarted, and exits.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing as mp
import os
import signal
import sys
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import wait
from typing import Any

__all__ = ["GROWTH_LIMIT", "WorkerDied", "WorkerPool", "default_workers"]

GROWTH_LIMIT = 1.5
"""A worker whose memory grew past this multiple of its size after its first item is replaced."""


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


def _resident_mib() -> float:
    """This process's resident memory, MiB (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _worker_main(fn: Callable[[Any], Any], conn, growth_limit: float) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    _die_with_parent()
    first = 0.0
    while True:
        try:
            item = conn.recv()
        except EOFError:
            return
        if item is None:
            return
        position, payload = item
        # Memory a run leaves behind (caches, fragmentation) adds up over hundreds of runs: a worker
        # that has grown well past its size after one run hands its next item back and exits.
        if first and _resident_mib() > growth_limit * first:
            conn.send(("returned", position, None))
            return
        try:
            conn.send(("done", position, fn(payload)))
        except Exception:
            conn.send(("error", position, traceback.format_exc(limit=8)))
        first = first or _resident_mib()


class _Worker:
    """One worker process, its end of the pipe, and the item it holds (None when idle)."""

    def __init__(self, ctx, fn: Callable[[Any], Any]) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(fn, child, GROWTH_LIMIT), daemon=True)
        self.proc.start()
        child.close()
        self.item: tuple[int, Any] | None = None
        self.retiring = False


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
        self._pool: list[_Worker] = []

    def __enter__(self) -> WorkerPool:
        # Forked workers share the parent's pages until they write to them; the garbage collector
        # writes to every object it visits, so objects alive now are frozen out of its reach.
        gc.collect()
        gc.freeze()
        try:
            self._pool = [_Worker(self._ctx, self.fn) for _ in range(self.workers)]
        finally:
            gc.unfreeze()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close(graceful=exc_info[0] is None)

    def close(self, graceful: bool = True) -> None:
        """Stop every worker: let idle ones exit, terminate the rest."""
        for w in self._pool:
            if graceful and w.proc.is_alive():
                try:
                    w.conn.send(None)
                except OSError:
                    pass
        for w in self._pool:
            if graceful:
                w.proc.join(timeout=5)
            if w.proc.is_alive():
                w.proc.terminate()
            w.proc.join(timeout=5)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join()
            w.conn.close()
        self._pool = []

    def run(self, items: Iterable[Any]) -> Iterator[tuple[int, Any]]:
        """Yield ``(position, result)`` for every item, as each finishes.

        An item whose function raised yields a ``RuntimeError`` carrying the worker's traceback
        text; an item whose worker died yields a :class:`WorkerDied`.
        """
        waiting = deque(enumerate(items))
        while True:
            for w in self._pool:
                if w.item is None and waiting and not w.retiring and w.proc.is_alive():
                    w.item = waiting.popleft()
                    w.conn.send(w.item)
            busy = [w for w in self._pool if w.item is not None]
            if not busy and not waiting:
                return
            wait([w.conn for w in busy] + [w.proc.sentinel for w in self._pool], timeout=1.0)
            for k, w in enumerate(self._pool):
                yield from self._collect(w, waiting)
                if not w.proc.is_alive():
                    w.proc.join()
                    if w.item is not None:
                        lost, w.item = w.item[0], None
                        yield lost, WorkerDied(f"worker process died (exit code {w.proc.exitcode})")
                    w.conn.close()
                    self._pool[k] = _Worker(self._ctx, self.fn)

    @staticmethod
    def _collect(w: _Worker, waiting: deque) -> Iterator[tuple[int, Any]]:
        """Every result waiting in a worker's pipe (a dead worker's last one included)."""
        try:
            while w.conn.poll():
                kind, position, value = w.conn.recv()
                item, w.item = w.item, None
                if kind == "returned":  # the worker retires: its item goes first to the next idle one
                    waiting.appendleft(item)
                    w.retiring = True
                else:
                    yield position, (value if kind == "done" else RuntimeError(value))
        except (EOFError, OSError):
            pass
