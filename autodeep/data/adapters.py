"""Adapt what a user hands to ``fit``/``predict`` (frames, arrays, dicts, file paths) into one view."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet", ".pq")


def plain(value):
    """A numpy scalar as the Python value it holds (for messages and JSON); anything else unchanged.

    Example:
        >>> plain(np.int64(3)), plain("a")
        (3, 'a')
    """
    return value.item() if isinstance(value, np.generic) else value


def _preview(names, limit: int = 10) -> str:
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    return f"[{shown}{', ...' if len(names) > limit else ''}] ({len(names)} in all)"


def _read_path(path, argument: str) -> pd.DataFrame:
    path = Path(path)
    name = path.name.lower()
    if not path.exists():
        raise FileNotFoundError(f"{argument}: no such file {str(path)!r}.")
    if name.endswith((".parquet", ".pq")):
        return pd.read_parquet(path, engine="pyarrow")
    if name.endswith((".csv", ".csv.gz")):
        return pd.read_csv(path)
    if name.endswith((".tsv", ".tsv.gz")):
        return pd.read_csv(path, sep="\t")
    raise ValueError(f"{argument} must be a path ending in one of {list(SUPPORTED_SUFFIXES)}; "
                     f"received {str(path)!r}.")


def _from_rows(x, argument: str) -> pd.DataFrame:
    if isinstance(x, np.ndarray):
        if x.ndim != 2:
            raise ValueError(f"{argument} must be 2-D (rows, columns); received an array of shape {x.shape}. "
                             f"Reshape a single feature with x.reshape(-1, 1).")
        return pd.DataFrame(x, columns=[str(i) for i in range(x.shape[1])])
    if x and not all(isinstance(row, (list, tuple, np.ndarray)) for row in x):
        raise ValueError(f"{argument} must be 2-D (a list of rows); received a 1-D list. "
                         f"Wrap each value in a list, e.g. [[v] for v in x].")
    frame = pd.DataFrame(list(x))
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _from_dict(x: dict, argument: str) -> pd.DataFrame:
    lengths = {}
    for key, values in x.items():
        values = np.asarray(values) if not isinstance(values, pd.Series) else values
        if values.ndim != 1:
            raise ValueError(f"{argument}[{key!r}] must be 1-D; received shape {values.shape}.")
        lengths[str(key)] = len(values)
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{argument} must hold columns of equal length; received lengths {lengths}.")
    return pd.DataFrame({str(k): (v.to_numpy() if isinstance(v, pd.Series) else v) for k, v in x.items()})


def read_table(x, target=None, argument: str = "x") -> tuple[pd.DataFrame, pd.Series | None]:
    """Read a table from a DataFrame, a 2-D array, a dict of columns or a CSV/TSV/Parquet path.

    Column names become strings ("0", "1", ... for arrays). If ``target`` names a column,
    that column is taken out of the frame and returned as the second element.

    Example:
        >>> df, y = read_table({"a": [1, 2], "label": ["x", "y"]}, target="label")
        >>> list(df.columns), y.tolist()
        (['a'], ['x', 'y'])
    """
    if isinstance(x, pd.DataFrame):
        frame = x.copy(deep=False)
        frame.columns = [str(c) for c in frame.columns]
    elif isinstance(x, (str, os.PathLike)):
        frame = _read_path(x, argument)
        frame.columns = [str(c) for c in frame.columns]
    elif isinstance(x, dict):
        frame = _from_dict(x, argument)
    elif isinstance(x, (np.ndarray, list)):
        frame = _from_rows(x, argument)
    else:
        raise TypeError(f"{argument} must be a pandas DataFrame, a 2-D numpy array or list of rows, a dict of "
                        f"1-D columns, or a path to one of {list(SUPPORTED_SUFFIXES)}; "
                        f"received {type(x).__name__}.")
    duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
    if duplicated:
        raise ValueError(f"{argument} has duplicate column names {duplicated} (after converting names to str); "
                         f"rename them so each is unique.")
    if target is None:
        return frame, None
    target = str(target)
    if target not in frame.columns:
        raise ValueError(f"target column {target!r} is not in {argument}; available columns: "
                         f"{_preview(frame.columns)}.")
    y = frame[target]
    return frame.drop(columns=[target]), y


def to_target_array(y, argument: str = "y") -> np.ndarray:
    """Turn targets (list, array, Series, DataFrame) into a numpy array; ``(n, 1)`` becomes ``(n,)``.

    A DataFrame with several columns gives a 2-D array (multi-label or multi-output).

    Example:
        >>> to_target_array(pd.DataFrame({"y": [0, 1, 1]})).tolist()
        [0, 1, 1]
    """
    if y is None:
        raise ValueError(f"{argument} is required; received None.")
    if isinstance(y, (pd.Series, pd.DataFrame, pd.Index)):
        array = y.to_numpy()
    elif isinstance(y, pd.api.extensions.ExtensionArray):  # e.g. ``df.col.values`` of a pandas 3 str column
        array = y.to_numpy()
    elif isinstance(y, (np.ndarray, list, tuple)):
        array = np.asarray(y)
    else:
        raise TypeError(f"{argument} must be a list, numpy array, pandas Series, Index, array or DataFrame; "
                        f"received {type(y).__name__}.")
    if array.ndim == 0:
        raise ValueError(f"{argument} must hold one target per row; received a scalar {array.item()!r}.")
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    return array


def check_lengths(n_x: int, y, x_name: str = "x", y_name: str = "y") -> None:
    """Check that inputs are not empty and that targets have one row per input row.

    Example:
        >>> check_lengths(3, [0, 1, 0])
        >>> check_lengths(3, [0, 1])
        Traceback (most recent call last):
        ...
        ValueError: x has 3 rows but y has 2; pass one target per row.
    """
    if n_x == 0:
        raise ValueError(f"{x_name} is empty (0 rows); pass at least one row.")
    if y is None:
        return
    n_y = y if isinstance(y, (int, np.integer)) else len(y)
    if n_y != n_x:
        raise ValueError(f"{x_name} has {n_x} rows but {y_name} has {n_y}; pass one target per row.")
