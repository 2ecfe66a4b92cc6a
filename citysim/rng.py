"""Random streams: one run seed, many independent numpy Generators.

Every random draw in citysim comes from a :class:`numpy.random.Generator` made
here (or is computed as it would draw it: see :func:`uniforms_at`). A stream is
named by a purpose (``"occurrence"``, ``"detection"``, ``"service"`` ...) and by
integer keys (usually the simulated day), and is derived from the run's seed
through :class:`numpy.random.SeedSequence`'s ``spawn_key``. Two consequences matter for experiments:

* the same seed, purpose and keys give the same numbers in any process, in any
  order of requests (no hidden global state);
* the draws that decide *what happens in the city* (where and when incidents
  occur) never depend on the regime, and the draws that decide *what happens to
  an incident* are made in bulk per day for every incident and stage, whether a
  regime uses them or not. So for one seed every regime sees the same
  incidents and each incident keeps its own dice (common random numbers).
"""

from __future__ import annotations

import math
import zlib

import numpy as np

__all__ = ["Streams", "jump_pays", "purpose_key", "uniforms_at"]


def purpose_key(purpose: str) -> int:
    """A stable integer for a name (Python's ``hash`` is salted per process)."""
    return zlib.crc32(purpose.encode("utf-8"))


class Streams:
    """Named random streams derived from one run seed.

    Args:
        seed: The run's seed (a non-negative integer).

    Example:
        >>> streams = Streams(7)
        >>> a = streams.generator("occurrence", 0).random()
        >>> b = Streams(7).generator("occurrence", 0).random()
        >>> a == b
        True
    """

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        self.seed = int(seed)

    def seed_sequence(self, purpose: str, *keys: int) -> np.random.SeedSequence:
        """The SeedSequence of one stream."""
        return np.random.SeedSequence(entropy=self.seed, spawn_key=(purpose_key(purpose), *(int(k) for k in keys)))

    def pcg_state(self, purpose: str, *keys: int) -> tuple[int, int]:
        """The ``(state, inc)`` of a fresh :meth:`generator` (for :func:`uniforms_at`)."""
        state = np.random.PCG64(self.seed_sequence(purpose, *keys)).state["state"]
        return state["state"], state["inc"]

    def generator(self, purpose: str, *keys: int) -> np.random.Generator:
        """A fresh Generator for ``purpose`` and ``keys`` (same inputs, same numbers)."""
        return np.random.Generator(np.random.PCG64(self.seed_sequence(purpose, *keys)))


# ----------------------------------------------------------------- jumping ahead
# A stream's numbers at chosen places, computed without drawing those before them: numpy's
# PCG64 is a 128-bit linear congruential generator (state = state * MULT + inc, then an output
# permutation), so the state ``k`` draws on is ``a * state + c`` for constants of ``k`` alone.
# Compiled with numba where installed (the optional ``citysim[fast]``); else the whole array is
# drawn and indexed (see :meth:`citysim.processes.dice.Dice.at`): the same numbers either way.

_MULT = 0x2360ED051FC65DA44385DF649FCCF645  # numpy's PCG64 multiplier
_MASK64 = (1 << 64) - 1


try:
    import numba
except ImportError:  # pragma: no cover - numba is optional
    numba = None

if numba is not None:
    _U32 = np.uint64(0xFFFFFFFF)
    _S32 = np.uint64(32)

    @numba.njit(inline="always", cache=True)
    def _mulhi(x, y):  # pragma: no cover - compiled
        x0, x1, y0, y1 = x & _U32, x >> _S32, y & _U32, y >> _S32
        p00, p01, p10, p11 = x0 * y0, x0 * y1, x1 * y0, x1 * y1
        mid = (p00 >> _S32) + (p01 & _U32) + (p10 & _U32)
        return p11 + (p01 >> _S32) + (p10 >> _S32) + (mid >> _S32)

    @numba.njit(inline="always", cache=True)
    def _affine(j, hi, lo):  # pragma: no cover - compiled
        """``a * state + c`` (mod 2**128) for the jump ``j = (a_hi, a_lo, c_hi, c_lo)``."""
        a_hi, a_lo, c_hi, c_lo = j[0], j[1], j[2], j[3]
        new_lo = a_lo * lo + c_lo
        carry = np.uint64(1) if new_lo < c_lo else np.uint64(0)
        return _mulhi(a_lo, lo) + a_lo * hi + a_hi * lo + c_hi + carry, new_lo

    @numba.njit(inline="always", cache=True)
    def _then(j, k):  # pragma: no cover - compiled
        """The jump doing ``j``, then ``k`` (each ``(a_hi, a_lo, c_hi, c_lo)``): ``(k.a * j.a, k.a * j.c + k.c)``."""
        a_hi, a_lo = _affine(np.array([k[0], k[1], np.uint64(0), np.uint64(0)]), j[0], j[1])
        c_hi, c_lo = _affine(k, j[2], j[3])
        return np.array([a_hi, a_lo, c_hi, c_lo])

    @numba.njit(cache=True)
    def _power(step, n):  # pragma: no cover - compiled
        """The jump of ``n`` draws, ``step`` being one draw's."""
        out = np.array([np.uint64(0), np.uint64(1), np.uint64(0), np.uint64(0)])  # no jump
        b = step.copy()
        while n:
            if n & 1:
                out = _then(out, b)
            b = _then(b, b)
            n >>= 1
        return out

    @numba.njit(inline="always", cache=True)
    def _jump_rows(hi, lo, rows_jump, d):  # pragma: no cover - compiled
        b = 0
        while d:
            if d & 1:
                hi, lo = _affine(rows_jump[b], hi, lo)
            d >>= 1
            b += 1
        return hi, lo

    @numba.njit(cache=True)
    def _draw_at(hi, lo, step, stride, offset, rows, out):  # pragma: no cover - compiled
        """Fill ``out[i]`` with the draws of row ``rows[i]`` (see :func:`uniforms_at`); False if rows do not ascend.

        The state is moved from one row's last number straight to the next row's first: one jump
        between neighbouring rows, whole rows skipped by jumps of 1, 2, 4 ... rows.
        """
        n, count = out.shape
        if n == 0:
            return True
        top = np.int64(rows[n - 1])
        bits = 1
        while top >> bits:
            bits += 1
        rows_jump = np.empty((bits + 1, 4), dtype=np.uint64)
        rows_jump[0] = _power(step, stride)
        for b in range(1, bits + 1):
            rows_jump[b] = _then(rows_jump[b - 1], rows_jump[b - 1])
        to_next = _power(step, stride - count + 1)  # a row's last number to the next row's first
        if rows[0] < 0:
            return False
        hi, lo = _jump_rows(hi, lo, rows_jump, rows[0])
        first = _power(step, offset + 1)
        hi, lo = _affine(first, hi, lo)
        for i in range(n):
            if i:
                d = rows[i] - rows[i - 1]
                if d <= 0:
                    return False
                hi, lo = _jump_rows(hi, lo, rows_jump, d - 1)
                hi, lo = _affine(to_next, hi, lo)
            for k in range(count):
                if k:
                    hi, lo = _affine(step, hi, lo)
                x = hi ^ lo
                rot = hi >> np.uint64(58)
                x = (x >> rot) | (x << ((np.uint64(64) - rot) & np.uint64(63)))
                out[i, k] = np.float64(x >> np.uint64(11)) * (1.0 / 9007199254740992.0)
        return True


def jump_pays(shape: tuple[int, ...], index: tuple[int, ...]) -> bool:
    """Whether :func:`uniforms_at` can and should compute the numbers at ``index`` of each row alone.

    It can with numba installed; it should when they are a small part of each row (else
    drawing the whole array is as fast).
    """
    count = math.prod(shape[1 + len(index) :])
    stride = math.prod(shape[1:])
    return numba is not None and 2 * count <= stride


def _halves(jump: tuple[int, int]) -> tuple[int, int, int, int]:
    return jump[0] >> 64, jump[0] & _MASK64, jump[1] >> 64, jump[1] & _MASK64


def uniforms_at(
    state: tuple[int, int], shape: tuple[int, ...], rows: np.ndarray, index: tuple[int, ...]
) -> np.ndarray | None:
    """``generator.random(shape)[rows, *index]``, computing only those numbers (see :func:`jump_pays`).

    Args:
        state: a fresh PCG64 generator's ``(state, inc)`` (:meth:`Streams.pcg_state`).
        shape: the whole array's shape ``(n, ...)``.
        rows: the rows wanted, ascending indices into the first axis.
        index: leading indices into the following axes (the rest are taken whole).

    Returns:
        The numbers, of shape ``(len(rows), *shape[1 + len(index):])``; None where they cannot be
        computed alone (numba not installed, ``rows`` not ascending).
    """
    if numba is None:
        return None
    s, inc = state
    rest = shape[1 + len(index) :]
    count = math.prod(rest)
    offset = sum(i * math.prod(shape[2 + k :]) for k, i in enumerate(index))
    rows = np.asarray(rows, dtype=np.int64)
    out = np.empty((len(rows), count))
    ok = _draw_at(
        np.uint64(s >> 64),
        np.uint64(s & _MASK64),
        np.array(_halves((_MULT, inc)), dtype=np.uint64),
        math.prod(shape[1:]),
        offset,
        rows,
        out,
    )
    return out.reshape((len(rows), *rest)) if ok else None
