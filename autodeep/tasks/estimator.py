"""The scikit-learn estimator protocol of ``AutoModel`` and the task classes.

- ``get_params``/``set_params``: the parameters are the constructor's named arguments over the class and the
  bases its ``**kwargs`` reach (a task class's ``max_trials``, ``time_limit``, ... are parameters too); the
  nodes a task class builds itself (``inputs``, ``outputs``) are not. ``set_params`` runs the constructor
  again, so the head a task class builds from ``loss`` or ``num_classes`` follows the new values.
- ``sklearn.base.clone`` works; an ``AutoModel``'s ``inputs`` and ``outputs`` are copied together so the
  copy's heads stay wired to the copy's inputs.
- **Project folders of clones.** scikit-learn fits clones (``cross_val_score``, ``GridSearchCV``, a cloned
  ``Pipeline``) with the same ``directory`` and ``project_name``; with ``overwrite=False`` each would resume
  the study of the fit before it, on other rows. So a clone fits in a fresh project folder of its own,
  ``<project_name>_clone_<8 hex digits>`` beside the original's (kept for the clone's later fits); the
  estimator you construct yourself keeps its folder and its resume behaviour.
- ``score(x, y)``: accuracy for a classifier, R^2 for a regressor (scikit-learn's mixins' scores);
  ``classes_``, ``n_features_in_`` and ``feature_names_in_`` after ``fit``.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import uuid

import numpy as np
from sklearn.base import BaseEstimator

from autodeep.graph import as_list

#: Constructor arguments of ``AutoModel`` that a task class builds itself rather than takes.
BUILT_ARGUMENTS = ("inputs", "outputs", "head")


def _own_parameters(klass) -> list:
    init = vars(klass).get("__init__")
    return list(inspect.signature(init).parameters.values())[1:] if init is not None else []


class EstimatorMixin(BaseEstimator):
    """scikit-learn's estimator protocol for ``AutoModel`` (see the module's docstring).

    Example:
        >>> import autodeep as ak
        >>> from sklearn.base import clone
        >>> clf = ak.StructuredDataClassifier(max_trials=3, time_limit=60, loss="binary_crossentropy")
        >>> params = clone(clf).get_params()
        >>> params["max_trials"], params["time_limit"], params["loss"]
        (3, 60, 'binary_crossentropy')
        >>> clf.set_params(max_trials=1).max_trials
        1
    """

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The named constructor arguments of ``cls`` and of the bases its ``**kwargs`` are passed to."""
        constructors = [k for k in cls.__mro__
                        if issubclass(k, EstimatorMixin) and k is not EstimatorMixin and "__init__" in vars(k)]
        names: set[str] = set()
        for klass in constructors:
            parameters = _own_parameters(klass)
            names |= {p.name for p in parameters if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
            if not any(p.kind == p.VAR_KEYWORD for p in parameters):
                break
        if constructors and "inputs" not in {p.name for p in _own_parameters(constructors[0])}:
            names -= set(BUILT_ARGUMENTS)  # a task class builds its nodes itself
        return sorted(names)

    @classmethod
    def _param_defaults(cls) -> dict:
        """Each parameter's default, from the constructor that declares it (the most derived one)."""
        defaults: dict = {}
        for klass in cls.__mro__:
            if issubclass(klass, EstimatorMixin) and "__init__" in vars(klass):
                for p in _own_parameters(klass):
                    defaults.setdefault(p.name, p.default)
        return defaults

    def __repr__(self, N_CHAR_MAX=700) -> str:
        defaults = self._param_defaults()
        changed = [f"{k}={v!r}" for k, v in self.get_params(deep=False).items()
                   if k not in defaults or defaults[k] is inspect.Parameter.empty or not _same(v, defaults[k])]
        text = f"{type(self).__name__}({', '.join(changed)})"
        return text if len(text) <= N_CHAR_MAX else text[:N_CHAR_MAX - 4] + "...)"

    def set_params(self, **params):
        """Set parameters by name and rebuild what the constructor builds from them; returns ``self``.

        A fitted model keeps its export (``predict`` works) until the next ``fit``, which builds its graph from
        the new values.
        """
        if not params:
            return self
        current = self.get_params(deep=False)
        unknown = sorted(set(params) - set(current))
        if unknown:
            raise ValueError(f"set_params: {unknown} are not parameters of {type(self).__name__}; "
                             f"its parameters are {sorted(current)}.")
        type(self).__init__(self, **{**current, **params})
        self.__dict__.pop("graph_", None)
        return self

    def __sklearn_clone__(self):
        params = self.get_params(deep=False)
        graph = {k: params[k] for k in ("inputs", "outputs") if k in params}
        params.update(copy.deepcopy(graph))  # together: the copied heads stay wired to the copied inputs
        params.update({k: _clone(v) for k, v in params.items() if k not in graph})
        new = type(self)(**params)
        for name, value in new.get_params(deep=False).items():
            if value is not params[name]:
                raise RuntimeError(f"Cannot clone {type(self).__name__}: its constructor modifies {name!r}.")
        new._clone_project = True
        return new

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        kind = self._estimator_kind()
        tags.estimator_type = kind
        tags.target_tags.required = True
        tags.non_deterministic = True
        if kind == "classifier":
            from sklearn.utils import ClassifierTags

            tags.classifier_tags = ClassifierTags()
        elif kind == "regressor":
            from sklearn.utils import RegressorTags

            tags.regressor_tags = RegressorTags()
        return tags

    @property
    def _estimator_type(self) -> str | None:
        return self._estimator_kind()

    def _estimator_kind(self) -> str | None:
        """``"classifier"`` when every head classifies, ``"regressor"`` when every head regresses, else None."""
        tasks = {_head(o).task for o in as_list(self.outputs)}
        return {"classification": "classifier", "regression": "regressor"}.get(tasks.pop()) if len(tasks) == 1 \
            else None

    def __sklearn_is_fitted__(self) -> bool:
        return getattr(self, "predictor_", None) is not None

    def score(self, x, y, sample_weight=None) -> float:
        """Accuracy of ``predict(x)`` for a classifier, R^2 for a regressor (weighted by ``sample_weight``).

        Example:
            >>> import numpy as np, tempfile, autodeep as ak
            >>> x = np.random.default_rng(0).random((80, 3)); y = x @ [1.0, 2.0, 3.0]
            >>> reg = ak.StructuredDataRegressor(max_trials=1, epochs=2, directory=tempfile.mkdtemp(), verbose=0)
            >>> -1.0 <= reg.fit(x, y).score(x, y) <= 1.0
            True
        """
        from sklearn.metrics import accuracy_score, r2_score

        kind = self._estimator_kind()
        if kind is None:
            raise ValueError(f"score needs a model whose heads all classify or all regress; "
                             f"{type(self).__name__} has heads of both kinds.")
        x, y = self._adapt(x, y)
        predicted = self.predict(x)
        if kind == "classifier":
            return float(accuracy_score(np.asarray(y), predicted, sample_weight=sample_weight))
        return float(r2_score(np.asarray(y, dtype="float64"), np.asarray(predicted, dtype="float64"),
                              sample_weight=sample_weight))


def _same(value, default) -> bool:
    try:
        return bool(value is default or value == default)
    except Exception:  # an array or another value without a plain ==
        return False


def _clone(value):
    from sklearn.base import clone

    return clone(value, safe=False)


def _head(output):
    """The head of ``output`` (a head, or a head's output node)."""
    from autodeep.graph import Head

    return output if isinstance(output, Head) else output.in_blocks[0]


def clone_project(model, settings):
    """``settings`` with the project folder of a clone (see the module's docstring), else as they are."""
    if not getattr(model, "_clone_project", False):
        return settings
    if not isinstance(model._clone_project, str):
        model._clone_project = f"{settings.project_name}_clone_{uuid.uuid4().hex[:8]}"
    return dataclasses.replace(settings, project_name=model._clone_project)


def record_features(model, xs: list) -> None:
    """Set ``n_features_in_`` (and ``feature_names_in_`` for a table whose column names are all strings)
    when the model has one input of rows with columns; remove them otherwise."""
    for name in ("n_features_in_", "feature_names_in_"):
        model.__dict__.pop(name, None)
    if len(xs) != 1 or not hasattr(xs[0], "shape") or len(getattr(xs[0], "shape", ())) != 2:
        return
    model.n_features_in_ = int(xs[0].shape[1])
    columns = getattr(xs[0], "columns", None)
    if columns is not None and all(isinstance(c, str) for c in columns):
        model.feature_names_in_ = np.asarray(columns, dtype=object)
