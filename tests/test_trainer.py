"""The trainer's overhead cuts keep its behaviour: a deadline still stops within an epoch, a NaN loss still
fails the fit, and its callbacks leave Keras' asynchronous step dispatch on."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

from autodeep.train import fit_model
from autodeep.train.trainer import _callbacks


def tiny_model(learning_rate: float = 0.01):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(learning_rate), "mse")
    return model


def rows(n: int = 64):
    x = np.random.default_rng(0).random((n, 3)).astype("float32")
    return x, x.sum(1, keepdims=True)


def test_a_past_deadline_stops_before_the_first_epoch_ends():
    x, y = rows()
    result = fit_model(tiny_model(), x, y, validation_data=(x, y), batch_size=8, deadline=time.time() - 1)
    assert (result.stopped, result.epochs_run) == ("deadline", 1)


def test_a_diverging_loss_still_fails_the_fit():
    x, y = rows()
    with pytest.raises(FloatingPointError):
        fit_model(tiny_model(learning_rate=1e6), x * 1e6, y * 1e6, epochs=5, batch_size=8)


def test_no_trainer_callback_blocks_asynchronous_dispatch():
    callbacks = _callbacks("val_loss", "minimize", patience=3, deadline=time.time() + 60, reporter=None, state={})
    base = keras.callbacks.Callback
    hooked = [type(c).__name__ for c in callbacks for hook in ("on_train_batch_end", "on_batch_end")
              if getattr(type(c), hook) is not getattr(base, hook)]
    assert hooked == []
