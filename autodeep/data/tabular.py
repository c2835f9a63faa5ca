"""Turn a table into model-ready arrays: scaled numbers plus missing flags, and integer category codes
(date columns first expanded into numbers and categories, ``autodeep.data.dates``; categorical columns with
many levels also described by numbers, ``autodeep.data.category_stats``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtri

from autodeep.data.adapters import check_lengths, read_table
from autodeep.data.analysis import CATEGORICAL, DATETIME, NUMERICAL, infer_column_types
from autodeep.data.category_stats import (BINS, ENCODINGS, HIGH_CARDINALITY_LEVELS, RARE_LEVEL_ROWS,
                                          check_high_cardinality, fit_statistics, levels_beat_bins, statistic_names,
                                          statistics_values)
from autodeep.data.dates import date_features, fit_dates

MISSING = "__missing__"
CLIP = 5.0


def _positive_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; received {value!r}.")
    return int(value)


def _numbers(series: pd.Series) -> np.ndarray:
    """Column -> float64 values with NaN for anything missing, unparsable or infinite."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan, copy=True)
    values[~np.isfinite(values)] = np.nan
    return values


def _label(value) -> str:
    # 3.0 and 3 name the same category: a NaN at predict time turns an int column into floats.
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _category_strings(series: pd.Series) -> np.ndarray:
    """Column -> object array of category names; missing values become ``MISSING``."""
    codes, uniques = pd.factorize(series)  # label each distinct value once, not each row
    names = np.array([_label(v) for v in uniques] + [MISSING], dtype=object)
    return names[codes]  # code -1 (missing) picks the trailing MISSING


def _normal_scores(values: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Map values through the training quantiles onto standard normal scores."""
    n = len(quantiles)
    # Mid-point probabilities keep a two-valued column at about +-0.67 instead of at the clip bounds.
    probs = (np.arange(n) + 0.5) / n
    # Averaging the upward and downward interpolation splits ties evenly (as scikit-learn does).
    up = np.interp(values, quantiles, probs)
    down = -np.interp(-values, -quantiles[::-1], -probs[::-1])
    return np.clip(ndtri(0.5 * (up + down)), -CLIP, CLIP)


class TabularPreprocessor:
    """Fit on a training table; transform tables into ``{"numerical": float32, "categorical": int32}`` arrays.

    Numerical columns: median imputation, a missing flag per column that had gaps in training,
    and a quantile transform to a standard normal (robust to outliers; constant columns give 0).
    Categorical columns: codes 1..K by decreasing training frequency; rare or unseen values get 0.
    ID codes (an advertiser, a user, a product, a day): categorical columns with at least
    ``high_cardinality_levels`` distinct training levels; when ``repeated_codes``, numerical columns whose values
    repeat, with ``2 * BINS`` or more distinct values, ``BINS`` of them of at least ``RARE_LEVEL_ROWS`` training
    rows each, and whose values tell clearly more about the target than ``BINS`` bins of them do (a day index
    shared by a day's rows, an ID stored as a number, an amount whose exact values mean something;
    ``levels_beat_bins``, so only when ``fit`` is given targets); and when ``integer_codes``, integer-valued
    numerical columns with ``high_cardinality_levels`` distinct values, however rare (``None``: no column is an
    ID code). Each gets the encodings named in ``high_cardinality_encodings`` (``autodeep.data.category_stats``):
    ``"embedding"``, codes for its levels with at least ``RARE_LEVEL_ROWS`` training rows (rarer levels share
    code 0 with unseen ones; a numerical column keeps its numerical form too); ``"count"``, a numerical column
    ``"<column>#count"``, how many training rows share the row's level; ``"target"``, when ``fit`` is given
    targets, ``"<column>#target"``, the shrunk mean target of those rows (one per class for a multiclass
    target). ``fit_transform(x, y)`` gives the training rows leave-one-out counts and out-of-fold target
    statistics, so no row sees its own target; ``transform`` uses those of all training rows (an unseen level:
    count 0, the overall mean).
    Date columns: expanded into numerical and categorical columns named ``"<column>.<part>"``
    (``autodeep.data.dates``), then treated as above. Free-text columns are left out here: the
    table preprocessor (``autodeep.data.table_preprocessor``) vectorises them.

    Example:
        >>> df = pd.DataFrame({"age": [20.0, None, 40.0], "city": ["a", "b", "a"]})
        >>> p = TabularPreprocessor().fit(df)
        >>> out = p.transform(df)
        >>> out["numerical"].shape, out["categorical"][:, 0].tolist(), p.cardinalities_
        ((3, 2), [1, 2, 1], [3])
        >>> ids = pd.DataFrame({"user": [f"u{i % 7}" for i in range(70)]})
        >>> p = TabularPreprocessor(high_cardinality_levels=5)
        >>> out = p.fit_transform(ids, y=np.arange(70) % 2, target_type="binary")
        >>> p.codes_, p.numerical_columns_, out["numerical"].shape, p.cardinalities_
        (['user'], ['user#count', 'user#target'], (70, 2), [8])
    """

    def __init__(self, column_types=None, n_quantiles=1000, min_frequency=1, max_categories=1000, seed=0,
                 high_cardinality_levels=HIGH_CARDINALITY_LEVELS, high_cardinality_encodings=ENCODINGS,
                 integer_codes=False, repeated_codes=True):
        self.column_types = column_types
        self.n_quantiles = n_quantiles
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.seed = seed  # seeds the folds of the out-of-fold target statistics
        self.high_cardinality_levels = high_cardinality_levels
        self.high_cardinality_encodings = high_cardinality_encodings
        self.integer_codes = integer_codes
        self.repeated_codes = repeated_codes

    def fit(self, df, y=None, target_type=None) -> "TabularPreprocessor":
        """Fit on the training rows ``df``; ``y`` (one target per row, of ``target_type`` "binary",
        "multiclass" or "continuous") adds target statistics to the columns that get statistics."""
        self._fit(df, y, target_type)
        return self

    def fit_transform(self, df, y=None, target_type=None) -> dict[str, np.ndarray]:
        """``fit`` and the arrays of the training rows, whose statistics leave their own targets out."""
        df, training_statistics = self._fit(df, y, target_type)
        return self._arrays(df, training_statistics)

    def _fit(self, df, y, target_type) -> tuple[pd.DataFrame, dict]:
        n_quantiles = _positive_int("n_quantiles", self.n_quantiles, 2)
        min_frequency = _positive_int("min_frequency", self.min_frequency, 1)
        max_categories = _positive_int("max_categories", self.max_categories, 1)
        encodings = check_high_cardinality(self.high_cardinality_levels, self.high_cardinality_encodings)
        df, _ = read_table(df, argument="x")
        check_lengths(len(df), None, x_name="x")
        self.column_types_ = infer_column_types(df, self.column_types)
        self.dates_ = [fit_dates(c, df[c]) for c, t in self.column_types_.items() if t == DATETIME]
        df, numerical_dates, categorical_dates = self._with_dates(df)
        categorical = [c for c, t in self.column_types_.items() if t == CATEGORICAL] + categorical_dates
        numerical = [c for c, t in self.column_types_.items() if t == NUMERICAL] + numerical_dates
        strings = {name: _category_strings(df[name]) for name in categorical}
        codes = self._codes(df, strings, numerical, y, target_type)
        self.codes_ = list(codes)
        self.statistics_, training_statistics = fit_statistics(
            codes, y, target_type, seed=self.seed, encodings=encodings) if codes else ([], {})
        self.numerical_columns_ = numerical + [n for state in self.statistics_ for n in statistic_names(state)]
        self._fit_numbers({**{c: df[c] for c in numerical}, **training_statistics}, n_quantiles)
        embedded = "embedding" in encodings
        self.categorical_columns_ = ([c for c in categorical if c not in codes or embedded]
                                     + [c for c in codes if c not in strings and embedded])
        self.vocabularies_ = []
        for name in self.categorical_columns_:
            counts = pd.Series(strings.get(name, codes.get(name))).value_counts()
            least = max(min_frequency, RARE_LEVEL_ROWS) if name in codes else min_frequency
            kept = sorted(((-int(c), str(v)) for v, c in counts.items() if c >= least))
            self.vocabularies_.append([v for _, v in kept[:max_categories]])
        self._set_derived()
        return df, training_statistics

    def _codes(self, df: pd.DataFrame, strings: dict, numerical: list, y, target_type) -> dict[str, np.ndarray]:
        """The ID codes' level names per training row: the categorical columns (``strings``) with at least
        ``high_cardinality_levels`` levels, then the ``numerical`` columns that are codes too: when
        ``repeated_codes``, those with ``2 * BINS`` distinct values (so that each bin pools two or more), ``BINS``
        of them of ``RARE_LEVEL_ROWS`` or more rows, whose values predict the target ``y`` clearly better than
        the bins do (``levels_beat_bins``); when ``integer_codes``, those whose present values are integers with
        ``high_cardinality_levels`` distinct values."""
        least = self.high_cardinality_levels
        if least is None:
            return {}
        codes = {name: s for name, s in strings.items() if len(pd.unique(s)) >= least}
        repeated_codes = self.repeated_codes and len(df) >= BINS * RARE_LEVEL_ROWS  # else no column can be one
        for name in numerical if self.integer_codes or repeated_codes else []:
            values = _numbers(df[name])
            present = values[~np.isnan(values)]
            levels, rows = np.unique(present, return_counts=True)
            frequent = int((rows >= RARE_LEVEL_ROWS).sum())
            repeated = (repeated_codes and len(levels) >= 2 * BINS and frequent >= BINS
                        and levels_beat_bins(values, y, target_type, self.seed))
            integers = self.integer_codes and len(levels) >= least and np.array_equal(present, np.round(present))
            if repeated or integers:
                codes[name] = _category_strings(df[name])
        return codes

    def _fit_numbers(self, columns: dict, n_quantiles: int) -> None:
        """Medians, quantiles and missing flags of the numerical ``columns`` (by ``numerical_columns_``)."""
        self.medians_, self.quantiles_, self.missing_indicator_columns_ = [], [], []
        for name in self.numerical_columns_:
            values = _numbers(pd.Series(columns[name]))
            present = values[~np.isnan(values)]
            if len(present) < len(values):
                self.missing_indicator_columns_.append(name)
            if len(present) == 0:
                present = np.zeros(1)
            self.medians_.append(float(np.median(present)))
            n = min(n_quantiles, len(present))
            self.quantiles_.append(np.quantile(present, np.linspace(0.0, 1.0, n)))

    def _with_dates(self, df: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
        """``df`` with the features of its date columns added, and their numerical and categorical names."""
        if not self.dates_:
            return df, [], []
        numerical, categorical = {}, {}
        for state in self.dates_:
            n, c = date_features(state, df[state["name"]])
            numerical.update(n)
            categorical.update(c)
        expanded = pd.concat([df, pd.DataFrame({**numerical, **categorical}, index=df.index)], axis=1)
        return expanded, list(numerical), list(categorical)

    def _set_derived(self) -> None:
        self.cardinalities_ = [len(v) + 1 for v in self.vocabularies_]
        self.n_numerical_features_ = len(self.numerical_columns_) + len(self.missing_indicator_columns_)
        self._indexes = [pd.Index(v, dtype=object) for v in self.vocabularies_]

    def transform(self, df) -> dict[str, np.ndarray]:
        """The arrays of ``df``'s rows; categorical statistics from all training rows."""
        if not hasattr(self, "column_types_"):
            raise ValueError("TabularPreprocessor is not fitted; call fit(x) on training data first.")
        df, _ = read_table(df, argument="x")
        missing = [c for c in self.column_types_ if c not in df.columns]
        if missing:
            raise ValueError(f"x is missing columns seen in fit: {missing}; received columns "
                             f"{list(df.columns)[:20]}.")
        df = self._with_dates(df)[0]
        statistics = {}
        for state in self.statistics_:
            statistics.update(statistics_values(state, _category_strings(df[state["name"]])))
        return self._arrays(df, statistics)

    def _arrays(self, df: pd.DataFrame, statistics: dict) -> dict[str, np.ndarray]:
        """The arrays of ``df`` (dates expanded) with the statistics columns ``statistics``."""
        n = len(df)
        numerical = np.zeros((n, self.n_numerical_features_), dtype="float32")
        for j, (name, median, quantiles) in enumerate(zip(self.numerical_columns_, self.medians_, self.quantiles_)):
            values = _numbers(pd.Series(statistics[name]) if name in statistics else df[name])
            gaps = np.isnan(values)
            if name in self.missing_indicator_columns_:
                numerical[:, len(self.numerical_columns_) + self.missing_indicator_columns_.index(name)] = gaps
            if quantiles[0] == quantiles[-1]:
                continue  # Constant in training: carries no information, stays 0.
            values[gaps] = median
            numerical[:, j] = _normal_scores(values, quantiles)
        categorical = np.zeros((n, len(self.categorical_columns_)), dtype="int32")
        for j, (name, index) in enumerate(zip(self.categorical_columns_, self._indexes)):
            categorical[:, j] = index.get_indexer(_category_strings(df[name])) + 1
        return {NUMERICAL: numerical, CATEGORICAL: categorical}

    def get_config(self) -> dict:
        """Constructor arguments plus learned state, as plain JSON-serialisable values."""
        config = {"column_types": self.column_types, "n_quantiles": self.n_quantiles,
                  "min_frequency": self.min_frequency, "max_categories": self.max_categories,
                  "seed": self.seed, "high_cardinality_levels": self.high_cardinality_levels,
                  "high_cardinality_encodings": list(self.high_cardinality_encodings),
                  "integer_codes": self.integer_codes, "repeated_codes": self.repeated_codes, "state": None}
        if hasattr(self, "column_types_"):
            config["state"] = {
                "column_types": dict(self.column_types_),
                "numerical": [{"name": name, "median": float(median), "quantiles": q.tolist(),
                               "missing_indicator": name in self.missing_indicator_columns_}
                              for name, median, q in zip(self.numerical_columns_, self.medians_, self.quantiles_)],
                "categorical": [{"name": name, "vocabulary": list(v)}
                                for name, v in zip(self.categorical_columns_, self.vocabularies_)],
                "dates": [dict(d) for d in self.dates_],
                "codes": list(self.codes_),
                "statistics": [dict(s) for s in self.statistics_],
            }
        return config

    @classmethod
    def from_config(cls, config: dict) -> "TabularPreprocessor":
        """Rebuild a preprocessor (fitted, if the config holds learned state) from ``get_config()``."""
        state = config.get("state")
        p = cls(**{k: v for k, v in config.items() if k != "state"})
        if state is None:
            return p
        p.column_types_ = dict(state["column_types"])
        p.numerical_columns_ = [c["name"] for c in state["numerical"]]
        p.medians_ = [float(c["median"]) for c in state["numerical"]]
        p.quantiles_ = [np.asarray(c["quantiles"], dtype="float64") for c in state["numerical"]]
        p.missing_indicator_columns_ = [c["name"] for c in state["numerical"] if c["missing_indicator"]]
        p.categorical_columns_ = [c["name"] for c in state["categorical"]]
        p.vocabularies_ = [[str(v) for v in c["vocabulary"]] for c in state["categorical"]]
        p.dates_ = [dict(d) for d in state.get("dates", [])]
        p.codes_ = list(state.get("codes", []))
        p.statistics_ = [dict(s) for s in state.get("statistics", [])]
        p._set_derived()
        return p
