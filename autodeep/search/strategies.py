"""Search strategies: which values the next trial gets.

Every strategy is an Optuna sampler (plus a pruner for hyperband), and all but
``random`` first try the task's known-good configurations. ``greedy`` is
AutoKeras's idea: after the known-good configurations, take the best trial and
redraw the hyperparameters of one randomly chosen subtree of its names.
"""

from __future__ import annotations

import random
from typing import Any, Callable

import optuna

from autodeep.graph.hyperparameters import HyperParameters, random_source

TUNERS = ("greedy", "bayesian", "tpe", "random", "hyperband", "morph")


def check_tuner(tuner: str) -> str:
    """``tuner`` if it names a tuner, else a ``ValueError`` listing the names.

    Example:
        >>> check_tuner("greedy")
        'greedy'
        >>> check_tuner("grid")
        Traceback (most recent call last):
        ...
        ValueError: tuner must be one of [...]; received 'grid'.
    """
    if tuner not in TUNERS:
        raise ValueError(f"tuner must be one of {list(TUNERS)}; received {tuner!r}.")
    return tuner


def make_sampler(tuner: str, seed: int | None) -> optuna.samplers.BaseSampler:
    """The Optuna sampler behind each tuner name.

    Example:
        >>> type(make_sampler("random", 0)).__name__
        'RandomSampler'
    """
    check_tuner(tuner)
    if tuner == "bayesian":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=5,
                                         independent_sampler=optuna.samplers.RandomSampler(seed=seed),
                                         warn_independent_sampling=False)
    if tuner in ("tpe", "hyperband"):
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=5, multivariate=True)
    # greedy and morph choose their values themselves (through enqueued trials); anything left over is random.
    return optuna.samplers.RandomSampler(seed=seed)


def make_pruner(tuner: str, max_epochs: int) -> optuna.pruners.BasePruner:
    """Hyperband's pruner (rungs from 1 epoch to ``max_epochs``, factor 3) for ``tuner="hyperband"``, else none.

    Example:
        >>> type(make_pruner("hyperband", 27)).__name__, type(make_pruner("greedy", 27)).__name__
        ('HyperbandPruner', 'NopPruner')
    """
    if tuner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(max_epochs, 3), reduction_factor=3)
    return optuna.pruners.NopPruner()


def _subtree_prefixes(names: list[str]) -> list[str]:
    prefixes = set()
    for name in names:
        parts = name.split("/")
        for i in range(1, len(parts) + 1):
            prefixes.add("/".join(parts[:i]))
    return sorted(prefixes)


def planned_values(tuner: str, study: optuna.Study, probe: Callable[[HyperParameters], Any],
                   initial_configs: list[dict], seed: int | None, max_retries: int = 20,
                   number: int | None = None, index: int | None = None) -> dict | None:
    """The values the next trial should be enqueued with, or ``None`` to let the sampler decide.

    ``probe(hp)`` declares the space (it builds a model without training it), so
    conditional hyperparameters are resolved exactly as the real trial will.
    ``number`` is the trial's own number when it was already asked: plans keyed by
    it are distinct across workers that plan at the same moment. ``index`` is its
    place in the planned order when that differs from its number (earlier trials
    were interrupted and rerun: see ``autodeep.search.interruptions.plan_index``).
    """
    trials = [t for t in study.get_trials(deepcopy=False) if t.number != number]
    n_started = index if index is not None else (len(trials) if number is None else number)
    if tuner != "random" and n_started < len(initial_configs):
        hp = HyperParameters(values=initial_configs[n_started])
        probe(hp)
        return hp.values
    if tuner != "greedy":
        return None
    rng = random.Random(None if seed is None else seed * 1_000_003 + n_started)
    completed = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
    seen = {_freeze(t.params) for t in trials}
    if not completed:
        hp = HyperParameters(source=random_source(rng))
        probe(hp)
        return hp.values
    best = study.best_trial
    prefixes = _subtree_prefixes(list(best.params))
    for _ in range(max_retries if prefixes else 0):  # no prefixes: the best trial searched no value
        prefix = prefixes[rng.randrange(len(prefixes))]
        kept = {k: v for k, v in best.params.items() if not (k == prefix or k.startswith(prefix + "/"))}
        hp = HyperParameters(values=kept, source=random_source(rng))
        probe(hp)
        if _freeze(hp.values) not in seen:
            return hp.values
    hp = HyperParameters(source=random_source(rng))
    probe(hp)
    return hp.values


def _freeze(params: dict) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in params.items()))
