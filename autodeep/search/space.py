"""Translate the graph's hyperparameter specs into Optuna suggestions."""

from __future__ import annotations

from typing import Any

import optuna

from autodeep.graph.hyperparameters import Spec


def distribution(spec: Spec) -> optuna.distributions.BaseDistribution:
    """The Optuna distribution equivalent to ``spec``.

    Example:
        >>> distribution(Spec("int", "n", low=1, high=3, step=1, default=2))
        IntDistribution(high=3, log=False, low=1, step=1)
    """
    if spec.kind in ("choice", "boolean"):
        return optuna.distributions.CategoricalDistribution(list(spec.choices))
    if spec.kind == "fixed":
        return optuna.distributions.CategoricalDistribution([spec.default])
    if spec.kind == "int":
        return optuna.distributions.IntDistribution(spec.low, spec.high, log=spec.log, step=1 if spec.log else spec.step)
    return optuna.distributions.FloatDistribution(spec.low, spec.high, log=spec.log, step=spec.step)


def trial_source(trial: optuna.trial.BaseTrial):
    """A hyperparameter source that asks an Optuna trial (define-by-run)."""

    def suggest(spec: Spec) -> Any:
        dist = distribution(spec)
        if isinstance(dist, optuna.distributions.CategoricalDistribution):
            return trial.suggest_categorical(spec.name, dist.choices)
        if isinstance(dist, optuna.distributions.IntDistribution):
            return trial.suggest_int(spec.name, dist.low, dist.high, step=dist.step, log=dist.log)
        return trial.suggest_float(spec.name, dist.low, dist.high, step=dist.step, log=dist.log)

    return suggest
