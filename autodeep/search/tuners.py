"""AutoKeras' tuner classes (``ak.Greedy``, ``ak.BayesianOptimization``, ``ak.Hyperband``, ``ak.RandomSearch``).

In AutoKeras they are KerasTuner subclasses that ``AutoModel(tuner=...)`` takes as a
class. Here each names one of the Searcher's strategies, so the same program runs:
``tuner=ak.Greedy``, ``tuner=ak.Greedy()`` and ``tuner="greedy"`` are one thing.
Arguments that only KerasTuner understands are accepted and kept, not used.

``model.tuner`` stays the argument as given (scikit-learn's rule); after ``fit``, ``model.tuner_`` is a
tuner object (of the class the argument names; for a string, the class of that strategy) that answers
KerasTuner's questions: ``model.tuner_.oracle.get_best_trials(n)``, ``model.tuner_.get_best_models(n)``
(see ``autodeep.search.tuner_view``).
"""

from __future__ import annotations

import copy

from autodeep.search.morphing import MorphSettings
from autodeep.search.strategies import TUNERS, check_tuner
from autodeep.search.tuner_view import TunerResults


class Tuner(TunerResults):
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
        >>> ak.RandomSearch(seed=2)
        RandomSearch(seed=2)
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

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed!r})"


class Greedy(Tuner):
    """AutoKeras' default tuner: known-good configurations first, then mutate the best trial's subtrees.

    Args:
        initial_hps: Configurations (``{full_name: value}``) to try first, before the task's own.
        Other arguments: as in ``Tuner``.

    Example:
        >>> import autodeep as ak
        >>> model = ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), tuner=ak.Greedy, max_trials=1)
        >>> model.tuner.strategy
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
        >>> ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), tuner=ak.BayesianOptimization).tuner.strategy
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
        >>> ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), tuner=ak.Hyperband()).tuner.strategy
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
        >>> ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), tuner=ak.RandomSearch).tuner.strategy
        'random'
    """

    strategy = "random"


class TPE(Tuner):
    """TPE sampling (Optuna's multivariate Tree-structured Parzen Estimator); ``tuner="tpe"``. No AutoKeras
    counterpart: it is the class of ``model.tuner_`` for that strategy.

    Example:
        >>> from autodeep.search import bind_tuner
        >>> type(bind_tuner("tpe", model=None)[0]).__name__
        'TPE'
    """

    strategy = "tpe"


class NetworkMorphism(Tuner):
    """Network morphism (Auto-Keras, KDD 2019): known-good networks first, then children of the best trials,
    morphed (deepen, widen, skip) so they start from their parent's trained weights and train briefly; a
    Gaussian process over architectures (edit-distance kernel) picks each child. See
    ``autodeep.search.morphing`` for what follows the paper and what differs.

    Args:
        acquisition: ``"ei"`` (expected improvement, the default) or ``"ucb"`` (the paper's).
        beta: UCB's weight of the standard deviation (the paper's 2.576).
        depth: Morphs per child, at most.
        parents: How many of the best trials may be a parent.
        max_candidates: Candidate children scored by the GP per trial (a seeded subset).
        max_width: No child gets a layer wider than this.
        scratch_share: Under a time limit, the share of the search time each trial may use, and the trials
            trained from scratch together; then children follow, even if known-good starts are left.
        Other arguments: as in ``Tuner``.

    Example:
        >>> import autodeep as ak
        >>> tuner = ak.NetworkMorphism(acquisition="ucb", seed=0)
        >>> tuner.strategy, tuner.morph_settings.acquisition, tuner.morph_settings.depth
        ('morph', 'ucb', 2)
    """

    strategy = "morph"

    def __init__(self, hypermodel=None, objective="val_loss", max_trials: int = 10, acquisition: str = "ei",
                 beta: float = 2.576, depth: int = 2, parents: int = 3, max_candidates: int = 100,
                 max_width: int = 1024, seed: int | None = None, hyperparameters=None, tune_new_entries: bool = True,
                 allow_new_entries: bool = True, scratch_share: float = 1 / 3, **kwargs):
        super().__init__(hypermodel, objective, max_trials, seed, hyperparameters, tune_new_entries,
                         allow_new_entries, **kwargs)
        if acquisition not in ("ei", "ucb"):
            raise ValueError(f"acquisition must be 'ei' or 'ucb'; received {acquisition!r}.")
        for name, value in (("depth", depth), ("parents", parents), ("max_candidates", max_candidates),
                            ("max_width", max_width)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer; received {value!r}.")
        if isinstance(scratch_share, bool) or not isinstance(scratch_share, (int, float)) \
                or not 0 < scratch_share <= 1:
            raise ValueError(f"scratch_share must be a number in (0, 1]; received {scratch_share!r}.")
        self.morph_settings = MorphSettings(acquisition, float(beta), depth, parents, max_candidates, max_width,
                                            float(scratch_share))


#: The tuner class of each strategy: what ``model.tuner_`` is for ``tuner="<strategy>"``.
CLASSES = {cls.strategy: cls for cls in (Greedy, BayesianOptimization, TPE, RandomSearch, Hyperband,
                                         NetworkMorphism)}


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
    raise TypeError(f"tuner must be one of {list(TUNERS)}, or ak.Greedy, ak.BayesianOptimization, ak.Hyperband, "
                    f"ak.RandomSearch or ak.NetworkMorphism (the class or an instance); received {tuner!r} of type "
                    f"{type(tuner).__name__}.")


def bind_tuner(tuner, model) -> tuple[Tuner, Tuner | None]:
    """``(the model's own tuner object, the instance the user gave or None)`` for ``AutoModel(tuner=...)``;
    ``fit`` keeps the first as ``model.tuner_``.

    The model's tuner is a new instance of the named class (a copy of a given instance, so one
    instance can serve several models); it reads that model's search (``oracle``, ``get_best_models``).

    Example:
        >>> given = Greedy(seed=3)
        >>> own, user = bind_tuner(given, model=None)
        >>> type(own).__name__, own.seed, own is given, user is given
        ('Greedy', 3, False, True)
    """
    strategy, instance = resolve_tuner(tuner)
    own = copy.copy(instance) if instance is not None else CLASSES[strategy]()
    own._model = model
    return own, instance
