"""``TimeseriesBlock``: the default block for windows of a time series (AutoKeras' ``TimeseriesBlock``)."""

from __future__ import annotations

import keras

from autodeep.blocks.basic import DenseBlock
from autodeep.blocks.image import ConvBlock
from autodeep.blocks.text import RNNBlock, TemporalReduction
from autodeep.graph import Block, GraphError

BLOCK_TYPES = ("mlp", "linear", "rnn", "conv")


class TimeseriesBlock(Block):
    """Reads a window ``(batch, lookback, features)`` with an MLP, a linear map, an RNN or 1-D convolutions.

    ``"mlp"`` is a ``DenseBlock`` on the flattened window, ``"linear"`` hands the flattened window straight to
    the head (a linear autoregression), ``"rnn"`` an ``RNNBlock`` (LSTM/GRU), ``"conv"`` a ``ConvBlock`` and a
    ``TemporalReduction``. With ``linear_skip`` the flattened window is concatenated to the learned features,
    so every model keeps a linear path that extrapolates trends beyond the training range.

    Args:
        block_type: One of ``"mlp"``, ``"linear"``, ``"rnn"``, ``"conv"``; searched when ``None``.
        lookback: Read only the last ``lookback`` rows of the window; searched (the whole window, a half,
            a quarter) when ``None`` and the input's own lookback was left to the search.
        linear_skip: Concatenate the flattened window to the features; searched when ``None``.

    Example:
        >>> import autodeep as ak
        >>> out = ak.RegressionHead()(ak.TimeseriesBlock(block_type="rnn")(ak.TimeseriesInput(lookback=12)))
    """

    def __init__(self, block_type: str | None = None, lookback: int | None = None, linear_skip: bool | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        if block_type not in (None, *BLOCK_TYPES):
            raise ValueError(f"TimeseriesBlock: block_type must be one of {list(BLOCK_TYPES)} or None; "
                             f"received {block_type!r}.")
        if lookback is not None and (isinstance(lookback, bool) or not isinstance(lookback, int) or lookback < 1):
            raise ValueError(f"TimeseriesBlock: lookback must be an integer >= 1 or None; received {lookback!r}.")
        self.block_type = block_type
        self.lookback = lookback
        self.linear_skip = linear_skip

    def _crop(self, hp, x):
        window = int(x.shape[1])
        if self.lookback is not None:
            if self.lookback > window:
                raise GraphError(f"{self.name}: lookback={self.lookback} is longer than the input's windows "
                                 f"({window} rows); pass lookback <= {window} or a longer TimeseriesInput lookback.")
            keep = self.lookback
        elif any(getattr(node, "kind", None) == "timeseries" and getattr(node, "lookback", 0) is None
                 for node in self.inputs):
            choices = list(dict.fromkeys([window, max(1, window // 2), max(1, window // 4)]))
            keep = hp.Choice("lookback", choices, default=window)
        else:
            keep = window
        return keras.layers.Cropping1D((window - keep, 0))(x) if keep < window else x

    def build(self, hp, inputs):
        if isinstance(inputs, list):
            raise GraphError(f"{self.name} takes one input; merge several with ak.Merge() first.")
        if len(inputs.shape) != 3:
            raise GraphError(f"{self.name} reads windows (batch, lookback, features) of an ak.TimeseriesInput(); "
                             f"received a tensor of shape {tuple(inputs.shape)}.")
        x = self._crop(hp, inputs)
        flat = keras.layers.Flatten()(x)
        block_type = self.block_type or hp.Choice("block_type", list(BLOCK_TYPES), default="mlp")
        if block_type == "linear":
            return flat
        if block_type == "mlp":
            with hp.name_scope("dense_block"):
                features = DenseBlock(name="dense_block").build(hp, flat)
        elif block_type == "rnn":
            with hp.name_scope("rnn_block"):
                features = RNNBlock(name="rnn_block").build(hp, x)
        else:
            with hp.name_scope("conv_block"):
                features = ConvBlock(name="conv_block").build(hp, x)
            with hp.name_scope("temporal_reduction"):
                features = TemporalReduction(name="temporal_reduction").build(hp, features)
        skip = self.linear_skip if self.linear_skip is not None else hp.Boolean("linear_skip", True)
        return keras.layers.Concatenate()([features, flat]) if skip else features

    def get_config(self):
        return {**super().get_config(), "block_type": self.block_type, "lookback": self.lookback,
                "linear_skip": self.linear_skip}
