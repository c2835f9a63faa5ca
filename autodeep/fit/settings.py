"""The settings of one ``fit``, checked: ``AutoModel`` stores its constructor arguments as given
(scikit-learn's rule) and ``check_settings`` validates them, with ``fit``'s own, when ``fit`` starts. Each
error names the argument, what was expected and what was received."""

from __future__ import annotations

from dataclasses import dataclass

from autodeep.data.checks import check_int, check_number, check_str, fixed_values
from autodeep.fit.metrics import check_objective
from autodeep.graph import GraphError, Input, as_list
from autodeep.search import resolve_tuner


@dataclass(frozen=True)
class Settings:
    """``AutoModel``'s arguments as ``fit`` uses them: checked, defaults filled in, the tuner resolved to a
    strategy name (an AutoKeras tuner instance's ``seed``, ``hyperparameters`` and ``initial_hps`` taken
    over)."""

    project_name: str
    max_trials: int
    directory: str
    objective: object  # a Keras log name, or an autodeep.fit.metrics.Metric
    tuner: str
    initial_hps: list
    hyperparameters: dict
    overwrite: bool
    seed: int | None
    max_model_size: int | None
    time_limit: float | None
    refit: bool
    storage: str | None
    max_consecutive_failures: int
    ensemble_size: int
    bagging_folds: int | str
    retrieval: bool | str
    verbose: int
    n_workers: int
    epochs: int | None = None
    batch_size: int | None = None
    cohort_size: int = 1


def check_settings(model, epochs=None, batch_size=None, verbose=None) -> Settings:
    """``model``'s (an ``AutoModel``) arguments, and ``fit``'s ``epochs``, ``batch_size`` and ``verbose``,
    checked.

    Example:
        >>> import autodeep as ak
        >>> model = ak.AutoModel(ak.Input(), ak.RegressionHead(), tuner=ak.RandomSearch(seed=7))
        >>> settings = check_settings(model)
        >>> settings.tuner, settings.seed, settings.project_name
        ('random', 7, 'auto_model')
        >>> check_settings(ak.AutoModel(ak.Input(), ak.RegressionHead(), max_trials=0))
        Traceback (most recent call last):
        ValueError: max_trials must be an integer >= 1; received 0.
    """
    for node in as_list(model.inputs):
        if not isinstance(node, Input):
            raise GraphError(f"inputs must be input nodes such as ak.Input(); received {node!r}.")
    project_name = check_str("project_name", model.project_name or model._default_project)
    max_trials = check_int("max_trials", model.max_trials)
    objective = check_objective(model.objective)
    tuner, tuner_object = resolve_tuner(model.tuner)
    seed, hyperparameters = model.seed, model.hyperparameters
    if tuner_object is not None:
        seed = tuner_object.seed if seed is None else seed
        hyperparameters = tuner_object.hyperparameters if hyperparameters is None else hyperparameters
    return Settings(
        project_name=project_name, max_trials=max_trials,
        directory=str(model.directory) if model.directory is not None else "autodeep_runs",
        objective=objective, tuner=tuner, initial_hps=list(getattr(tuner_object, "initial_hps", [])),
        hyperparameters=fixed_values(hyperparameters), overwrite=bool(model.overwrite),
        seed=check_int("seed", seed, minimum=0, allow_none=True),
        max_model_size=check_int("max_model_size", model.max_model_size, allow_none=True),
        time_limit=check_number("time_limit", model.time_limit), refit=model.refit,
        storage=check_str("storage", model.storage, allow_none=True),
        max_consecutive_failures=check_int("max_consecutive_failures", model.max_consecutive_failures, minimum=0),
        ensemble_size=check_int("ensemble_size", model.ensemble_size),
        bagging_folds=check_bagging_folds(model.bagging_folds), retrieval=check_retrieval(model.retrieval),
        verbose=model.verbose if verbose is None else verbose, n_workers=check_int("n_workers", model.n_workers),
        epochs=check_int("epochs", epochs, allow_none=True),
        batch_size=check_int("batch_size", batch_size, allow_none=True),
        cohort_size=check_int("cohort_size", model.cohort_size))


def check_bagging_folds(value):
    """``"auto"``, 0 (no bagging), or 2 or more folds.

    Example:
        >>> check_bagging_folds(1)
        Traceback (most recent call last):
        ValueError: bagging_folds must be 0 (no bagging), 2 or more, or 'auto'; received 1.
    """
    if value == "auto":
        return value
    value = check_int("bagging_folds", value, minimum=0)
    if value == 1:
        raise ValueError("bagging_folds must be 0 (no bagging), 2 or more, or 'auto'; received 1.")
    return value


def check_retrieval(value):
    """``"auto"``, ``True`` or ``False``."""
    if value not in ("auto", True, False):
        raise ValueError(f"retrieval must be 'auto', True or False; received {value!r}.")
    return value
