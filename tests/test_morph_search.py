"""``tuner="morph"`` through the public API: a known-good network from scratch, then children of trained trials
that start from their parent's weights (their first predictions are the parent's), train a shorter budget and
show their lineage in ``clf.leaderboard()``. One small fit (breast cancer, 3 trials, 2 epochs) serves every test.
"""

from __future__ import annotations

import numpy as np
import pytest


def first_predictions(x):
    """A Keras callback whose ``found`` lists each fit's predictions on ``x`` before its first batch, in order."""
    import keras

    class Recorder(keras.callbacks.Callback):
        found: list = []

        def on_train_begin(self, logs=None):
            self.found.append(np.asarray(self.model.predict(x, verbose=0)))

    return Recorder()


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """A morph search on a numeric table (one known-good start, so trials 1 and 2 are children)."""
    from sklearn.datasets import load_breast_cancer

    import autodeep as ak

    x, y = load_breast_cancer(return_X_y=True)
    x = ((x - x.mean(0)) / x.std(0)).astype("float32")  # ak.Input takes numbers as they are
    probe = x[::9]
    recorder = first_predictions(probe)
    clf = ak.AutoModel(ak.Input(), ak.ClassificationHead(), tuner="morph", max_trials=3, seed=0, verbose=0,
                       directory=tmp_path_factory.mktemp("morph"), retrieval=False)
    clf.fit(x, y, epochs=2, callbacks=[recorder])
    return clf, recorder.found[:3], probe, x, y


def test_children_name_their_parent_and_morphs_in_the_leaderboard(searched):
    clf, *_ = searched
    board = clf.leaderboard().set_index("trial").sort_index()
    assert list(board.index) == [0, 1, 2]
    assert board.loc[0, "ops"] == "" and board["parent"].isna()[0]  # the known-good start, from scratch
    for child in (1, 2):
        assert board.loc[child, "parent"] < child  # a finished, earlier trial
        assert board.loc[child, "ops"].split(" ")[0] in ("deepen", "widen", "skip"), board.loc[child, "ops"]
        parent = board.loc[child, "parent"]
        # a child is its parent plus new layers or units, and trains half the epochs (it starts trained)
        assert board.loc[child, "params"] > board.loc[parent, "params"]
        assert board.loc[child, "epochs"] == 1 and board.loc[0, "epochs"] == 2


def test_a_child_starts_from_its_parents_trained_function(searched):
    """Through the real search path: each child's predictions before its first batch are its parent's trained
    model's (loaded from the project folder by ``clf.tuner_``), not a fresh network's."""
    clf, first, probe, _, _ = searched
    board = clf.leaderboard().set_index("trial")
    trials = clf.tuner_.oracle.get_best_trials(3)
    models = dict(zip([t.number for t in trials], clf.tuner_.get_best_models(3)))
    assert sorted(models) == [0, 1, 2]
    for child in (1, 2):
        parent_predictions = np.asarray(models[int(board.loc[child, "parent"])].predict(probe, verbose=0))
        assert np.abs(first[child] - parent_predictions).max() < 1e-4, child
        assert np.abs(first[child] - first[0]).max() > 1e-3  # the parent had trained: not its untrained start
    # the children's saved models are their morphed architectures, rebuilt from their chain of morphs
    assert models[1].count_params() == board.loc[1, "params"] and models[2].count_params() == board.loc[2, "params"]


def test_the_saved_model_predicts_as_the_fitted_one(searched, tmp_path):
    """The final model (members refit from their chains of morphs) saves and loads with ``ak.load_model``."""
    import autodeep as ak

    clf, _, _, x, y = searched
    predicted = np.asarray(clf.predict(x[:50])).ravel()
    again = np.asarray(ak.load_model(clf.save(tmp_path / "m")).predict(x[:50])).ravel()
    assert (predicted == again).all()
    assert (predicted.astype(int) == y[:50]).mean() > 0.8


@pytest.mark.parametrize("tuner, first_share", [("greedy", 1.0), ("morph", 0.004)])
def test_under_a_time_limit_morph_trials_from_scratch_leave_the_rest_to_children(tuner, first_share):
    """A morph search gives each trial, and its trials from scratch together, ``scratch_share`` of the search
    time; once those used it, children come next even though known-good starts are left, and children go on.
    Other tuners' trials have the whole deadline."""
    import time

    import autodeep as ak
    from autodeep.search import Searcher

    given = []

    def run_trial(number, hp, reporter, deadline):
        hp.Float("x", 0.0, 1.0)
        given.append((time.time(), deadline, bool(getattr(hp, "lineage", None))))
        time.sleep(0.5)  # more than morph's 0.4 s of scratch time
        return 1.0 / (number + 1), {"morph_architecture": {"layers": [["dense", 8]], "skips": []},
                                    "best_epoch": 2}

    chosen = ak.NetworkMorphism(scratch_share=first_share) if tuner == "morph" else tuner
    end = time.time() + 100.0
    Searcher(chosen, max_trials=3, verbose=0, seed=0, initial_configs=[{}, {"x": 0.5}, {"x": 0.9}]).run(
        lambda hp: hp.Float("x", 0.0, 1.0), run_trial, deadline=end)
    (start, first, first_is_child), (_, second, second_is_child), (_, _, third_is_child) = given
    assert not first_is_child and second_is_child == third_is_child == (tuner == "morph")
    assert first == pytest.approx(start + first_share * (end - start), abs=0.05)
    assert second == pytest.approx(min(end, start + 0.5 + first_share * (end - start)), abs=0.05)


@pytest.mark.parametrize("stopped, second_is_child", [("deadline", True), ("early_stopping", False)])
def test_a_start_stopped_by_its_time_cap_hands_over_to_children(stopped, second_is_child):
    """A trial from scratch that its cap stopped has used the starts' share even when its wall time is under
    that share of the (possibly later) search deadline: the next trial is a child, not another start."""
    import time

    import autodeep as ak
    from autodeep.search import Searcher

    children = []

    def run_trial(number, hp, reporter, deadline):
        hp.Float("x", 0.0, 1.0)
        children.append(bool(getattr(hp, "lineage", None)))
        return 1.0 / (number + 1), {"morph_architecture": {"layers": [["dense", 8]], "skips": []},
                                    "best_epoch": 2, "stopped": stopped}

    Searcher(ak.NetworkMorphism(), max_trials=2, verbose=0, seed=0, initial_configs=[{}, {"x": 0.5}]).run(
        lambda hp: hp.Float("x", 0.0, 1.0), run_trial, deadline=time.time() + 100.0)
    assert children == [False, second_is_child]
