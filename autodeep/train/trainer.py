"""Trainer: fit one candidate model, with early stopping, deadlines and pruning, then free it.

It knows nothing of the search library: pruning comes in as a ``reporter``
callable ``(epoch, value) -> should_stop``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import math
import time
import warnings
from typing import Any, Callable

import numpy as np

from autodeep.backend import use_compilation_cache
from autodeep.blocks.nca import remember
from autodeep.data.rows import is_lazy
from autodeep.train.batches import n_rows


@dataclasses.dataclass
class TrainResult:
    """What one fit produced: the score, the best epoch and how it ended."""

    score: float
    best_epoch: int          # 1-based epoch whose weights were kept
    epochs_run: int
    history: dict[str, list[float]]
    seconds: float
    stopped: str             # "completed" | "early_stopping" | "deadline" | "pruned"
    validation_predictions: Any = None  # the validation outputs of the best epoch, when the fit computed them


# On a plateau of the validation objective the learning rate is cut (Keras' ReduceLROnPlateau counts an
# improvement under PLATEAU_DELTA as none), before early stopping gives up (helps MLPs settle).
PLATEAU_FACTOR, PLATEAU_DELTA, MIN_LEARNING_RATE = 0.3, 1e-4, 1e-6


def default_patience(n_rows: int) -> int:
    """Early-stopping patience when none is given: it shrinks gently as the data grows.

    Example:
        >>> default_patience(1_000), default_patience(50_000)
        (10, 5)
    """
    return 10 if n_rows < 20_000 else 5


def plateau_patience(patience: int) -> int:
    """Epochs without improvement before the learning rate is cut, for early-stopping ``patience``.

    Example:
        >>> plateau_patience(10), plateau_patience(3)
        (4, 2)
    """
    return max(2, patience // 2 - 1)


def default_batch_size(n_rows: int) -> int:
    """A batch size that keeps small data noisy enough and large data fast: 32 ... 512.

    Example:
        >>> default_batch_size(800), default_batch_size(4000), default_batch_size(100_000)
        (32, 128, 512)
    """
    return int(2 ** int(np.clip(round(math.log2(max(n_rows, 1) / 32)), 5, 9)))


def objective_direction(objective: str) -> str:
    """``"minimize"`` for losses and errors, ``"maximize"`` for accuracies, AUC and the like.

    Example:
        >>> objective_direction("val_loss"), objective_direction("val_accuracy")
        ('minimize', 'maximize')
    """
    name = objective.lower()
    if any(k in name for k in ("acc", "auc", "precision", "recall", "f1", "r2", "iou", "pearson")):
        return "maximize"
    return "minimize"


def _callbacks(objective, direction, patience, deadline, reporter, state):
    """The trainer's callbacks. None of them has a batch-end hook, so Keras keeps dispatching steps without
    waiting for each step's loss on the host (a batch-end hook blocks every step in JAX): the deadline is
    read before each step, a NaN or infinite loss stops training at the epoch's end."""
    import keras

    class Watch(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if deadline is not None and time.time() > deadline:
                state["stopped"] = "deadline"
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            value = logs.get(objective)
            if value is not None and not math.isfinite(value) and "loss" in objective:
                raise FloatingPointError(f"{objective} became {value} at epoch {epoch + 1}")
            if not math.isfinite(logs.get("loss", 0.0)):  # fit_model raises on it
                self.model.stop_training = True
            if reporter is not None and value is not None and reporter(epoch + 1, float(value)):
                state["stopped"] = "pruned"
                self.model.stop_training = True
            if deadline is not None and time.time() > deadline:
                state["stopped"] = "deadline"
                self.model.stop_training = True

    callbacks = [Watch()]
    if patience is not None:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor=objective, mode="min" if direction == "minimize" else "max", factor=PLATEAU_FACTOR,
            patience=plateau_patience(patience), min_delta=PLATEAU_DELTA, min_lr=MIN_LEARNING_RATE))
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=objective, mode="min" if direction == "minimize" else "max", patience=patience,
            restore_best_weights=True, start_from_epoch=0))
    return callbacks


def fit_model(model, x, y, validation_data=None, epochs: int | None = None, batch_size: int | None = None,
              objective: str = "val_loss", callbacks: list | None = None, deadline: float | None = None,
              reporter: Callable[[int, float], bool] | None = None, patience: int | None = None,
              verbose: int = 0, sample_weight=None) -> TrainResult:
    """Fit ``model`` and return how it went; the model keeps its best weights.

    With ``epochs=None`` training runs until early stopping on ``objective``
    (patience grows gently with the data's size), the ``deadline`` (a
    ``time.time()``), or 1000 epochs. Without validation data it runs
    ``epochs`` epochs (a refit). ``sample_weight`` weights the training rows' loss; ``validation_data`` may
    be ``(x, y, weights)`` (Keras' form) to weight the validation loss.

    Example:
        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        >>> model.compile("adam", "mse")
        >>> x = np.random.rand(64, 3).astype("float32"); y = x.sum(1, keepdims=True)
        >>> result = fit_model(model, x, y, validation_data=(x, y), epochs=2)
        >>> result.epochs_run
        2
    """
    use_compilation_cache()
    rows = n_rows(x)
    batch_size = batch_size or default_batch_size(rows)
    direction = objective_direction(objective)
    if validation_data is None:
        objective = objective.removeprefix("val_")
    max_epochs = epochs if epochs is not None else 1000
    if patience is None and epochs is None and validation_data is not None:
        patience = default_patience(rows)
    state = {"stopped": "completed"}
    all_callbacks = _callbacks(objective, direction, patience, deadline, reporter, state) + list(callbacks or [])
    remember(model, x, y)  # a retrieval model keeps the rows it learns from (autodeep.blocks.nca)
    t0 = time.time()
    if is_lazy(x) or (validation_data is not None and is_lazy(validation_data[0])):
        x, y, validation_data = _lazy_batches(x, y, validation_data, batch_size, sample_weight)
        batch_size = None
    history = model.fit(x, y, validation_data=validation_data, epochs=max_epochs, batch_size=batch_size,
                        callbacks=all_callbacks, verbose=verbose, shuffle=batch_size is not None,
                        sample_weight=sample_weight, validation_batch_size=validation_batch_size(
                            validation_data, batch_size))
    seconds = time.time() - t0
    logs = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    if "loss" in logs and logs["loss"] and not math.isfinite(logs["loss"][-1]):
        raise FloatingPointError("the training loss became NaN or infinite")
    values = logs.get(objective)
    if not values:
        raise ValueError(f"objective {objective!r} was not computed; available: {sorted(logs)}. "
                         f"Add the metric to the head's metrics or choose another objective.")
    finite = [v if math.isfinite(v) else (math.inf if direction == "minimize" else -math.inf) for v in values]
    best_index = int(np.argmin(finite) if direction == "minimize" else np.argmax(finite))
    epochs_run = len(values)
    if state["stopped"] == "completed" and epochs_run < max_epochs:
        state["stopped"] = "early_stopping"
    return TrainResult(score=finite[best_index], best_epoch=best_index + 1, epochs_run=epochs_run,
                       history=logs, seconds=seconds, stopped=state["stopped"])


def validation_batch_size(validation_data, batch_size: int | None) -> int | None:
    """The validation rows in as few batches as prediction uses (up to 1,024 rows each, never fewer than a
    training batch): one compiled evaluation step instead of two when the rows do not fill the last training-size
    batch, and fewer steps each epoch. The loss and metrics are the same sums over the same rows.

    Example:
        >>> import numpy as np
        >>> rows = np.zeros((200, 3))
        >>> validation_batch_size((rows, rows), 32), validation_batch_size((rows, rows), 2048)
        (200, 2048)
    """
    if validation_data is None or batch_size is None:  # no validation, or batches read on demand
        return None
    return max(batch_size, min(n_rows(validation_data[0]), 1024))


def _lazy_batches(x, y, validation_data, batch_size: int, sample_weight):
    """Inputs read on demand (LazyRows, e.g. image files) as index batches, never the whole input in RAM:
    ``(training batches, None, validation batches)``."""
    from autodeep.train.batches import row_batches

    if sample_weight is not None or (validation_data is not None and len(validation_data) == 3):
        raise ValueError("sample_weight and class_weight are not supported for inputs read from disk on "
                         "demand (image files); load the images into an array to weight them.")
    if validation_data is not None:
        validation_data = row_batches(*validation_data, batch_size=batch_size)
    return row_batches(x, y, batch_size, shuffle=True), None, validation_data


@contextlib.contextmanager
def quiet_optimizer_state():
    """Silence Keras' note that a saved optimizer state was not restored: predictions never need it."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        yield


def free_memory(collect: bool = True) -> None:
    """Drop Keras' global state and collect garbage, once (``clear_session``'s own collection is skipped), so
    memory stays flat over many trials (cheap inside ``frozen_heap``: only the objects made since are scanned).
    ``collect=False`` leaves the garbage to the next collection (after a build that made no weights).
    Freezing what survives each collection would make the next one cheaper still, but the trials' objects frozen
    that way are never freed: 30 credit-g trials grew the process to 1.28 GB instead of 0.78 GB."""
    import keras

    keras.backend.clear_session(free_memory=False)
    if collect:
        gc.collect()


@contextlib.contextmanager
def frozen_heap():
    """Leave the objects alive now (modules, data, the study) out of every garbage collection inside: a trial's
    ``free_memory`` then scans only what the trials made, not the whole heap (half a second per call otherwise).

    Example:
        >>> import gc
        >>> with frozen_heap():
        ...     gc.get_freeze_count() > 0
        True
        >>> gc.get_freeze_count()
        0
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
