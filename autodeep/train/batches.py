"""Batches read on demand: a ``keras.utils.PyDataset`` over inputs that hold ``LazyRows``.

The in-memory path hands numpy arrays to Keras as they are; when any input
is a ``LazyRows`` (rows read from disk by index), training, prediction and
evaluation go through ``RowBatches`` so only a few batches are in RAM at once.
"""

from __future__ import annotations

import math

import numpy as np

from autodeep.data.rows import is_lazy, read_rows


def n_rows(x) -> int:
    """The number of rows of an input: an array, a ``LazyRows``, or a dict of them (one per input node).

    Example:
        >>> n_rows(np.zeros((5, 3))), n_rows({"table": np.zeros((4, 2)), "text": np.zeros((4, 9))})
        (5, 4)
    """
    return len(next(iter(x.values()))) if isinstance(x, dict) else len(x)


def _take(value, index):
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: read_rows(v, index) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [read_rows(v, index) for v in value]
    return read_rows(value, index)


def _dataset_class():
    import keras

    class RowBatches(keras.utils.PyDataset):
        """``(x, y)`` batches of the given rows, reshuffled every epoch when ``shuffle``."""

        def __init__(self, x, y=None, batch_size: int = 32, shuffle: bool = False, seed: int | None = None):
            super().__init__(workers=1, use_multiprocessing=False)
            self.x, self.y, self.batch_size, self.shuffle = x, y, int(batch_size), shuffle
            self.order = np.arange(n_rows(x))
            self.rng = np.random.default_rng(seed)
            if shuffle:
                self.rng.shuffle(self.order)

        def __len__(self) -> int:
            return max(1, math.ceil(len(self.order) / self.batch_size))

        def __getitem__(self, i):
            # Sorted positions inside a batch read files in order; the batch's rows stay random.
            index = np.sort(self.order[i * self.batch_size:(i + 1) * self.batch_size])
            x = _take(self.x, index)
            return (x,) if self.y is None else (x, _take(self.y, index))

        def on_epoch_end(self):
            if self.shuffle:
                self.rng.shuffle(self.order)

    return RowBatches


def row_batches(x, y=None, batch_size: int = 32, shuffle: bool = False, seed: int | None = None):
    """A ``keras.utils.PyDataset`` yielding ``(x_batch, y_batch)`` (or ``(x_batch,)``) read on demand.

    Example:
        >>> import numpy as np
        >>> batches = row_batches({"a": np.arange(10)[:, None]}, np.arange(10), batch_size=4)
        >>> len(batches), batches[2][0]["a"].ravel().tolist()
        (3, [8, 9])
    """
    return _dataset_class()(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed)


def predict_model(model, x, batch_size: int | None = None):
    """``model.predict`` for arrays and for inputs holding ``LazyRows`` (read batch by batch).

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> predict_model(model, np.zeros((3, 2), "float32")).shape
        (3, 1)
    """
    batch_size = batch_size or 1024
    if is_lazy(x):
        return model.predict(row_batches(x, batch_size=min(batch_size, 256)), verbose=0)
    return model.predict(x, batch_size=batch_size, verbose=0)


def evaluate_model(model, x, y, batch_size: int | None = None):
    """``model.evaluate`` for arrays and for inputs holding ``LazyRows``.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]); model.compile(loss="mse")
        >>> float(evaluate_model(model, np.zeros((3, 2), "float32"), np.zeros((3, 1), "float32")))
        0.0
    """
    batch_size = batch_size or 1024
    if is_lazy(x):
        return model.evaluate(row_batches(x, y, batch_size=min(batch_size, 256)), verbose=0)
    return model.evaluate(x, y, batch_size=batch_size, verbose=0)
