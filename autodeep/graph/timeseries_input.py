"""``TimeseriesInput``: feature rows over time enter the graph here, as windows of the last ``lookback`` rows."""

from __future__ import annotations

from typing import Any

from autodeep.graph.nodes import Input, unique_name


class TimeseriesInput(Input):
    """Feature columns over time (DataFrame, 2-D array or CSV path, one row per step); AutoKeras' ``TimeseriesInput``.

    Blocks receive a float tensor ``(batch, lookback, features)``: the window of rows ending at the step
    a forecast starts from, standardised with the training rows' statistics (categorical columns one-hot).

    Args:
        lookback: Rows of history per window; when ``None`` the task picks a window and the
            ``TimeseriesBlock`` searches how much of it to read.
        column_names: Names for the columns of a numpy array.
        column_types: ``{"column": "numerical" | "categorical"}`` overriding inference.

    Example:
        >>> import autodeep as ak
        >>> series = ak.TimeseriesInput(lookback=12)
        >>> series.kind, series.lookback
        ('timeseries', 12)
    """

    kind = "timeseries"

    def __init__(self, lookback: int | None = None, column_names: list[str] | None = None,
                 column_types: dict | None = None, name: str | None = None):
        super().__init__(name or unique_name("timeseries_input"))
        if lookback is not None and (isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 1):
            raise ValueError(f"lookback must be an integer >= 1 or None; received {lookback!r}.")
        self.lookback = lookback
        self.column_names = column_names
        self.column_types = column_types

    def to_block_input(self, tensors: dict[str, Any], meta: dict) -> Any:
        return tensors["window"]
