"""``AutoModel``: the search-level API, and the orchestration every task class shares.

``fit`` runs the data flow of the design: adapt and split the data, fit the
preprocessors on the training rows, let the Searcher run trials (each one a
Graph build + a Trainer fit, stored by Storage), refit the best configuration
on all the data, export one artifact, and serve predictions from exactly that
artifact.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from autodeep.blocks import ClassificationHead, Merge
from autodeep.blocks.layers import WeightedAverage
from autodeep.data import check_lengths, train_validation_split
from autodeep.data.rows import concat_rows, is_lazy
from autodeep.ensemble import bootstrap_selection, validation_loss
from autodeep.graph import Graph, GraphError, Head, HyperParameters, Input, Node
from autodeep.graph.wiring import attach_heads
from autodeep.modalities import MODALITIES, preprocessor_for
from autodeep.search import Searcher, TrialPruned, resolve_tuner
from autodeep.storage import Project, atomic_write_json, read_json
from autodeep.tasks.artifact import Predictor, save_artifact
from autodeep.tasks import neighbours
from autodeep.tasks.checks import check_fraction, check_int, check_number, check_str, fixed_values
from autodeep.tasks.targets import TargetCodec
from autodeep.train import fit_model, free_memory, objective_direction, quiet_optimizer_state
from autodeep.train.batches import predict_model

SEARCH_SHARE = 0.85  # of time_limit before any trial finished; the rest is kept for the refit and the export
EXPORT_SECONDS = 4.0  # kept back for building, saving and reloading the exported model
# "auto" bags tables up to this many rows (train + validation). Measured at time_limit=60 (benchmarks/tabular.py,
# seeds 0-2): bagging raised mean AUC on the sets of 550-1,700 rows (credit-g +0.006, titanic +0.006, kc1 +0.003)
# and lowered it on phoneme (4,300 rows, -0.0035), where the folds took time the search needed.
BAGGING_MAX_ROWS = 3_000
BAGGING_FOLDS = 5
FINAL_SHARE = 0.4  # most of time_limit kept back from the search for the refit or bagging of the best trial


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def take_rows(raw, index: np.ndarray):
    """Rows ``index`` of a DataFrame, Series, array or list."""
    if isinstance(raw, (pd.DataFrame, pd.Series)):
        return raw.iloc[index]
    if isinstance(raw, np.ndarray):
        return raw[index]
    return [raw[i] for i in index]


def concat_arrays(a, b):
    """Rows of ``b`` after those of ``a``: named arrays (a dict, as inputs and multi-head targets are) or one
    array; each an array or LazyRows read on demand."""
    if not isinstance(a, dict):
        return concat_rows(a, b)
    return {k: concat_rows(a[k], b[k]) for k in a}


class AutoModel:
    """Search a Keras model for the inputs and heads you wire; AutoKeras' ``AutoModel``.

    Args:
        inputs: Input node(s): ``ak.Input()``, ``ak.StructuredDataInput()``, ...
        outputs: Head(s) (the graph between is chosen for you) or head output node(s) of a wired graph.
        project_name: Folder name under ``directory`` for the study, trials and export.
        max_trials: Number of trials to finish (an interrupted search resumes and counts earlier ones).
        directory: Parent folder of the project (``./autodeep_runs`` by default).
        objective: Validation metric to optimise, e.g. ``"val_loss"`` (default) or ``"val_accuracy"``.
        tuner: ``"greedy"`` (default), ``"bayesian"``, ``"tpe"``, ``"random"`` or ``"hyperband"``; or AutoKeras'
            ``ak.Greedy``, ``ak.BayesianOptimization``, ``ak.Hyperband``, ``ak.RandomSearch`` (class or instance).
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
        hyperparameters: Values fixed in every trial, by full name (``{"dense_block_1/num_layers": 1}``; a
            dict, or an object with ``.values`` such as a KerasTuner ``HyperParameters``); the names are
            those of ``tuner_results``. A name the default configuration does not use is warned about.

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
                 hyperparameters=None, bagging_folds="auto", retrieval="auto", **kwargs):
        self.inputs = _as_list(inputs)
        self.outputs = _as_list(outputs)
        self.project_name = check_str("project_name", project_name or self._default_project)
        self.max_trials = check_int("max_trials", max_trials)
        self.directory = str(directory) if directory is not None else "autodeep_runs"
        self.objective = check_str("objective", objective)
        self.tuner, self._tuner_object = resolve_tuner(tuner)
        if self._tuner_object is not None and seed is None:
            seed = self._tuner_object.seed
        if hyperparameters is None and self._tuner_object is not None:
            hyperparameters = self._tuner_object.hyperparameters
        self.hyperparameters = fixed_values(hyperparameters)
        self.overwrite = bool(overwrite)
        self.seed = check_int("seed", seed, minimum=0, allow_none=True)
        self.max_model_size = check_int("max_model_size", max_model_size, allow_none=True)
        self.time_limit = check_number("time_limit", time_limit)
        self.refit = refit
        self.storage = check_str("storage", storage, allow_none=True)
        self.max_consecutive_failures = check_int("max_consecutive_failures", max_consecutive_failures, minimum=0)
        self.ensemble_size = check_int("ensemble_size", ensemble_size)
        if bagging_folds != "auto":
            bagging_folds = check_int("bagging_folds", bagging_folds, minimum=0)
            if bagging_folds == 1:
                raise ValueError("bagging_folds must be 0 (no bagging), 2 or more, or 'auto'; received 1.")
        self.bagging_folds = bagging_folds
        if retrieval not in ("auto", True, False):
            raise ValueError(f"retrieval must be 'auto', True or False; received {retrieval!r}.")
        self.retrieval = retrieval
        self.verbose = verbose
        self.n_workers = check_int("n_workers", n_workers)
        self._graph: Graph | None = None
        self._predictor: Predictor | None = None
        self.study_ = None

    # -- graph ---------------------------------------------------------------
    def _initial_configs(self, graph: Graph, specs: dict) -> list[dict]:
        """Known-good hyperparameter values tried first (``specs``: each input's preprocessed format);
        task classes override this."""
        return [{}]

    def _build_graph(self) -> Graph:
        for node in self.inputs:
            if not isinstance(node, Input):
                raise GraphError(f"inputs must be input nodes such as ak.Input(); received {node!r}.")
        if self._graph is not None:  # fit again: same graph, same hyperparameter names
            return self._graph
        if all(isinstance(o, Head) and not o.outputs for o in self.outputs):
            wired = attach_heads(self.inputs, self.outputs)  # heads given unconnected go where the wiring ends
            return Graph(self.inputs, wired) if wired else self._auto_wire()
        outputs = []
        for out in self.outputs:
            if isinstance(out, Head):
                if not out.outputs:
                    raise GraphError(f"{out.name} is not connected: give either only heads (the graph is built "
                                     f"for you) or only head outputs of a graph you wired.")
                out = out.outputs[0]
            outputs.append(out)
        return Graph(self.inputs, outputs)

    def _auto_wire(self) -> Graph:
        features = []
        counts: dict[str, int] = {}
        for node in self.inputs:
            block_cls = getattr(MODALITIES.get(node.kind), "block", None)  # autodeep/modalities.py
            if block_cls is None:
                raise GraphError(f"No default block exists for {node!r}; wire a block to it yourself.")
            siblings = [n for n in self.inputs if n.kind == node.kind]
            if getattr(block_cls, "encodes_together", False) and len(siblings) > 1:
                if node is siblings[0]:  # one block reads all inputs of this kind (sentence pairs)
                    features.append(block_cls(name="_".join(w.lower() for w in _split_camel(block_cls.__name__))
                                              + "_1")(siblings))
                continue
            base = block_cls.__name__
            counts[base] = counts.get(base, 0) + 1
            name = "_".join(w.lower() for w in _split_camel(base)) + f"_{counts[base]}"
            features.append(block_cls(name=name)(node))
        merged = features[0] if len(features) == 1 else Merge(name="merge_1")(features)
        heads = [head(merged) for head in self.outputs]
        return Graph(self.inputs, heads)

    def _fixed(self, hp: HyperParameters) -> HyperParameters:
        """``hp`` with the user's fixed values (``hyperparameters=``), which win over the search."""
        return hp.fix(self.hyperparameters)

    def _warn_unused(self, hp: HyperParameters) -> None:
        """Warn once when a fixed name was not declared by the model just built."""
        unused = sorted(set(self.hyperparameters) - set(hp.values))
        if unused and not getattr(self, "_warned_unused", False):
            import warnings

            self._warned_unused = True
            warnings.warn(f"hyperparameters: {unused} are not used by this configuration (a misspelt name, or one "
                          f"that only exists in other branches of the space); names used: {sorted(hp.values)}.",
                          UserWarning, stacklevel=2)

    def _check_graph(self, graph: Graph, specs: dict) -> None:
        """Build the default configuration: raises ``GraphError`` when the wiring is wrong."""
        try:
            graph.build(self._fixed(HyperParameters()), specs)
        finally:
            free_memory()

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

    def fit(self, x=None, y=None, batch_size: int | None = None, epochs: int | None = None, callbacks=None,
            validation_split: float = 0.2, validation_data=None, verbose: int | None = None, **kwargs):
        """Search, refit the best model and export it; afterwards ``predict`` uses the export.

        Args:
            x: Training inputs (one per input node; a list for several).
            y: Training targets (one per head; a list for several).
            batch_size: Fixed batch size; chosen from the data size when ``None``.
            epochs: Epochs per trial; ``None`` trains with early stopping.
            callbacks: Keras callbacks added to every fit.
            validation_split: Share of the training rows held out for validation.
            validation_data: ``(x_val, y_val)`` instead of a split.
        """
        started = time.time()
        if verbose is not None:
            self.verbose = verbose
        epochs = check_int("epochs", epochs, allow_none=True)
        batch_size = check_int("batch_size", batch_size, allow_none=True)
        if x is None or y is None:
            raise ValueError(f"fit needs both x and y; received x={type(x).__name__}, y={type(y).__name__}.")
        x, y = self._adapt(x, y)
        graph = self._graph = self._build_graph()
        xs, ys = self._split_xy(x, y, graph)
        n = len(pd.DataFrame(xs[0])) if isinstance(xs[0], dict) else _n_rows(xs[0])
        for i, raw in enumerate(xs):
            check_lengths(_n_rows(raw), [0] * n, x_name=f"x[{i}]" if len(xs) > 1 else "x", y_name="x[0]")
        for i, target in enumerate(ys):
            check_lengths(n, target, x_name="x", y_name=f"y[{i}]" if len(ys) > 1 else "y")

        codecs = [TargetCodec(head.task).fit(t, argument="y") for head, t in zip(graph.heads, ys)]
        for head, codec in zip(graph.heads, codecs):
            head.configure(codec.meta())

        if validation_data is not None:
            x_val_raw, y_val_raw = self._adapt(*validation_data)
            xv, yv = self._split_xy(x_val_raw, y_val_raw, graph, argument="validation_data[0]")
            train_x, val_x, train_y, val_y = xs, xv, ys, yv
        else:
            check_fraction("validation_split", validation_split)
            stratify = next((codec.encode(t) for codec, t in zip(codecs, ys)
                             if codec.task == "classification" and not codec.meta()["multi_label"]), None)
            train_idx, val_idx = train_validation_split(n, y=stratify, validation_split=validation_split,
                                                        seed=self.seed or 0)
            train_x = [take_rows(r, train_idx) for r in xs]
            val_x = [take_rows(r, val_idx) for r in xs]
            train_y = [take_rows(_as_array(t), train_idx) for t in ys]
            val_y = [take_rows(_as_array(t), val_idx) for t in ys]

        preprocessors = [preprocessor_for(node).fit(raw) for node, raw in zip(graph.inputs, train_x)]
        specs = {node.name: p.specs() for node, p in zip(graph.inputs, preprocessors)}
        arrays_tr = self._transform(graph, preprocessors, train_x)
        arrays_va = self._transform(graph, preprocessors, val_x)
        targets_tr = self._targets(graph, codecs, train_y)
        targets_va = self._targets(graph, codecs, val_y)

        project = Project(self.directory, self.project_name, overwrite=self.overwrite)
        self._project = project
        deadline = started + self.time_limit if self.time_limit else None
        n_tr, n_va = _n_rows_arrays(arrays_tr), _n_rows_arrays(arrays_va)
        folds = self._bagging(n_tr + n_va, epochs, arrays_tr)

        def search_deadline(study):
            """Keep back the refit (or bagging) time of the best trial so far (a share of the limit before any)."""
            import optuna

            if not self.time_limit:
                return None
            completed = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
            if not completed or not self.refit:
                reserve = (1 - SEARCH_SHARE) * self.time_limit if self.refit else EXPORT_SECONDS
            elif folds:
                reserve = EXPORT_SECONDS + folds * _fold_seconds(study.best_trial)
            else:
                reserve = EXPORT_SECONDS + _refit_seconds(study.best_trial, n_tr, n_va)
            return deadline - min(reserve, FINAL_SHARE * self.time_limit)

        starts = list(getattr(self._tuner_object, "initial_hps", [])) + self._initial_configs(graph, specs)
        searcher = Searcher(
            tuner=self.tuner, max_trials=self.max_trials, direction=objective_direction(self.objective),
            storage=self.storage or project.study_url, study_name=self.project_name, seed=self.seed,
            initial_configs=starts,
            max_consecutive_failures=self.max_consecutive_failures,
            max_epochs=epochs or 100, verbose=self.verbose, fail_running=self.n_workers == 1 and not self.storage)

        def probe(hp):
            graph.build(self._fixed(hp), specs)
            self._warn_unused(hp)
            free_memory()

        def run_trial(number, hp, reporter, trial_deadline):
            if self.seed is not None:
                import keras

                keras.utils.set_random_seed(self.seed + number)
            try:
                model = graph.build(self._fixed(hp), specs)
                self._warn_unused(hp)
                size = model.count_params()
                if self.max_model_size and size > self.max_model_size:
                    raise ValueError(f"the model has {size} parameters, more than max_model_size={self.max_model_size}")
                result = fit_model(model, arrays_tr, targets_tr, validation_data=(arrays_va, targets_va),
                                   epochs=epochs, batch_size=batch_size, objective=self.objective,
                                   callbacks=callbacks, deadline=trial_deadline, reporter=reporter,
                                   patience=_patience(self, graph, epochs))
                if result.stopped == "pruned":
                    raise TrialPruned()
                predictions = predict_model(model, arrays_va, batch_size=1024)
                attrs = {"best_epoch": result.best_epoch, "epochs_run": result.epochs_run,
                         "fit_seconds": result.seconds, "stopped": result.stopped, "params": size}
                project.save_trial(number, config={"values": hp.values}, metrics={"score": result.score, **attrs},
                                   model=model, val_predictions=_as_list(predictions))
                return result.score, attrs
            finally:
                free_memory()

        if self.n_workers > 1 or self.storage:  # other processes may run trials: publish the search for them
            from autodeep.search.worker import run_with_workers

            study = self.study_ = run_with_workers(searcher, probe, run_trial, search_deadline, self.n_workers,
                                                   project.path / "workers", verbose=self.verbose)
        else:
            study = self.study_ = searcher.run(probe, run_trial, deadline=search_deadline)
        best = self._best_trial(study, graph, specs)
        members = self._select_members(study, graph, project, targets_va)
        keys = self._retrieval_keys(graph, specs, arrays_tr, n_tr + n_va)
        val_predictions = self._member_predictions(graph, members, project) if keys else None
        keys = keys if val_predictions is not None else []
        if keys:
            blends = neighbours.choose_blends(graph, keys, val_predictions, arrays_tr, targets_tr, arrays_va,
                                              targets_va, seed=self.seed or 0)
        model, final = self._final_model(graph, specs, members, project, arrays_tr, targets_tr, arrays_va, targets_va,
                                         batch_size, callbacks, deadline, folds, epochs)
        if keys:
            final["retrieval"] = [{k: c.get(k) for k in ("used", "tau", "prior", "gain", "held_out_gain")}
                                  for c in blends]
            if any(c["used"] for c in blends):
                model = neighbours.attach_blends(graph, specs, model, keys, blends, concat_arrays(arrays_tr, arrays_va),
                                                 concat_arrays(targets_tr, targets_va))
        inputs = [{"name": node.name, "kind": node.kind, "preprocessor": p}
                  for node, p in zip(graph.inputs, preprocessors)]
        outputs = [{"name": h.name, "task": h.task, "codec": c, "target_format": h.target_format,
                    "num_classes": getattr(h, "num_classes", None)} for h, c in zip(graph.heads, codecs)]
        info = {"best_trial": best.number, "best_score": best.value, "objective": self.objective,
                "params": best.params, "final": final, "task": type(self).__name__}
        save_artifact(project.artifact_dir, model, inputs, outputs, info)
        free_memory()
        self._predictor = Predictor.load(project.artifact_dir)
        if self.verbose:
            print(f"[autodeep] done in {time.time() - started:.1f}s: best trial {best.number + 1} "
                  f"{self.objective}={best.value:.5g}; final model: {final['kind']} of {len(members)} trial(s); exported to {project.artifact_dir}",
                  flush=True)
        return self

    def _transform(self, graph, preprocessors, raws) -> dict:
        arrays = {}
        for node, pre, raw in zip(graph.inputs, preprocessors, raws):
            for key, value in pre.transform(raw).items():
                arrays[f"{node.name}__{key}"] = value
        return arrays

    def _targets(self, graph, codecs, ys):
        prepared = {h.name: h.prepare_targets(c.encode(t)) for h, c, t in zip(graph.heads, codecs, ys)}
        return prepared if len(prepared) > 1 else next(iter(prepared.values()))

    def _best_trial(self, study, graph: Graph, specs: dict):
        import optuna

        completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not completed:
            self._check_graph(graph, specs)  # a wiring mistake is the error to report (the trials may predate it)
            errors = {t.number + 1: t.user_attrs.get("error", t.state.name) for t in study.trials}
            raise RuntimeError(f"No trial finished successfully, so there is no model to export. "
                               f"Trial errors: {errors}. Raise time_limit or max_trials, or fix the errors above.")
        return study.best_trial

    def _select_members(self, study, graph, project, targets_va) -> list[tuple]:
        """Trials to export with their weights: greedy ensemble selection on bootstrap resamples of the
        validation predictions, averaged (``autodeep.ensemble.bootstrap_selection``)."""
        import optuna

        best = study.best_trial
        if self.ensemble_size <= 1:
            return [(best, 1.0)]
        reverse = study.direction == optuna.study.StudyDirection.MAXIMIZE
        completed = sorted((t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE),
                           key=lambda t: t.value, reverse=reverse)[:20]
        candidates, predictions = [], []
        for trial in completed:
            preds = project.load_val_predictions(trial.number)
            if len(preds) == len(graph.heads) and (project.trial_dir(trial.number) / "model.weights.h5").exists():
                candidates.append(trial)
                predictions.append(preds)
        if len(candidates) <= 1:
            return [(best, 1.0)]
        ys = [targets_va[h.name] for h in graph.heads] if isinstance(targets_va, dict) else [targets_va]
        losses = [validation_loss(h.target_format) for h in graph.heads]
        weights = bootstrap_selection(predictions, ys, losses, max_size=self.ensemble_size, seed=self.seed or 0)
        return sorted(((candidates[i], w) for i, w in weights.items()), key=lambda m: -m[1])

    def _retrieval_keys(self, graph, specs, arrays, n_rows: int) -> list[tuple[str, str]]:
        """The inputs neighbour blending measures distances on; empty when it is not to be tried."""
        if self.retrieval is False or is_lazy(arrays) or (self.retrieval == "auto" and n_rows > neighbours.MAX_ROWS):
            return []
        return neighbours.retrieval_keys(graph, specs)

    def _member_predictions(self, graph, members, project) -> list[np.ndarray] | None:
        """Per head, the chosen members' validation predictions averaged with their ensemble weights
        (None when a member's predictions are not on disk)."""
        total = sum(w for _, w in members)
        outputs = [0.0] * len(graph.heads)
        for trial, weight in members:
            predictions = project.load_val_predictions(trial.number)
            if len(predictions) != len(graph.heads):
                return None
            for k, p in enumerate(predictions):
                outputs[k] = outputs[k] + np.asarray(p, dtype="float64") * (weight / total)
        return outputs

    def _bagging(self, n_rows: int, epochs, arrays) -> int:
        """Folds to bag each chosen configuration on (0: refit on all rows instead)."""
        if not self.refit or self.bagging_folds == 0:
            return 0
        if self.bagging_folds != "auto":
            return self.bagging_folds
        small = n_rows <= BAGGING_MAX_ROWS and not is_lazy(arrays)
        return BAGGING_FOLDS if small and epochs is None else 0

    def _final_model(self, graph, specs, members, project, arrays_tr, targets_tr, arrays_va, targets_va,
                     batch_size, callbacks, deadline, folds: int = 0, epochs: int | None = None):
        """The model to export. Each chosen configuration is, as time allows: bagged (the trial's model
        averaged with ``folds`` models trained on folds of all rows), refit on all rows, or the trial's
        own weights. Several models become one Keras model that averages them."""
        import keras

        n_tr, n_va = _n_rows_arrays(arrays_tr), _n_rows_arrays(arrays_va)
        if self.refit:
            x_all = concat_arrays(arrays_tr, arrays_va)
            y_all = concat_arrays(targets_tr, targets_va)
        fold_index = _fold_indices(_class_labels(graph, y_all), n_tr + n_va, folds, self.seed or 0) if folds else []
        models, weights, how, n_models = [], [], [], []
        for i, (trial, weight) in enumerate(members):  # heaviest members first: they get the time first
            def build(offset):
                if self.seed is not None:
                    keras.utils.set_random_seed(self.seed + 10_000 + 100 * i + offset)
                return graph.build(HyperParameters(values={**trial.params, **self.hyperparameters}), specs)

            def trial_model():
                model = build(0)
                with quiet_optimizer_state():
                    model.load_weights(project.trial_dir(trial.number) / "model.weights.h5")
                return model

            bag = []
            for k, (fit_idx, stop_idx) in enumerate(fold_index):
                remaining = deadline - time.time() if deadline else math.inf
                if _fold_seconds(trial) > remaining - EXPORT_SECONDS:
                    break
                model = build(k + 1)
                result = fit_model(model, _take(x_all, fit_idx), _take(y_all, fit_idx),
                                   validation_data=(_take(x_all, stop_idx), _take(y_all, stop_idx)),
                                   epochs=epochs, batch_size=batch_size, objective=self.objective, callbacks=callbacks,
                                   deadline=deadline, patience=_patience(self, graph, epochs))
                if result.stopped == "deadline":
                    break  # half-trained: leave it out
                bag.append(model)
            remaining = deadline - time.time() if deadline else math.inf
            if bag:
                bag.append(trial_model())
                how.append("bagged")
            elif self.refit and _refit_seconds(trial, n_tr, n_va) < remaining - EXPORT_SECONDS:
                model = build(0)
                fit_model(model, x_all, y_all, epochs=int(trial.user_attrs.get("best_epoch", 1)),
                          batch_size=batch_size, objective=self.objective, callbacks=callbacks, deadline=deadline)
                bag.append(model)
                how.append("refit")
            else:
                bag.append(trial_model())
                how.append("trial_weights")
            models += bag
            weights += [weight / len(bag)] * len(bag)
            n_models.append(len(bag))
        kind = how[0] if len(set(how)) == 1 else "mixed"
        trained_on_all = any(h != "trial_weights" for h in how)
        final = {"kind": kind, "rows": n_tr + n_va if trained_on_all else n_tr, "members": [t.number for t, _ in members],
                 "weights": [w for _, w in members], "member_kinds": how, "models_per_member": n_models,
                 "folds": folds}
        if "trial_weights" in how:
            final["reason"] = "refit disabled" if not self.refit else "no time left to refit every member"
        if len(models) == 1:
            return models[0], final
        inputs = graph.keras_inputs(specs)
        outputs = [m(inputs) for m in models]
        outputs = [o if isinstance(o, (list, tuple)) else [o] for o in outputs]
        averaged = [WeightedAverage(weights, name=head.name)([o[k] for o in outputs])
                    for k, head in enumerate(graph.heads)]
        ensemble = keras.Model(inputs=inputs, outputs=averaged if len(averaged) > 1 else averaged[0])
        graph.compile(ensemble, HyperParameters())
        return ensemble, final

    # -- after fit -----------------------------------------------------------
    def _require_fitted(self) -> Predictor:
        if self._predictor is None:
            raise RuntimeError(f"This {type(self).__name__} is not fitted yet: call fit() first.")
        return self._predictor

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

    @property
    def tuner_results(self) -> pd.DataFrame:
        """One row per trial: number, state, score, parameters, error."""
        if self.study_ is None:
            raise RuntimeError("No search has run yet: call fit() first.")
        return self.study_.trials_dataframe(attrs=("number", "state", "value", "params", "user_attrs"))


def _n_rows_arrays(arrays: dict) -> int:
    return len(next(iter(arrays.values())))


def _patience(model, graph, epochs) -> int | None:
    """Early-stopping patience: the task's, else the smallest its input kinds suggest, else the trainer's."""
    if epochs is not None:  # fixed epochs: no early stopping
        return None
    hints = [n.patience for n in graph.inputs if getattr(n, "patience", None)]
    return getattr(model, "patience", None) or (min(hints) if hints else None)


def _refit_seconds(trial, n_tr: int, n_va: int) -> float:
    """Expected seconds to retrain ``trial``'s configuration on train + validation rows."""
    attrs = trial.user_attrs
    per_epoch = attrs.get("fit_seconds", 0.0) / max(attrs.get("epochs_run", 1), 1)
    return per_epoch * attrs.get("best_epoch", 1) * (n_tr + n_va) / max(n_tr, 1) * 1.15


def _fold_seconds(trial) -> float:
    """Expected seconds to train ``trial``'s configuration on one fold (early stopping, as in the trial)."""
    return trial.user_attrs.get("fit_seconds", 0.0) * 1.15


def _class_labels(graph, y) -> np.ndarray | None:
    """Class indices of the first single-label classification head (what the folds are stratified by), or None."""
    for head in graph.heads:
        if head.target_format in ("binary", "sparse", "onehot"):
            target = np.asarray(y[head.name] if isinstance(y, dict) else y)
            target = target.reshape(len(target), -1)
            return (target.argmax(axis=1) if target.shape[1] > 1 else target[:, 0]).astype("int64")
    return None


def _fold_indices(labels: np.ndarray | None, n: int, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(fit, stop)`` indices of ``folds`` folds of ``n`` rows, stratified by ``labels`` when every class has
    a row for each fold."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if labels is not None and np.unique(labels, return_counts=True)[1].min() >= folds:
        return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(n), labels))
    return list(KFold(folds, shuffle=True, random_state=seed).split(np.zeros(n)))


def _take(arrays, index: np.ndarray):
    """Rows ``index`` of an array or of each array in a dict."""
    if isinstance(arrays, dict):
        return {k: v[index] for k, v in arrays.items()}
    return arrays[index]


def _split_camel(name: str) -> list[str]:
    import re

    return re.findall(r"[A-Z][a-z0-9]*", name)


def _n_rows(raw) -> int:
    if isinstance(raw, (str, Path)):
        raise TypeError("x is a path; only the task classes (e.g. ak.StructuredDataClassifier) read paths.")
    return len(raw)


def _as_array(target):
    if isinstance(target, (pd.Series, pd.DataFrame, np.ndarray)):
        return target
    return np.asarray(target)
