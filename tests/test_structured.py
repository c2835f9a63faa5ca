"""End to end on real small tables: fit, predict, predict_proba, evaluate, export, save/load, CLI."""

from __future__ import annotations

import contextlib
import io
import json
import shutil

import keras
import numpy as np
import pandas as pd
import pytest

import autodeep as ak
from autodeep.blocks.members import MemberMean
from autodeep.search import SearchFailed

FAST = dict(max_trials=1, epochs=2, verbose=0, seed=0)


@pytest.fixture
def small_credit(credit_g):
    return credit_g.sample(300, random_state=0).reset_index(drop=True)


def test_classifier_end_to_end_and_artifact_round_trip(small_credit, credit_g, tmp_path):
    from sklearn.metrics import roc_auc_score

    x, y = small_credit.drop(columns="class"), small_credit["class"]
    clf = ak.StructuredDataClassifier(directory=tmp_path, **FAST)
    assert clf.fit(x, y) is clf
    # it learned: on the 700 rows it never saw, AUC ~0.71 over seeds 0-2 (a constant predictor scores 0.5)
    held_out = credit_g.drop(credit_g.sample(300, random_state=0).index)
    good = clf.predict_proba(held_out.drop(columns="class"))[:, list(clf.classes_).index("good")]
    assert roc_auc_score(held_out["class"] == "good", good) > 0.65 and good.std() > 0.02
    labels = clf.predict(x.head(20))
    assert labels.shape == (20,) and set(labels) <= {"good", "bad"}
    proba = clf.predict_proba(x.head(20))
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert list(clf.classes_) == ["bad", "good"]
    assert list(labels) == list(np.array(["bad", "good"])[proba.argmax(axis=1)])
    loss, accuracy = clf.evaluate(x, y)  # the exported model's own accuracy: the share predict gets right
    assert np.isfinite(loss) and accuracy == pytest.approx(float((clf.predict(x) == y).mean()), abs=1e-6)
    assert isinstance(clf.export_model(), keras.Model)

    saved = clf.save(tmp_path / "exported")
    loaded = ak.load_model(saved)
    np.testing.assert_allclose(loaded.predict_proba(x.head(20)), proba, rtol=1e-5, atol=1e-6)
    # the refit model is the one exported, and predict uses exactly that artifact
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["info"]["final"]["kind"] == "refit"
    assert manifest["info"]["final"]["rows"] == len(x)
    # column order at predict time does not matter; extra columns are ignored
    shuffled = x.head(20)[list(reversed(x.columns))].assign(extra=1)
    np.testing.assert_allclose(loaded.predict_proba(shuffled), proba, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def two_trials(tmp_path_factory):
    """A two-trial search of one epoch each (verbose), shared by the layout, resume and verbose tests: the
    classifier, its project folder, the 300 rows it saw and what it printed."""
    rows = ak.datasets.load_credit_g().sample(300, random_state=0).reset_index(drop=True)
    folder = tmp_path_factory.mktemp("two_trials")
    clf = ak.StructuredDataClassifier(directory=folder, project_name="p", max_trials=2, epochs=1, verbose=1, seed=0)
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        clf.fit(rows, "class")
    return clf, folder / "p", rows, printed.getvalue()


def test_project_layout_keeps_trials_on_disk(two_trials):
    clf, project, _, _ = two_trials
    assert (project / "study.db").is_file() and (project / "best_model" / "manifest.json").is_file()
    trials = sorted((project / "trials").iterdir())
    assert [t.name for t in trials] == ["trial_0000", "trial_0001"]
    for trial in trials:
        assert (trial / "model.weights.h5").is_file() and (trial / "val_pred_0.npy").is_file()
        metrics = json.loads((trial / "metrics.json").read_text())
        assert np.isfinite(metrics["score"]) and metrics["epochs_run"] == 1
        assert clf.project_.load_trial_metrics(int(trial.name.split("_")[1])) == metrics
    results = clf.tuner_results
    assert len(results) == 2 and set(results["state"]) == {"COMPLETE"}


def test_exported_members_are_the_bootstrap_selection_of_the_trials(small_credit, tmp_path):
    from autodeep.data.split import train_validation_split
    from autodeep.ensemble import bootstrap_selection, validation_loss

    x, y = small_credit.drop(columns="class"), small_credit["class"]
    clf = ak.StructuredDataClassifier(directory=tmp_path, max_trials=4, epochs=2, verbose=0, seed=3, refit=False,
                                      retrieval=False)
    clf.fit(x, y)
    final = clf.predictor_.manifest["info"]["final"]
    # the exporter's choice, replayed from what the search left on disk: the trials' validation predictions
    _, val_idx = train_validation_split(len(x), y=clf.predictor_.codecs[0].encode(y), seed=3)
    y_val = np.asarray(clf.predictor_.targets(y))[val_idx]
    trials = sorted((t for t in clf.study_.trials if t.value is not None), key=lambda t: t.value)
    predictions = [clf.project_.load_val_predictions(t.number) for t in trials]
    expected = bootstrap_selection(predictions, [y_val], [validation_loss("binary")], max_size=5, seed=3)
    chosen = {trials[i].number: w for i, w in expected.items()}
    assert dict(zip(final["members"], final["weights"])) == pytest.approx(chosen)
    assert final["kind"] == "trial_weights" and abs(sum(final["weights"]) - 1.0) < 1e-9


def test_regressor_from_csv_path_and_parquet(diabetes, tmp_path):
    target = "progression"  # disease progression after a year, 25..346
    rows = diabetes.sample(frac=1.0, random_state=1)
    train, test = rows.iloc[:340], rows.iloc[340:]
    csv = tmp_path / "diabetes.csv"
    train.to_csv(csv, index=False)
    reg = ak.StructuredDataRegressor(directory=tmp_path, metrics=["mae"], **FAST)
    reg.fit(str(csv), target)
    pred = reg.predict(test.drop(columns=target))
    assert pred.shape == (len(test),) and np.all(np.isfinite(pred))
    # in the target's units (mean ~150), not standardised, and varying with the rows
    assert 100.0 < float(np.mean(pred)) < 200.0 and pred.std() > 20.0
    # held-out rows: MAE ~50 over seeds 0-2 against 71 for the training mean (a constant predictor)
    loss, mae = reg.evaluate(test.drop(columns=target), test[target])
    assert mae == pytest.approx(float(np.abs(pred - test[target]).mean()), rel=1e-3)
    assert mae < 0.85 * float(np.abs(test[target] - train[target].mean()).mean())
    parquet = tmp_path / "diabetes.parquet"
    train.to_parquet(parquet)
    reg2 = ak.StructuredDataRegressor(directory=tmp_path, project_name="pq", **FAST)
    reg2.fit(parquet, target)
    assert reg2.predict(parquet).shape == (len(train),)
    with pytest.raises(ValueError, match="predict_proba needs a classification head"):
        reg2.predict_proba(test.head(2))


def test_numpy_inputs_with_column_types_and_numpy_predict(tmp_path):
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.normal(size=200), rng.integers(0, 3, size=200)])
    y = (x[:, 0] + (x[:, 1] == 2) > 0.5).astype(int)
    clf = ak.StructuredDataClassifier(column_names=["a", "b"], column_types={"b": "categorical"},
                                      directory=tmp_path, **FAST)
    clf.fit(x[:150], y[:150], validation_data=(x[150:], y[150:]))
    assert clf.predictor_.manifest["info"]["final"]["rows"] == 200  # refit on train + validation_data
    pred = clf.predict(x[:5])
    assert pred.dtype.kind == "i" and set(pred) <= {0, 1}
    table = clf.predictor_.preprocessors[0].table_
    assert table.column_types_ == {"a": "numerical", "b": "categorical"}

    every = clf.predict(x)  # the rule is learned (the larger class alone is right on 55 % of rows)
    assert set(every) == {0, 1} and (every == y).mean() > 0.8


def test_multiclass_with_missing_values_and_strings(penguins, tmp_path):
    rows = penguins.sample(frac=1.0, random_state=2)
    train, test = rows.iloc[:250], rows.iloc[250:]
    clf = ak.StructuredDataClassifier(directory=tmp_path, **FAST)
    clf.fit(train.drop(columns="species"), train["species"])
    proba = clf.predict_proba(test.drop(columns="species"))
    assert proba.shape == (len(test), 3) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert list(clf.classes_) == ["Adelie", "Chinstrap", "Gentoo"]
    # held-out accuracy ~0.98 over seeds 0-2; predicting the largest class gets ~0.44
    assert (clf.predict(test.drop(columns="species")) == test["species"]).mean() > 0.9


def test_bad_inputs_get_clear_errors(small_credit, tmp_path):
    x, y = small_credit.drop(columns="class"), small_credit["class"]
    clf = ak.StructuredDataClassifier(directory=tmp_path, **FAST)
    with pytest.raises(ValueError, match=r"x has 300 rows but y has 299"):
        clf.fit(x, y[:-1])
    with pytest.raises(ValueError, match="single class"):
        clf.fit(x, pd.Series(["good"] * len(x)))
    with pytest.raises(ValueError, match="empty"):
        clf.fit(x.head(0), y.head(0))
    with pytest.raises(ValueError, match="NaN|inf"):
        ak.StructuredDataRegressor(directory=tmp_path, **FAST).fit(x, np.r_[np.nan, np.ones(len(x) - 1)])
    with pytest.raises(ValueError, match="no_such_column"):
        ak.StructuredDataClassifier(column_types={"no_such_column": "categorical"}, directory=tmp_path,
                                    **FAST).fit(x, y)
    with pytest.raises(TypeError, match="max_trials must be an integer"):
        ak.StructuredDataClassifier(max_trials="ten", directory=tmp_path).fit(x, y)  # checked when fit starts
    with pytest.raises(ValueError, match="time_limit must be a number > 0"):
        ak.StructuredDataClassifier(time_limit=-5, directory=tmp_path).fit(x, y)
    with pytest.raises(ValueError, match="tuner must be one of"):
        ak.StructuredDataClassifier(tuner="genetic", directory=tmp_path).fit(x, y)
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_trial'; did you mean 'max_trials'"):
        ak.StructuredDataClassifier(max_trial=5)
    with pytest.raises(TypeError, match="unexpected keyword argument 'epoch'; did you mean 'epochs'"):
        clf.fit(x, y, epoch=1)
    with pytest.raises(RuntimeError, match="not fitted yet"):
        clf.predict(x)
    clf.fit(x, y)
    with pytest.raises(ValueError, match="checking_status"):
        clf.predict(x.drop(columns=["checking_status"]))


def test_failed_trials_are_recorded_and_reported(small_credit, tmp_path):
    clf = ak.StructuredDataClassifier(directory=tmp_path, max_model_size=10, max_trials=3, epochs=1, verbose=0,
                                      max_consecutive_failures=2)
    with pytest.raises(SearchFailed, match="max_model_size=10"):
        clf.fit(small_credit, "class")


def test_resume_does_not_redo_finished_trials(two_trials, tmp_path):
    first, project, rows, _ = two_trials
    shutil.copytree(project, tmp_path / "p")  # resumed in a copy: the shared project keeps its two trials
    params_before = [t.params for t in first.study_.trials]
    mtime = (tmp_path / "p" / "trials" / "trial_0000" / "metrics.json").stat().st_mtime_ns
    second = ak.StructuredDataClassifier(directory=tmp_path, project_name="p", max_trials=3, epochs=1, verbose=0,
                                         seed=0, overwrite=False)
    second.fit(rows, "class")
    trials = second.study_.trials
    assert len(trials) == 3 and [t.params for t in trials[:2]] == params_before
    assert (tmp_path / "p" / "trials" / "trial_0000" / "metrics.json").stat().st_mtime_ns == mtime
    assert len(list((project / "trials").iterdir())) == 2 and len(list((tmp_path / "p" / "trials").iterdir())) == 3


def test_verbose_prints_one_line_per_trial_and_zero_is_silent(two_trials, small_credit, tmp_path, capsys):
    out = two_trials[3]  # verbose=1
    assert out.count("[autodeep] trial") == 2 and "best=" in out and "done in" in out
    ak.StructuredDataClassifier(directory=tmp_path, project_name="v0", max_trials=1, epochs=1, verbose=0).fit(
        small_credit, "class")
    assert capsys.readouterr().out == ""


def test_time_limit_bounds_the_whole_fit(credit_g, tmp_path):
    import time

    started = time.time()
    clf = ak.StructuredDataClassifier(directory=tmp_path, time_limit=12, max_trials=100, verbose=0, seed=0)
    clf.fit(credit_g, "class")
    elapsed = time.time() - started
    assert elapsed < 12 * 1.5  # generous here; benchmarks/tabular.py measures the overrun precisely
    assert 1 <= len(clf.study_.trials) < 100


def test_cli_fit_and_predict(small_credit, tmp_path, capsys):
    from autodeep.cli import main

    data = tmp_path / "train.csv"
    small_credit.to_csv(data, index=False)
    assert main(["fit", str(data), "--target", "class", "--max-trials", "1", "--epochs", "2",
                 "--directory", str(tmp_path), "--out", str(tmp_path / "model"), "--quiet"]) == 0
    assert "classification model saved" in capsys.readouterr().out
    out_csv = tmp_path / "pred.csv"
    assert main(["predict", str(tmp_path / "model"), str(data), "--output", str(out_csv), "--proba"]) == 0
    pred = pd.read_csv(out_csv)
    assert list(pred.columns) == ["prediction", "proba_bad", "proba_good"] and len(pred) == len(small_credit)
    assert set(pred["prediction"]) <= {"good", "bad"}


def test_cli_accepts_every_tuner_and_leaves_the_default_to_the_task():
    from autodeep.cli import _search_arguments, build_parser
    from autodeep.search.strategies import TUNERS

    for tuner in TUNERS:
        args = build_parser().parse_args(["fit", "train.csv", "--out", "model", "--tuner", tuner])
        assert _search_arguments(args)["tuner"] == tuner
    assert _search_arguments(build_parser().parse_args(["fit", "train.csv", "--out", "model"]))["tuner"] is None


def test_bagging_exports_the_trial_and_its_fold_models(small_credit, tmp_path):
    x, y = small_credit.drop(columns="class"), small_credit["class"]
    clf = ak.StructuredDataClassifier(directory=tmp_path, bagging_folds=3, ensemble_size=1, retrieval=False, **FAST)
    clf.fit(x, y)
    final = clf.predictor_.manifest["info"]["final"]
    assert final["kind"] == "bagged" and final["models_per_member"] == [4] and final["rows"] == len(x)
    exported = clf.export_model()
    members = [layer for layer in exported.layers if isinstance(layer, keras.Model)]
    assert len(members) == 4  # three fold models and the trial's own
    average = next(layer for layer in exported.layers if type(layer).__name__ == "WeightedAverage")
    np.testing.assert_allclose(average.member_weights, [0.25] * 4)
    # the fold models were trained: they disagree with each other and with the trial's weights
    inputs = clf.predictor_.transform(x.head(20))
    outs = [np.asarray(m.predict(inputs, verbose=0)) for m in members]
    assert all(not np.allclose(outs[0], o, atol=1e-4) for o in outs[1:])
    np.testing.assert_allclose(np.mean(outs, axis=0)[:, 0], clf.predict_proba(x.head(20))[:, 1], atol=1e-5)
    proba = clf.predict_proba(x.head(20))
    assert proba.shape == (20, 2) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)


def test_bagged_members_are_chosen_again_on_every_row_out_of_fold(small_credit, tmp_path):
    x, y = small_credit.drop(columns="class"), small_credit["class"]
    clf = ak.StructuredDataClassifier(directory=tmp_path, bagging_folds=2, retrieval=False, objective="f1",
                                      max_trials=3, epochs=2, verbose=0, seed=0)
    clf.fit(x, y)
    final = clf.predictor_.manifest["info"]["final"]
    assert final["selected_on"] == "out_of_fold" and final["selected_from"] == 3  # every trial, bagged
    assert set(final["member_kinds"]) == {"bagged"} and set(final["models_per_member"]) == {3}
    assert set(final["members"]) <= {t.number for t in clf.study_.trials} and sum(final["weights"]) == pytest.approx(1)
    assert final["weights"] == sorted(final["weights"], reverse=True) and final["out_of_fold_rows"] == len(x)
    average = next(layer for layer in clf.export_model().layers if type(layer).__name__ == "WeightedAverage")
    np.testing.assert_allclose(average.member_weights, np.repeat(final["weights"], 3) / 3, rtol=1e-6)


def test_bagging_auto_bags_small_in_memory_tables_trained_with_early_stopping(tmp_path):
    from autodeep.fit.budget import BAGGING_FOLDS, BAGGING_MAX_ROWS, bagging_folds

    assert bagging_folds("auto", True, 1_000, None, lazy=False) == BAGGING_FOLDS
    assert bagging_folds("auto", True, 1_000, 5, lazy=False) == 0  # fixed epochs: the user wants quick fits
    assert bagging_folds("auto", True, BAGGING_MAX_ROWS + 1, None, lazy=False) == 0  # large tables are refit once
    assert bagging_folds("auto", True, 1_000, None, lazy=True) == 0  # streamed rows are refit once
    assert bagging_folds("auto", False, 1_000, None, lazy=False) == 0  # refit=False
    assert bagging_folds(0, True, 1_000, None, lazy=False) == 0
    assert bagging_folds(3, True, 10**6, 5, lazy=False) == 3
    x, y = np.zeros((4, 1)), [0, 1, 0, 1]
    with pytest.raises(ValueError, match="bagging_folds"):
        ak.StructuredDataClassifier(bagging_folds=1, directory=tmp_path).fit(x, y)
    with pytest.raises(ValueError, match="bagging_folds"):
        ak.StructuredDataClassifier(bagging_folds=-2, directory=tmp_path).fit(x, y)


def test_fold_indices_cover_every_row_once_and_keep_class_shares():
    from autodeep.fit.final import fold_indices

    y = np.array([0] * 80 + [1] * 20)
    folds = fold_indices(y, 100, 5, seed=0)
    stops = np.concatenate([stop for _, stop in folds])
    assert len(folds) == 5 and sorted(stops.tolist()) == list(range(100))
    for fit, stop in folds:
        assert not set(fit) & set(stop) and y[stop].sum() == 4  # stratified: 4 of the 20 positives each
    # regression targets (no class labels): plain folds
    assert sorted(np.concatenate([s for _, s in fold_indices(None, 50, 3, seed=0)]).tolist()) == list(range(50))


def test_hard_table_high_cardinality_wide_missing_and_imbalanced(tmp_path):
    """Amazon-like ids (2,000 levels, most seen once), 200 noise columns, 10 % missing cells, 10 % positives."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    n = 2_000
    signal = rng.normal(size=n)
    frame = pd.DataFrame(rng.normal(size=(n, 200)), columns=[f"noise_{i}" for i in range(200)])
    frame["signal"] = signal
    frame["resource"] = [f"r{i}" for i in rng.integers(0, 2_000, size=n)]
    frame["role"] = np.where(signal > 1.0, "manager", rng.choice(["clerk", "analyst", "intern"], size=n))
    frame = frame.mask(rng.random(frame.shape) < 0.1)
    y = np.where(signal + 0.3 * rng.normal(size=n) > 1.3, "granted", "denied")
    assert 0.05 < (y == "granted").mean() < 0.15
    train, test = np.arange(1_500), np.arange(1_500, n)
    clf = ak.StructuredDataClassifier(directory=tmp_path, max_trials=1, epochs=5, verbose=0, seed=0)
    clf.fit(frame.iloc[train], y[train])
    table = clf.predictor_.preprocessors[0].table_
    assert table.codes_ == ["resource"]  # an ID code: only its levels of 10 rows or more are embedded
    assert table.vocabularies_[table.categorical_columns_.index("resource")] == ["__missing__"]  # 10 % of rows
    assert table.n_numerical_features_ == 203 + 201  # + its count and target statistic; a missing flag per gappy column
    proba = clf.predict_proba(frame.iloc[test])  # mostly unseen resource ids
    assert proba.shape == (500, 2) and np.isfinite(proba).all()
    positive = list(clf.classes_).index("granted")
    assert roc_auc_score(y[test] == "granted", proba[:, positive]) > 0.8


def test_an_id_code_that_carries_the_signal_is_learned_through_its_encodings(tmp_path):
    """150 shop codes of about 8 training rows each, each shop's rate 15 % or 85 %: the encoded code beats the
    table without it by far on held-out rows (those shops seen in training)."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    n, shops = 1_500, rng.integers(0, 150, 1_500)
    rate = np.where(rng.random(150) < 0.5, 0.15, 0.85)[shops]
    frame = pd.DataFrame({"shop": [f"s{s}" for s in shops], "noise": rng.normal(size=n)})
    y = (rng.random(n) < rate).astype(int)
    train, test = np.arange(1_200), np.arange(1_200, n)
    scores = {}
    for name, x in (("encoded", frame), ("dropped", frame[["noise"]])):
        clf = ak.StructuredDataClassifier(directory=tmp_path / name, max_trials=1, epochs=10, verbose=0, seed=0)
        clf.fit(x.iloc[train], y[train])
        scores[name] = roc_auc_score(y[test], clf.predict_proba(x.iloc[test])[:, 1])
        if name == "encoded":
            assert clf.predictor_.preprocessors[0].table_.codes_ == ["shop"]
    assert scores["encoded"] > 0.75 and scores["encoded"] > scores["dropped"] + 0.2, scores


def test_transformer_block_learns_a_rule_over_numeric_and_categorical_columns(tmp_path):
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600), "c": rng.choice(list("uvw"), 600)})
    y = ((x["a"] + 1.5 * (x["c"] == "u")) > 0.3).astype(int).to_numpy()
    node = ak.StructuredDataInput()
    out = ak.ClassificationHead()(ak.StructuredDataBlock(block_type="transformer", num_layers=1)(node))
    model = ak.AutoModel(node, out, max_trials=1, directory=tmp_path, seed=0, verbose=0, retrieval=False)
    model.fit(x[:450], y[:450], epochs=8)
    assert (model.predict(x[450:]).ravel() == y[450:]).mean() > 0.85  # held-out rows: learned, not memorised
    kinds = {type(layer).__name__ for layer in model.export_model()._flatten_layers()}
    assert {"ClassToken", "MultiHeadAttention", "PeriodicEmbedding", "CategoricalEmbedding"} <= kinds
    loaded = ak.load_model(model.save(tmp_path / "export"))
    np.testing.assert_allclose(loaded.predict_proba(x[450:]), model.predict_proba(x[450:]), atol=1e-6)
    with pytest.raises(ValueError, match="block_type must be one of"):
        ak.StructuredDataBlock(block_type="attention")



def test_tabm_block_trains_members_that_differ_and_exports_their_mean(tmp_path):
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600), "c": rng.choice(list("uvw"), 600)})
    y = np.where(x["a"] + 1.5 * (x["c"] == "u") > 0.3, "yes", np.where(x["b"] > 0, "no", "maybe"))
    node = ak.StructuredDataInput()
    out = ak.ClassificationHead()(ak.StructuredDataBlock(block_type="tabm", members=4, num_layers=2)(node))
    model = ak.AutoModel(node, out, max_trials=1, directory=tmp_path, seed=0, verbose=0, retrieval=False,
                         bagging_folds=0)
    model.fit(x[:450], y[:450], epochs=10)
    assert (model.predict(x[450:]).ravel() == y[450:]).mean() > 0.8  # three classes, held-out rows
    proba = model.predict_proba(x[450:])
    loaded = ak.load_model(model.save(tmp_path / "export"))
    np.testing.assert_allclose(loaded.predict_proba(x[450:]), proba, atol=1e-6)
    # every member's own probabilities: they differ, and the exported prediction is their mean
    net = loaded.export_model()
    mean_layer = next(layer for layer in net._flatten_layers() if isinstance(layer, MemberMean))
    members = np.asarray(keras.Model(net.inputs, mean_layer.input).predict(loaded.transform(x[450:]), verbose=0))
    assert members.shape == (150, 4, 3)
    assert members.std(axis=1).mean() > 1e-3
    np.testing.assert_allclose(members.mean(axis=1), proba, atol=1e-5)
    with pytest.raises(ValueError, match="members must be an integer >= 2"):
        ak.StructuredDataBlock(block_type="tabm", members=1)


def test_realmlp_block_learns_and_exports_its_scaling_embedding_and_parametric_layers(tmp_path):
    rng = np.random.default_rng(2)
    x = pd.DataFrame({"a": rng.normal(size=600), "b": rng.normal(size=600), "c": rng.choice(list("uvw"), 600)})
    y = np.where(np.sin(2 * x["a"]) + (x["c"] == "u") > 0.2, "yes", "no")  # a periodic signal in one column
    node = ak.StructuredDataInput()
    out = ak.ClassificationHead()(ak.StructuredDataBlock(block_type="realmlp", num_layers=2)(node))
    model = ak.AutoModel(node, out, max_trials=1, directory=tmp_path, seed=0, verbose=0, retrieval=False,
                         bagging_folds=0)
    model.fit(x[:450], y[:450], epochs=15)
    assert (model.predict(x[450:]).ravel() == y[450:]).mean() > 0.85  # held-out rows
    net = model.export_model()
    layers = {type(layer).__name__: layer for layer in net._flatten_layers()}
    assert {"FeatureScale", "PeriodicBiasEmbedding", "ParametricActivation"} <= set(layers)
    scale = keras.ops.convert_to_numpy(layers["FeatureScale"].scale) * 6.0
    assert np.abs(scale - 1.0).max() > 0.01  # the front scales were trained away from 1
    loaded = ak.load_model(model.save(tmp_path / "export"))
    np.testing.assert_allclose(loaded.predict_proba(x[450:]), model.predict_proba(x[450:]), atol=1e-6)


def test_feature_scale_steps_its_factor_times_as_far_as_other_weights():
    from autodeep.blocks.layers import FeatureScale

    model = keras.Sequential([keras.Input((2,)), FeatureScale(step_factor=6.0), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    layer, dense = model.layers
    kernel = keras.ops.convert_to_numpy(dense.kernel).copy()
    x, y = np.array([[1.0, 2.0]], "float32"), np.array([[5.0]], "float32")
    model.train_on_batch(x, y)
    # Adam's first step moves every weight by the learning rate; the scale is 6 x its weight
    scale_step = np.abs(6.0 * keras.ops.convert_to_numpy(layer.scale) - 1.0)
    kernel_step = np.abs(keras.ops.convert_to_numpy(dense.kernel) - kernel)
    np.testing.assert_allclose(scale_step, 0.06, rtol=1e-3)
    np.testing.assert_allclose(kernel_step, 0.01, rtol=1e-3)


def test_a_table_search_tries_the_shipped_portfolio_first_in_its_order(small_credit, tmp_path):
    from autodeep.modalities import table_starts

    portfolio = table_starts()
    clf = ak.StructuredDataClassifier(max_trials=len(portfolio), epochs=1, verbose=0, seed=0, refit=False,
                                      bagging_folds=0, retrieval=False, directory=tmp_path)
    clf.fit(small_credit, "class")
    trials = sorted(clf.study_.trials, key=lambda t: t.number)
    assert len(trials) == len(portfolio)
    for trial, config in zip(trials, portfolio):
        # every value of the configuration is one the table space declares (credit-g has numbers and categories)
        assert {k: trial.params.get(k) for k in config} == config
