"""Convolutional blocks: ``ConvBlock`` (1-D sequences and 2-D images) and ``ImageBlock``.

Spaces scale with the input: the number of convolution stages a ``ConvBlock``
may use, and its default, follow the image (or sequence) size, so small
images get a small network and large images enough downsampling.
"""

from __future__ import annotations

import math

import keras

from autodeep.blocks.applications import EfficientNetBlock, ResNetBlock, XceptionBlock
from autodeep.blocks.image_preprocessing import ImageAugmentation, Normalization
from autodeep.blocks.reduction import SpatialReduction
from autodeep.graph import Block, GraphError


def stage_range(side: int) -> tuple[int, int]:
    """``(default, largest)`` number of pooling stages for a side of ``side`` pixels (or steps).

    Example:
        >>> stage_range(8), stage_range(28), stage_range(32), stage_range(224)
        ((2, 2), (3, 3), (3, 4), (5, 5))
    """
    largest = max(1, min(5, int(math.log2(max(side, 2))) - 1))
    default = min(largest, max(2, round(math.log2(max(side, 2))) - 2))
    return default, largest


class ConvBlock(Block):
    """Stages of convolutions (+ batch normalisation, ReLU), max pooling and dropout; 1-D or 2-D by input rank.

    Images ``(batch, h, w, c)`` get ``Conv2D``; sequences ``(batch, steps, c)`` get ``Conv1D``. Stage ``i``
    has ``filters * 2**i`` filters (at most 512).

    Args:
        kernel_size: Kernel size; searched in {3, 5, 7} when ``None``.
        num_blocks: Number of stages; searched within what the input size allows when ``None``.
        num_layers: Convolutions per stage; searched in {1, 2} when ``None``.
        filters: Filters of the first stage; searched in {16, 32, 64} when ``None``.
        max_pooling: Halve the size after each stage; searched when ``None``.
        separable: Depthwise-separable convolutions; searched when ``None``.
        dropout: Dropout after each stage; searched in {0, 0.1, 0.25, 0.5} when ``None``.
        use_batchnorm: Batch normalisation after each convolution; searched when ``None``.

    Example:
        >>> import autodeep as ak
        >>> out = ak.ClassificationHead()(ak.ConvBlock(num_blocks=2, filters=32)(ak.ImageInput()))
    """

    def __init__(self, kernel_size: int | None = None, num_blocks: int | None = None, num_layers: int | None = None,
                 filters: int | None = None, max_pooling: bool | None = None, separable: bool | None = None,
                 dropout: float | None = None, use_batchnorm: bool | None = None, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size
        self.num_blocks = num_blocks
        self.num_layers = num_layers
        self.filters = filters
        self.max_pooling = max_pooling
        self.separable = separable
        self.dropout = dropout
        self.use_batchnorm = use_batchnorm

    def _value(self, hp, name, choices, default):
        value = getattr(self, name)
        return value if value is not None else hp.Choice(name, choices, default=default)

    def build(self, hp, inputs):
        if isinstance(inputs, list):
            raise GraphError(f"{self.name} takes one input; merge several with ak.Merge() first.")
        rank = len(inputs.shape)
        if rank not in (3, 4):
            raise GraphError(f"{self.name} takes images (batch, height, width, channels) or sequences "
                             f"(batch, steps, channels); received a tensor of shape {tuple(inputs.shape)}.")
        two_d = rank == 4
        side = min(int(v) for v in inputs.shape[1:-1])
        default_blocks, largest = stage_range(side)
        kernel_size = self._value(hp, "kernel_size", [3, 5, 7], 3)
        num_blocks = self.num_blocks or hp.Choice("num_blocks", list(range(1, largest + 1)), default=default_blocks)
        num_layers = self._value(hp, "num_layers", [2, 1], 2)
        filters = self._value(hp, "filters", [32, 16, 64], 32)
        max_pooling = self.max_pooling if self.max_pooling is not None else hp.Boolean("max_pooling", True)
        separable = self.separable if self.separable is not None else hp.Boolean("separable", False)
        dropout = self._value(hp, "dropout", [0.25, 0.0, 0.1, 0.5], 0.25)
        use_batchnorm = self.use_batchnorm if self.use_batchnorm is not None else hp.Boolean("use_batchnorm", True)
        if two_d:
            conv = keras.layers.SeparableConv2D if separable else keras.layers.Conv2D
            pool = keras.layers.MaxPooling2D
        else:
            conv = keras.layers.SeparableConv1D if separable else keras.layers.Conv1D
            pool = keras.layers.MaxPooling1D
        x = inputs
        for i in range(num_blocks):
            width = min(512, filters * 2 ** i)
            for _ in range(num_layers):
                x = conv(width, kernel_size, padding="same", use_bias=not use_batchnorm)(x)
                if use_batchnorm:
                    x = keras.layers.BatchNormalization()(x)
                x = keras.layers.ReLU()(x)
            if max_pooling and min(int(v) for v in x.shape[1:-1]) >= 2:
                x = pool(2)(x)
            if dropout:
                x = keras.layers.Dropout(dropout)(x)
        return x

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "num_blocks": self.num_blocks,
                "num_layers": self.num_layers, "filters": self.filters, "max_pooling": self.max_pooling,
                "separable": self.separable, "dropout": self.dropout, "use_batchnorm": self.use_batchnorm}


BLOCK_TYPES = {"vanilla": ConvBlock, "resnet": ResNetBlock, "xception": XceptionBlock, "efficient": EfficientNetBlock}
_SCOPES = {"vanilla": "conv_block", "resnet": "res_net_block", "xception": "xception_block",
           "efficient": "efficient_net_block"}


class ImageBlock(Block):
    """The default block for images: optional augmentation and normalisation, then a searched network.

    Args:
        block_type: ``"vanilla"`` (a ``ConvBlock``), ``"resnet"``, ``"xception"`` or ``"efficient"``;
            searched when ``None`` (vanilla first: fast on a CPU and good on small images).
        normalize: Standardise channels with the training images' statistics; searched when ``None``.
        augment: Random flips/shifts/... in training; searched when ``None``.

    The output is one vector per image (the feature map reduced by a searched ``SpatialReduction``).

    Example:
        >>> import autodeep as ak
        >>> out = ak.ClassificationHead()(ak.ImageBlock(block_type="vanilla", augment=False)(ak.ImageInput()))
    """

    def __init__(self, block_type: str | None = None, normalize: bool | None = None, augment: bool | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        if block_type is not None and block_type not in BLOCK_TYPES:
            raise ValueError(f"ImageBlock: block_type must be one of {list(BLOCK_TYPES)} or None; "
                             f"received {block_type!r}.")
        self.block_type = block_type
        self.normalize = normalize
        self.augment = augment

    def build(self, hp, inputs):
        if isinstance(inputs, list) or len(inputs.shape) != 4:
            shape = "several inputs" if isinstance(inputs, list) else f"shape {tuple(inputs.shape)}"
            raise GraphError(f"{self.name} takes images (batch, height, width, channels); received {shape}.")
        block_type = self.block_type or hp.Choice("block_type", list(BLOCK_TYPES), default="vanilla")
        normalize = self.normalize if self.normalize is not None else hp.Boolean("normalize", True)
        augment = self.augment if self.augment is not None else hp.Boolean("augment", False)
        x = inputs
        if augment:
            with hp.name_scope("image_augmentation"):
                x = ImageAugmentation().build(hp, x)
        if normalize:
            x = Normalization().build(hp, x)
        with hp.name_scope(_SCOPES[block_type]):
            x = BLOCK_TYPES[block_type]().build(hp, x)
        with hp.name_scope("spatial_reduction"):
            return SpatialReduction().build(hp, x)

    def get_config(self):
        return {**super().get_config(), "block_type": self.block_type, "normalize": self.normalize,
                "augment": self.augment}
