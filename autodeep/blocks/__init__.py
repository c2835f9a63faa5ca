"""The search space: blocks and heads for every data type."""

from autodeep.blocks.basic import DenseBlock, Merge
from autodeep.blocks.heads import ClassificationHead, RegressionHead
from autodeep.blocks.layers import CategoricalEmbedding, Denormalize, PeriodicEmbedding, WeightedAverage
from autodeep.blocks.tabular import StructuredDataBlock

__all__ = ["CategoricalEmbedding", "ClassificationHead", "Denormalize", "DenseBlock", "Merge",
           "PeriodicEmbedding", "RegressionHead", "StructuredDataBlock", "WeightedAverage"]
