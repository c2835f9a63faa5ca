"""Ensembles: greedy selection over the trials' validation predictions (one pass, or bagged over resamples)."""

from autodeep.ensemble.selection import bootstrap_selection, greedy_selection, validation_loss

__all__ = ["bootstrap_selection", "greedy_selection", "validation_loss"]
