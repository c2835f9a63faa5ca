"""Objectives computed with numpy/scikit-learn on each trial's validation predictions, and the decision
threshold of binary heads.

``objective=`` takes a Keras log name as before (``"val_loss"``, ``"val_accuracy"``: read from Keras' history),
one of ``METRICS``' names (``"auc"``, ``"f1"``, ``"balanced_accuracy"``, ``"log_loss"``, ``"accuracy"``, ``"rmse"``,
``"mae"``, ``"r2"``, ``"mape"``), or an ``ak.Metric`` wrapping any ``metric(y_true, y_pred)``. For the latter two,
trials train with early stopping on the validation loss; the trial's score, the ranking of trials and greedy
ensemble selection use the metric on the validation rows (weighted by the rows' weights). The metric is
computed on the first head: class indices (``y_true``) and, as the metric ``needs``, the predicted class
indices (``"label"``), the probabilities (``"proba"``: the positive class's for a binary head) or the
values (``"value"``, regression).

**Decision threshold.** ``decision_threshold="auto"`` (the default) tunes the threshold of a binary head when
the objective needs labels (``"f1"``, ``"balanced_accuracy"``, ``"accuracy"``, or an ``ak.Metric`` with
``needs="label"``): the threshold maximising the objective is kept in the manifest (the head's ``threshold``, and
``threshold_source``) and ``predict`` uses it; ``predict_proba`` is unchanged. It is tuned on the out-of-fold
predictions of the bagged members (``"out_of_fold"``, ``autodeep.fit.out_of_fold``) when the final stage bagged
and they cover more rows than the validation split, else on the exported members' validation predictions
(``"validation"``). A number fixes the threshold (``"fixed"``); ``None`` keeps 0.5 (argmax).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Metric:
    """A metric ``fn(y_true, y_pred) -> float`` with its direction, for ``objective=``.

    Args:
        fn: The metric; ``fn(y_true, y_pred, sample_weight=w)`` is called when the rows are weighted and ``fn``
            takes ``sample_weight``.
        direction: ``"max"`` (greater is better) or ``"min"``.
        name: Shown in logs and the manifest (the function's name by default).
        needs: What ``y_pred`` holds: ``"label"`` (class indices), ``"proba"`` (probabilities; a binary head's
            positive class), or ``"value"`` (regression).

    Example:
        >>> from sklearn.metrics import fbeta_score
        >>> import autodeep as ak
        >>> f2 = ak.Metric(lambda y, p: fbeta_score(y, p, beta=2), direction="max", name="f2")
        >>> f2.direction, f2.name, f2(np.array([0, 1, 1]), np.array([[0.2], [0.9], [0.4]]), "binary")
        ('max', 'f2', 0.5555555555555556)
    """

    fn: Callable
    direction: str = "max"
    name: str | None = None
    needs: str = "label"

    def __post_init__(self):
        if not callable(self.fn):
            raise TypeError(f"Metric needs a callable fn(y_true, y_pred); received {type(self.fn).__name__}.")
        if self.direction not in ("max", "min"):
            raise ValueError(f"Metric direction must be 'max' or 'min'; received {self.direction!r}.")
        if self.needs not in ("label", "proba", "value"):
            raise ValueError(f"Metric needs must be 'label', 'proba' or 'value'; received {self.needs!r}.")
        if self.name is None:
            object.__setattr__(self, "name", getattr(self.fn, "__name__", "metric"))

    def __call__(self, y, predictions, target_format: str, weights=None, threshold: float = 0.5) -> float:
        """The metric of a head's encoded targets ``y`` and raw outputs ``predictions``."""
        y_true, y_pred = _inputs(np.asarray(y), np.asarray(predictions, dtype="float64"), target_format,
                                 self.needs, threshold)
        if weights is not None and _takes_sample_weight(self.fn):
            return float(self.fn(y_true, y_pred, sample_weight=np.asarray(weights, dtype="float64")))
        return float(self.fn(y_true, y_pred))

    on_predictions = True  # computed by autodeep on the validation predictions, never compiled into Keras

    @property
    def threshold_dependent(self) -> bool:
        return self.needs == "label"

    def loss(self, target_format: str) -> Callable | None:
        """``loss(y, p)``, lower is better: what greedy ensemble selection minimises. None for a metric of a
        binary head's labels: at a fixed threshold it is flat in the members' weights, so the selection keeps
        the log loss and the threshold is tuned for the metric on the ensemble it selected."""
        if self.threshold_dependent and target_format == "binary":
            return None
        sign = -1.0 if self.direction == "max" else 1.0
        return lambda y, p: sign * self(y, p, target_format)


def _takes_sample_weight(fn) -> bool:
    import inspect

    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return any(p.name == "sample_weight" or p.kind == p.VAR_KEYWORD for p in parameters)


def _inputs(y, p, target_format: str, needs: str, threshold: float):
    if target_format == "regression":
        return y.reshape(len(y), -1).squeeze(-1) if y.ndim > 1 and y.shape[1] == 1 else y, \
            p.reshape(len(p), -1).squeeze(-1) if p.ndim > 1 and p.shape[1] == 1 else p
    if target_format == "binary":
        labels, positive = y.reshape(-1).astype("int64"), p.reshape(-1)
        return labels, (positive if needs == "proba" else (positive >= threshold).astype("int64"))
    labels = y.argmax(axis=1) if target_format == "onehot" else y.reshape(-1).astype("int64")
    return labels, (p if needs == "proba" else p.argmax(axis=1))


def _mape(y, p, sample_weight=None):
    from sklearn.metrics import mean_absolute_percentage_error

    return mean_absolute_percentage_error(y, p, sample_weight=sample_weight)


def _rmse(y, p, sample_weight=None):
    from sklearn.metrics import mean_squared_error

    return float(np.sqrt(mean_squared_error(y, p, sample_weight=sample_weight)))


def _sklearn(name: str) -> Callable:
    def metric(y, p, sample_weight=None):
        import sklearn.metrics

        return getattr(sklearn.metrics, name)(y, p, sample_weight=sample_weight)

    metric.__name__ = name
    return metric


def _auc(y, p, sample_weight=None):
    from sklearn.metrics import roc_auc_score

    if p.ndim == 2:
        return roc_auc_score(y, p, sample_weight=sample_weight, multi_class="ovr", labels=np.arange(p.shape[1]))
    return roc_auc_score(y, p, sample_weight=sample_weight)


def _log_loss(y, p, sample_weight=None):
    from sklearn.metrics import log_loss

    p = np.clip(p, 1e-7, 1 - 1e-7)
    return log_loss(y, np.stack([1 - p, p], axis=1) if p.ndim == 1 else p, sample_weight=sample_weight,
                    labels=np.arange(2 if p.ndim == 1 else p.shape[1]))


def _f1(y, p, sample_weight=None):
    from sklearn.metrics import f1_score

    binary = len(np.union1d(np.unique(y), [0, 1])) <= 2
    return f1_score(y, p, sample_weight=sample_weight, average="binary" if binary else "macro", zero_division=0.0)


#: The objectives known by name.
METRICS: dict[str, Metric] = {
    "auc": Metric(_auc, "max", "auc", "proba"),
    "f1": Metric(_f1, "max", "f1", "label"),
    "balanced_accuracy": Metric(_sklearn("balanced_accuracy_score"), "max", "balanced_accuracy", "label"),
    "accuracy": Metric(_sklearn("accuracy_score"), "max", "accuracy", "label"),
    "log_loss": Metric(_log_loss, "min", "log_loss", "proba"),
    "rmse": Metric(_rmse, "min", "rmse", "value"),
    "mae": Metric(_sklearn("mean_absolute_error"), "min", "mae", "value"),
    "r2": Metric(_sklearn("r2_score"), "max", "r2", "value"),
    "mape": Metric(_mape, "min", "mape", "value"),
}


def check_objective(objective):
    """A Keras log name (``"val_loss"``, ``"val_<metric>"``, ``"loss"``), a ``Metric``, or one of ``METRICS``.

    Example:
        >>> check_objective("f1").name, check_objective("val_accuracy")
        ('f1', 'val_accuracy')
        >>> check_objective("f_one")
        Traceback (most recent call last):
        ValueError: objective 'f_one' is not known: give a Keras validation log name ('val_loss', 'val_<metric>'), \
an ak.Metric, or one of ['accuracy', 'auc', 'balanced_accuracy', 'f1', 'log_loss', 'mae', 'mape', 'r2', 'rmse'].
    """
    if isinstance(objective, Metric):
        return objective
    if isinstance(objective, str) and objective in METRICS:
        return METRICS[objective]
    if isinstance(objective, str) and (objective.startswith("val_") or objective == "loss"):
        return objective
    raise ValueError(f"objective {objective!r} is not known: give a Keras validation log name ('val_loss', "
                     f"'val_<metric>'), an ak.Metric, or one of {sorted(METRICS)}.")


def objective_name(objective) -> str:
    """The objective's name for logs and the manifest.

    Example:
        >>> objective_name(check_objective("f1")), objective_name("val_loss")
        ('f1', 'val_loss')
    """
    return objective.name if isinstance(objective, Metric) else objective


def keras_objective(objective) -> str:
    """What Keras' early stopping monitors: the Keras log name, or the validation loss for a ``Metric``.

    Example:
        >>> keras_objective(check_objective("f1")), keras_objective("val_accuracy")
        ('val_loss', 'val_accuracy')
    """
    return "val_loss" if isinstance(objective, Metric) else objective


def direction(objective) -> str:
    """``"maximize"`` or ``"minimize"``: the study's direction for the objective.

    Example:
        >>> direction(check_objective("f1")), direction(check_objective("log_loss")), direction("val_loss")
        ('maximize', 'minimize', 'minimize')
    """
    from autodeep.train import objective_direction

    if isinstance(objective, Metric):
        return "maximize" if objective.direction == "max" else "minimize"
    return objective_direction(objective)


def first_head(targets, predictions, heads) -> tuple:
    """``(targets, predictions, target_format)`` of the first head (targets: one array or a dict by name)."""
    head = heads[0]
    y = targets[head.name] if isinstance(targets, dict) else targets
    return y, predictions[0], head.target_format


def trial_score(metric: Metric, heads, targets, predictions: list, weights, trial: int, threshold="auto") -> float:
    """The metric on trial ``trial``'s validation predictions, at the binary head's tuned threshold when
    ``threshold`` (the ``decision_threshold`` setting) is ``"auto"`` and the metric needs labels; its failure
    names the metric and the trial."""
    y, p, target_format = first_head(targets, predictions, heads)
    try:
        fixed = 0.5 if threshold in ("auto", None) else float(threshold)
        if threshold == "auto" and metric.threshold_dependent and target_format == "binary":
            fixed = best_threshold(metric, y, p, weights)
        return metric(y, p, target_format, weights=weights, threshold=fixed)
    except Exception as error:
        raise ValueError(f"the objective metric {metric.name!r} failed in trial {trial}: "
                         f"{type(error).__name__}: {error}") from error


def best_threshold(metric: Metric, y, p, weights=None) -> float:
    """The threshold on a binary head's probabilities that maximises (or minimises) ``metric`` on ``(y, p)``.

    The candidates are 0.5 (kept on a tie), the lowest probability (every row positive), the midpoints of the
    distinct probabilities and one above the highest (no row positive): every cut of the rows for the built-in
    label metrics (``"f1"``, ``"balanced_accuracy"``, ``"accuracy"``: scored at once from the weighted confusion
    counts), at most 200 quantiles' for an ``ak.Metric``.

    Example:
        >>> y = np.array([0, 0, 1, 1, 1]); p = np.array([0.1, 0.3, 0.35, 0.4, 0.9])
        >>> round(best_threshold(METRICS["f1"], y, p), 4)
        0.325
    """
    p = np.asarray(p, dtype="float64").reshape(-1)
    counted = next((f for name, f in FROM_COUNTS.items() if metric is METRICS[name]), None)
    exact = counted is not None or len(np.unique(p)) <= 200
    values = np.unique(p) if exact else np.unique(np.quantile(p, np.linspace(0, 1, 201)))
    none = (values[-1] + 1.0) / 2 if values[-1] < 1.0 else np.nextafter(values[-1], np.inf)  # no row positive
    candidates = np.concatenate([[0.5, values[0]], (values[1:] + values[:-1]) / 2, [none]])
    if counted is not None:
        scores = counted(*_confusion_counts(np.asarray(y).reshape(-1), p, weights, candidates))
    else:
        scores = [metric(y, p, "binary", weights=weights, threshold=t) for t in candidates]
    pick = int(np.argmax(scores) if metric.direction == "max" else np.argmin(scores))
    return float(candidates[pick])


def _confusion_counts(y, p, weights, thresholds) -> tuple:
    """Weighted ``(tp, fp, fn, tn)`` at each of ``thresholds`` (a row is positive when ``p >= threshold``)."""
    w = np.ones(len(p)) if weights is None else np.asarray(weights, dtype="float64").reshape(-1)
    order = np.argsort(p)
    p, positive = p[order], (y[order] > 0.5) * w[order]
    negative = w[order] - positive
    # rows at or above each threshold: the suffix sums from its first index in the sorted probabilities
    first = np.searchsorted(p, thresholds, side="left")
    above_pos = np.r_[np.cumsum(positive[::-1])[::-1], 0.0][first]
    above_neg = np.r_[np.cumsum(negative[::-1])[::-1], 0.0][first]
    return above_pos, above_neg, positive.sum() - above_pos, negative.sum() - above_neg


def _ratio(a, b):
    return np.divide(a, b, out=np.zeros_like(np.asarray(a, dtype="float64")), where=b > 0)


#: The built-in label metrics as functions of the weighted confusion counts (what ``best_threshold`` scores
#: every cut of the rows with at once); each equals its scikit-learn function on a binary head's labels.
FROM_COUNTS = {
    "f1": lambda tp, fp, fn, tn: _ratio(2 * tp, 2 * tp + fp + fn),
    "balanced_accuracy": lambda tp, fp, fn, tn: (_ratio(tp, tp + fn) + _ratio(tn, tn + fp)) / 2,
    "accuracy": lambda tp, fp, fn, tn: _ratio(tp + tn, tp + fp + fn + tn),
}


def check_decision_threshold(value):
    """``"auto"``, ``None`` or a number in (0, 1).

    Example:
        >>> check_decision_threshold(1.5)
        Traceback (most recent call last):
        ValueError: decision_threshold must be 'auto', None or a number in (0, 1); received 1.5.
    """
    if value is None or value == "auto" or (isinstance(value, (int, float)) and 0 < value < 1):
        return value
    raise ValueError(f"decision_threshold must be 'auto', None or a number in (0, 1); received {value!r}.")


def tunes_threshold(setting, objective, heads) -> bool:
    """Whether the first head's threshold is tuned: ``setting`` (``decision_threshold``) is ``"auto"``, the
    head is binary and ``objective`` a ``Metric`` that needs labels.

    Example:
        >>> from types import SimpleNamespace
        >>> binary = [SimpleNamespace(target_format="binary")]
        >>> tunes_threshold("auto", METRICS["f1"], binary), tunes_threshold("auto", METRICS["auc"], binary)
        (True, False)
    """
    return setting == "auto" and isinstance(objective, Metric) and objective.threshold_dependent \
        and heads[0].target_format == "binary"


def decision_thresholds(setting, objective, graph, members: list, project, data, out_of_fold=None) \
        -> tuple[list, list]:
    """``(thresholds, sources)``: per head, the threshold ``predict`` uses on a binary head's probability
    (None: 0.5, argmax) and where it comes from (``"fixed"``, ``"out_of_fold"``, ``"validation"``, or None).

    ``setting`` is the model's ``decision_threshold``: a number fixes it for every binary head; ``"auto"`` tunes
    the first head's when ``tunes_threshold``: on ``out_of_fold`` (``autodeep.fit.out_of_fold.OutOfFold``) when it
    covers more rows than the validation split, else on the validation predictions of ``members``
    (``[(trial, weight)]``) averaged with their weights.
    """
    from autodeep.fit.members import member_predictions

    setting = check_decision_threshold(setting)
    thresholds = [float(setting) if isinstance(setting, (int, float)) and h.target_format == "binary" else None
                  for h in graph.heads]
    sources = ["fixed" if t is not None else None for t in thresholds]
    if not tunes_threshold(setting, objective, graph.heads):
        return thresholds, sources
    if out_of_fold is not None and len(out_of_fold.rows) > data.n_va:
        thresholds[0] = best_threshold(objective, out_of_fold.targets, out_of_fold.predictions, out_of_fold.weights)
        sources[0] = "out_of_fold"
        return thresholds, sources
    predictions = member_predictions(graph, members, project)
    if predictions is not None:
        y, p, _ = first_head(data.targets_va, predictions, graph.heads)
        thresholds[0], sources[0] = best_threshold(objective, y, p, data.weights_va), "validation"
    return thresholds, sources


def report_metrics(heads) -> list[Metric]:
    """The first head's ``metrics=`` entries computed on the validation predictions: ``ak.Metric`` objects
    and ``METRICS``' names (the names Keras also knows, such as ``"auc"``, are computed by Keras too). None for a
    multi-label head: its labels are not one column to score."""
    if heads[0].target_format == "multilabel":
        return []
    found = []
    for m in heads[0].get_metrics():
        if isinstance(m, Metric):
            found.append(m)
        elif isinstance(m, str) and m in METRICS:
            found.append(METRICS[m])
    return found


def metric_attributes(metrics: list, heads, targets, predictions: list, weights, trial: int) -> dict:
    """``{"val_<name>": value}`` of ``metrics`` on trial ``trial``'s validation predictions (the leaderboard's
    columns; a binary head's label metrics at 0.5)."""
    return {f"val_{m.name}": trial_score(m, heads, targets, predictions, weights, trial, threshold=None)
            for m in metrics}
