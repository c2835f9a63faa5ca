"""Data: adapt inputs, analyse columns and targets, split, and fit preprocessors that save as plain JSON."""

from autodeep.data.adapters import SUPPORTED_SUFFIXES, check_lengths, read_table, to_target_array
from autodeep.data.analysis import CATEGORICAL, NUMERICAL, check_target, infer_column_types
from autodeep.data.split import train_validation_split
from autodeep.data.tabular import TabularPreprocessor
from autodeep.data.targets import ClassEncoder, TargetCodec, TargetScaler

__all__ = [
    "CATEGORICAL",
    "NUMERICAL",
    "SUPPORTED_SUFFIXES",
    "ClassEncoder",
    "TabularPreprocessor",
    "TargetCodec",
    "TargetScaler",
    "check_lengths",
    "check_target",
    "infer_column_types",
    "read_table",
    "to_target_array",
    "train_validation_split",
]
