"""Ensembles: greedy selection over the trials' validation predictions."""

from autodeep.ensemble.selection import greedy_selection, selection_criterion, validation_loss

__all__ = ["greedy_selection", "selection_criterion", "validation_loss"]
