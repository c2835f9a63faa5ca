"""Task classes for tables: ``StructuredDataClassifier`` and ``StructuredDataRegressor``."""

from __future__ import annotations

import os

from autodeep.blocks import ClassificationHead, RegressionHead
from autodeep.data import read_table
from autodeep.graph import StructuredDataInput
from autodeep.modalities import initial_configs
from autodeep.tasks.auto_model import AutoModel

class _StructuredTask(AutoModel):
    def __init__(self, head, column_names=None, column_types=None, epochs=None, input_options=None, **kwargs):
        if input_options is not None and not isinstance(input_options, dict):
            raise TypeError(f"input_options must be a dict of ak.StructuredDataInput's arguments; received "
                            f"{type(input_options).__name__}.")
        node = StructuredDataInput(column_names=column_names, column_types=column_types,
                                   name="structured_data_input", **(input_options or {}))
        super().__init__(inputs=node, outputs=head, **kwargs)
        self.column_names = column_names
        self.column_types = column_types
        self.input_options = input_options
        self.epochs = epochs  # default for fit(epochs=...), convenient for quick runs

    def _initial_configs(self, graph, specs):
        return initial_configs(graph.inputs[0], specs)

    def _adapt(self, x, y):
        if isinstance(x, (str, os.PathLike)):
            if y is not None and not isinstance(y, str):
                raise TypeError(f"When x is a file path, y must be the name of the target column; "
                                f"received {type(y).__name__}.")
            x, y = read_table(x, target=y, argument="x")
        elif isinstance(y, str):
            x, y = read_table(x, target=y, argument="x")
        return x, y

    def fit(self, x=None, y=None, epochs=None, callbacks=None, validation_split=0.2, validation_data=None,
            **kwargs):
        """Search and train on a table.

        Args:
            x: A pandas DataFrame, a 2-D numpy array, or a CSV/Parquet path.
            y: Targets, or the name of the target column in ``x``.
            epochs, callbacks, validation_split, validation_data: as in ``AutoModel.fit``.
        """
        return super().fit(x=x, y=y, epochs=epochs if epochs is not None else self.epochs, callbacks=callbacks,
                           validation_split=validation_split, validation_data=validation_data, **kwargs)


class StructuredDataClassifier(_StructuredTask):
    """Classify rows of a table; AutoKeras' ``StructuredDataClassifier``.

    Args:
        column_names: Column names for a numpy array input.
        column_types: ``{"column": "numerical" | "categorical" | "datetime" | "text"}``; inferred otherwise
            (dates expand into calendar features; free-text columns get a TF-IDF n-gram branch).
        input_options: More arguments of ``ak.StructuredDataInput``, such as how ID codes (columns with many
            levels) are encoded: ``{"high_cardinality_levels": None}`` treats no column as one.
        num_classes, multi_label, loss, metrics: As in ``ak.ClassificationHead``.
        **kwargs: ``AutoModel``'s arguments (``max_trials``, ``time_limit``, ``directory``, ...).

    Example:
        >>> import tempfile, autodeep as ak
        >>> df = ak.datasets.load_credit_g()
        >>> clf = ak.StructuredDataClassifier(max_trials=1, epochs=1, directory=tempfile.mkdtemp(),
        ...                                   verbose=0, seed=0)
        >>> _ = clf.fit(df.head(300), "class")
        >>> clf.predict_proba(df.tail(5).drop(columns="class")).shape
        (5, 2)
    """

    _default_project = "structured_data_classifier"

    def __init__(self, column_names=None, column_types=None, num_classes=None, multi_label=False, loss=None,
                 metrics=None, project_name="structured_data_classifier", max_trials=100, directory=None,
                 objective="val_loss", tuner=None, overwrite=False, seed=None, max_model_size=None,
                 epochs=None, input_options=None, **kwargs):
        head = ClassificationHead(num_classes=num_classes, multi_label=multi_label, loss=loss, metrics=metrics,
                                  name="classification_head")
        super().__init__(head, column_names=column_names, column_types=column_types, project_name=project_name,
                         max_trials=max_trials, directory=directory, objective=objective, tuner=tuner,
                         overwrite=overwrite, seed=seed, max_model_size=max_model_size, epochs=epochs,
                         input_options=input_options, **kwargs)
        self.num_classes, self.multi_label, self.loss, self.metrics = num_classes, multi_label, loss, metrics


class StructuredDataRegressor(_StructuredTask):
    """Predict real values from a table; AutoKeras' ``StructuredDataRegressor``.

    Args:
        column_names, column_types, input_options: As in ``StructuredDataClassifier``.
        output_dim, loss, metrics: As in ``ak.RegressionHead``.
        **kwargs: ``AutoModel``'s arguments.

    Example:
        >>> import tempfile, autodeep as ak
        >>> df = ak.datasets.load_credit_g()
        >>> reg = ak.StructuredDataRegressor(max_trials=1, epochs=1, directory=tempfile.mkdtemp(), verbose=0)
        >>> _ = reg.fit(df.head(300).drop(columns="class"), "credit_amount")
        >>> reg.predict(df.tail(3)).shape
        (3,)
    """

    _default_project = "structured_data_regressor"

    def __init__(self, column_names=None, column_types=None, output_dim=None, loss="mean_squared_error",
                 metrics=None, project_name="structured_data_regressor", max_trials=100, directory=None,
                 objective="val_loss", tuner=None, overwrite=False, seed=None, max_model_size=None,
                 epochs=None, input_options=None, **kwargs):
        head = RegressionHead(output_dim=output_dim, loss=loss, metrics=metrics, name="regression_head")
        super().__init__(head, column_names=column_names, column_types=column_types, project_name=project_name,
                         max_trials=max_trials, directory=directory, objective=objective, tuner=tuner,
                         overwrite=overwrite, seed=seed, max_model_size=max_model_size, epochs=epochs,
                         input_options=input_options, **kwargs)
        self.output_dim, self.loss, self.metrics = output_dim, loss, metrics  # get_params (scikit-learn)
