"""Rows that are read on demand: the general streaming path for inputs too large to hold in RAM.

A preprocessor's ``transform`` may return, instead of an array, a ``LazyRows``
object: it knows its length, the shape and dtype of one row, and reads any
rows by index. The training code then feeds the model in batches
(``autodeep.train.batches``) and never materialises the whole input; a
train/validation split and the refit on their union are index bookkeeping.
"""

from __future__ import annotations

import numpy as np


class LazyRows:
    """Base class of inputs read by row index, batch by batch (for example image files on disk).

    Subclasses implement ``__len__``, ``row_shape``, ``dtype`` and ``read(index) -> ndarray``
    where ``index`` is an integer array of positions in ``0 .. len - 1``.

    Example:
        >>> import numpy as np
        >>> class Squares(LazyRows):
        ...     row_shape, dtype = (1,), np.dtype("float32")
        ...     def __len__(self): return 10
        ...     def read(self, index): return (np.asarray(index, "float32") ** 2)[:, None]
        >>> rows = take_rows(Squares(), np.array([3, 4]))
        >>> read_rows(rows, np.array([1])).tolist()
        [[16.0]]
    """

    row_shape: tuple = ()
    dtype = np.dtype("float32")

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def read(self, index: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def shape(self) -> tuple:
        return (len(self), *self.row_shape)


class RowSubset(LazyRows):
    """Rows ``index`` of another ``LazyRows``, without reading them (a view by index)."""

    def __init__(self, base: LazyRows, index: np.ndarray):
        self.base = base
        self.index = np.asarray(index, dtype="int64")
        self.row_shape, self.dtype = base.row_shape, base.dtype

    def __len__(self) -> int:
        return len(self.index)

    def read(self, index: np.ndarray) -> np.ndarray:
        return self.base.read(self.index[np.asarray(index, dtype="int64")])


class RowConcat(LazyRows):
    """Two ``LazyRows`` (or arrays) one after the other, without reading them."""

    def __init__(self, first, second):
        self.parts = [first, second]
        self.row_shape, self.dtype = tuple(first.shape[1:]), np.dtype(first.dtype)

    def __len__(self) -> int:
        return len(self.parts[0]) + len(self.parts[1])

    def read(self, index: np.ndarray) -> np.ndarray:
        index = np.asarray(index, dtype="int64")
        n_first = len(self.parts[0])
        out = np.empty((len(index), *self.row_shape), dtype=self.dtype)
        in_first = index < n_first
        if in_first.any():
            out[in_first] = read_rows(self.parts[0], index[in_first])
        if (~in_first).any():
            out[~in_first] = read_rows(self.parts[1], index[~in_first] - n_first)
        return out


def is_lazy(value) -> bool:
    """Whether ``value`` (an array, a ``LazyRows`` or a dict of them) holds rows read on demand."""
    if isinstance(value, dict):
        return any(isinstance(v, LazyRows) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(is_lazy(v) for v in value)
    return isinstance(value, LazyRows)


def read_rows(value, index: np.ndarray) -> np.ndarray:
    """Rows ``index`` of an array or a ``LazyRows``, as an array."""
    return value.read(index) if isinstance(value, LazyRows) else value[index]


def take_rows(value, index: np.ndarray):
    """Rows ``index`` (positions) of a dict of inputs (each one's), a pandas object, an array, a ``LazyRows``
    (a lazy view, nothing read) or a list.

    Example:
        >>> take_rows({"a": np.arange(5), "b": ["p", "q", "r", "s", "t"]}, np.array([4, 0]))
        {'a': array([4, 0]), 'b': ['t', 'p']}
    """
    if isinstance(value, dict):
        return {k: take_rows(v, index) for k, v in value.items()}
    if isinstance(value, LazyRows):
        return RowSubset(value, index)
    if hasattr(value, "iloc"):
        return value.iloc[index]
    if isinstance(value, np.ndarray):
        return value[index]
    return [value[i] for i in index]


def concat_rows(first, second):
    """``first``'s rows then ``second``'s: ``np.concatenate`` for arrays, a lazy concatenation for
    ``LazyRows``, each entry's for dicts of them (named inputs, multi-head targets).

    Example:
        >>> concat_rows({"a": np.array([1])}, {"a": np.array([2, 3])})
        {'a': array([1, 2, 3])}
    """
    if isinstance(first, dict):
        return {k: concat_rows(first[k], second[k]) for k in first}
    if isinstance(first, LazyRows) or isinstance(second, LazyRows):
        return RowConcat(first, second)
    return np.concatenate([first, second])
