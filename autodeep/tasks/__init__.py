"""The user-facing API: ``AutoModel`` (its ``fit`` calls the stages of ``autodeep.fit``) and the task classes."""

from autodeep.fit.artifact import Predictor, load_model
from autodeep.tasks.auto_model import AutoModel
from autodeep.tasks.structured import StructuredDataClassifier, StructuredDataRegressor
from autodeep.tasks.image import ImageClassifier, ImageRegressor  # noqa: E402

__all__ = ["AutoModel", "Predictor", "StructuredDataClassifier", "StructuredDataRegressor", "load_model"]
__all__ += ["ImageClassifier", "ImageRegressor"]
from autodeep.tasks.text import TextClassifier, TextRegressor  # noqa: E402

__all__ += ["TextClassifier", "TextRegressor"]
from autodeep.tasks.timeseries import TimeseriesForecaster  # noqa: E402

__all__ += ["TimeseriesForecaster"]
