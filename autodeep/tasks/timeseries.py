"""``TimeseriesForecaster``: forecast a series from windows of its past (and of other columns), AutoKeras' API.

The time-series modality (preprocessor, default block, first configurations) is declared in
``autodeep.modalities``.

Rows are time steps. The window ending at row ``t`` (rows ``t - lookback + 1 .. t`` of ``x``) predicts
``y[t + predict_from .. t + predict_until]``. ``fit`` keeps time order: the validation windows are the
last ones, and training windows stop early enough that no target step is shared with them.
"""

from __future__ import annotations

import numpy as np

from autodeep.blocks import RegressionHead
from autodeep.data.timeseries import (SeriesWindows, check_horizon, chronological_split, default_lookback,
                                      read_series, target_matrix, usable_ends)
from autodeep.graph.timeseries_input import TimeseriesInput
from autodeep.data.checks import check_fraction
from autodeep.modalities import initial_configs
from autodeep.tasks.auto_model import AutoModel

class TimeseriesForecaster(AutoModel):
    """Forecast a series ``predict_from..predict_until`` steps past each window of ``lookback`` rows.

    ``predict(x)`` takes history (rows of the same columns as at ``fit``, at least ``lookback`` of them)
    and returns one forecast per window of ``x``: ``(len(x) - lookback + 1, predict_until - predict_from + 1)``,
    or ``(len(x) - lookback + 1,)`` when the forecast is one step. Row ``i`` is forecast from rows
    ``i .. i + lookback - 1``, so ``predict(history)[-1]`` forecasts the steps after the end of ``history``.
    Values are in the target's units. (AutoKeras 1.x instead slices its predictions by the length of the
    training data; here the forecast depends only on the history given.)

    Args:
        output_dim: Accepted for AutoKeras compatibility: ``None`` or the number of forecast steps.
        column_names: Column names for a numpy array ``x``.
        column_types: ``{"column": "numerical" | "categorical"}`` overriding inference.
        lookback: Rows of history per window; when ``None`` a window of up to 36 rows is cut and the
            search tries all of it, a half and a quarter.
        predict_from: First forecast step after the window's last row (``1``: the next step).
        predict_until: Last forecast step; ``None`` means ``predict_from`` (one step).
        loss, metrics: As in ``ak.RegressionHead``.
        epochs: Epochs per trial (early stopping when ``None``).
        name: AutoKeras 1.0's name for ``project_name``.
        **kwargs: ``AutoModel``'s arguments (``max_trials``, ``time_limit``, ``directory``, ``seed``, ...).

    Missing values: numeric feature gaps are forward-filled (a column that starts with a gap raises);
    windows whose targets are missing are not trained on.

    Example:
        >>> import tempfile, numpy as np, pandas as pd, autodeep as ak
        >>> df = pd.DataFrame({"value": np.sin(np.arange(200) / 4)})
        >>> f = ak.TimeseriesForecaster(lookback=8, predict_until=3, max_trials=1, epochs=2,
        ...                             directory=tempfile.mkdtemp(), verbose=0, seed=0)
        >>> f.fit(df, "value").predict(df.tail(10)).shape
        (3, 3)
    """

    _default_project = "time_series_forecaster"

    def __init__(self, output_dim=None, column_names=None, column_types=None, lookback=None, predict_from=1,
                 predict_until=None, loss="mean_squared_error", metrics=None, project_name=None, max_trials=100,
                 directory=None, objective="val_loss", tuner=None, overwrite=False, seed=None, max_model_size=None,
                 epochs=None, name=None, **kwargs):
        self.lookback, self.predict_from, self.predict_until = check_horizon(lookback, predict_from, predict_until)
        self.horizon = self.predict_until - self.predict_from + 1
        if output_dim is not None and output_dim != self.horizon:
            raise ValueError(f"output_dim must be None or the number of forecast steps "
                             f"(predict_until - predict_from + 1 = {self.horizon}); received {output_dim!r}.")
        node = TimeseriesInput(lookback=self.lookback, column_names=column_names, column_types=column_types,
                               name="timeseries_input")
        head = RegressionHead(output_dim=self.horizon, loss=loss, metrics=metrics, name="regression_head")
        super().__init__(inputs=node, outputs=head, project_name=project_name or name, max_trials=max_trials,
                         directory=directory, objective=objective, tuner=tuner, overwrite=overwrite, seed=seed,
                         max_model_size=max_model_size, **kwargs)
        self.column_names = column_names
        self.column_types = column_types
        self.epochs = epochs
        self.output_dim, self.loss, self.metrics, self.name = output_dim, loss, metrics, name  # get_params
        self.window_: int | None = self.lookback

    def _initial_configs(self, graph, specs):
        return initial_configs(graph.inputs[0], specs)

    # -- data ------------------------------------------------------------------
    def _windows(self, x, y, argument: str = "x") -> tuple[np.ndarray, np.ndarray, object]:
        """``(frame, target matrix, usable window ends)`` of a raw series, with clear errors when too short."""
        frame, target = read_series(x, y, column_names=self.column_names, argument=argument)
        if self.window_ is None:
            self.window_ = default_lookback(len(frame), self.predict_until)
        targets = target_matrix(target, self.predict_from, self.predict_until)
        ends = usable_ends(targets, self.window_)
        if len(ends) == 0:
            raise ValueError(f"{argument} and y have {len(frame)} rows, too short for one window: lookback "
                             f"({self.window_}) + predict_until ({self.predict_until}) = "
                             f"{self.window_ + self.predict_until} rows with known targets are the fewest.")
        return frame, targets, ends

    def _adapt(self, x, y):
        if isinstance(x, SeriesWindows):
            return x, y
        frame, targets, ends = self._windows(x, y)
        return SeriesWindows(frame, self.window_, ends), targets[ends]

    def fit(self, x=None, y=None, epochs=None, callbacks=None, validation_split=0.2, validation_data=None,
            **kwargs):
        """Search and train on a series; the validation windows are the last ones (nothing is shuffled).

        Args:
            x: Feature columns over time (one row per step): a DataFrame, Series, 2-D array or CSV path.
                Include the target's own column to forecast from its history.
            y: The target series (one value per row of ``x``), or the name of its column in ``x``
                (the column stays among the features).
            validation_split: Share of the (last) windows held out for validation.
            validation_data: ``(x_val, y_val)``, a later stretch of the series with its own
                ``lookback`` rows of history, instead of a split.
            epochs, callbacks: As in ``AutoModel.fit``.
        """
        if x is None:
            raise ValueError("x is required: pass the feature rows over time (a DataFrame, array or CSV path).")
        self.window_ = self.lookback
        frame, targets, ends = self._windows(x, y)
        if validation_data is not None:
            train = SeriesWindows(frame, self.window_, ends)
            if not isinstance(validation_data, (list, tuple)) or len(validation_data) != 2:
                raise ValueError(f"validation_data must be a pair (x_val, y_val); received "
                                 f"{type(validation_data).__name__}.")
            v_frame, v_targets, v_ends = self._windows(*validation_data, argument="validation_data[0]")
            validation = (SeriesWindows(v_frame, self.window_, v_ends), v_targets[v_ends])
        else:
            check_fraction("validation_split", validation_split)
            needed = self.window_ + self.predict_until + self.horizon
            if len(ends) < self.horizon + 1:
                raise ValueError(f"x and y have {len(frame)} rows; at least lookback ({self.window_}) + "
                                 f"predict_until ({self.predict_until}) + forecast steps ({self.horizon}) = {needed} "
                                 f"rows with known targets are needed for one training and one validation window.")
            train_ends, val_ends = chronological_split(ends, validation_split, self.horizon)
            train = SeriesWindows(frame, self.window_, train_ends)
            validation = (SeriesWindows(frame, self.window_, val_ends), targets[val_ends])
        self.split_ = {"train_ends": train.ends, "validation_ends": validation[0].ends}
        return super().fit(x=train, y=targets[train.ends], epochs=epochs if epochs is not None else self.epochs,
                           callbacks=callbacks, validation_data=validation, **kwargs)

    def fit_and_predict(self, x=None, y=None, validation_split=0.2, validation_data=None, batch_size=None,
                        **kwargs):
        """``fit(x, y, ...)`` then ``predict(x)``, as in AutoKeras."""
        self.fit(x=x, y=y, validation_split=validation_split, validation_data=validation_data, **kwargs)
        return self.predict(x, batch_size=batch_size)
