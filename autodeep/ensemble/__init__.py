"""Ensembles: greedy selection over the trials' validation predictions."""

from autodeep.ensemble.selection import greedy_selection, validation_loss

__all__ = ["greedy_selection", "validation_loss"]
