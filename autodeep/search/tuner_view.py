"""What a finished search offers AutoKeras programs through ``clf.tuner_``: the KerasTuner names they read.

AutoKeras programs inspect a search with ``clf.tuner.oracle.get_best_trials(n)`` (trials with
``.trial_id``, ``.score``, ``.hyperparameters.values``) and ``clf.tuner.get_best_models(n)``. autodeep's
constructors store their arguments as given (scikit-learn's rule, so ``sklearn.base.clone`` works), so
``clf.tuner`` stays the argument, and ``fit`` sets ``clf.tuner_``: the tuner object of the model's strategy
(``ak.Greedy`` for ``tuner="greedy"``, and so on), bound to the model. :class:`TunerResults`, a base of every
tuner class, reads the model's Optuna study and trial folders.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: KerasTuner's trial statuses for Optuna's states (an interrupted trial keeps a status of its own).
STATUS = {"COMPLETE": "COMPLETED", "FAIL": "FAILED", "PRUNED": "STOPPED", "RUNNING": "RUNNING", "WAITING": "IDLE"}


@dataclass(frozen=True)
class Objective:
    """The objective the search optimised, as KerasTuner names it: ``name`` and ``direction`` (``"min"``/``"max"``)."""

    name: str
    direction: str


@dataclass
class TrialView:
    """One trial, with KerasTuner's attribute names.

    ``trial_id`` is the trial's folder number (``"0007"`` for ``trials/trial_0007``), ``score`` the objective's
    value (``None`` unless it completed), ``hyperparameters.values`` every value the trial used, and
    ``status`` one of ``COMPLETED``, ``FAILED``, ``STOPPED`` (pruned), ``INTERRUPTED`` (cut off by its
    process's death and run again), ``RUNNING``, ``IDLE``.

    Example:
        >>> from autodeep.graph import HyperParameters
        >>> TrialView(number=7, score=0.25, hyperparameters=HyperParameters(values={"units": 32})).trial_id
        '0007'
    """

    number: int
    score: float | None
    hyperparameters: object
    status: str = "COMPLETED"
    best_step: int | None = None
    metrics: dict = field(default_factory=dict)
    morph_chain: list = field(default_factory=list)  # a network-morphism child's morphs (autodeep.morph.replay)

    @property
    def trial_id(self) -> str:
        return f"{self.number:04d}"


class Oracle:
    """The search's trials, as KerasTuner's oracle shows them: ``get_best_trials(n)``, ``trials``, ``get_trial``.

    Example:
        >>> import numpy as np, tempfile, autodeep as ak
        >>> x = np.random.rand(64, 3).astype("float32")
        >>> model = ak.AutoModel(inputs=ak.Input(), outputs=ak.RegressionHead(), max_trials=1, verbose=0,
        ...                      directory=tempfile.mkdtemp())
        >>> oracle = model.fit(x, x.sum(axis=1), epochs=1).tuner_.oracle
        >>> [t.trial_id for t in oracle.get_best_trials(2)], oracle.objective.direction
        (['0000'], 'min')
    """

    def __init__(self, model):
        self._model = model

    @property
    def objective(self) -> Objective:
        from autodeep.train import objective_direction

        name = self._settings().objective
        return Objective(name, "min" if objective_direction(name) == "minimize" else "max")

    @property
    def max_trials(self) -> int:
        return self._settings().max_trials

    @property
    def trials(self) -> dict[str, TrialView]:
        """Every trial of the search by ``trial_id``."""
        views = [self._view(t) for t in self._model.study_.trials]
        return {v.trial_id: v for v in views}

    def _settings(self):
        """The checked settings of the model's last ``fit``."""
        return self._model.settings_

    def get_trial(self, trial_id: str) -> TrialView:
        try:
            return self.trials[trial_id]
        except KeyError:
            raise KeyError(f"trial_id {trial_id!r} is not a trial of this search; its trials: "
                           f"{sorted(self.trials)[:20]}.") from None

    def get_best_trials(self, num_trials: int = 1) -> list[TrialView]:
        """The ``num_trials`` completed trials with the best scores, best first."""
        from autodeep.data.checks import check_int

        check_int("num_trials", num_trials)
        done = [v for v in self.trials.values() if v.status == "COMPLETED"]
        done.sort(key=lambda v: v.score, reverse=self.objective.direction == "max")
        return done[:num_trials]

    def _view(self, trial) -> TrialView:
        from autodeep.graph import HyperParameters

        attrs = trial.user_attrs
        status = "INTERRUPTED" if attrs.get("interrupted") else STATUS[trial.state.name]
        values = {**trial.params, **self._settings().hyperparameters}
        hyperparameters = HyperParameters(values=values)
        hyperparameters.values.update(values)  # what the trial was handed, as after its build
        metrics = {k: attrs[k] for k in ("best_epoch", "epochs_run", "fit_seconds", "params", "error") if k in attrs}
        return TrialView(number=trial.number, score=trial.value if status == "COMPLETED" else None,
                         hyperparameters=hyperparameters, status=status,
                         best_step=attrs.get("best_epoch"), metrics=metrics, morph_chain=attrs.get("morph_chain", []))


class TunerResults:
    """KerasTuner's result methods on autodeep's tuner classes, once a model has fitted (``clf.tuner_``)."""

    _model = None  # the AutoModel whose search this tuner runs (set by ``bind_tuner``)

    @property
    def oracle(self) -> Oracle:
        if self._model is None:
            raise AttributeError(f"This {type(self).__name__} is not the tuner of a model: pass it as "
                                 f"AutoModel(tuner=...), and read clf.tuner_.oracle after clf.fit().")
        return Oracle(self._model)

    def get_best_hyperparameters(self, num_trials: int = 1) -> list:
        """The hyperparameters (``.values``) of the ``num_trials`` best completed trials, best first."""
        return [t.hyperparameters for t in self.oracle.get_best_trials(num_trials)]

    def get_best_models(self, num_models: int = 1) -> list:
        """The Keras models of the ``num_models`` best completed trials, best first, rebuilt with each trial's
        hyperparameters and loaded with the weights kept in its folder (``trials/trial_NNNN``).

        Like ``export_model()``, they take the preprocessed arrays (inputs named ``<input>__<key>``); for raw
        inputs use ``clf.predict`` or ``ak.load_model``. Trials whose weights are no longer on disk are left out.
        """
        trials = self.oracle.get_best_trials(num_models)
        if not trials:
            return []
        return [m for m in (_trial_model(self._model, t) for t in trials) if m is not None]

    def results_summary(self, num_trials: int = 10) -> None:
        """Print the best trials' scores and hyperparameters, as KerasTuner's ``results_summary`` does."""
        oracle = self.oracle
        objective = oracle.objective
        print(f"Results summary\nResults in {self._model.project_.path}\n"
              f"Showing {num_trials} best trials\n"
              f"Objective(name={objective.name!r}, direction={objective.direction!r})")
        for trial in oracle.get_best_trials(num_trials):
            print(f"\nTrial {trial.trial_id} summary\nHyperparameters:")
            for name, value in sorted(trial.hyperparameters.values.items()):
                print(f"{name}: {value}")
            print(f"Score: {trial.score}")


def _trial_model(model, trial: TrialView):
    """``trial``'s Keras model: the graph built with its values, its saved weights loaded (None if gone)."""
    from autodeep.fit.final import with_trial_weights
    from autodeep.graph import HyperParameters
    from autodeep.morph.inherit import rebuild

    if not model.project_.weights_file(trial.number).is_file():
        return None
    predictor = model._require_fitted()
    specs = {node.name: pre.specs() for node, pre in zip(model.graph_.inputs, predictor.preprocessors)}
    built = rebuild(model.graph_.build(HyperParameters(values=dict(trial.hyperparameters.values)), specs),
                    trial.morph_chain)  # a morph child's architecture
    return with_trial_weights(built, model.project_, trial.number)
