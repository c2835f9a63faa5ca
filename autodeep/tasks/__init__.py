"""Task classes and ``AutoModel``: orchestration only."""

from autodeep.tasks.artifact import Predictor, load_model
from autodeep.tasks.auto_model import AutoModel
from autodeep.tasks.structured import StructuredDataClassifier, StructuredDataRegressor

__all__ = ["AutoModel", "Predictor", "StructuredDataClassifier", "StructuredDataRegressor", "load_model"]
