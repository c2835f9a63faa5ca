"""Behaviour of autodeep.data on real small tables and hand-made frames."""

import json

import numpy as np
import pandas as pd
import pytest

from autodeep.data import (
    CATEGORICAL,
    NUMERICAL,
    ClassEncoder,
    TabularPreprocessor,
    TargetScaler,
    check_lengths,
    check_target,
    infer_column_types,
    read_table,
    to_target_array,
    train_validation_split,
)

from tests.conftest import data_file


@pytest.fixture(scope="module")
def penguins():
    """344 penguins read from a committed .csv.gz: strings, gaps in numbers and in a category."""
    return read_table(data_file("penguins.csv.gz"), target="species")


# ---------------------------------------------------------------- adapters

def test_read_table_dataframe_is_shallow_copy_with_str_names():
    original = pd.DataFrame({0: [1, 2], "b": ["x", "y"]})
    df, y = read_table(original)
    assert y is None
    assert list(df.columns) == ["0", "b"]
    assert list(original.columns) == [0, "b"]  # the caller's frame is untouched


def test_read_table_duplicate_names_rejected():
    with pytest.raises(ValueError, match=r"duplicate column names \['1'\]"):
        read_table(pd.DataFrame([[1, 2]], columns=[1, "1"]))


def test_read_table_ndarray_and_list_of_rows():
    df, _ = read_table(np.arange(6).reshape(3, 2))
    assert list(df.columns) == ["0", "1"] and df["1"].tolist() == [1, 3, 5]
    df, _ = read_table([[1, "a"], [2, "b"]])
    assert df.shape == (2, 2) and df["1"].tolist() == ["a", "b"]
    with pytest.raises(ValueError, match="2-D"):
        read_table(np.arange(3))
    with pytest.raises(ValueError, match="2-D"):
        read_table([1, 2, 3])


def test_read_table_dict_and_target():
    df, y = read_table({"a": np.array([1.0, 2.0]), "label": ["p", "q"]}, target="label")
    assert list(df.columns) == ["a"] and y.tolist() == ["p", "q"]
    with pytest.raises(ValueError, match=r"'nope'.*available columns.*'a'"):
        read_table({"a": [1]}, target="nope")
    with pytest.raises(ValueError, match="equal length"):
        read_table({"a": [1, 2], "b": [1]})


def test_read_table_wrong_type_names_argument():
    with pytest.raises(TypeError, match="validation_data.*received int"):
        read_table(3, argument="validation_data")


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".tsv", ".parquet"])
def test_read_table_files(tmp_path, suffix):
    frame = pd.DataFrame({"num": [1.5, 2.5, np.nan], "cat": ["a", None, "c"], "y": [0, 1, 0]})
    path = tmp_path / f"t{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path, engine="pyarrow")
    else:
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    df, y = read_table(path, target="y")
    assert list(df.columns) == ["num", "cat"]
    assert y.tolist() == [0, 1, 0]
    assert df["num"].isna().tolist() == [False, False, True]
    assert df["cat"].isna().tolist() == [False, True, False]


def test_read_table_missing_file_and_bad_suffix(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.csv"):
        read_table(tmp_path / "nowhere.csv")
    bad = tmp_path / "table.xlsx"
    bad.write_text("x")
    with pytest.raises(ValueError, match=r"\.parquet"):
        read_table(str(bad))


def test_read_real_csv_gz(penguins):
    df, y = penguins
    assert df.shape == (344, 6) and "species" not in df.columns
    assert y.value_counts().to_dict() == {"Adelie": 152, "Gentoo": 124, "Chinstrap": 68}
    assert int(df["sex"].isna().sum()) == 11 and int(df["body_mass_g"].isna().sum()) == 2  # gaps read as NaN


def test_to_target_array_shapes():
    assert to_target_array(pd.DataFrame({"y": [1, 2]})).shape == (2,)
    assert to_target_array(np.array([[1], [2]])).shape == (2,)
    assert to_target_array(pd.DataFrame({"a": [0, 1], "b": [1, 1]})).shape == (2, 2)
    assert to_target_array(pd.Series(["a", "b"], dtype="str")).tolist() == ["a", "b"]
    # ``df.col.values`` of a pandas 3 string column is an ExtensionArray, not an ndarray
    assert to_target_array(pd.DataFrame({"c": ["x", "y", "x"]})["c"].values).tolist() == ["x", "y", "x"]
    assert to_target_array(pd.array([1, 0, 1], dtype="Int64")).tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="y is required"):
        to_target_array(None)


def test_check_lengths_messages():
    check_lengths(2, [0, 1])
    with pytest.raises(ValueError, match="x has 10 rows but y has 9"):
        check_lengths(10, np.zeros(9))
    with pytest.raises(ValueError, match="x is empty"):
        check_lengths(0, [])


# ---------------------------------------------------------------- analysis

def test_infer_column_types_real_data(penguins):
    types = infer_column_types(penguins[0])
    assert types["bill_length_mm"] == NUMERICAL and types["body_mass_g"] == NUMERICAL  # floats with gaps
    assert types["sex"] == CATEGORICAL and types["island"] == CATEGORICAL  # pandas 3 "str" dtype
    assert list(types) == list(penguins[0].columns)


def test_infer_column_types_strings_bools_missing():
    df = pd.DataFrame({
        "as_text": pd.Series(["1", "2.5", None], dtype="str"),
        "words": pd.Series(["a", "b", None], dtype="str"),
        "flag": [True, False, True],
        "empty": [np.nan, np.nan, np.nan],
        "cat": pd.Series(["1", "2", "1"], dtype="category"),
    })
    assert infer_column_types(df) == {"as_text": NUMERICAL, "words": CATEGORICAL,
                                      "flag": CATEGORICAL, "cat": CATEGORICAL}


def test_column_types_override_and_errors():
    df = pd.DataFrame({"code": [1, 2, 3], "v": [0.1, 0.2, 0.3]})
    assert infer_column_types(df, {"code": CATEGORICAL})["code"] == CATEGORICAL
    with pytest.raises(ValueError, match=r"'missing'.*available columns.*'code'"):
        infer_column_types(df, {"missing": NUMERICAL})
    with pytest.raises(ValueError, match="'numeric'"):
        infer_column_types(df, {"code": "numeric"})


def test_check_target_errors():
    check_target(np.array(["a", "b"]), "classification")
    with pytest.raises(ValueError, match="single class 'a'; classification needs at least two"):
        check_target(np.array(["a", "a"]), "classification")
    with pytest.raises(ValueError, match="1 missing.*row 1"):
        check_target(np.array(["a", None, "b"], dtype=object), "classification")
    with pytest.raises(ValueError, match="2 NaN or infinite.*row 2"):
        check_target(np.array([0.0, 1.0, np.nan, np.inf]), "regression")
    with pytest.raises(ValueError, match="task"):
        check_target(np.array([0, 1]), "ranking")


# ---------------------------------------------------------------- tabular

def test_tabular_on_penguins_shapes_and_types(penguins):
    df, _ = penguins
    p = TabularPreprocessor()
    out = p.fit_transform(df)
    numbers = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    assert out["numerical"].dtype == np.float32 and out["categorical"].dtype == np.int32
    assert p.numerical_columns_ == numbers and p.categorical_columns_ == ["island", "sex"]
    assert p.missing_indicator_columns_ == numbers  # each number column has gaps: one flag each
    assert out["numerical"].shape == (344, 8) == (344, p.n_numerical_features_)
    assert out["categorical"].shape == (344, 2)
    assert np.isfinite(out["numerical"]).all() and np.abs(out["numerical"]).max() <= 5
    sex = out["categorical"][:, 1]
    # MALE, FEMALE and the 11 gaps (a category of their own: seen in fit) plus code 0 for unseen values
    assert p.cardinalities_ == [4, 4] and set(sex) == {1, 2, 3}
    assert np.array_equal(sex == 3, df["sex"].isna().to_numpy())
    assert (out["categorical"] < np.array(p.cardinalities_)).all()
    # the flags are exactly the gaps, and the gaps were imputed (not left at NaN, not all set to one value)
    np.testing.assert_array_equal(out["numerical"][:, 4:], df[numbers].isna().to_numpy().astype("float32"))
    assert len(np.unique(out["numerical"][:, 3])) > 50


def test_tabular_imputes_median_and_flags_missing():
    train = pd.DataFrame({"a": [1.0, 2.0, 3.0, np.nan, 5.0], "b": [1.0, 2.0, 3.0, 4.0, 5.0]})
    p = TabularPreprocessor().fit(train)
    assert p.n_numerical_features_ == 3 and p.missing_indicator_columns_ == ["a"]
    out = p.transform(pd.DataFrame({"a": [np.nan, np.inf, 2.5], "b": [np.nan, 3.0, 3.0]}))["numerical"]
    assert out[:, 2].tolist() == [1.0, 1.0, 0.0]  # inf counts as missing
    assert out[0, 0] == out[1, 0] == out[2, 0]  # imputed with the median 2.5
    assert out[0, 1] == out[1, 1]  # b had no gaps in training: imputed, no indicator


def test_tabular_numeric_strings_are_numbers():
    df = pd.DataFrame({"n": pd.Series(["10", "2", "30", None], dtype="str")})
    p = TabularPreprocessor().fit(df)
    out = p.transform(df)["numerical"][:, 0]
    assert p.column_types_ == {"n": NUMERICAL}
    assert out[1] < out[0] < out[2]  # numeric order, not string order ("10" < "2")


def test_tabular_unseen_rare_and_missing_categories():
    train = pd.DataFrame({"c": ["a", "a", "a", "b", "b", None, "rare"]})
    p = TabularPreprocessor(min_frequency=2).fit(train)
    assert p.cardinalities_ == [3]  # a, b and code 0
    codes = p.transform(pd.DataFrame({"c": ["a", "b", "rare", "never seen", None]}))["categorical"][:, 0]
    assert codes.tolist() == [1, 2, 0, 0, 0]
    capped = TabularPreprocessor(max_categories=1).fit(train)
    assert capped.transform(pd.DataFrame({"c": ["a", "b"]}))["categorical"][:, 0].tolist() == [1, 0]


def test_tabular_int_category_matches_float_at_predict():
    p = TabularPreprocessor(column_types={"k": CATEGORICAL}).fit(pd.DataFrame({"k": [1, 2, 2]}))
    codes = p.transform(pd.DataFrame({"k": [1.0, 2.0, np.nan]}))["categorical"][:, 0]
    assert codes.tolist() == [2, 1, 0]


def test_tabular_column_errors_and_order(penguins):
    df, _ = penguins
    p = TabularPreprocessor().fit(df)
    shuffled = df[list(reversed(df.columns))].assign(extra=1)
    for key in ("numerical", "categorical"):
        assert np.array_equal(p.transform(shuffled)[key], p.transform(df)[key])
    with pytest.raises(ValueError, match=r"x is missing columns.*'island'"):
        p.transform(df.drop(columns=["island"]))


def test_tabular_outlier_does_not_squash():
    values = np.r_[np.arange(1.0, 100.0), 1e9]
    out = TabularPreprocessor().fit_transform(pd.DataFrame({"v": values}))["numerical"][:, 0]
    rest = out[:-1]
    assert rest.std() > 0.8  # the 99 ordinary values keep roughly unit spread
    assert np.all(np.diff(rest) > 0) and out[-1] == out.max()


def test_tabular_constant_column_is_zero():
    out = TabularPreprocessor().fit_transform(pd.DataFrame({"c": [7.0] * 4, "v": [1.0, 2, 3, 4]}))["numerical"]
    assert np.all(out[:, 0] == 0) and out[:, 1].std() > 0


def test_tabular_config_json_round_trip(penguins):
    df, _ = penguins
    p = TabularPreprocessor(n_quantiles=50, min_frequency=2).fit(df)
    q = TabularPreprocessor.from_config(json.loads(json.dumps(p.get_config())))
    assert q.cardinalities_ == p.cardinalities_ and q.n_numerical_features_ == p.n_numerical_features_
    probe = df.sample(100, random_state=1)
    for key in ("numerical", "categorical"):
        assert np.array_equal(q.transform(probe)[key], p.transform(probe)[key])
    unfitted = TabularPreprocessor.from_config(json.loads(json.dumps(TabularPreprocessor().get_config())))
    with pytest.raises(ValueError, match="not fitted"):
        unfitted.transform(df)


# ---------------------------------------------------------------- targets

@pytest.mark.parametrize("labels", [
    np.array([3, 1, 3, 2]),
    np.array(["b", "a", "b", "c"]),
    np.array([True, False, True, True]),
    pd.Series(["x", "y", "x", "y"], dtype="str"),
])
def test_class_encoder_round_trip_keeps_dtype(labels):
    enc = ClassEncoder().fit(labels)
    idx = enc.transform(labels)
    assert idx.dtype == np.int32 and idx.min() == 0 and idx.max() == enc.num_classes_ - 1
    back = enc.inverse_transform(idx)
    assert back.tolist() == list(labels)
    again = ClassEncoder.from_config(json.loads(json.dumps(enc.get_config())))
    restored = again.inverse_transform(idx)
    assert restored.dtype == back.dtype
    assert [type(v) for v in restored.tolist()] == [type(v) for v in back.tolist()]
    assert restored.tolist() == back.tolist()


def test_class_encoder_sorted_unknown_and_multilabel():
    enc = ClassEncoder().fit(["b", "a", "c"])
    assert enc.classes_.tolist() == ["a", "b", "c"]
    with pytest.raises(ValueError, match="not seen in fit: \\['z'\\]"):
        enc.transform(["a", "z"])
    multi = ClassEncoder().fit(np.array([[0, 1, 1], [1, 0, 0]]))
    assert multi.multi_label_ and multi.num_classes_ == 3
    assert multi.transform(np.array([[1, 0, 1]])).dtype == np.float32
    restored = ClassEncoder.from_config(json.loads(json.dumps(multi.get_config())))
    assert restored.inverse_transform(np.array([[0.9, 0.1, 0.6]])).tolist() == [[1, 0, 1]]


def test_target_scaler_round_trip():
    y = np.array([10.0, 20.0, 30.0])
    s = TargetScaler().fit(y)
    z = s.transform(y)
    assert abs(z.mean()) < 1e-6 and abs(z.std() - 1) < 1e-6
    restored = TargetScaler.from_config(json.loads(json.dumps(s.get_config())))
    assert np.allclose(restored.inverse_transform(z.reshape(-1, 1)), y)
    two = TargetScaler().fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
    assert two.scale_.tolist() == [1.0, 1.0]  # std 1 and std 0 -> 1
    assert np.allclose(two.inverse_transform(two.transform([[1.0, 5.0]])), [[1.0, 5.0]])


# ---------------------------------------------------------------- split

def test_stratified_split_keeps_class_ratio(penguins):
    _, y = penguins
    train, val = train_validation_split(len(y), y=y, validation_split=0.25, seed=3)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == len(y)
    full = y.value_counts(normalize=True)
    part = y.iloc[val].value_counts(normalize=True)
    assert (part - full).abs().max() < 0.02


def test_split_is_seeded_and_validates():
    a = train_validation_split(100, seed=1)
    b = train_validation_split(100, seed=1)
    c = train_validation_split(100, seed=2)
    assert np.array_equal(a[1], b[1]) and not np.array_equal(a[1], c[1])
    assert len(a[1]) == 20 and not np.array_equal(np.sort(a[0]), np.arange(80))  # shuffled
    train, val = train_validation_split(3, validation_split=0.01)
    assert len(train) == 2 and len(val) == 1
    # a class with one row cannot be stratified: falls back to a shuffle instead of failing
    train, val = train_validation_split(5, y=[0, 0, 1, 1, 2], validation_split=0.4)
    assert len(val) == 2
    for bad in (0, 1, 1.5, -0.1):
        with pytest.raises(ValueError, match="validation_split"):
            train_validation_split(10, validation_split=bad)


# ---------------------------------------------------------------- ID codes (high-cardinality columns)

def _codes_table(n: int, levels: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"shop": [f"s{i}" for i in rng.integers(0, levels, n)], "size": rng.normal(size=n),
                         "store_id": rng.integers(0, levels, n) * 7 + 100_000, "colour": rng.choice(["r", "g"], n)})


def test_id_codes_target_statistics_leave_each_training_row_out():
    """A target unrelated to the code: a training row's own statistic must not predict its own label, as an
    in-sample mean per level does (levels of about 3 rows)."""
    from sklearn.metrics import roc_auc_score

    frame = _codes_table(1_200, 400)
    y = np.random.default_rng(1).integers(0, 2, len(frame))
    p = TabularPreprocessor(column_types={"store_id": "numerical"})
    out = p.fit_transform(frame, y=y, target_type="binary")
    own = out[NUMERICAL][:, p.numerical_columns_.index("shop#target")]
    in_sample = pd.Series(y).groupby(frame["shop"]).transform("mean")
    assert roc_auc_score(y, in_sample) > 0.75  # what a leak would look like
    assert abs(roc_auc_score(y, own) - 0.5) < 0.05
    counts = out[NUMERICAL][:, p.numerical_columns_.index("shop#count")]
    assert np.array_equal(np.argsort(counts, kind="stable"),  # leave-one-out counts: the level's others
                          np.argsort(frame.groupby("shop")["shop"].transform("size") - 1, kind="stable"))


def test_id_codes_are_chosen_by_levels_and_encoded_as_asked():
    frame = _codes_table(2_000, 300)
    y = (frame["size"] > 0).astype(int).to_numpy()
    p = TabularPreprocessor(high_cardinality_levels=100, integer_codes=True)
    p.fit_transform(frame, y=y, target_type="binary")
    assert p.codes_ == ["shop", "store_id"]  # "colour" has 2 levels, "size" is not integer-valued
    assert p.numerical_columns_ == ["size", "store_id", "shop#count", "shop#target", "store_id#count",
                                    "store_id#target"]
    assert p.categorical_columns_ == ["shop", "colour", "store_id"]  # the integer code is embedded too
    rows = frame["shop"].value_counts()
    assert p.cardinalities_[0] == 1 + min(1000, int((rows >= 10).sum()))  # rare levels pooled into code 0
    assert set(p.vocabularies_[0]) == set(rows.index[rows >= 10])
    only = TabularPreprocessor(high_cardinality_levels=100, high_cardinality_encodings=["count"],
                               integer_codes=False).fit(frame, y=y, target_type="binary")
    assert only.codes_ == ["shop"] and only.categorical_columns_ == ["colour"]
    assert only.numerical_columns_ == ["size", "store_id", "shop#count"]
    off = TabularPreprocessor(high_cardinality_levels=None).fit(frame)
    assert off.codes_ == [] and off.cardinalities_[0] == 1 + len(rows)  # every level kept, as before ID codes
    restored = TabularPreprocessor.from_config(json.loads(json.dumps(p.get_config())))
    new = _codes_table(50, 600, seed=2)  # half of its shops never seen in training
    for key, value in p.transform(new).items():
        np.testing.assert_array_equal(restored.transform(new)[key], value)


def test_numbers_whose_values_repeat_and_tell_more_than_their_neighbours_are_id_codes_too():
    """A day index (200 days of 30 rows each, as floats) and an amount with 40 frequent values among rare ones,
    each frequent value with its own effect on the target that no smooth function of the value follows, become
    ID codes (embedded, counted, target statistics) and stay numbers. A column of 200 values whose own effects
    are real but small beats its bins on this sample, though not by two standard errors: it stays a number, as
    do a half-hour of the day (48 values: 32 bins cannot pool them, so beating the bins says nothing), a reading
    rounded to two decimals (it repeats as often but acts smoothly) and a reading whose values are all
    distinct; and every column without targets, with ``repeated_codes=False`` or 7-8 rows a day."""
    import autodeep as ak
    from autodeep.modalities import preprocessor_for

    rng = np.random.default_rng(0)
    day = np.repeat(np.linspace(0.0, 1.0, 200), 30)
    amount = rng.integers(0, 40, len(day))  # 40 amounts of their own effect; every fifth row a rare amount
    rare = np.arange(len(day)) % 5 == 0
    amount_rate = np.where(rare, 0.5, rng.random(40)[amount])
    amounts = np.where(rare, rng.integers(0, 4000, len(day)), rng.choice(4000, 40, replace=False)[amount])
    weak = rng.integers(0, 200, len(day))  # 200 values whose own effects are too small to tell on 6,000 rows
    slot = rng.integers(0, 48, len(day))  # a half-hour of the day: too few values for bins to pool them
    frame = pd.DataFrame({"day": day, "amount": amounts.astype(float), "rounded": rng.normal(size=len(day)).round(2),
                          "exact": rng.normal(size=len(day)), "weak": weak.astype(float), "slot": slot / 2.0})
    day_rate = 2 * rng.random(200)[np.searchsorted(np.unique(day), day)]
    weak_rate = 0.8 * rng.random(200)[weak]
    slot_rate = rng.random(48)[slot]
    y = (day_rate + amount_rate + weak_rate + slot_rate + frame["rounded"] + rng.normal(0, 0.3, len(day)) > 2.5)
    y = y.astype(int).to_numpy()
    p = TabularPreprocessor()
    p.fit_transform(frame, y=y, target_type="binary")
    assert int((frame["rounded"].value_counts() >= 10).sum()) >= 100  # repeats as often as a code would
    assert p.codes_ == ["day", "amount"] and p.categorical_columns_ == ["day", "amount"]
    assert p.cardinalities_ == [201, 41]
    assert p.numerical_columns_ == ["day", "amount", "rounded", "exact", "weak", "slot", "day#count", "day#target",
                                    "amount#count", "amount#target"]
    statistic = p.transform(frame)[NUMERICAL][:, p.numerical_columns_.index("day#target")]
    assert np.corrcoef(statistic, pd.Series(y).groupby(day).transform("mean"))[0, 1] > 0.95
    assert TabularPreprocessor().fit(frame).codes_ == []  # no targets to tell a code by
    off = preprocessor_for(ak.StructuredDataInput(repeated_codes=False)).fit(frame, y=y, target_type="binary")
    assert off.table_.codes_ == [] and off.table_.numerical_columns_ == list(frame.columns)
    fewer_rows = TabularPreprocessor().fit(frame.iloc[::4], y=y[::4], target_type="binary")  # 7-8 rows a day
    assert "day" not in fewer_rows.codes_


def test_id_code_options_get_clear_errors():
    import autodeep as ak

    with pytest.raises(ValueError, match=r"high_cardinality_levels must be an int >= 2 or None; received 1"):
        ak.StructuredDataInput(high_cardinality_levels=1)
    with pytest.raises(ValueError, match=r"high_cardinality_encodings must be a non-empty list of .*'hash'"):
        ak.StructuredDataInput(high_cardinality_encodings=["embedding", "hash"])
    with pytest.raises(ValueError, match=r"y must be one target per row of x \(3 rows\)"):
        TabularPreprocessor(high_cardinality_levels=2).fit(pd.DataFrame({"a": ["x", "y", "z"]}), y=[0, 1],
                                                           target_type="binary")
