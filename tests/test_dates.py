"""Date columns in tables: recognised, expanded into features, and carried by the exported model."""

import numpy as np
import pandas as pd
import pytest

import autodeep as ak
from autodeep.data import TabularPreprocessor, infer_column_types
from helpers import auc_by_columns


def test_inference_finds_dates_but_not_ids_codes_or_numbers():
    n = 30
    days = pd.date_range("2024-01-01", periods=n, freq="D")
    df = pd.DataFrame({
        "stamp": days,  # datetime64
        "aware": days.tz_localize("Europe/Paris"),  # with a time zone
        "iso": days.strftime("%Y-%m-%d"),  # text dates
        "european": days.strftime("%d/%m/%Y"),
        "id": [f"{i:06d}" for i in range(n)],  # numeric IDs written as text
        "date_like_id": [f"{i:04d}-{i % 7:02d}" for i in range(n)],  # codes with a dash
        "city": ["Paris", "Lyon", "Nice"] * 10,
    })
    assert infer_column_types(df) == {"stamp": "datetime", "aware": "datetime", "iso": "datetime",
                                      "european": "datetime", "id": "numerical", "date_like_id": "categorical",
                                      "city": "categorical"}
    overridden = infer_column_types(df, column_types={"iso": "categorical", "id": "datetime"})
    assert overridden["iso"] == "categorical" and overridden["id"] == "datetime"
    with pytest.raises(ValueError, match="column_types\\['iso'\\] must be one of .*'datetime'.*received 'date'"):
        infer_column_types(df, column_types={"iso": "date"})


def test_a_date_column_becomes_calendar_features_and_missing_dates_are_flagged():
    train = pd.DataFrame({"when": ["2024-01-01", "2024-01-07", None, "2024-03-15"], "x": [1.0, 2.0, 3.0, 4.0]})
    p = TabularPreprocessor().fit(train)
    assert p.column_types_["when"] == "datetime"
    assert "when.dayofweek" in p.numerical_columns_ and "when.elapsed_days" in p.numerical_columns_
    assert "when.hour" not in p.numerical_columns_  # no time of day in training
    assert p.categorical_columns_ == ["when.month_category", "when.dayofweek_category"]
    out = p.transform(pd.DataFrame({"when": ["2024-01-14", "not a date"], "x": [1.0, 1.0]}))
    flags = out["numerical"][:, len(p.numerical_columns_):]
    assert flags.shape[1] == len(p.missing_indicator_columns_) and flags[1].all() and not flags[0].any()
    weekdays = p.vocabularies_[1]  # 2024-01-14 is a Sunday (day 6); a missing date is coded as missing
    assert out["categorical"][0, 1] == weekdays.index("6") + 1
    assert out["categorical"][1, 1] == weekdays.index("__missing__") + 1
    restored = TabularPreprocessor.from_config(p.get_config())
    np.testing.assert_array_equal(restored.transform(train)["numerical"], p.transform(train)["numerical"])


def _weekly_table(seed: int = 0, n: int = 1400) -> pd.DataFrame:
    """Orders over two years whose outcome depends on the weekday (weekends mostly positive), and a noise column."""
    rng = np.random.default_rng(seed)
    when = pd.Timestamp("2022-01-03") + pd.to_timedelta(np.sort(rng.integers(0, 730, n)), unit="D")
    positive = rng.random(n) < np.where(when.day_of_week >= 5, 0.85, 0.15)
    return pd.DataFrame({"when": when.strftime("%Y-%m-%d"), "amount": rng.normal(size=n),
                         "label": np.where(positive, "yes", "no")})


def test_a_weekly_date_signal_lifts_auc_on_future_dates_and_survives_the_saved_model(tmp_path):
    df = _weekly_table()
    train, future = df.iloc[:1000], df.iloc[1000:].copy()
    future.loc[future.index[:5], "when"] = None  # missing dates at prediction
    fits = auc_by_columns(tmp_path, train, future, "label", "yes",
                          {"with_date": ["when", "amount"], "without_date": ["amount"]}, epochs=8)
    scores = {name: auc for name, (auc, _) in fits.items()}
    clf, raw = fits["with_date"][1], future[["when", "amount"]]
    loaded = ak.load_model(clf.save(tmp_path / "weekly_model"))
    np.testing.assert_allclose(loaded.predict_proba(raw), clf.predict_proba(raw), atol=1e-6)
    assert np.isfinite(clf.predict_proba(raw)).all()
    assert scores["with_date"] > 0.75, scores
    assert scores["with_date"] > scores["without_date"] + 0.15, scores
