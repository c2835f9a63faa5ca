"""Searcher: the trial loop over an Optuna study and its strategies."""

from autodeep.search.searcher import SearchFailed, Searcher, TrialPruned
from autodeep.search.strategies import TUNERS, check_tuner

__all__ = ["SearchFailed", "Searcher", "TUNERS", "TrialPruned", "check_tuner"]
