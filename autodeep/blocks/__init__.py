"""The search space: blocks and heads for every data type."""

from autodeep.blocks.basic import DenseBlock, Merge
from autodeep.blocks.heads import ClassificationHead, RegressionHead
from autodeep.blocks.layers import CategoricalEmbedding, Denormalize, PeriodicEmbedding, WeightedAverage
from autodeep.blocks.tabular import StructuredDataBlock
from autodeep.blocks.applications import EfficientNetBlock, ResNetBlock, XceptionBlock  # noqa: E402  (images)
from autodeep.blocks.image import ConvBlock, ImageBlock  # noqa: E402
from autodeep.blocks.image_preprocessing import ImageAugmentation, Normalization  # noqa: E402
from autodeep.blocks.reduction import SpatialReduction  # noqa: E402

__all__ = ["CategoricalEmbedding", "ClassificationHead", "Denormalize", "DenseBlock", "Merge",
           "PeriodicEmbedding", "RegressionHead", "StructuredDataBlock", "WeightedAverage"]
__all__ += ["ConvBlock", "EfficientNetBlock", "ImageAugmentation", "ImageBlock", "Normalization", "ResNetBlock",
            "SpatialReduction", "XceptionBlock"]
from autodeep.blocks.text import BertBlock, Embedding, RNNBlock, TemporalReduction, Transformer  # noqa: E402
from autodeep.blocks.text_block import TextBlock  # noqa: E402

__all__ += ["BertBlock", "Embedding", "RNNBlock", "TemporalReduction", "TextBlock", "Transformer"]
from autodeep.blocks.flatten import Flatten  # noqa: E402  (AutoKeras compatibility)
from autodeep.blocks.keras_layers import CastToFloat32, ExpandLastDim, custom_objects  # noqa: E402

__all__ += ["CastToFloat32", "ExpandLastDim", "Flatten", "custom_objects"]
from autodeep.blocks.timeseries import TimeseriesBlock  # noqa: E402

__all__ += ["TimeseriesBlock"]
