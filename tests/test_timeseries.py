"""TimeseriesForecaster on a real series: monthly Mauna Loa CO2 (statsmodels' bundled copy, read offline)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import autodeep as ak
from autodeep.data.timeseries import SeriesWindows, chronological_split, sliding_windows
from autodeep.data.timeseries_preprocessor import TimeseriesPreprocessor
from autodeep.graph import Graph, HyperParameters

LOOKBACK, UNTIL = 12, 3


@pytest.fixture(scope="module")
def co2() -> pd.DataFrame:
    """Monthly CO2 (ppm) from 1958 on, as a plain frame in time order; it has a few missing months."""
    datasets = pytest.importorskip("statsmodels.datasets")
    weekly = datasets.co2.load_pandas().data
    return weekly.resample("MS").mean().reset_index(drop=True)


@pytest.fixture(scope="module")
def forecaster(co2, tmp_path_factory):
    f = ak.TimeseriesForecaster(lookback=LOOKBACK, predict_from=1, predict_until=UNTIL, max_trials=1, epochs=2,
                                refit=False, directory=str(tmp_path_factory.mktemp("ts")), verbose=0, seed=0)
    return f.fit(co2.head(150), "co2")


def test_forecast_shape_and_units(forecaster, co2):
    history = co2.iloc[150:190]
    forecast = forecaster.predict(history)
    assert forecast.shape == (len(history) - LOOKBACK + 1, UNTIL)
    # In ppm like the data (about 315-330 here), not standardised values near zero.
    assert 250 < float(np.mean(forecast)) < 400


def test_evaluate_scores_the_windows_predict_returns(forecaster, co2):
    part = co2.iloc[150:200].ffill()
    loss = float(np.atleast_1d(forecaster.evaluate(part, "co2"))[0])
    values = part["co2"].to_numpy()
    truth = np.stack([values[LOOKBACK - 1 + k: len(part) - UNTIL + k] for k in range(1, UNTIL + 1)], axis=1)
    forecast = forecaster.predict(part)[:-UNTIL]  # the last windows' targets lie past the end of part
    assert loss == pytest.approx(float(np.mean((forecast - truth) ** 2)), rel=1e-3)


def test_split_is_chronological_with_no_shared_target_step(forecaster):
    train, val = forecaster.split_["train_ends"], forecaster.split_["validation_ends"]
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)
    assert val[-1] == 150 - 1 - UNTIL  # the last window whose targets are all known
    assert train.max() + UNTIL < val.min() + 1  # the last training target comes before the first validation one


def test_exported_artifact_takes_raw_rows(forecaster, co2, tmp_path):
    history = co2.iloc[100:140]
    saved = ak.load_model(forecaster.save(tmp_path / "model"))
    np.testing.assert_allclose(saved.predict(history), forecaster.predict(history), rtol=1e-5)
    config = json.loads((tmp_path / "model" / "manifest.json").read_text())["inputs"][0]["preprocessor"]
    assert config["class"] == "TimeseriesPreprocessor" and config["config"]["lookback"] == LOOKBACK


def test_scaling_uses_training_rows_only(co2):
    frame = co2.ffill()
    p = TimeseriesPreprocessor().fit(SeriesWindows(frame, 4, ends=np.arange(3, 50)))
    assert p.mean_[0] == pytest.approx(frame["co2"].iloc[:50].mean())  # not the mean of all 526 months
    restored = TimeseriesPreprocessor.from_config(json.loads(json.dumps(p.get_config())))
    np.testing.assert_array_equal(restored.transform(frame.tail(20))["window"], p.transform(frame.tail(20))["window"])


def test_missing_values_are_forward_filled(co2):
    gap = int(next(i for i in np.flatnonzero(co2["co2"].isna()) if i >= 10))
    raw = co2.iloc[gap - 10:gap + 10]
    p = TimeseriesPreprocessor(lookback=5).fit(co2.ffill().head(100))
    np.testing.assert_array_equal(p.transform(raw)["window"], p.transform(raw.ffill())["window"])
    with pytest.raises(ValueError, match="start with missing values"):
        p.transform(co2.iloc[gap:gap + 10])


def test_windows_read_past_rows_only():
    values = np.arange(10.0).reshape(-1, 1)
    windows = sliding_windows(values, 3, np.array([2, 9]))
    assert windows[:, :, 0].tolist() == [[0.0, 1.0, 2.0], [7.0, 8.0, 9.0]]
    train, val = chronological_split(np.arange(2, 10), 0.25, horizon=3)
    assert val.tolist() == [8, 9] and train.tolist() == [2, 3, 4, 5]


@pytest.mark.parametrize("kwargs, message", [
    ({"lookback": 0}, r"lookback must be an integer >= 1; received 0"),
    ({"predict_from": 3, "predict_until": 2},
     r"predict_until must be >= predict_from \(=3\).*received predict_until=2"),
    ({"predict_until": 2, "output_dim": 5}, r"output_dim must be None or the number of forecast steps .* = 2\).*5"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ak.TimeseriesForecaster(**kwargs)


def test_too_short_series_and_history_are_reported(co2, forecaster, tmp_path):
    f = ak.TimeseriesForecaster(lookback=12, predict_until=6, max_trials=1, directory=str(tmp_path), verbose=0)
    with pytest.raises(ValueError, match=r"x and y have 20 rows.*lookback \(12\).*predict_until \(6\).* = 24"):
        f.fit(co2.head(20), "co2")
    with pytest.raises(ValueError, match=r"y='ppm' names no column of x"):
        f.fit(co2.head(100), "ppm")
    with pytest.raises(ValueError, match=r"x has 5 rows; a forecast needs at least lookback=12 rows"):
        forecaster.predict(co2.head(5))


def _window_layers(values: dict, lookback: int | None = None):
    """Build a TimeseriesBlock on 32-row windows of 2 columns: the hyperparameters and the layers that read rows."""
    series = ak.TimeseriesInput()
    out = ak.RegressionHead()(ak.TimeseriesBlock(name="ts", lookback=lookback, block_type="mlp")(series))
    graph = Graph(series, out)
    out.in_blocks[0].configure({"output_dim": 1})
    hp = HyperParameters(values=values)
    model = graph.build(hp, {series.name: {"features": {"window": ((32, 2), "float32")}, "meta": {}}})
    return hp, [(type(layer).__name__, tuple(layer.output.shape[1:])) for layer in model.layers
                if type(layer).__name__ in ("Cropping1D", "Flatten")]


def test_default_lookback_is_searched():
    hp, layers = _window_layers({})
    spec = hp.space["ts/lookback"]  # a hyperparameter of the space: the whole window, a half, a quarter
    assert spec.kind == "choice" and spec.choices == (32, 16, 8) and spec.default == 32
    assert layers == [("Flatten", (64,))]  # the default reads all 32 rows
    for keep in (16, 8):  # each value the search may draw changes what the model reads: the last `keep` rows
        hp, layers = _window_layers({"ts/lookback": keep})
        assert layers == [("Cropping1D", (keep, 2)), ("Flatten", (2 * keep,))]
    hp, layers = _window_layers({}, lookback=8)  # a lookback the user fixed on the block is not searched
    assert "ts/lookback" not in hp.space and layers[0] == ("Cropping1D", (8, 2))
