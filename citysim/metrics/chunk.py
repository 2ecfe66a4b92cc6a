"""One write of a table's rows, read the same way whether it comes from the model or from a Parquet file.

The model hands a sink each table's rows as a dict of columns (numpy arrays, and
:class:`~citysim.events.Codes` for columns of names); ``citysim metrics`` reads the
same rows back from Parquet row groups as Arrow tables. :class:`Chunk` gives either as
numpy arrays: floats with NaN for missing, names as codes into a fixed list of names.
Each column is converted once per chunk (the arrays given are shared and read-only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from citysim.compiled import compiled_or

__all__ = ["Chunk"]


class Chunk:
    """The rows of one write of a table.

    Args:
        data: a dict of columns (as the model writes them) or an Arrow table.
    """

    def __init__(self, data: Mapping | pa.Table) -> None:
        self.data = data
        self._arrow = isinstance(data, pa.Table)
        first = data.column(0) if self._arrow else next(iter(data.values()))
        self.n = len(first.codes) if hasattr(first, "codes") and hasattr(first, "names") else len(first)
        self._lut: dict[tuple[int, int], tuple[object, np.ndarray]] = {}
        self._cache: dict[tuple, tuple[object, np.ndarray]] = {}

    def __len__(self) -> int:
        return self.n

    def __contains__(self, name: str) -> bool:
        """Whether the rows have this column (a table written before it existed has not)."""
        return name in (self.data.column_names if self._arrow else self.data)

    def _column(self, name: str):
        if self._arrow:
            return self.data.column(name).combine_chunks()
        col = self.data[name]
        return col.array if isinstance(col, pd.Series) else col

    def _once(self, key: tuple, make, names=None) -> np.ndarray:
        """``make()``, computed at the first call with this key (and list of ``names``), read-only after."""
        cached = self._cache.get(key)
        if cached is None or cached[0] is not names:  # not another list at a reused address
            out = make().view()  # a view: the caller's own array (a column given as float64) stays writeable
            out.flags.writeable = False
            self._cache[key] = cached = (names, out)
        return cached[1]

    def floats(self, name: str) -> np.ndarray:
        """A numeric column as float64, NaN where missing."""
        return self._once(("floats", name), lambda: self._floats(name))

    def _floats(self, name: str) -> np.ndarray:
        col = self._column(name)
        if isinstance(col, pa.Array):
            return col.cast(pa.float64()).to_numpy(zero_copy_only=False)
        if isinstance(col, pd.api.extensions.ExtensionArray):
            return np.asarray(col.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        return np.asarray(col, dtype=float)

    def bools(self, name: str) -> np.ndarray:
        """A true/false column (missing: False)."""
        return self._once(("bools", name), lambda: self._bools(name))

    def _bools(self, name: str) -> np.ndarray:
        col = self._column(name)
        if isinstance(col, pa.Array):
            return col.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
        if isinstance(col, pd.api.extensions.ExtensionArray):
            return np.asarray(col.to_numpy(dtype=bool, na_value=False), dtype=bool)
        return np.asarray(col, dtype=bool)

    def codes(self, name: str, names: Sequence[str]) -> np.ndarray:
        """A column of names as indices into ``names`` (-1: missing, or a name not in the list)."""
        return self._once(("codes", name, id(names)), lambda: self._codes(name, names), names)

    def _codes(self, name: str, names: Sequence[str]) -> np.ndarray:
        given, raw = self._names_and_raw(name)
        key = (id(given), id(names))
        cached = self._lut.get(key)
        if cached is None or cached[0] is not given:
            where = {n: i for i, n in enumerate(names)}
            lut = np.array([where.get(g, -1) for g in given] + [-1], dtype=np.int64)
            same = bool(np.array_equal(lut[:-1], np.arange(len(given))))  # the names given are those asked for
            self._lut[key] = cached = (given, None if same else lut)
        lut = cached[1]
        if lut is None:
            return np.maximum(raw, -1, dtype=np.int64)  # a copy: -1 where missing, as the table gives
        return lut[np.maximum(raw, -1)]  # missing: the last entry

    def rows_of(self, name: str, values: np.ndarray) -> np.ndarray:
        """Per value, the row whose ``name`` column holds it (-1: none); the column's values are unique ids.

        ``values`` (another chunk's column: the stages' ``incident_id``, say) is looked up once per chunk.
        """
        return self._once(("rows_of", name, id(values)), lambda: _rows_of(self.floats(name), values), values)

    def names_and_codes(self, name: str) -> tuple[Sequence, np.ndarray]:
        """A column of names as the names it uses and, per row, an index into them (-1: missing)."""
        given, raw = self._names_and_raw(name)
        return given, np.asarray(raw, dtype=np.int64)

    def _names_and_raw(self, name: str) -> tuple[Sequence, np.ndarray]:
        """:meth:`names_and_codes`, the indices in the integer type the column has them in."""
        col = self._column(name)
        if isinstance(col, pa.Array):
            if pa.types.is_dictionary(col.type):
                given = col.dictionary.to_pylist()
                raw = col.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
            else:
                given, raw = _factorize(col.to_numpy(zero_copy_only=False))
        elif hasattr(col, "codes") and hasattr(col, "names"):  # citysim.events.Codes
            given, raw = col.names, col.codes
        elif isinstance(col, pd.Categorical):
            given, raw = list(col.categories), col.codes
        else:
            given, raw = _factorize(np.asarray(col, dtype=object))
        return given, np.asarray(raw)


def _rows_of(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    ids, values = ids.astype(np.int64), np.asarray(values).astype(np.int64)
    if not len(ids):
        return np.full(len(values), -1, dtype=np.int64)
    low, high = int(ids.min()), int(ids.max())
    if high - low < 4 * len(ids) + 1024:  # ids close together (a day's, say): a table from id to row
        row = np.full(high - low + 2, -1, dtype=np.int64)  # the last: ids outside
        row[ids - low] = np.arange(len(ids))
        return _look_up(row, low, values)
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    pos = np.minimum(np.searchsorted(ids, values), len(ids) - 1)
    return np.where(ids[pos] == values, order[pos], -1)


def _look_up_numpy(row: np.ndarray, low: int, values: np.ndarray) -> np.ndarray:
    """``row[value - low]`` of each value from ``low`` to ``low + len(row) - 2``, else ``row[-1]``."""
    high = low + len(row) - 2
    return row[np.where((values >= low) & (values <= high), values - low, len(row) - 1)]


_look_up = compiled_or("look_up", _look_up_numpy, module="citysim.metrics._kernels")


def _factorize(values: np.ndarray) -> tuple[list, np.ndarray]:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return list(uniques), codes
