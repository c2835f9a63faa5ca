"""One trial of the search: build the configuration, train it, save it.

``TrialRun`` replaces closures over ``AutoModel``: its fields are everything a trial reads, so what a
worker process receives (``autodeep.search.worker``'s payload: the Searcher, this object and the
``Budget``) is exactly what is listed here, and it pickles.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

from autodeep.data.rows import is_lazy
from autodeep.fit.metrics import metric_attributes, trial_score
from autodeep.fit.weights import weighted_validation
from autodeep.graph import Graph, HyperParameters, as_list
from autodeep.graph.describe import describe_architecture
from autodeep.morph.inherit import inherit
from autodeep.search import TrialPruned
from autodeep.search.cohorts import COHORT
from autodeep.storage import Project
from autodeep.train import TrainResult, fit_model, free_memory
from autodeep.train.batches import predict_model
from autodeep.train.cohort import cohort_mismatch, fit_cohort


COHORT_NAMES = ("learning_rate", "frequency_scale")  # searched names that leave the compiled program unchanged


def _outcome(function, *args):
    """``function(*args)``, or the exception it raised (one member of a cohort failing fails only itself)."""
    try:
        return function(*args)
    except Exception as error:
        return error


def early_stopping_patience(task_patience: int | None, graph: Graph, epochs: int | None) -> int | None:
    """Early-stopping patience: the task's, else the smallest its input kinds suggest, else the trainer's
    (``None``); ``None`` too with fixed ``epochs`` (no early stopping).

    Example:
        >>> import autodeep as ak
        >>> node = ak.Input(); graph = ak.graph.Graph([node], [ak.RegressionHead()(node)])
        >>> early_stopping_patience(7, graph, None), early_stopping_patience(7, graph, 3)
        (7, None)
    """
    if epochs is not None:
        return None
    hints = [n.patience for n in graph.inputs if getattr(n, "patience", None)]
    return task_patience or (min(hints) if hints else None)


@dataclass
class TrialRun:
    """Everything one trial needs; ``probe(hp)`` and ``run(number, hp, reporter, deadline)`` are what the
    Searcher calls.

    Fields: the graph and each input's preprocessed format (``specs``), the values fixed by the user
    (``hyperparameters``), the preprocessed training and validation arrays and targets, the project the trial
    is saved to, the training settings, and the progress display each epoch is shown on.
    """

    graph: Graph
    specs: dict
    hyperparameters: dict
    arrays_tr: dict
    targets_tr: object
    arrays_va: dict
    targets_va: object
    project: Project
    objective: str = "val_loss"
    epochs: int | None = None
    batch_size: int | None = None
    callbacks: list | None = None
    patience: int | None = None
    seed: int | None = None
    max_model_size: int | None = None
    progress: object = None  # an autodeep.search.progress.SearchProgress shown each epoch, or None
    weights_tr: object = None  # each training / validation row's weight (autodeep.fit.weights); None: unweighted
    weights_va: object = None
    metric: object = None  # an autodeep.fit.metrics.Metric scoring the validation predictions (objective= gave it)
    decision_threshold: object = "auto"  # AutoModel's setting: the metric's threshold on a binary head
    report: list = field(default_factory=list)  # the head's metrics= computed on the validation predictions
    cohort_size: int = 1  # trials trained together: a planned trial and its siblings (autodeep.search.cohorts)
    warned_unused: bool = field(default=False, repr=False)

    def fixed(self, hp: HyperParameters) -> HyperParameters:
        """``hp`` with the user's fixed values, which win over the search."""
        return hp.fix(self.hyperparameters)

    def probe(self, hp: HyperParameters) -> None:
        """Declare the search space of ``hp``'s values (``Graph.declare``: the model without its weights), then
        drop it (no weights were made, so the garbage waits for the trial's collection)."""
        self.graph.declare(self.fixed(hp), self.specs)
        self.warn_unused(hp)
        free_memory(collect=False)

    def run(self, number: int, hp: HyperParameters, reporter, deadline: float | None) -> tuple[float, dict]:
        """Train trial ``number`` with ``hp``; save its weights and validation predictions; return
        ``(score, attributes)``."""
        try:
            model = self.build(number, hp)
            model, (epochs, patience), lineage = inherit(model, hp.lineage, self.project.weights_file, self.epochs,
                                                         self.patience, timed=deadline is not None)  # a child
            result = fit_model(model, self.arrays_tr, self.targets_tr, sample_weight=self.weights_tr,
                               validation_data=weighted_validation((self.arrays_va, self.targets_va), self.weights_va),
                               epochs=epochs, batch_size=self.batch_size, objective=self.objective,
                               callbacks=self.trial_callbacks(number), deadline=deadline, patience=patience,
                               reporter=None if self.metric else reporter)  # pruning reads Keras' objective
            if result.stopped == "pruned":
                raise TrialPruned()
            return self.save(number, hp, model, result, lineage)
        finally:
            free_memory()

    def run_cohort(self, numbers: list[int], hps: list[HyperParameters], deadline: float | None) -> list:
        """Train trials ``numbers`` (a planned trial and its siblings, ``autodeep.search.cohorts``) together, as
        one program (``autodeep.train.cohort``); save each as ``run`` does. Returns each trial's ``(score,
        attributes)``, or the exception that ended it. A trial without siblings, and models that cannot train
        together, train one by one (``run``)."""
        if len(numbers) == 1:
            return [_outcome(self.run, numbers[0], hps[0], None, deadline)]
        try:
            models = [self.build(number, hp) for number, hp in zip(numbers, hps)]
            if cohort_mismatch(models):
                free_memory()
                return [_outcome(self.run, number, hp, None, deadline) for number, hp in zip(numbers, hps)]
            results = fit_cohort(models, self.arrays_tr, self.targets_tr, sample_weight=self.weights_tr,
                                 validation_data=weighted_validation((self.arrays_va, self.targets_va),
                                                                     self.weights_va),
                                 batch_size=self.batch_size, patience=self.patience, deadline=deadline,
                                 seed=None if self.seed is None else self.seed + numbers[0])
            together = {COHORT: list(numbers)}  # the trials trained together, the planned one first
            return [result if isinstance(result, Exception) else _outcome(self.save, *member, result, together)
                    for member, result in zip(zip(numbers, hps, models), results)]
        finally:
            free_memory()

    def cohort_names(self, hp: HyperParameters) -> list[str]:
        """The names a sibling of a trial planned as ``hp`` takes other values of (``autodeep.search.cohorts``):
        searched choices that do not change the compiled program. An empty list when this run's models cannot
        train together (``trains_together``)."""
        if not self.trains_together():
            return []
        return [name for name, spec in hp.space.items()
                if name.rsplit("/", 1)[-1] in COHORT_NAMES and spec.kind == "choice" and len(spec.choices) > 1
                and name not in self.hyperparameters]

    def trains_together(self) -> bool:
        """Whether this run's models can train as one cohort (``autodeep.train.cohort``): not on another backend
        than JAX, a ``val_`` objective other than the loss, fixed ``epochs``, the user's callbacks, or inputs read
        from disk."""
        import keras

        return not (keras.backend.backend() != "jax" or self.objective != "val_loss" or self.epochs is not None
                    or self.callbacks
                    or any(is_lazy(a) for a in (*self.arrays_tr.values(), *self.arrays_va.values())))

    def build(self, number: int, hp: HyperParameters):
        """Trial ``number``'s compiled model of ``hp`` (seeded by the run's seed and the number); raises when it
        is larger than ``max_model_size``."""
        if self.seed is not None:
            import keras

            keras.utils.set_random_seed(self.seed + number)
        model = self.graph.build(self.fixed(hp), self.specs)
        self.warn_unused(hp)
        size = model.count_params()
        if self.max_model_size and size > self.max_model_size:
            raise ValueError(f"the model has {size} parameters, more than max_model_size={self.max_model_size}")
        return model

    def save(self, number: int, hp: HyperParameters, model, result: TrainResult, extra: dict) -> tuple[float, dict]:
        """Score trial ``number`` on the validation rows and save it with its attributes and ``extra`` ones (a morph
        child's lineage, a cohort's members); returns ``(score, attributes)``."""
        predictions = result.validation_predictions
        if predictions is None:
            predictions = predict_model(model, self.arrays_va, batch_size=1024)
        if self.metric is not None:
            result.score = trial_score(self.metric, self.graph.heads, self.targets_va, as_list(predictions),
                                       self.weights_va, number, self.decision_threshold)
        attrs = {"best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
                 "fit_seconds": result.seconds, "stopped": result.stopped, "params": model.count_params(),
                 "architecture": describe_architecture(hp.values),  # shown by optuna-dashboard too
                 **metric_attributes(self.report, self.graph.heads, self.targets_va, as_list(predictions),
                                     self.weights_va, number), **extra}
        self.project.save_trial(number, config={"values": hp.values}, metrics={"score": result.score, **attrs},
                                model=model, val_predictions=as_list(predictions), history=result.history)
        return result.score, attrs

    def trial_callbacks(self, number: int) -> list:
        """The user's callbacks, and the progress display's for trial ``number``."""
        shown = [self.progress.callback(number)] if self.progress is not None else []
        return [*(self.callbacks or []), *shown]

    def warn_unused(self, hp: HyperParameters) -> None:
        """Warn once when a fixed name was not declared by the model just built."""
        unused = sorted(set(self.hyperparameters) - set(hp.values))
        if unused and not self.warned_unused:
            self.warned_unused = True
            warnings.warn(f"hyperparameters: {unused} are not used by this configuration (a misspelt name, or one "
                          f"that only exists in other branches of the space); names used: {sorted(hp.values)}.",
                          UserWarning, stacklevel=2)
