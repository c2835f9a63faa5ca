"""Trainer: fit one candidate, evaluate it, free its memory."""

from autodeep.train.trainer import (
    TrainResult,
    default_batch_size,
    fit_model,
    free_memory,
    frozen_heap,
    objective_direction,
    quiet_optimizer_state,
)

__all__ = ["TrainResult", "default_batch_size", "fit_model", "free_memory", "frozen_heap",
           "objective_direction", "quiet_optimizer_state"]
