"""Long-lived arrays kept out of the heap (citysim.heap.settle)."""

from __future__ import annotations

import mmap
from dataclasses import dataclass

import numpy as np

from citysim.heap import settle


def _root(a: np.ndarray):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a.base.obj if isinstance(a.base, memoryview) else a.base


@dataclass
class Held:
    big: np.ndarray
    same: np.ndarray
    small: np.ndarray
    view: np.ndarray
    other: object = None


class Slotted:
    __slots__ = ("big", "name")

    def __init__(self, big):
        self.big, self.name = big, "x"


def test_large_arrays_move_to_one_mapping_with_the_same_values_and_sharing():
    big = np.arange(100_000, dtype=np.int64)
    source = np.linspace(0, 1, 50_000)
    held = Held(big=big, same=big, small=np.arange(10), view=source[::2], other="kept")
    slotted = Slotted(np.full((300, 100), 2.5))
    small, view = held.small, held.view
    settle(held, slotted)
    assert held.big is not big and held.big.tolist() == big.tolist() and held.big.dtype == big.dtype
    assert held.same is held.big  # one array under two names stays one array
    assert held.small is small and held.view is view  # small arrays and views of others stay where they are
    assert held.other == "kept" and slotted.name == "x"
    assert slotted.big.shape == (300, 100) and np.all(slotted.big == 2.5) and slotted.big.flags.c_contiguous
    assert isinstance(_root(held.big), mmap.mmap) and _root(held.big) is _root(slotted.big)
    held.big[0] = 7  # still writeable
    assert held.same[0] == 7 and big[0] == 0


def test_nothing_to_settle_changes_nothing():
    held = Held(big=np.zeros(3), same=np.zeros(3), small=np.zeros(3), view=np.zeros(3))
    before = dict(vars(held))
    settle(held)
    assert all(vars(held)[k] is v for k, v in before.items())


def test_a_block_is_reused_only_once_nothing_refers_to_it(monkeypatch):
    from citysim import heap

    monkeypatch.setattr(heap, "_POOL", [])  # blocks left by other tests are not offered
    first = Held(big=np.arange(200_000, dtype=np.int64), same=np.zeros(1), small=np.zeros(1), view=np.zeros(1))
    settle(first)
    root = _root(first.big)
    second = Held(big=np.arange(200_000, dtype=np.int64) * 2, same=np.zeros(1), small=np.zeros(1), view=np.zeros(1))
    settle(second)  # the first block is still in use: a block of its own
    assert _root(second.big) is not root and first.big[-1] == 199_999
    kept = first.big[10:20]  # a view keeps the block in use as the array would
    first = None
    third = Held(big=np.full(200_000, 3, dtype=np.int64), same=np.zeros(1), small=np.zeros(1), view=np.zeros(1))
    settle(third)
    assert _root(third.big) is not root and kept.tolist() == list(range(10, 20))
    kept = None
    fourth = Held(big=np.full(190_000, 4, dtype=np.int64), same=np.zeros(1), small=np.zeros(1), view=np.zeros(1))
    settle(fourth)  # a little smaller: it fits in the block nothing refers to any more
    assert _root(fourth.big) is root and np.all(fourth.big == 4) and np.all(second.big[:3] == [0, 2, 4])


def test_written_tables_are_let_go_of_the_page_cache_behind_their_last_bytes(small, tmp_path, monkeypatch):
    """What a run wrote long enough ago leaves the system's cache, with no gap and no byte changed."""
    import os
    from pathlib import Path

    import pytest

    from citysim import events
    from citysim.model import CityModel
    from citysim.window import Window

    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to name a descriptor's file")
    window, regime = Window(days=3, warmup_days=1, follow_up_days=1), small.regime_named("fragmented")
    calls = []

    def advise(fd, offset, length, advice):
        calls.append((Path(os.readlink(f"/proc/self/fd/{fd}")).name, offset, length, advice))

    monkeypatch.setattr(events, "KEEP_CACHED", 2048)
    monkeypatch.setattr(events.os, "posix_fadvise", advise, raising=False)
    CityModel(small, regime, seed=3, window=window, sink=events.ParquetSink(tmp_path / "let_go")).run()
    monkeypatch.delattr(events.os, "posix_fadvise")
    CityModel(small, regime, seed=3, window=window, sink=events.ParquetSink(tmp_path / "kept")).run()
    for name in ("incidents", "stages"):
        mine = [c for c in calls if c[0] == f"{name}.parquet"]
        size = (tmp_path / "let_go" / f"{name}.parquet").stat().st_size
        assert len(mine) >= 3 and all(c[3] == getattr(os, "POSIX_FADV_DONTNEED", 4) and c[2] > 0 for c in mine)
        reached = 0
        for _, offset, length, _ in mine:
            assert offset <= reached, f"{name}: bytes {reached}-{offset} never let go"
            assert offset + length <= size - 2048, f"{name}: the last bytes written were let go"
            reached = max(reached, offset + length)
        assert reached > size // 2
        kept = (tmp_path / "kept" / f"{name}.parquet").read_bytes()
        assert (tmp_path / "let_go" / f"{name}.parquet").read_bytes() == kept


def test_collection_is_paused_while_a_model_is_built_and_restored_after():
    import gc

    import pytest

    from citysim.heap import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("a bad scenario")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_a_run_in_process_leaves_the_garbage_collector_as_it_was(tmp_path):
    """``citysim run`` spares the interpreter's last collections at its exit only: called in a process that
    goes on (a notebook, tests), it freezes nothing, so the run's model can be collected."""
    import gc

    from click.testing import CliRunner

    from citysim.cli import main

    from .conftest import SMALL

    frozen = gc.get_freeze_count()
    out = tmp_path / "run"
    done = CliRunner().invoke(main, ["run", str(SMALL), "--days", "1", "--quiet", "--no-figures", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert gc.get_freeze_count() == frozen
