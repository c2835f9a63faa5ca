"""Numbers that describe a categorical column's levels: how often each level occurs in training (a count) and
the mean target of its rows (a target statistic), for columns with too many levels for an embedding to learn
each one well (ID codes: an advertiser, a user, a product).

The statistics of the training rows themselves are computed without those rows' own targets, so a network
cannot read a row's label back from its own feature:

- counts: each training row sees how many *other* training rows share its level (its level's count minus
  one), as a new row sees how many training rows share its level;
- target statistics: out of fold (5 folds): each training row's value comes from the other four folds
  (scikit-learn's ``TargetEncoder`` fit on them, whose shrinkage towards the overall mean is learned from
  the data); validation, test and new rows get the statistics of all training rows.

A level never seen in training gets count 0 and the overall training mean of the target. Which columns are
ID codes, and which of ``ENCODINGS`` they get, is decided by ``autodeep.data.tabular.TabularPreprocessor``
(``high_cardinality_levels``, ``high_cardinality_encodings``, ``repeated_codes``, ``integer_codes``; measured
in ``benchmarks/categorical_study.py`` and ``benchmarks/tabular.py --baseline``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FOLDS = 5
HIGH_CARDINALITY_LEVELS = 100  # distinct training levels from which a column counts as an ID code
RARE_LEVEL_ROWS = 10  # an ID code's level with fewer training rows shares the embedding of unseen levels
ENCODINGS = ("embedding", "count", "target")  # of an ID code; the statistics are the last two
BINS = 32  # bins of a numerical column that its distinct values are measured against (levels_beat_bins)
SIGNIFICANCE = 2.0  # standard errors by which a numerical column's values must beat its bins to be an ID code
MAX_CLASSES = 10  # multiclass targets with more classes get counts only (one statistic per class and column)
TARGET_TYPES = ("binary", "multiclass", "continuous")


def check_high_cardinality(levels, encodings) -> tuple[str, ...]:
    """Check the ID-code options (``high_cardinality_levels``: an int >= 2 or None; ``high_cardinality_encodings``:
    a non-empty list of ``ENCODINGS``) and return the encodings as a tuple.

    Example:
        >>> check_high_cardinality(100, ["count", "target"])
        ('count', 'target')
        >>> check_high_cardinality(100, ["hash"])
        Traceback (most recent call last):
        ...
        ValueError: high_cardinality_encodings must be a non-empty list of ('embedding', 'count', 'target'); received ['hash'].
    """
    if levels is not None and (isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 2):
        raise ValueError(f"high_cardinality_levels must be an int >= 2 or None; received {levels!r}.")
    if (isinstance(encodings, str) or not isinstance(encodings, (list, tuple)) or not encodings
            or any(e not in ENCODINGS for e in encodings)):
        raise ValueError(f"high_cardinality_encodings must be a non-empty list of {ENCODINGS}; received {encodings!r}.")
    return tuple(encodings)


def _check_target(y, target_type: str | None, n: int):
    if y is None:
        return None
    if target_type not in TARGET_TYPES:
        raise ValueError(f"target_type must be one of {list(TARGET_TYPES)} when y is given; received {target_type!r}.")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise ValueError(f"y must be one target per row of x ({n} rows); received an array of shape {y.shape}.")
    return y


def _target_usable(y, target_type: str) -> bool:
    """Enough rows for the out-of-fold split (and, for classes, enough rows of each class for stratified folds)."""
    if target_type == "continuous":
        return len(y) >= 2 * FOLDS
    counts = np.unique(y, return_counts=True)[1]
    return len(counts) >= 2 and counts.min() >= FOLDS and (target_type == "binary" or len(counts) <= MAX_CLASSES)


def statistic_names(state: dict) -> list[str]:
    """The numerical columns ``state`` adds: ``"<column>#count"``, then ``"<column>#target"`` (or one
    ``"<column>#target=<class index>"`` per class of a multiclass target).

    Example:
        >>> statistic_names({"name": "ad", "levels": ["a", "b"], "counts": [3, 1], "targets": [[0.1], [0.2]],
        ...                  "prior": [0.3]})
        ['ad#count', 'ad#target']
    """
    names = [f"{state['name']}#count"] if state["counts"] else []
    width = len(state.get("prior") or [])
    if width == 1:
        names.append(f"{state['name']}#target")
    elif width > 1:
        names += [f"{state['name']}#target={k}" for k in range(width)]
    return names


def fit_statistics(columns: dict[str, np.ndarray], y=None, target_type: str | None = None, seed: int = 0,
                   encodings=("count", "target")) -> tuple[list[dict], dict[str, np.ndarray]]:
    """Fit the statistics of categorical ``columns`` (``{name: level strings per training row}``).

    Returns ``(states, training values)``: per column a JSON-ready state (its levels, their training counts
    and, when ``y`` is given, their target statistics and the overall mean ``prior``), and the values of the
    training rows themselves (leave-one-out counts, out-of-fold target statistics) by ``statistic_names``.
    ``encodings`` names the statistics to fit: "count", "target" or both.

    Example:
        >>> codes = np.array(["a", "a", "b", "c"] * 5, dtype=object)
        >>> states, train = fit_statistics({"id": codes}, y=np.array([1, 1, 0, 0] * 5), target_type="binary")
        >>> states[0]["levels"], states[0]["counts"], sorted(train)
        (['a', 'b', 'c'], [10, 5, 5], ['id#count', 'id#target'])
        >>> train["id#count"][:4].tolist()
        [9.0, 9.0, 4.0, 4.0]
    """
    n = len(next(iter(columns.values()))) if columns else 0
    y = _check_target(y, target_type, n)
    states, values, level_codes = [], {}, []
    for name, strings in columns.items():
        levels, codes, counts = _levels(strings)
        level_codes.append(codes)
        with_counts = "count" in encodings
        states.append({"name": name, "levels": levels, "counts": counts.tolist() if with_counts else [],
                       "targets": [], "prior": []})
        if with_counts:
            values[f"{name}#count"] = (counts[codes] - 1).astype("float64")
    if "target" in encodings and y is not None and columns and _target_usable(y, target_type):
        _fit_targets(np.column_stack(level_codes), y, target_type, seed, states, values)
    return states, values


def _levels(strings: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The sorted distinct levels, each row's index among them, and each level's count."""
    levels, codes, counts = np.unique(np.asarray(strings, dtype=str), return_inverse=True, return_counts=True)
    return levels.tolist(), codes.ravel(), counts


def _fit_targets(x: np.ndarray, y, target_type: str, seed: int, states: list[dict], values: dict) -> None:
    """Out-of-fold target statistics of the training rows into ``values``; all rows' statistics into ``states``.

    ``x`` holds each row's level per column, as the index of the level in its state's ``levels`` (integers: a
    ``TargetEncoder`` checks strings one by one, several times slower). The folds are split here and each is
    encoded by a ``TargetEncoder`` fit on the other folds only (its own cross-fitting takes a splitter from
    scikit-learn 1.9 on; this works the same from 1.4)."""
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.preprocessing import TargetEncoder

    folds = (KFold if target_type == "continuous" else StratifiedKFold)(FOLDS, shuffle=True, random_state=seed)
    out_of_fold = None
    for fit_rows, encode_rows in folds.split(x, y):
        part = TargetEncoder(target_type=target_type).fit(x[fit_rows], y[fit_rows]).transform(x[encode_rows])
        out_of_fold = np.zeros((len(x), part.shape[1])) if out_of_fold is None else out_of_fold
        out_of_fold[encode_rows] = part
    encoder = TargetEncoder(target_type=target_type).fit(x, y)
    width = 1 if target_type != "multiclass" else len(encoder.classes_)
    prior = np.atleast_1d(encoder.target_mean_).astype("float64")
    for i, state in enumerate(states):
        per_class = [np.asarray(encoder.encodings_[i * width + k], dtype="float64") for k in range(width)]
        lookup = dict(zip(encoder.categories_[i].tolist(), np.column_stack(per_class).tolist()))
        state["targets"] = [lookup[j] for j in range(len(state["levels"]))]  # every level was seen in this fit
        state["prior"] = prior.tolist()
        for k, name in enumerate(statistic_names(state)[1 if state["counts"] else 0:]):
            values[name] = out_of_fold[:, i * width + k]


def levels_beat_bins(values: np.ndarray, y, target_type: str | None, seed: int = 0) -> bool:
    """Whether a numerical column's distinct values predict ``y`` clearly better than ``BINS`` bins of them do.

    The bins split the range of the distinct values into ``BINS`` parts of as many values each. Out of fold
    (``FOLDS``): each held-out row is given the mean target of its value's rows in the other folds, shrunk
    towards the overall mean by ``RARE_LEVEL_ROWS`` rows, and the same for its bin. The values win when the
    bins' squared error exceeds theirs by at least ``SIGNIFICANCE`` standard errors of the rows' paired
    differences, so a column whose values win by chance on this sample stays a number. True for a day index
    whose days differ in ways no smooth function of the day follows, an ID stored as a number, or an amount
    whose exact values mean something (a capital gain of 7,688); False for a measurement whose repeated
    values say no more than their neighbours do, and without a usable target (``y`` None, or too few rows
    of a class for the folds).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> day = np.repeat(np.arange(200.0), 20)
        >>> y = (rng.random(200)[day.astype(int)] > 0.5).astype(int)  # each day its own rate, in no order
        >>> levels_beat_bins(day, y, "binary"), levels_beat_bins(day, (day > 100).astype(int), "binary")
        (True, False)
    """
    from sklearn.model_selection import KFold

    y = _check_target(y, target_type, len(values))
    if y is None or not _target_usable(y, target_type):
        return False
    values = np.asarray(values, dtype="float64")
    present = ~np.isnan(values)
    values, targets = values[present], _target_columns(y, target_type)[present]
    distinct, levels = np.unique(values, return_inverse=True)
    # Bins of as many distinct values each: a value most rows share (a default, -1 for "never") is one bin.
    bins = np.searchsorted(np.quantile(distinct, np.linspace(0.0, 1.0, BINS + 1)[1:-1]), values, side="right")
    levels = levels.ravel()
    gain = np.zeros(len(values))  # per row, the bins' squared error less the values'
    for fit_rows, held_rows in KFold(FOLDS, shuffle=True, random_state=seed).split(values):
        level_errors, bin_errors = (_held_out_errors(keys[fit_rows], targets[fit_rows], keys[held_rows],
                                                     targets[held_rows]) for keys in (levels, bins))
        gain[held_rows] = bin_errors - level_errors
    return bool(gain.sum() > SIGNIFICANCE * gain.std() * np.sqrt(len(gain)))


def _target_columns(y: np.ndarray, target_type: str) -> np.ndarray:
    """``y`` as float columns: a class indicator per class (one for a binary target), or the value itself."""
    if target_type == "continuous":
        return np.asarray(y, dtype="float64").reshape(-1, 1)
    classes, index = np.unique(y, return_inverse=True)
    indicators = np.eye(len(classes))[index.ravel()]
    return indicators[:, 1:] if target_type == "binary" else indicators


def _held_out_errors(keys_fit, targets_fit, keys_held, targets_held) -> np.ndarray:
    """Per held-out row, the squared error of its targets against its key's shrunk mean target in the fit rows."""
    n_keys = int(max(keys_fit.max(), keys_held.max())) + 1
    sums = np.zeros((n_keys, targets_fit.shape[1]))
    np.add.at(sums, keys_fit, targets_fit)
    counts = np.bincount(keys_fit, minlength=n_keys)[:, None]
    means = (sums + RARE_LEVEL_ROWS * targets_fit.mean(axis=0)) / (counts + RARE_LEVEL_ROWS)
    return ((means[keys_held] - targets_held) ** 2).sum(axis=1)


def statistics_values(state: dict, strings: np.ndarray) -> dict[str, np.ndarray]:
    """The statistics of rows with levels ``strings`` from a fitted ``state``: the level's training count and
    target statistics; count 0 and the ``prior`` for a level not seen in training.

    Example:
        >>> state = {"name": "id", "levels": ["a", "b"], "counts": [3, 1], "targets": [[0.9], [0.2]], "prior": [0.5]}
        >>> {k: v.tolist() for k, v in statistics_values(state, np.array(["b", "z"], dtype=object)).items()}
        {'id#count': [1.0, 0.0], 'id#target': [0.2, 0.5]}
    """
    index = pd.Index(state["levels"], dtype=object).get_indexer(np.asarray(strings, dtype=str).astype(object))
    seen = index >= 0
    return {name: np.where(seen, per_level[index], unseen) for name, per_level, unseen in statistic_tables(state)}


def statistic_tables(state: dict) -> list[tuple[str, np.ndarray, float]]:
    """Each statistic column of ``state`` (``statistic_names``): its name, its value per level (in the order of
    ``state["levels"]``) and the value of a level never seen in training (count 0, the target's prior).

    Example:
        >>> state = {"name": "id", "levels": ["a", "b"], "counts": [3, 1], "targets": [[0.9], [0.2]], "prior": [0.5]}
        >>> [(name, per_level.tolist(), unseen) for name, per_level, unseen in statistic_tables(state)]
        [('id#count', [3.0, 1.0], 0.0), ('id#target', [0.9, 0.2], 0.5)]
    """
    tables = [(np.asarray(state["counts"], dtype="float64"), 0.0)] if state["counts"] else []
    targets = np.asarray(state["targets"], dtype="float64").reshape(len(state["levels"]), -1)
    tables += [(targets[:, k], float(prior)) for k, prior in enumerate(state["prior"])]
    return [(name, per_level, unseen) for name, (per_level, unseen) in zip(statistic_names(state), tables)]
