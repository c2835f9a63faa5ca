"""What ``fit`` keeps for the report beyond the trials: ``<project>/report/``.

- ``data.json``: the objective, each input as autodeep saw it (kind, rows, inferred column types and missing values for
  tables) and each head (task, target codec, class balance or target summary);
- ``validation_y_<k>.npy``: head ``k``'s encoded validation targets as the trials were scored on them (the
  prepared data's, in the format of the head's loss), in the row order of the trials' ``val_pred_<k>.npy``;
- ``validation_x.parquet``: the raw validation rows of a single table input (at most 5,000), for
  permutation importance;
- ``timing.json``: when the search, the refit and the export ended.

Written before the search (``save_data``), so an interrupted or failed search is still reported, and
after the export (``save_timing``).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from autodeep.storage import atomic_write_json
from autodeep.storage.project import _npy_bytes
from autodeep.storage.files import atomic_write_bytes

MAX_IMPORTANCE_ROWS = 5_000


def save_data(project, graph, data, objective: str) -> None:
    """Record the inputs, heads, objective and validation targets of a search in ``project``'s ``report/``.

    ``data`` is the prepared data (``autodeep.fit.prepare.PreparedData``): its fitted preprocessors and codecs,
    its raw training and validation inputs (one entry per input) and its encoded targets.
    A record that cannot be written is warned about, never a reason to stop the search.
    """
    try:
        _save_data(project.path / "report", graph, data, objective)
    except Exception as error:  # the report is secondary to the fit: say so and go on
        import warnings

        warnings.warn(f"autodeep could not record the data for the report ({type(error).__name__}: {error}); "
                      f"the report will leave out the sections that need it.", RuntimeWarning, stacklevel=2)


def _save_data(folder, graph, data, objective: str) -> None:
    from autodeep.ensemble.neighbours import per_head

    (folder / "timing.json").unlink(missing_ok=True)  # an earlier fit's phases are not this one's
    train_x, val_x = data.raw_train, data.raw_validation
    inputs = [_describe_input(node, pre, raw_tr, raw_va)
              for node, pre, raw_tr, raw_va in zip(graph.inputs, data.preprocessors, train_x, val_x)]
    heads = []
    for k, (head, codec, y_tr, y_va) in enumerate(zip(graph.heads, data.codecs, per_head(graph, data.targets_tr),
                                                      per_head(graph, data.targets_va))):
        atomic_write_bytes(folder / f"validation_y_{k}.npy", _npy_bytes(np.asarray(y_va)))
        heads.append({"name": head.name, "task": codec.task, "target_format": head.target_format,
                      "codec": codec.get_config(), **_target_summary(codec, head.target_format, y_tr, y_va)})
    if len(val_x) == 1 and inputs[0].get("columns") is not None:
        _save_rows(folder / "validation_x.parquet", val_x[0], inputs[0]["columns"])
    atomic_write_json(folder / "data.json", {"objective": objective, "inputs": inputs, "heads": heads,
                                             "rows": {"train": data.n_tr, "validation": data.n_va}})


def save_timing(project, marks: dict[str, float]) -> None:
    """Record the phases of ``fit`` from ``marks`` (``time.time()`` at "started", "searched", "final",
    and now as "exported"): seconds of the search, the refit (or bagging) and the export."""
    marks = {**marks, "exported": time.time()}
    seconds = {"search": marks["searched"] - marks["started"], "refit": marks["final"] - marks["searched"],
               "export": marks["exported"] - marks["final"]}
    atomic_write_json(project.path / "report" / "timing.json", {"marks": marks, "seconds": seconds})


def _describe_input(node, preprocessor, raw_tr, raw_va) -> dict:
    entry = {"name": node.name, "kind": node.kind, "rows": len(raw_tr) + len(raw_va)}
    table = getattr(preprocessor, "table_", None)
    if table is None or not isinstance(raw_tr, (pd.DataFrame, np.ndarray)):
        return entry
    frame = pd.concat([_frame(raw_tr, preprocessor.columns_), _frame(raw_va, preprocessor.columns_)])
    types = dict(table.column_types_)
    entry["columns"] = [{"name": c, "type": types.get(c, "dropped"), "missing": int(frame[c].isna().sum()),
                         "distinct": int(frame[c].nunique())} for c in preprocessor.columns_]
    return entry


def _frame(raw, columns: list[str]) -> pd.DataFrame:
    """``raw`` as a frame whose column names are the strings the preprocessor knows them by."""
    if isinstance(raw, pd.DataFrame):
        return raw.set_axis([str(c) for c in raw.columns], axis=1)
    return pd.DataFrame(np.asarray(raw), columns=columns)


def _target_summary(codec, target_format: str, y_tr, y_va) -> dict:
    """The class counts or the target's summary, from the encoded targets (each in the format of the head's loss)."""
    both = np.concatenate([np.asarray(y_tr), np.asarray(y_va)])
    if codec.task != "classification":
        values = both.reshape(len(both), -1)[:, 0].astype("float64")
        return {"summary": {"mean": float(values.mean()), "std": float(values.std()), "min": float(values.min()),
                            "max": float(values.max())}}
    classes = [str(c) for c in codec.classes_]
    counts = both.sum(axis=0) if target_format in ("onehot", "multilabel") else \
        np.bincount(both.reshape(-1).astype("int64"), minlength=len(classes))
    return {"classes": classes, "counts": [int(c) for c in counts]}


def _save_rows(path, raw, columns) -> None:
    frame = _frame(raw, [c["name"] for c in columns]).head(MAX_IMPORTANCE_ROWS)
    try:
        import io

        buffer = io.BytesIO()
        frame.reset_index(drop=True).to_parquet(buffer, index=False)
    except (ValueError, TypeError, ImportError):  # columns parquet cannot hold (mixed objects): no importance
        return
    atomic_write_bytes(path, buffer.getvalue())
