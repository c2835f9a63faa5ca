"""AutoKeras' tuner classes (``ak.Greedy``, ``ak.BayesianOptimization``, ``ak.Hyperband``, ``ak.RandomSearch``).

In AutoKeras they are KerasTuner subclasses that ``AutoModel(tuner=...)`` takes as a
class. Here each names one of the Searcher's strategies, so the same program runs:
``tuner=ak.Greedy``, ``tuner=ak.Greedy()`` and ``tuner="greedy"`` are one thing.
Arguments that only KerasTuner understands are accepted and kept, not used.
"""

from __future__ import annotations

from autodeep.search.strategies import TUNERS, check_tuner


class Tuner:
    """The base of the tuner classes: a search strategy named the AutoKeras way.

    Args:
        hypermodel: Accepted for AutoKeras compatibility; ``AutoModel`` builds the graph itself.
        objective: Accepted and kept; set the objective on ``AutoModel``.
        max_trials: Accepted and kept; set the budget on ``AutoModel``.
        seed: Seeds the search when ``AutoModel`` is given none.
        hyperparameters: Fixed values (a dict, or anything with ``.values``) applied to every trial
            when ``AutoModel`` is given none.

    Example:
        >>> import autodeep as ak
        >>> ak.Greedy(seed=1).strategy, ak.RandomSearch.strategy
        ('greedy', 'random')
    """

    strategy = "greedy"

    def __init__(self, hypermodel=None, objective="val_loss", max_trials: int = 10, seed: int | None = None,
                 hyperparameters=None, tune_new_entries: bool = True, allow_new_entries: bool = True, **kwargs):
        self.hypermodel = hypermodel
        self.objective = objective
        self.max_trials = max_trials
        self.seed = seed
        self.hyperparameters = hyperparameters
        self.tune_new_entries = tune_new_entries
        self.allow_new_entries = allow_new_entries
        self.kwargs = kwargs


class Greedy(Tuner):
    """AutoKeras' default tuner: known-good configurations first, then mutate the best trial's subtrees.

    Args:
        initial_hps: Configurations (``{full_name: value}``) to try first, before the task's own.
        Other arguments: as in ``Tuner``.

    Example:
        >>> import autodeep as ak
        >>> model = ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), tuner=ak.Greedy, max_trials=1)
        >>> model.tuner
        'greedy'
    """

    strategy = "greedy"

    def __init__(self, hypermodel=None, objective="val_loss", max_trials: int = 10, initial_hps=None,
                 seed: int | None = None, hyperparameters=None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, **kwargs):
        super().__init__(hypermodel, objective, max_trials, seed, hyperparameters, tune_new_entries,
                         allow_new_entries, **kwargs)
        self.initial_hps = list(initial_hps or [])


class BayesianOptimization(Tuner):
    """Gaussian-process Bayesian optimisation (Optuna's GP sampler).

    Args:
        num_initial_points, alpha, beta: Accepted for AutoKeras compatibility (the GP sampler sets its own).
        Other arguments: as in ``Tuner``.

    Example:
        >>> import autodeep as ak
        >>> ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), tuner=ak.BayesianOptimization).tuner
        'bayesian'
    """

    strategy = "bayesian"

    def __init__(self, hypermodel=None, objective="val_loss", max_trials: int = 10, num_initial_points=None,
                 alpha: float = 1e-4, beta: float = 2.6, seed: int | None = None, hyperparameters=None,
                 tune_new_entries: bool = True, allow_new_entries: bool = True, **kwargs):
        super().__init__(hypermodel, objective, max_trials, seed, hyperparameters, tune_new_entries,
                         allow_new_entries, **kwargs)
        self.num_initial_points, self.alpha, self.beta = num_initial_points, alpha, beta


class Hyperband(Tuner):
    """TPE sampling with Hyperband pruning of trials on their per-epoch validation scores.

    Args:
        max_epochs, factor, hyperband_iterations: Accepted for AutoKeras compatibility (the pruner's
            resource is ``fit(epochs=...)`` and its reduction factor is 3).
        Other arguments: as in ``Tuner``.

    Example:
        >>> import autodeep as ak
        >>> ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), tuner=ak.Hyperband()).tuner
        'hyperband'
    """

    strategy = "hyperband"

    def __init__(self, hypermodel=None, objective="val_loss", max_epochs: int = 100, factor: int = 3,
                 hyperband_iterations: int = 1, seed: int | None = None, hyperparameters=None,
                 tune_new_entries: bool = True, allow_new_entries: bool = True, **kwargs):
        super().__init__(hypermodel, objective, None, seed, hyperparameters, tune_new_entries,
                         allow_new_entries, **kwargs)
        self.max_epochs, self.factor, self.hyperband_iterations = max_epochs, factor, hyperband_iterations


class RandomSearch(Tuner):
    """Every trial drawn at random from the search space.

    Example:
        >>> import autodeep as ak
        >>> ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), tuner=ak.RandomSearch).tuner
        'random'
    """

    strategy = "random"


def resolve_tuner(tuner) -> tuple[str, Tuner | None]:
    """``(strategy name, tuner instance or None)`` for a name, a tuner class or a tuner instance.

    Example:
        >>> resolve_tuner(Hyperband)[0], resolve_tuner("tpe")[0], resolve_tuner(None)[0]
        ('hyperband', 'tpe', 'greedy')
    """
    if tuner is None:
        return "greedy", None
    if isinstance(tuner, str):
        return check_tuner(tuner), None
    if isinstance(tuner, type) and issubclass(tuner, Tuner):
        return tuner.strategy, None
    if isinstance(tuner, Tuner):
        return tuner.strategy, tuner
    raise TypeError(f"tuner must be one of {list(TUNERS)}, or ak.Greedy, ak.BayesianOptimization, ak.Hyperband or "
                    f"ak.RandomSearch (the class or an instance); received {tuner!r} of type {type(tuner).__name__}.")
