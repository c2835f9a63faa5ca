"""``AutoModel``: the search-level API every task class shares.

``fit`` calls the stages of ``autodeep.fit`` in order: check the settings, prepare the data, plan the time
budget, run the search, select the members, make the final model and export it; ``predict`` serves exactly
the exported artifact.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path

import pandas as pd

from autodeep.blocks import Merge
from autodeep.data.checks import check_keywords
from autodeep.data.rows import is_lazy
from autodeep.fit.artifact import Predictor
from autodeep.fit.budget import Budget
from autodeep.fit.export import done_line, export, search_info
from autodeep.fit.final import final_model
from autodeep.fit.members import select_members
from autodeep.fit.metrics import (Metric, check_decision_threshold, decision_thresholds, keras_objective,
                                  objective_name, report_metrics)
from autodeep.fit.prepare import prepare_data
from autodeep.fit.search import best_trial, make_searcher, run_search
from autodeep.fit.settings import Settings, check_settings
from autodeep.fit.trial import TrialRun, early_stopping_patience
from autodeep.fit.weights import split_validation_data
from autodeep.graph import Graph, GraphError, Head, as_list
from autodeep.graph.block import snake_case
from autodeep.graph.wiring import attach_heads
from autodeep.modalities import MODALITIES
from autodeep.search import bind_tuner
from autodeep.search.progress import SearchProgress
from autodeep.report import record
from autodeep.storage import Project
from autodeep.tasks.estimator import EstimatorMixin, clone_project, record_features

#: AutoKeras' constructor arguments (passed on to KerasTuner there) that are accepted and ignored.
IGNORED_ARGUMENTS = ("distribution_strategy", "executions_per_trial", "logger", "max_consecutive_failed_trials",
                     "max_retries_per_trial", "tuner_id")
#: AutoKeras' ``fit`` arguments (passed on to Keras' ``Model.fit`` there) that are accepted and ignored.
IGNORED_FIT_ARGUMENTS = ("initial_epoch", "shuffle", "steps_per_epoch", "validation_batch_size", "validation_freq",
                         "validation_steps")


def parameter_names(cls, method: str) -> set[str]:
    """The named parameters of ``method`` over ``cls`` and its bases (what a keyword argument may be).

    Example:
        >>> "max_trials" in parameter_names(AutoModel, "__init__")
        True
    """
    names = set()
    for klass in cls.__mro__:
        if method in vars(klass):
            names |= {p.name for p in inspect.signature(vars(klass)[method]).parameters.values()
                      if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self"}
    return names


class AutoModel(EstimatorMixin):
    """Search a Keras model for the inputs and heads you wire; AutoKeras' ``AutoModel``.

    Args:
        inputs: Input node(s): ``ak.Input()``, ``ak.StructuredDataInput()``, ...
        outputs: Head(s) (the graph between is chosen for you) or head output node(s) of a wired graph.
        project_name: Folder name under ``directory`` for the study, trials and export.
        max_trials: Number of trials to finish (an interrupted search resumes and counts earlier ones).
        directory: Parent folder of the project (``./autodeep_runs`` by default).
        objective: Validation metric to optimise: a Keras log name such as ``"val_loss"`` (default) or
            ``"val_accuracy"``; a name computed on the validation predictions (``"auc"``, ``"f1"``,
            ``"balanced_accuracy"``, ``"log_loss"``, ``"accuracy"``, ``"rmse"``, ``"mae"``, ``"r2"``, ``"mape"``); or
            ``ak.Metric(fn, direction="max")`` for any ``fn(y_true, y_pred)`` (see ``autodeep.fit.metrics``).
        tuner: ``"greedy"`` (default), ``"bayesian"``, ``"tpe"``, ``"random"``, ``"hyperband"`` or ``"morph"``
            (network morphism: children of the best trained networks inherit their weights); or AutoKeras'
            ``ak.Greedy``, ``ak.BayesianOptimization``, ``ak.Hyperband``, ``ak.RandomSearch``, or
            ``ak.NetworkMorphism`` (class or instance).
        overwrite: Start afresh; ``False`` resumes the study found in the project folder.
        seed: Makes splits, trial configurations and initial weights repeatable.
        max_model_size: Trials whose model has more parameters are recorded as failed and skipped.
        time_limit: Wall-clock seconds for the whole ``fit`` (search, refit and export).
        refit: Retrain the exported configuration(s) on training + validation data when time allows.
        ensemble_size: Most picks of each pass of greedy ensemble selection over the trials' validation
            predictions. The selection is repeated on 20 bootstrap resamples of the validation rows and the
            picks averaged, so the exported model may average more trials than this (1 exports the best
            trial alone).
        bagging_folds: Instead of one refit on all rows, train each chosen configuration on ``k`` folds of
            train + validation rows (early stopping on the held-out fold) and average them with the trial's
            own model, as far as ``time_limit`` allows. ``"auto"`` (default): 5 folds for in-memory data of
            at most 3,000 rows trained with early stopping (``epochs=None``); ``0`` never bags.
        retrieval: Blend the exported model's predictions with the targets of training rows close to the
            query row (a kernel-weighted vote in which exact duplicates weigh most; see
            ``autodeep.ensemble.retrieval``). Its two settings are chosen on the validation rows and the blend
            is kept only if, chosen on one half of the validation rows and scored on the other, it lowers the
            criterion (1 - AUC for a binary head, else the validation loss) by at least 0.2 % on average
            over 20 random halvings. ``"auto"`` (default): tried when
            every input is structured data held in memory with at most 10,000 rows; ``True``: tried at any
            size; ``False``: never. The training rows are stored inside the exported model.
        storage: An Optuna storage URL (e.g. PostgreSQL) instead of the project's SQLite file.
        max_consecutive_failures: End a hopeless search after this many failed trials in a row.
        verbose: 1 prints one line per trial; 0 is silent.
        n_workers: Processes running trials at once on this machine (``n_workers - 1`` are started, each
            with its share of the CPU threads and its own GPU when there are several); more machines join
            with ``autodeep worker --study URL`` when ``storage`` is a PostgreSQL URL (see README, *Scale*).
        class_weight: ``"balanced"`` or ``{label: weight}``: weights of the rows of each class of the first
            single-label classification head, multiplied with ``fit``'s ``sample_weight`` (see
            ``autodeep.fit.weights``); ``fit(class_weight=...)``, Keras' place for it, overrides it for one fit.
        decision_threshold: ``"auto"`` (default): a binary head's threshold is tuned when the objective needs
            labels (``"f1"``, ``"balanced_accuracy"``, ``"accuracy"``): on the out-of-fold predictions of the
            bagged members when the final stage bags, else on the validation rows; a number fixes it; ``None``
            keeps 0.5. ``predict`` uses it, ``predict_proba`` is unchanged, the manifest records it and its
            source (``outputs[k]["threshold_source"]``).
        cohort_size: Trials trained together as one compiled program (JAX backend): each planned trial and up
            to ``cohort_size - 1`` siblings with its values and other learning rates (and, for tables, other
            numeric-embedding frequency scales), each recorded as a trial of its own (``autodeep.search.cohorts``).
            Trials train one by one on other backends, with the user's callbacks, fixed ``epochs``, a Keras
            objective other than ``"val_loss"`` (computed ones such as ``"auc"`` early-stop on it and are fine), and
            with ``tuner="hyperband"`` or ``"morph"``. 1 (default): one by one.
        hyperparameters: Values fixed in every trial, by full name (``{"dense_block_1/num_layers": 1}``; a
            dict, or an object with ``.values`` such as a KerasTuner ``HyperParameters``); the names are
            those of ``tuner_results``. A name the default configuration does not use is warned about.
        **kwargs: Only the AutoKeras (KerasTuner) arguments in ``IGNORED_ARGUMENTS``, accepted and ignored; any
            other name raises ``TypeError``.

    The arguments are stored as given and checked when ``fit`` starts (``autodeep.fit.settings``). After
    ``fit``: ``settings_`` (the arguments as checked and resolved), ``graph_`` (the searched graph), ``project_``
    (the project folder), ``study_`` (the Optuna study) and ``predictor_`` (the exported model that ``predict``
    uses).

    Example:
        >>> import numpy as np, tempfile, autodeep as ak
        >>> x = np.random.rand(64, 4).astype("float32"); y = x.sum(axis=1)
        >>> model = ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), max_trials=1,
        ...                      directory=tempfile.mkdtemp(), verbose=0, seed=0)
        >>> _ = model.fit(x, y, epochs=2)
        >>> model.predict(x[:2]).shape
        (2,)
    """

    _default_project = "auto_model"

    def __init__(self, inputs, outputs, project_name: str | None = None, max_trials: int = 100,
                 directory: str | None = None, objective: str = "val_loss", tuner: str | None = "greedy",
                 overwrite: bool = False, seed: int | None = None, max_model_size: int | None = None,
                 time_limit: float | None = None, refit: bool = True, storage: str | None = None,
                 max_consecutive_failures: int = 3, ensemble_size: int = 5, verbose: int = 1, n_workers: int = 1,
                 hyperparameters=None, bagging_folds="auto", retrieval="auto", class_weight=None,
                 decision_threshold="auto", cohort_size: int = 1, **kwargs):
        check_keywords(f"{type(self).__name__}()", kwargs, parameter_names(type(self), "__init__"),
                       IGNORED_ARGUMENTS)
        self.inputs = inputs  # as given (scikit-learn's rule); as_list where used
        self.outputs = outputs
        self.project_name = project_name
        self.max_trials = max_trials
        self.directory = directory
        self.objective = objective
        self.tuner = tuner
        self.overwrite = overwrite
        self.seed = seed
        self.max_model_size = max_model_size
        self.time_limit = time_limit
        self.refit = refit
        self.storage = storage
        self.max_consecutive_failures = max_consecutive_failures
        self.ensemble_size = ensemble_size
        self.verbose = verbose
        self.n_workers = n_workers
        self.hyperparameters = hyperparameters
        self.bagging_folds = bagging_folds
        self.retrieval = retrieval
        self.class_weight = class_weight
        self.decision_threshold = decision_threshold
        self.cohort_size = cohort_size

    # -- graph ---------------------------------------------------------------
    def _initial_configs(self, graph: Graph, specs: dict) -> list[dict]:
        """Known-good hyperparameter values tried first (``specs``: each input's preprocessed format);
        task classes override this."""
        return [{}]

    def _build_graph(self) -> Graph:
        """The graph searched over: the user's wiring, or default blocks between the inputs and the heads."""
        if getattr(self, "graph_", None) is not None:  # fit again: same graph, same hyperparameter names
            return self.graph_
        inputs, heads = as_list(self.inputs), as_list(self.outputs)
        if all(isinstance(o, Head) and not o.outputs for o in heads):
            wired = attach_heads(inputs, heads)  # heads given unconnected go where the wiring ends
            return Graph(inputs, wired) if wired else self._auto_wire()
        outputs = []
        for out in heads:
            if isinstance(out, Head):
                if not out.outputs:
                    raise GraphError(f"{out.name} is not connected: give either only heads (the graph is built "
                                     f"for you) or only head outputs of a graph you wired.")
                out = out.outputs[0]
            outputs.append(out)
        return Graph(inputs, outputs)

    def _auto_wire(self) -> Graph:
        inputs = as_list(self.inputs)
        features = []
        counts: dict[str, int] = {}
        for node in inputs:
            block_cls = getattr(MODALITIES.get(node.kind), "block", None)  # autodeep/modalities.py
            if block_cls is None:
                raise GraphError(f"No default block exists for {node!r}; wire a block to it yourself.")
            siblings = [n for n in inputs if n.kind == node.kind]
            if getattr(block_cls, "encodes_together", False) and len(siblings) > 1:
                if node is siblings[0]:  # one block reads all inputs of this kind (sentence pairs)
                    features.append(block_cls(name=snake_case(block_cls.__name__) + "_1")(siblings))
                continue
            base = block_cls.__name__
            counts[base] = counts.get(base, 0) + 1
            features.append(block_cls(name=f"{snake_case(base)}_{counts[base]}")(node))
        merged = features[0] if len(features) == 1 else Merge(name="merge_1")(features)
        heads = [head(merged) for head in as_list(self.outputs)]
        return Graph(inputs, heads)

    # -- data ----------------------------------------------------------------
    def _adapt(self, x, y):
        """Hook for task classes to turn paths/target names into (x, y); returns lists per input/head."""
        return x, y

    def _split_xy(self, x, y, graph: Graph, argument: str = "x"):
        xs = [x] if len(graph.inputs) == 1 else x
        if len(graph.inputs) > 1 and (not isinstance(x, (list, tuple)) or len(x) != len(graph.inputs)):
            raise ValueError(f"{argument} must be a list of {len(graph.inputs)} inputs "
                             f"({[n.name for n in graph.inputs]}); received {type(x).__name__}.")
        ys = [y] if len(graph.heads) == 1 else y
        if len(graph.heads) > 1 and (not isinstance(y, (list, tuple)) or len(y) != len(graph.heads)):
            raise ValueError(f"y must be a list of {len(graph.heads)} targets (one per head: "
                             f"{[h.name for h in graph.heads]}); received {type(y).__name__}.")
        return list(xs), list(ys)

    def _raw_inputs(self, x, y, validation_data) -> tuple[list, list, tuple | None]:
        """``(xs, ys, validation)``: one raw value per input and per head, for the training rows and the
        validation rows when given; builds ``graph_``."""
        if x is None or y is None:
            raise ValueError(f"fit needs both x and y; received x={type(x).__name__}, y={type(y).__name__}.")
        x, y = self._adapt(x, y)
        self.graph_ = self._build_graph()
        xs, ys = self._split_xy(x, y, self.graph_)
        if validation_data is None:
            return xs, ys, None
        x_val, y_val = self._adapt(*validation_data)
        return xs, ys, self._split_xy(x_val, y_val, self.graph_, argument="validation_data[0]")

    def _prepare(self, x, y, validation_data, validation_split: float, settings: Settings, sample_weight,
                 class_weight):
        """The prepared data of ``fit``'s arguments (``autodeep.fit.prepare``), and the project folder with the
        data recorded for the report; sets ``n_features_in_`` and ``feature_names_in_``. ``validation_data`` may
        carry weights as its third element (Keras' form)."""
        validation_data, validation_weight = split_validation_data(validation_data)
        xs, ys, validation = self._raw_inputs(x, y, validation_data)
        record_features(self, xs)
        data = prepare_data(self.graph_, xs, ys, validation, validation_split, seed=settings.seed or 0,
                            sample_weight=sample_weight, validation_weight=validation_weight, class_weight=class_weight)
        self.project_ = Project(settings.directory, settings.project_name, overwrite=settings.overwrite)
        record.save_data(self.project_, self.graph_, data, objective_name(settings.objective))
        return data

    def _trial_run(self, settings: Settings, data, callbacks, started: float) -> TrialRun:
        """What every trial of this search reads (and all a worker process receives of it), with the progress
        display of a search that started at ``started``."""
        progress = SearchProgress(settings.max_trials, settings.time_limit, objective_name(settings.objective),
                                  started, live=None if settings.verbose else False)
        return TrialRun(self.graph_, data.specs, settings.hyperparameters, data.arrays_tr, data.targets_tr,
                        data.arrays_va, data.targets_va, self.project_, objective=keras_objective(settings.objective),
                        epochs=settings.epochs, batch_size=settings.batch_size, callbacks=callbacks,
                        patience=early_stopping_patience(getattr(self, "patience", None), self.graph_,
                                                         settings.epochs),
                        seed=settings.seed, max_model_size=settings.max_model_size, weights_tr=data.weights_tr,
                        weights_va=data.weights_va,
                        metric=settings.objective if isinstance(settings.objective, Metric) else None,
                        decision_threshold=check_decision_threshold(self.decision_threshold),
                        report=report_metrics(self.graph_.heads), progress=progress,
                        cohort_size=settings.cohort_size)

    def fit(self, x=None, y=None, batch_size: int | None = None, epochs: int | None = None, callbacks=None,
            validation_split: float = 0.2, validation_data=None, verbose: int | None = None, sample_weight=None,
            **kwargs):
        """Search, refit the best model and export it; afterwards ``predict`` uses the export.

        Args:
            x: Training inputs (one per input node; a list for several).
            y: Training targets (one per head; a list for several).
            batch_size: Fixed batch size; chosen from the data size when ``None``.
            epochs: Epochs per trial; ``None`` trains with early stopping.
            callbacks: Keras callbacks added to every fit.
            validation_split: Share of the training rows held out for validation.
            validation_data: ``(x_val, y_val)`` instead of a split, or ``(x_val, y_val, val_sample_weight)``.
            verbose: Overrides the constructor's ``verbose`` for this call.
            sample_weight: One weight >= 0 per row of ``x``: weights the training loss, the validation scores
                and ensemble selection (``autodeep.fit.weights``).
            **kwargs: Only the Keras ``fit`` arguments in ``IGNORED_FIT_ARGUMENTS``, accepted and ignored.
        """
        started = time.time()
        class_weight = kwargs.pop("class_weight", self.class_weight)  # Keras' fit argument, or the constructor's
        check_keywords(f"{type(self).__name__}.fit()", kwargs, parameter_names(type(self), "fit"),
                       IGNORED_FIT_ARGUMENTS)
        settings = clone_project(self, check_settings(self, epochs=epochs, batch_size=batch_size, verbose=verbose))
        self.settings_ = settings  # clone_project: a scikit-learn clone's own project folder (habits)
        data = self._prepare(x, y, validation_data, validation_split, settings, sample_weight, class_weight)
        budget = Budget.plan(started, settings, data.n_tr, data.n_va, lazy=is_lazy(data.arrays_tr))
        run = self._trial_run(settings, data, callbacks, started)
        searcher = make_searcher(settings, run, self._initial_configs(self.graph_, data.specs), self.project_.study_url)
        self.study_ = run_search(searcher, run, budget, settings)
        self.tuner_ = bind_tuner(self.tuner, self)[0]
        marks = {"started": started, "searched": time.time()}  # the phases of fit, for the report
        best = best_trial(self.study_, run)
        members = select_members(self.study_, self.graph_, self.project_, data.targets_va, settings.ensemble_size,
                                 seed=settings.seed or 0, row_weights=data.weights_va, metric=run.metric)
        model, final, out_of_fold, members = final_model(members, data, run, budget, settings, self.study_)
        self.predictor_ = self._export(settings, data, members, model, best, final, marks, out_of_fold)
        if settings.verbose:
            print(done_line(started, best, settings.objective, final, self.project_.artifact_dir), flush=True)
        return self

    def _export(self, settings: Settings, data, members: list, model, best, final: dict, marks: dict,
                out_of_fold=None) -> Predictor:
        """Export ``model`` with each binary head's decision threshold (``autodeep.fit.metrics``; tuned on
        ``out_of_fold`` when the bagged folds give more rows than the validation split), and record the phases
        of ``fit`` (``marks``) for the report."""
        marks["final"] = time.time()
        thresholds, sources = decision_thresholds(self.decision_threshold, settings.objective, self.graph_, members,
                                                  self.project_, data, out_of_fold)
        info = search_info(best, objective_name(settings.objective), final, type(self).__name__)
        predictor = export(self.project_.artifact_dir, model, self.graph_, data, info, thresholds=thresholds,
                           threshold_sources=sources)
        record.save_timing(self.project_, marks)
        return predictor

    # -- after fit -----------------------------------------------------------
    def _require_fitted(self) -> Predictor:
        predictor = getattr(self, "predictor_", None)
        if predictor is None:
            raise RuntimeError(f"This {type(self).__name__} is not fitted yet: call fit() first.")
        return predictor

    def _adapt_x(self, x):
        return x

    def predict(self, x, batch_size: int | None = None, **kwargs):
        """Predict with the exported model; class labels come back in their original type."""
        return self._require_fitted().predict(self._adapt_x(x), batch_size=batch_size)

    def predict_proba(self, x, batch_size: int | None = None, **kwargs):
        """Class probabilities ``(n, n_classes)`` in the order of ``classes_``."""
        return self._require_fitted().predict_proba(self._adapt_x(x), batch_size=batch_size)

    def evaluate(self, x, y=None, batch_size: int | None = None, **kwargs):
        """Loss and metrics of the exported model on ``(x, y)``, as Keras' ``evaluate`` returns them."""
        x, y = self._adapt(x, y)
        return self._require_fitted().evaluate(x, y, batch_size=batch_size)

    def export_model(self):
        """The exported Keras model (numeric inputs), as AutoKeras returns it."""
        return self._require_fitted().export_model()

    def export_onnx(self, path) -> Path:
        """Write the fitted pipeline (preprocessing, network, decoding) as one ONNX graph at ``path``; the graph's
        inputs and outputs are described in ``autodeep.fit.artifact.Predictor.export_onnx``."""
        return self._require_fitted().export_onnx(path)  # onnx (issue 20 item 4)

    def save(self, path) -> Path:
        """Copy the exported artifact (preprocessing + model + manifest) to ``path``; load it with ``ak.load_model``."""
        import shutil

        predictor = self._require_fitted()
        path = Path(path)
        if path.exists():
            shutil.rmtree(path)
        shutil.copytree(predictor.path, path)
        return path

    @property
    def classes_(self):
        return self._require_fitted().classes_

    # -- seeing the search: autodeep.report reads the project folder -------------------------------
    def leaderboard(self) -> pd.DataFrame:
        """One row per trial, best first: architecture, validation metrics, time, state, ensemble weight."""
        from autodeep.report import leaderboard

        return leaderboard(self._require_project())

    def report(self, path="report.html") -> Path:
        """Write the search's HTML report (one self-contained file) to ``path``; needs ``autodeep[report]``."""
        from autodeep.report import write_report

        return write_report(self._require_project(), path)

    def feature_importance(self, x, y, n_repeats: int = 5, seed: int = 0) -> pd.DataFrame:
        """Permutation importance of each raw input column, through the exported model (see
        ``autodeep.report.feature_importance``)."""
        from autodeep.report import feature_importance

        x, y = self._adapt(x, y)
        return feature_importance(self._require_fitted(), x, y, n_repeats=n_repeats, seed=seed)

    def _require_project(self) -> Path:
        if getattr(self, "project_", None) is None:
            raise RuntimeError(f"This {type(self).__name__} has not searched yet: call fit() first.")
        return self.project_.path

    @property
    def tuner_results(self) -> pd.DataFrame:
        """One row per trial: number, state, score, parameters, error."""
        if getattr(self, "study_", None) is None:
            raise RuntimeError("No search has run yet: call fit() first.")
        return self.study_.trials_dataframe(attrs=("number", "state", "value", "params", "user_attrs"))
