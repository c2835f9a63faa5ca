"""Trainer for a cohort: several candidates of one network trained together as one compiled JAX program.

Candidates whose models differ only in their initial weights and learning rate (the same layers, shapes and
settings) have their variables and optimizer states stacked on a leading axis; one ``jax.vmap`` of Keras'
stateless training step trains them all on the same batches, an epoch's full batches in one ``jax.lax.scan``.
A trial then costs no compile of its own: with this trainer ``benchmarks/cohort_study.py`` trained four
credit-g candidates in 11.6 s and eight in 11.8 s, against 15.5 s for four ``model.fit`` one after another,
with the same validation AUCs.

Each member is trained as ``fit_model`` trains one model with early stopping on the validation loss: its own
patience, its own learning rate cut on a plateau (``trainer.PLATEAU_FACTOR``), its best weights kept and written
back into its Keras model.
"""

from __future__ import annotations

import functools
import math
import time

import numpy as np

from autodeep.backend import use_compilation_cache
from autodeep.blocks.nca import keeps_rows
from autodeep.train.batches import n_rows
from autodeep.train.trainer import (
    MIN_LEARNING_RATE,
    PLATEAU_DELTA,
    PLATEAU_FACTOR,
    TrainResult,
    default_batch_size,
    default_patience,
    plateau_patience,
)

VALIDATION_CHUNK = 1024  # validation rows per evaluation call, as prediction uses
COMPILE_MARGIN = 2.0  # stopped members are dropped when that saves this many compiles' time


def cohort_mismatch(models) -> str | None:
    """Why ``models`` cannot be trained as one cohort, or ``None`` when they can: they need the JAX backend,
    the same variables (shapes and dtypes), the same layer settings apart from those only read when weights
    are initialised (a layer's ``INIT_ONLY`` config keys and its initializers), the same loss and the same
    optimizer apart from the learning rate.

    Example:
        >>> import autodeep, keras
        >>> def model(units, learning_rate):
        ...     m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(units)])
        ...     m.compile(keras.optimizers.Adam(learning_rate), "mse")
        ...     return m
        >>> cohort_mismatch([model(4, 1e-3), model(4, 3e-3)]) is None
        True
        >>> cohort_mismatch([model(4, 1e-3), model(8, 1e-3)])
        'their variables differ in shape or dtype'
    """
    import keras

    if keras.backend.backend() != "jax":
        return f"a cohort trains on the JAX backend only, not {keras.backend.backend()}"
    if any(keeps_rows(model) for model in models):
        return "a model that keeps training rows (block_type='modernnca') trains alone"
    first, *others = models
    for other in others:
        if _variables(other) != _variables(first):
            return "their variables differ in shape or dtype"
        if _layer_settings(other) != _layer_settings(first):
            return "their layers' settings differ"
        if _optimizer_settings(other) != _optimizer_settings(first):
            return "their optimizers differ in more than the learning rate"
        if _loss_config(other) != _loss_config(first):
            return "their losses differ"
    return None


def _variables(model) -> list:
    return [(tuple(v.shape), str(v.dtype)) for v in (*model.trainable_variables, *model.non_trainable_variables)]


def _layer_settings(model) -> list:
    def settings(layer):
        skip = {"name", "seed", *getattr(layer, "INIT_ONLY", ())}
        return {k: v for k, v in layer.get_config().items() if k not in skip and not k.endswith("initializer")}

    return [(type(layer).__name__, settings(layer)) for layer in model.layers]


def _optimizer_settings(model) -> dict:
    config = model.optimizer.get_config()
    return {"class": type(model.optimizer).__name__,
            **{k: v for k, v in config.items() if k not in ("name", "learning_rate")}}


def _loss_config(model):
    import keras

    return keras.saving.serialize_keras_object(model.loss)


def fit_cohort(models, x, y, validation_data=None, batch_size: int | None = None, patience: int | None = None,
               deadline: float | None = None, max_epochs: int = 1000, seed: int | None = None,
               sample_weight=None, folds: list | None = None) -> list:
    """Train compiled ``models`` together, each early-stopped on its own validation loss; each keeps its best
    weights. Returns one ``TrainResult`` per model (its ``validation_predictions`` are the validation outputs of
    its best epoch), or the exception that ended that member (a loss that became NaN or infinite).

    ``validation_data`` is ``(x_val, y_val)`` or ``(x_val, y_val, weights)``; ``patience`` and the batch size
    default as ``fit_model``'s. A member's ``seconds`` is the cohort's seconds per epoch times its epochs: what
    the budget reads as the time one more fit of it would take, never less.

    With ``folds`` (one ``(fit_rows, stop_rows)`` pair of row indices of ``x`` per model, and no
    ``validation_data``) each model trains on its own rows and is early-stopped on its own held-out rows: the
    bagged folds of one configuration as one program. Its ``validation_predictions`` are then its outputs on
    its ``stop_rows``.

    Example:
        >>> import autodeep, keras, numpy as np
        >>> def model(learning_rate):
        ...     keras.utils.set_random_seed(0)  # the same initial weights
        ...     m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        ...     m.compile(keras.optimizers.Adam(learning_rate), "mse")
        ...     return m
        >>> x = np.random.default_rng(0).random((64, 3)).astype("float32"); y = x.sum(1, keepdims=True)
        >>> results = fit_cohort([model(0.1), model(0.0)], x, y, (x, y), max_epochs=3)
        >>> [r.epochs_run for r in results], [r.best_epoch for r in results]  # the second one never improves
        ([3, 3], [3, 1])
    """
    mismatch = cohort_mismatch(models)
    if mismatch:
        raise ValueError(f"models: expected candidates of one network that differ only in initial weights and "
                         f"learning rate; received models that cannot train together: {mismatch}")
    if (folds is None) == (validation_data is None) or (folds is not None and len(folds) != len(models)):
        raise ValueError(f"fit_cohort needs either validation_data or one (fit_rows, stop_rows) fold per model; "
                         f"received validation_data={'None' if validation_data is None else 'given'} and "
                         f"{'no' if folds is None else len(folds)} folds for {len(models)} models.")
    use_compilation_cache()
    rows = n_rows(x) if folds is None else max(len(fit) for fit, _ in folds)
    batch_size = batch_size or default_batch_size(rows)
    watch = _Watch(len(models), patience or default_patience(rows))
    state = _stack(models)
    program = _Program(models[0], per_member=folds is not None)
    x, y, sample_weight = _on_device((x, y, sample_weight))
    validation = (_ValidationRows(x, y, sample_weight, [stop for _, stop in folds]) if folds
                  else _ValidationRows(*_on_device((*validation_data, None)[:3]), None))
    started, rng = time.time(), np.random.default_rng(seed)
    slots = np.arange(len(models))  # the member each row of the stacked state trains
    epoch_seconds: list[float] = []
    for _ in range(max_epochs):
        epoch_started = time.time()
        losses = []
        for steps in step_batches(epoch_order(rng, rows, folds, slots), batch_size):
            state, loss = program.train(state, x, y, sample_weight, steps)
            losses.append(np.asarray(loss, "float64") * steps.shape[0] * steps.shape[-1])
        val_loss, outputs = program.evaluate(state, validation.of(slots))
        state = watch.epoch(np.sum(losses, axis=0) / rows, val_loss, state, outputs, program, slots)
        epoch_seconds.append(time.time() - epoch_started)
        if not watch.running.any():
            break
        if deadline is not None and time.time() > deadline:
            watch.stop_all("deadline")
            break
        if worth_compacting(watch, slots, epoch_seconds):
            state, slots = _compact(state, slots, watch.running)
    for i, model in enumerate(models):
        program.write_back(model, watch.best_state, i)
    return validation.trimmed(watch.results((time.time() - started) / max(watch.epochs.max(), 1)))


def epoch_order(rng, rows: int, folds: list | None, slots: np.ndarray) -> np.ndarray:
    """One epoch's row order: a permutation of ``rows`` rows shared by the members, or with ``folds`` one row per
    stacked member (``slots``), its own fit rows shuffled and topped up to ``rows`` with some drawn again."""
    if folds is None:
        return rng.permutation(rows)
    orders = []
    for slot in slots:
        fit = np.asarray(folds[slot][0])
        orders.append(np.concatenate([rng.permutation(fit), rng.choice(fit, rows - len(fit))]))
    return np.stack(orders)


def step_batches(order: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """An epoch's ``order`` as arrays of steps, ``(steps, batch)`` or ``(steps, members, batch)``: the full
    batches, then the rest as one smaller batch.

    Example:
        >>> [b.shape for b in step_batches(np.arange(10), 4)], [b.shape for b in step_batches(np.zeros((3, 8)), 4)]
        ([(2, 4), (1, 2)], [(2, 3, 4)])
    """
    full = order.shape[-1] // batch_size * batch_size
    parts = (order[..., :full].reshape(*order.shape[:-1], -1, batch_size), order[..., None, full:])
    return [np.moveaxis(part, -2, 0) for part in parts if part.size]


class _ValidationRows:
    """The rows each member is scored on: the validation arrays' rows, shared; or (``stops``, row indices of the
    training arrays per member) each member's own held-out rows, padded to one length with rows masked out."""

    def __init__(self, x, y, weights, stops: list | None):
        self.x, self.y, self.weights, self.stops = x, y, weights, stops
        if stops is None:
            self.rows, self.mask = np.arange(n_rows(x)), None
            return
        length = max(len(stop) for stop in stops)
        self.rows = np.stack([np.resize(np.asarray(stop), length) for stop in stops])
        self.mask = np.stack([np.arange(length) < len(stop) for stop in stops]).astype("float32")

    def of(self, slots: np.ndarray) -> tuple:
        """``(x, y, weights, rows, mask)`` for the members stacked in ``slots``."""
        if self.stops is None:
            return self.x, self.y, self.weights, self.rows, None
        return self.x, self.y, self.weights, self.rows[slots], self.mask[slots]

    def trimmed(self, results: list) -> list:
        """``results`` with each member's validation outputs cut to its own held-out rows."""
        import jax

        for result, stop in zip(results, self.stops or []):
            if not isinstance(result, Exception):
                result.validation_predictions = jax.tree.map(lambda a, n=len(stop): a[:n],
                                                              result.validation_predictions)
        return results


def worth_compacting(watch, slots: np.ndarray, epoch_seconds: list[float]) -> bool:
    """Whether to drop the stopped members from the stacked state: at most half the slots still train, and the
    steps saved over the epochs left (at least the running members' patience left, each epoch's time taken as
    proportional to the slots) outweigh ``COMPILE_MARGIN`` compiles (the first epoch's time over a steady one's)."""
    running = watch.running[slots]
    if len(epoch_seconds) < 2 or not 0 < running.sum() <= len(slots) // 2:
        return False
    steady = float(np.median(epoch_seconds[1:][-3:]))
    compile_seconds = max(epoch_seconds[0] - steady, 0.0)
    epochs_left = int((watch.patience - watch.since_best[slots][running]).max())
    return steady * (1 - running.sum() / len(slots)) * epochs_left > COMPILE_MARGIN * compile_seconds


def _compact(state, slots: np.ndarray, running: np.ndarray) -> tuple:
    """The stacked ``state`` and its ``slots`` without the members that stopped (the programs compile again for
    the smaller stack)."""
    import jax

    keep = np.flatnonzero(running[slots])
    return jax.tree.map(lambda a: a[keep], state), slots[keep]


def _stack(models) -> tuple:
    """The members' trainable, non-trainable and optimizer variables, each stacked on a leading axis."""
    import jax.numpy as jnp

    for model in models:
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)

    def stacked(lists):
        return [jnp.stack(values) for values in zip(*lists)]

    return (stacked([[v.value for v in m.trainable_variables] for m in models]),
            stacked([[v.value for v in m.non_trainable_variables] for m in models]),
            stacked([[v.value for v in m.optimizer.variables] for m in models]))


def _on_device(arrays):
    """``arrays`` (nested lists, dicts, ``None``) as JAX arrays, copied once rather than at every call."""
    import jax
    import jax.numpy as jnp

    return jax.tree.map(jnp.asarray, arrays)


class _Program:
    """The compiled training and evaluation steps of one network, vmapped over the cohort's members; with
    ``per_member`` each member reads its own rows (indices into the arrays, one row of indices per member)."""

    def __init__(self, template, per_member: bool = False):
        import jax

        self.template, self.optimizer = template, template.optimizer
        self.rate = next(i for i, v in enumerate(self.optimizer.variables) if v.name == "learning_rate")
        self.metric_values = [v.value for v in template.metrics_variables]
        rows = 0 if per_member else None
        step = jax.vmap(self._member_step, in_axes=(0, rows, None, None, None))

        def train(state, x, y, weights, batches):  # one dispatch for many steps: batches is (steps, [k,] batch)
            def body(state, rows):
                return step(state, rows, x, y, weights)

            state, losses = jax.lax.scan(body, state, batches)
            return state, losses.mean(axis=0)

        self.train = jax.jit(train)
        self.loss_and_outputs = jax.jit(jax.vmap(self._member_loss, in_axes=(0, rows, rows, None, None, None)))

    def _loss(self, trainable, non_trainable, optimizer_values, x, y, weights, training):
        loss, (unscaled, outputs, non_trainable, _) = self.template.compute_loss_and_updates(
            trainable, non_trainable, self.metric_values, x, y, weights, training=training,
            optimizer_variables=optimizer_values)
        return loss, (unscaled, outputs, non_trainable)

    def _member_step(self, state, rows, x, y, weights):
        import jax

        trainable, non_trainable, optimizer_values = state
        x, y, weights = jax.tree.map(lambda a: a[rows], (x, y, weights))
        (_, (loss, _, non_trainable)), grads = jax.value_and_grad(self._loss, has_aux=True)(
            trainable, non_trainable, optimizer_values, x, y, weights, True)
        trainable, optimizer_values = self.optimizer.stateless_apply(optimizer_values, grads, trainable)
        return (trainable, non_trainable, optimizer_values), loss

    def _member_loss(self, state, rows, mask, x, y, weights):
        import jax

        trainable, non_trainable, optimizer_values = state
        x, y, weights = jax.tree.map(lambda a: a[rows], (x, y, weights))
        if mask is not None:  # a member's padding rows count for nothing
            weights = mask if weights is None else weights * mask
        _, (loss, outputs, _) = self._loss(trainable, non_trainable, optimizer_values, x, y, weights, False)
        return loss, outputs

    def evaluate(self, state, validation: tuple) -> tuple:
        """Each member's validation loss (the mean over rows, as Keras' ``val_loss``) and outputs (numpy), from
        ``_ValidationRows.of``'s ``(x, y, weights, rows, mask)``."""
        import jax

        x, y, weights, rows, mask = validation
        losses, outputs = [], []
        for start in range(0, rows.shape[-1], VALIDATION_CHUNK):
            chunk = rows[..., start:start + VALIDATION_CHUNK]
            masked = None if mask is None else mask[..., start:start + VALIDATION_CHUNK]
            loss, out = self.loss_and_outputs(state, chunk, masked, x, y, weights)
            losses.append(np.asarray(loss, "float64") * chunk.shape[-1])
            outputs.append(jax.tree.map(np.asarray, out))
        counted = rows.shape[-1] if mask is None else mask.sum(axis=-1)  # a member's own rows, not its padding
        return (np.sum(losses, axis=0) / counted,
                jax.tree.map(lambda *parts: np.concatenate(parts, axis=1), *outputs))

    def set_learning_rates(self, state, rates: np.ndarray) -> tuple:
        """``state`` with each member's learning rate set to ``rates``."""
        import jax.numpy as jnp

        trainable, non_trainable, optimizer_values = state
        optimizer_values = list(optimizer_values)
        optimizer_values[self.rate] = jnp.asarray(rates, optimizer_values[self.rate].dtype)
        return trainable, non_trainable, optimizer_values

    def learning_rates(self, state) -> np.ndarray:
        """Each member's learning rate in ``state``."""
        return np.asarray(state[2][self.rate], "float64")

    @staticmethod
    def write_back(model, state, member: int) -> None:
        """Assign member ``member``'s variables of ``state`` to its Keras ``model``."""
        trainable, non_trainable, _ = state
        for variables, values in ((model.trainable_variables, trainable),
                                  (model.non_trainable_variables, non_trainable)):
            for variable, value in zip(variables, values):
                variable.assign(value[member])


def _keep_improved(best, state, slots: np.ndarray, improved: np.ndarray):
    """``best`` (a row per member) with the rows of ``state`` (member ``slots[i]`` in row ``i``) that ``improved``
    written in: one compiled update per stack size (indexing by the improved rows alone compiled one per count)."""
    return _keep_improved_program()(best, state, np.asarray(slots, "int32"), np.asarray(improved))


@functools.lru_cache(maxsize=1)
def _keep_improved_program():
    import jax
    import jax.numpy as jnp

    def keep(best, state, slots, improved):
        def leaf(b, s):
            mask = improved.reshape((-1,) + (1,) * (s.ndim - 1))
            return b.at[slots].set(jnp.where(mask, s, b[slots]))

        return jax.tree.map(leaf, best, state)

    return jax.jit(keep)


def _by_member(values: np.ndarray, slots: np.ndarray, k: int) -> np.ndarray:
    """Values of the stacked rows as an array over all ``k`` members (NaN for members no longer stacked)."""
    out = np.full(k, np.nan)
    out[slots] = values
    return out


class _Watch:
    """Per-member early stopping, learning-rate cuts on a plateau, best states and history, as the trainer's
    ``EarlyStopping`` and ``ReduceLROnPlateau`` callbacks keep them for one model."""

    def __init__(self, k: int, patience: int):
        self.patience, self.plateau = patience, plateau_patience(patience)
        self.best_loss, self.plateau_best = np.full(k, np.inf), np.full(k, np.inf)
        self.since_best, self.since_plateau, self.epochs = np.zeros(k, int), np.zeros(k, int), np.zeros(k, int)
        self.best_epoch = np.zeros(k, int)
        self.running = np.ones(k, bool)
        self.stopped = ["completed"] * k
        self.errors: list = [None] * k
        self.history = [{"loss": [], "val_loss": []} for _ in range(k)]
        self.best_state = self.best_outputs = None

    def epoch(self, train_loss, val_loss, state, outputs, program, slots: np.ndarray) -> tuple:
        """Record one epoch of the members in the stacked ``state`` (member ``slots[i]`` in its row ``i``, as the
        losses and outputs); returns ``state`` with the learning rates of plateaued members cut."""
        import jax

        train_loss, val_loss = (_by_member(values, slots, len(self.running)) for values in (train_loss, val_loss))
        running = self.running.copy()
        self.epochs += running
        for i in np.flatnonzero(running):
            self.history[i]["loss"].append(float(train_loss[i]))
            self.history[i]["val_loss"].append(float(val_loss[i]))
            if not (math.isfinite(train_loss[i]) and math.isfinite(val_loss[i])):
                self.errors[i] = FloatingPointError("the training loss became NaN or infinite")
                self.running[i] = False
        improved = running & self.running & (val_loss < self.best_loss)
        self.best_loss = np.where(improved, val_loss, self.best_loss)
        self.best_epoch = np.where(improved, self.epochs, self.best_epoch)
        if self.best_state is None:  # the first epoch: every member in its own row
            self.best_state, self.best_outputs = state, outputs
        else:
            self.best_state = _keep_improved(self.best_state, state, slots, improved[slots])
            rows = np.flatnonzero(improved[slots])
            for best, now in zip(jax.tree.leaves(self.best_outputs), jax.tree.leaves(outputs)):
                best[slots[rows]] = now[rows]
        self.since_best = np.where(improved, 0, self.since_best + 1)
        patient = self.since_best < self.patience
        for i in np.flatnonzero(self.running & ~patient):
            self.stopped[i] = "early_stopping"
        self.running &= patient
        better = running & (val_loss < self.plateau_best - PLATEAU_DELTA)
        self.plateau_best = np.where(better, val_loss, self.plateau_best)
        self.since_plateau = np.where(better, 0, self.since_plateau + 1)
        rates = _by_member(program.learning_rates(state), slots, len(self.running))
        cut = self.running & (self.since_plateau >= self.plateau) & (rates > np.float32(MIN_LEARNING_RATE))
        if not cut.any():
            return state
        self.since_plateau = np.where(cut, 0, self.since_plateau)
        rates = np.where(cut, np.maximum(rates * PLATEAU_FACTOR, MIN_LEARNING_RATE), rates)
        return program.set_learning_rates(state, rates[slots])

    def stop_all(self, why: str) -> None:
        """End every running member's training (the deadline came): its best weights so far stand."""
        for i in np.flatnonzero(self.running):
            self.stopped[i] = why
        self.running[:] = False

    def results(self, seconds_per_epoch: float) -> list:
        """Each member's ``TrainResult``, or the exception that ended it."""
        import jax

        results = []
        for i, error in enumerate(self.errors):
            if error is not None or self.best_epoch[i] == 0:
                results.append(error or FloatingPointError("the validation loss was never finite"))
                continue
            results.append(TrainResult(
                score=float(self.best_loss[i]), best_epoch=int(self.best_epoch[i]), epochs_run=int(self.epochs[i]),
                history=self.history[i], seconds=seconds_per_epoch * int(self.epochs[i]), stopped=self.stopped[i],
                validation_predictions=jax.tree.map(lambda a: a[i], self.best_outputs)))
        return results
