"""Property-based tests: random tables, arrays and targets thrown at the data layer and the task classes.

Every case either works (finite arrays of the right shapes; a trained model) or raises a ValueError or
TypeError whose message starts with the argument it is about (``x ...``, ``y ...``); no other exception
escapes.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autodeep as ak
from autodeep.data import TabularPreprocessor, read_table
from autodeep.data import TargetCodec
from autodeep.data.array_preprocessor import ArrayPreprocessor
from autodeep.data.table_preprocessor import TablePreprocessor

CLEAR = (ValueError, TypeError)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
cells = st.one_of(floats, st.integers(-10**12, 10**12), texts, st.booleans(), st.none())


@st.composite
def columns(draw, n_rows):
    kind = draw(st.sampled_from(["float", "int", "text", "bool", "mixed", "constant", "empty_text"]))
    if kind == "float":
        return draw(st.lists(floats, min_size=n_rows, max_size=n_rows))
    if kind == "int":
        return draw(st.lists(st.integers(-1000, 1000), min_size=n_rows, max_size=n_rows))
    if kind == "text":
        return draw(st.lists(texts, min_size=n_rows, max_size=n_rows))
    if kind == "bool":
        return draw(st.lists(st.booleans(), min_size=n_rows, max_size=n_rows))
    if kind == "constant":
        return [draw(cells)] * n_rows
    if kind == "empty_text":
        return [""] * n_rows
    return draw(st.lists(cells, min_size=n_rows, max_size=n_rows))


@st.composite
def frames(draw, min_rows=0, max_rows=12):
    n_rows = draw(st.integers(min_rows, max_rows))
    n_cols = draw(st.integers(1, 4))
    names = draw(st.lists(st.sampled_from(["a", "b", "é", "名前", "", "0", 0, 1]), min_size=n_cols, max_size=n_cols))
    data = [draw(columns(n_rows)) for _ in range(n_cols)]
    frame = pd.DataFrame(dict(enumerate(data)), index=range(n_rows))
    frame.columns = names  # may repeat a name: duplicate columns
    return frame


def _names_argument(error: Exception, *arguments: str) -> None:
    """The message opens with the argument, then says what is wrong: "x has ...", "y must be ...", "x[2] is ..."."""
    pattern = rf"({'|'.join(arguments)})(\[\d+\])? [a-z]+ "
    assert re.match(pattern, str(error)), f"{type(error).__name__} does not name {arguments}: {error}"


def _table_problem(frame: pd.DataFrame, seen: list[str] | None = None) -> str | None:
    """The error a table preprocessor must raise for ``frame`` (None: it must work)."""
    names = [str(c) for c in frame.columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        return re.escape(f"x has duplicate column names {duplicated}")
    if seen is None and len(frame) == 0:
        return "x is empty"
    missing = [c for c in (seen or []) if c not in names]
    return re.escape(f"x is missing columns seen in fit: {missing}") if missing else None


def _check_table_output(out: dict, n: int, p):
    assert set(out) == {"numerical", "categorical"}
    assert out["numerical"].shape == (n, p.table_.n_numerical_features_) and out["numerical"].dtype == np.float32
    assert np.isfinite(out["numerical"]).all()
    assert out["categorical"].dtype == np.int32 and out["categorical"].shape[0] == n
    if out["categorical"].size:
        assert out["categorical"].min() >= 0
        assert (out["categorical"] < np.array(p.table_.cardinalities_)).all()


@FAST
@given(frames(), frames())
def test_table_preprocessor_fits_or_explains(train, other):
    problem = _table_problem(train)
    if problem:  # duplicate names or no rows: refused, and the message says which
        with pytest.raises(ValueError, match=problem):
            TablePreprocessor().fit(train)
        return
    p = TablePreprocessor().fit(train)
    _check_table_output(p.transform(train), len(train), p)
    restored = TablePreprocessor.from_config(p.get_config())
    np.testing.assert_array_equal(restored.transform(train)["categorical"], p.transform(train)["categorical"])
    # a different table at predict time: it works exactly when it has the fitted columns once each (a column
    # with no value at all in training is left out of the fit, so it is not needed)
    used = [str(c) for i, c in enumerate(train.columns) if not train.iloc[:, i].isna().all()]
    assert list(p.table_.column_types_) == used
    problem = _table_problem(other, seen=used)
    if problem:
        with pytest.raises(ValueError, match=problem):
            p.transform(other)
    else:
        _check_table_output(p.transform(other), len(other), p)


@FAST
@given(st.one_of(
    frames(),
    st.lists(st.lists(cells, min_size=2, max_size=2), max_size=6),
    st.dictionaries(st.sampled_from(["a", "b", "c"]), st.lists(cells, max_size=4), max_size=3),
    st.none(), st.integers(), texts,
))
def test_read_table_reads_or_explains(x):
    try:
        frame, _ = read_table(x, argument="x")
    except CLEAR as error:
        _names_argument(error, "x")
        return
    except FileNotFoundError:  # a random string was read as a path that does not exist
        assert isinstance(x, str)
        return
    assert isinstance(frame, pd.DataFrame) and all(isinstance(c, str) for c in frame.columns)
    assert not frame.columns.duplicated().any()


arrays = st.one_of(
    st.lists(st.lists(floats, min_size=3, max_size=3), min_size=0, max_size=6).map(np.array),
    st.lists(st.lists(cells, min_size=2, max_size=2), min_size=1, max_size=6).map(lambda r: np.array(r, dtype=object)),
    st.lists(floats, min_size=1, max_size=6),
)


@FAST
@given(arrays)
def test_array_preprocessor_casts_or_explains(x):
    try:
        p = ArrayPreprocessor().fit(x)
        out = p.transform(x)["x"]
    except CLEAR as error:
        _names_argument(error, "x")
        return
    assert out.dtype == np.float32 and np.isfinite(out).all() and len(out) == len(x)


targets = st.one_of(
    st.lists(cells, min_size=0, max_size=8),
    st.lists(floats, min_size=1, max_size=8),
    st.lists(st.sampled_from(["yes", "no", "", "ü"]), min_size=1, max_size=8),
    st.lists(st.lists(st.integers(0, 1), min_size=2, max_size=2), min_size=1, max_size=5),
)


@FAST
@given(targets, st.sampled_from(["classification", "regression"]))
def test_target_codec_encodes_or_explains(y, task):
    try:
        codec = TargetCodec(task).fit(y)
        encoded = codec.encode(y)
    except CLEAR as error:
        _names_argument(error, "y")
        return
    assert len(encoded) == len(y)
    if task == "regression":
        assert np.isfinite(encoded).all()
    else:
        meta = codec.meta()
        assert meta["num_classes"] >= 2
        decoded = codec.decode(np.full((len(y), meta["num_classes"]), 1.0 / meta["num_classes"], "float32"))
        assert len(decoded) == len(y)


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(frames(min_rows=1, max_rows=24), st.sampled_from(["classification", "regression"]), st.data())
def test_task_classes_train_or_explain(x, task, data):
    n = len(x)
    if task == "classification":
        y = data.draw(st.lists(st.sampled_from(["p", "q", "ü"]), min_size=n, max_size=n), label="y")
        model = ak.StructuredDataClassifier
    else:
        y = data.draw(st.lists(floats, min_size=n, max_size=n), label="y")
        model = ak.StructuredDataRegressor
    import tempfile

    try:
        fitted = model(max_trials=1, epochs=1, verbose=0, seed=0, directory=tempfile.mkdtemp(), overwrite=True,
                       refit=False, ensemble_size=1).fit(x, y)
    except CLEAR as error:
        _names_argument(error, "x", "y")
        return
    pred = fitted.predict(x)
    assert len(pred) == n
    if task == "regression":
        assert np.isfinite(pred).all()


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame([[1, 2]], columns=["a", "a"]), "duplicate column names"),
    (pd.DataFrame({"a": []}), "empty"),
])
def test_known_bad_tables_name_the_problem(frame, message):
    with pytest.raises(ValueError, match=message):
        TabularPreprocessor().fit(frame)
