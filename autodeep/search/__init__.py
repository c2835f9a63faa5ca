"""Searcher: the trial loop over an Optuna study and its strategies."""

from autodeep.search.searcher import SearchFailed, Searcher, TrialPruned
from autodeep.search.strategies import TUNERS, check_tuner
from autodeep.search.tuners import TPE, BayesianOptimization, Greedy, Hyperband, NetworkMorphism, RandomSearch, Tuner, \
    bind_tuner, resolve_tuner

__all__ = ["BayesianOptimization", "Greedy", "Hyperband", "NetworkMorphism", "RandomSearch", "SearchFailed", "Searcher",
           "TPE", "TUNERS", "TrialPruned", "Tuner", "bind_tuner", "check_tuner", "resolve_tuner"]
