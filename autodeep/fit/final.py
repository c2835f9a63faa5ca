"""The final model: each chosen trial bagged, refit on all rows, or kept with its trial weights (as the
``Budget`` allows), the members averaged into one Keras model, and neighbour blending attached when it
helps. When a single-head model is bagged, more of the best trials are bagged while time is left and the
ensemble is chosen again on the bagged trials' out-of-fold predictions, which cover every row where the
search's validation split holds a fifth of them. Returns the model, the ``final`` record the manifest
keeps, the bagged folds' out-of-fold predictions when a binary head's threshold is to be tuned on them
(``autodeep.fit.out_of_fold``), and the members."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autodeep.blocks.heads import class_indices
from autodeep.blocks.layers import WeightedAverage
from autodeep.data.rows import take_rows
from autodeep.ensemble.neighbours import per_head
from autodeep.fit.blend import attach_blends, blend_keys, choose_blends
from autodeep.fit.budget import RESELECT_MIN, Budget, refit_epochs
from autodeep.fit.members import bagging_pool, choose
from autodeep.fit.metrics import tunes_threshold
from autodeep.fit.out_of_fold import OutOfFold, combine, fold_prediction
from autodeep.fit.prepare import PreparedData
from autodeep.fit.trial import TrialRun
from autodeep.fit.weights import weighted_validation
from autodeep.graph import HyperParameters
from autodeep.morph.inherit import rebuild
from autodeep.train import fit_model, quiet_optimizer_state
from autodeep.train.cohort import cohort_mismatch, fit_cohort

RETRIEVAL_FIELDS = ("used", "tau", "prior", "gain", "held_out_gain")  # of each head's blend, kept in the manifest
POOL = 8  # trials bagged at most when time is left: the members first, then the next best by validation score


@dataclass
class Member:
    """One trial of the final model: its ensemble ``weight``, its ``models``, how they were made (``kind``,
    see ``member_models``) and its fold models' ``fold_prediction`` results (``folds``)."""

    trial: object
    weight: float
    models: list
    kind: str
    folds: list = field(default_factory=list)


def final_model(members: list[tuple], data: PreparedData, run: TrialRun, budget: Budget, settings, study):
    """``(model, final, out_of_fold, members)``: the model to export for ``members`` (``[(trial, weight)]``,
    heaviest first: they get the time first), the record of how it was made, the first head's ``OutOfFold``
    predictions (None unless every member was bagged and the threshold is tuned; these are also kept in the
    project folder as ``out_of_fold.npz``) and the members it holds.

    ``settings`` (``autodeep.fit.settings``) give ``refit``, ``retrieval`` and ``ensemble_size``. When the final
    stage bags a single-head model, the next best trials of ``study`` are bagged after the members while time
    is left (``POOL`` trials in all), and once ``RESELECT_MIN`` trials are fully bagged the ensemble is chosen
    again among them on their out-of-fold predictions: every row of train + validation, where the search
    ranked the trials on the validation rows alone."""
    graph, seed, refit = run.graph, run.seed or 0, settings.refit
    keys = blend_keys(settings.retrieval, graph, data)
    x_all, y_all = data.all_rows() if refit or keys else (None, None)
    w_all = data.all_weights() if refit else None
    folds = fold_indices(class_labels(graph, y_all), data.n_tr + data.n_va, budget.folds, seed) if budget.folds else []
    reselect = bool(folds) and len(graph.heads) == 1 and settings.ensemble_size > 1
    tunes = bool(folds) and tunes_threshold(run.decision_threshold, run.metric, graph.heads)
    chosen = [member_models(i, trial, weight, run, budget, refit, x_all, y_all, folds, w_all, reselect or tunes)
              for i, (trial, weight) in enumerate(members)]
    selected_from = 0
    if reselect:
        pool = bagging_pool(study, run.project, members, POOL)
        chosen, selected_from = reselected(chosen, pool, run, budget, x_all, y_all, folds, w_all,
                                           settings.ensemble_size)
    members = [(m.trial, m.weight) for m in chosen]
    final = _record(chosen, data, refit, budget.folds, selected_from)
    oof = out_of_fold([m.folds for m in chosen] if tunes else None, members, graph, y_all, w_all, run.project, final)
    models = [model for m in chosen for model in m.models]
    weights = [m.weight / len(m.models) for m in chosen for _ in m.models]
    model = models[0] if len(models) == 1 else average_models(graph, data.specs, models, weights)
    keys, blends = choose_blends(keys, graph, data, members, run.project, seed=seed)
    if keys:
        final["retrieval"] = [{k: c.get(k) for k in RETRIEVAL_FIELDS} for c in blends]
        if any(c["used"] for c in blends):
            model = attach_blends(graph, data.specs, model, keys, blends, x_all, y_all)
    return model, final, oof, members


def out_of_fold(per_member: list | None, members: list[tuple], graph, y_all, w_all, project, final: dict) \
        -> OutOfFold | None:
    """The members' fold predictions (``per_member``, or None when not collected) combined, saved in the
    project folder (an earlier fit's removed when there are none) and their row count added to ``final``."""
    oof = None
    if per_member is not None:
        y_first = per_head(graph, y_all)[0]
        oof = combine(per_member, [w for _, w in members], y_first, w_all, len(y_first))
    project.save_out_of_fold(None if oof is None else oof.arrays())
    if oof is not None:
        final["out_of_fold_rows"] = len(oof.rows)
    return oof


def reselected(chosen: list[Member], pool: list, run: TrialRun, budget: Budget, x_all, y_all, folds: list, w_all,
               ensemble_size: int) -> tuple[list[Member], int]:
    """``(members, selected_from)``: ``(chosen, 0)``, or, when with the trials of ``pool`` bagged while time is
    left at least ``RESELECT_MIN`` trials have every fold, the ensemble chosen among those on their
    out-of-fold predictions (heaviest first) and how many trials it was chosen from."""
    extra = []
    for trial in pool:
        i = len(chosen) + len(extra)
        bag = fold_models(i, trial, run, budget, x_all, y_all, folds, w_all)
        if len(bag) < len(folds):
            break  # the deadline: a partly bagged trial does not cover every row
        extra.append(bagged(i, trial, 0.0, run, bag, x_all, collect=True))
    complete = [m for m in chosen + extra if m.kind == "bagged" and len(m.folds) == len(folds)]
    if len(complete) < RESELECT_MIN:
        return chosen, 0
    y_first = per_head(run.graph, y_all)[0]
    predictions = [[covering(m.folds, len(y_first))] for m in complete]
    weights = choose(run.graph, predictions, [y_first], ensemble_size, seed=run.seed or 0, row_weights=w_all,
                     metric=run.metric)
    for i, m in enumerate(complete):
        m.weight = weights.get(i, 0.0)
    return sorted((m for m in complete if m.weight > 0), key=lambda m: -m.weight), len(complete)


def covering(fold_predictions: list[tuple], n_rows: int) -> np.ndarray:
    """One array of ``n_rows`` predictions put together from folds that cover every row (``fold_prediction``
    results).

    Example:
        >>> covering([(np.array([0, 2]), np.array([[0.1], [0.3]])), (np.array([1]), np.array([[0.2]]))], 3).tolist()
        [[0.1], [0.2], [0.3]]
    """
    width = fold_predictions[0][1].shape[1:]
    whole = np.zeros((n_rows,) + width)
    for rows, prediction in fold_predictions:
        whole[rows] = prediction
    return whole


def member_models(i: int, trial, weight: float, run: TrialRun, budget: Budget, refit: bool, x_all, y_all,
                  folds: list, w_all=None, collect: bool = False) -> Member:
    """Member ``i`` of ``weight`` and how its models were made: ``"bagged"`` (fold models and the trial's own),
    ``"refit"`` (one model on all rows) or ``"trial_weights"`` (``w_all``: the rows' weights, or None); with
    ``collect``, a bagged member keeps its fold models' ``fold_prediction`` of their held-out rows."""
    bag = fold_models(i, trial, run, budget, x_all, y_all, folds, w_all)
    if bag:
        return bagged(i, trial, weight, run, bag, x_all, collect)
    if refit and budget.refit_fits(trial):
        model = build_member(run, trial, i, 0)
        result = fit_model(model, x_all, y_all, epochs=refit_epochs(trial), batch_size=run.batch_size,
                           objective=run.objective, callbacks=run.callbacks, deadline=budget.deadline,
                           sample_weight=w_all)
        if result.stopped != "deadline":  # else half-trained: the trial's own weights are better
            return Member(trial, weight, [model], "refit")
    return Member(trial, weight, [trial_model(run, trial, i)], "trial_weights")


def bagged(i: int, trial, weight: float, run: TrialRun, bag: list[tuple], x_all, collect: bool) -> Member:
    """Member ``i`` of ``weight`` made of its fold models (``bag``, from ``fold_models``) and the trial's own, with
    the folds' ``fold_prediction`` of their held-out rows when ``collect``."""
    folds = [fold_prediction(model, x_all, stop, outputs) for model, stop, outputs in bag] if collect else []
    return Member(trial, weight, [model for model, _, _ in bag] + [trial_model(run, trial, i)], "bagged", folds)


def fold_models(i: int, trial, run: TrialRun, budget: Budget, x_all, y_all, folds: list, w_all) -> list[tuple]:
    """``[(model, stop_rows, outputs)]``: member ``i``'s fold models, trained together when they can and the time
    allows (``Budget.folds_together``), else in turn; those the deadline cut are left out. ``outputs`` are a
    model's outputs on its ``stop_rows`` when its training returned them (together), else None."""
    if folds and run.trains_together() and budget.folds_together(trial, len(folds)):
        return folds_together(i, trial, run, budget, x_all, y_all, folds, w_all)
    return folds_in_turn(i, trial, run, budget, x_all, y_all, folds, w_all)


def folds_in_turn(i: int, trial, run: TrialRun, budget: Budget, x_all, y_all, folds: list, w_all) -> list[tuple]:
    """``[(model, stop_rows, None)]``: member ``i``'s fold models trained one after another while the next one
    fits."""
    bag = []
    for k, (fit_idx, stop_idx) in enumerate(folds):
        if not budget.fold_fits(trial):
            break
        model = build_member(run, trial, i, k + 1)
        stop = weighted_validation((take_rows(x_all, stop_idx), take_rows(y_all, stop_idx)),
                                   None if w_all is None else w_all[stop_idx])
        result = fit_model(model, take_rows(x_all, fit_idx), take_rows(y_all, fit_idx), validation_data=stop,
                           sample_weight=None if w_all is None else w_all[fit_idx],
                           epochs=run.epochs, batch_size=run.batch_size, objective=run.objective,
                           callbacks=run.callbacks, deadline=budget.deadline, patience=run.patience)
        if result.stopped == "deadline":
            break  # half-trained: leave it out
        bag.append((model, stop_idx, None))
    return bag


def folds_together(i: int, trial, run: TrialRun, budget: Budget, x_all, y_all, folds: list, w_all) -> list[tuple]:
    """``[(model, stop_rows, outputs)]``: member ``i``'s fold models trained together as one program
    (``fit_cohort``), each on its own rows and early-stopped on its own held-out rows (``outputs``: its outputs
    there at its best epoch); those the deadline cut short, or whose loss diverged, are left out."""
    models = [build_member(run, trial, i, k + 1) for k in range(len(folds))]
    if cohort_mismatch(models):
        return folds_in_turn(i, trial, run, budget, x_all, y_all, folds, w_all)
    results = fit_cohort(models, x_all, y_all, folds=folds, sample_weight=w_all, batch_size=run.batch_size,
                         patience=run.patience, deadline=budget.deadline,
                         seed=None if run.seed is None else run.seed + 10_000 + 100 * i)
    return [(model, stop_idx, result.validation_predictions)
            for model, result, (_, stop_idx) in zip(models, results, folds)
            if not isinstance(result, Exception) and result.stopped != "deadline"]


def build_member(run: TrialRun, trial, i: int, offset: int):
    """A fresh model of ``trial``'s configuration (seeded per member ``i`` and model ``offset``)."""
    if run.seed is not None:
        import keras

        keras.utils.set_random_seed(run.seed + 10_000 + 100 * i + offset)
    model = run.graph.build(HyperParameters(values={**trial.params, **run.hyperparameters}), run.specs)
    return rebuild(model, trial.user_attrs.get("morph_chain"))  # a morph child: its chain of morphs replayed


def trial_model(run: TrialRun, trial, i: int):
    """``trial``'s own model, with the weights its trial saved."""
    return with_trial_weights(build_member(run, trial, i, 0), run.project, trial.number)


def with_trial_weights(model, project, number: int):
    """``model``, built with trial ``number``'s values, loaded with the weights that trial saved in ``project``
    (``trials/trial_NNNN/model.weights.h5``); ``clf.tuner_.get_best_models()`` loads them this way too."""
    with quiet_optimizer_state():
        model.load_weights(project.weights_file(number))
    return model


def average_models(graph, specs: dict, models: list, weights: list[float]):
    """One compiled Keras model whose heads are the ``weights``-weighted averages of ``models``' heads."""
    import keras

    inputs = graph.keras_inputs(specs)
    outputs = [m(inputs) for m in models]
    outputs = [o if isinstance(o, (list, tuple)) else [o] for o in outputs]
    averaged = [WeightedAverage(weights, name=head.name)([o[k] for o in outputs])
                for k, head in enumerate(graph.heads)]
    ensemble = keras.Model(inputs=inputs, outputs=averaged if len(averaged) > 1 else averaged[0])
    graph.compile(ensemble, HyperParameters())
    return ensemble


def _record(members: list[Member], data: PreparedData, refit: bool, folds: int, selected_from: int) -> dict:
    """The manifest's ``final`` entry: the kind, rows trained on, members, weights and models per member, and
    ``selected_on``: the rows the members were chosen on (``"out_of_fold"`` among ``selected_from`` bagged
    trials, else ``"validation"``)."""
    how = [m.kind for m in members]
    trained_on_all = any(h != "trial_weights" for h in how)
    final = {"kind": how[0] if len(set(how)) == 1 else "mixed",
             "rows": data.n_tr + data.n_va if trained_on_all else data.n_tr,
             "members": [m.trial.number for m in members], "weights": [m.weight for m in members],
             "member_kinds": how, "models_per_member": [len(m.models) for m in members], "folds": folds,
             "selected_on": "out_of_fold" if selected_from else "validation"}
    if selected_from:
        final["selected_from"] = selected_from
    if "trial_weights" in how:
        final["reason"] = "refit disabled" if not refit else "no time left to refit every member"
    return final


def class_labels(graph, y) -> np.ndarray | None:
    """Class indices of the first single-label classification head (what the folds are stratified by), or None."""
    for head in graph.heads:
        if head.target_format in ("binary", "sparse", "onehot"):
            return class_indices(y[head.name] if isinstance(y, dict) else y)
    return None


def fold_indices(labels: np.ndarray | None, n: int, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(fit, stop)`` indices of ``folds`` folds of ``n`` rows, stratified by ``labels`` when every class has
    a row for each fold.

    Example:
        >>> [len(stop) for _, stop in fold_indices(np.array([0, 1] * 5), 10, folds=2, seed=0)]
        [5, 5]
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    if labels is not None and np.unique(labels, return_counts=True)[1].min() >= folds:
        return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(n), labels))
    return list(KFold(folds, shuffle=True, random_state=seed).split(np.zeros(n)))
