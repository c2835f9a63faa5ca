"""autodeep: AutoML for deep learning on Keras 3, with the AutoKeras API.

Example:
    >>> import autodeep as ak
    >>> clf = ak.StructuredDataClassifier(max_trials=20)   # doctest: +SKIP
    >>> clf.fit(x_train, y_train); clf.predict(x_test)      # doctest: +SKIP
"""

# JAX is the default backend on CPU (see README: measured fastest for small networks here); an empty
# KERAS_BACKEND counts as unset, and a backend autodeep cannot use fails here, naming the variable.
from autodeep.backend import choose_backend as _choose_backend  # edges (issue 23 item 3)

_choose_backend()

__version__ = "0.1.0"

from autodeep import datasets  # noqa: E402
from autodeep.blocks import (  # noqa: E402
    ClassificationHead,
    DenseBlock,
    Merge,
    RegressionHead,
    StructuredDataBlock,
)
from autodeep.graph import Block, Head, HyperParameters, Input, Node, StructuredDataInput  # noqa: E402
from autodeep.tasks import (  # noqa: E402
    AutoModel,
    Predictor,
    StructuredDataClassifier,
    StructuredDataRegressor,
    load_model,
)

__all__ = ["AutoModel", "Block", "ClassificationHead", "DenseBlock", "Head", "HyperParameters", "Input", "Merge",
           "Node", "Predictor", "RegressionHead", "StructuredDataBlock", "StructuredDataClassifier",
           "StructuredDataInput", "StructuredDataRegressor", "datasets", "load_model"]

# scikit-learn habits: objectives computed on the validation predictions (habits, issue 20)
from autodeep.fit.metrics import Metric  # noqa: E402

__all__ += ["Metric"]

# Images
from autodeep.blocks import (  # noqa: E402
    ConvBlock,
    EfficientNetBlock,
    ImageAugmentation,
    ImageBlock,
    Normalization,
    ResNetBlock,
    SpatialReduction,
    XceptionBlock,
)
from autodeep.graph import ImageInput  # noqa: E402
from autodeep.tasks import ImageClassifier, ImageRegressor  # noqa: E402

__all__ += ["ConvBlock", "EfficientNetBlock", "ImageAugmentation", "ImageBlock", "ImageClassifier", "ImageInput",
            "ImageRegressor", "Normalization", "ResNetBlock", "SpatialReduction", "XceptionBlock"]

# Texts
from autodeep.blocks import BertBlock, Embedding, RNNBlock, TemporalReduction, TextBlock, Transformer  # noqa: E402
from autodeep.graph import TextInput  # noqa: E402
from autodeep.tasks import TextClassifier, TextRegressor  # noqa: E402

__all__ += ["BertBlock", "Embedding", "RNNBlock", "TemporalReduction", "TextBlock", "TextClassifier", "TextInput",
            "TextRegressor", "Transformer"]

# AutoKeras compatibility: tuners as classes, Flatten, AutoKeras' Keras layers, CUSTOM_OBJECTS
from autodeep.blocks import CastToFloat32, ExpandLastDim, Flatten, custom_objects as _custom_objects  # noqa: E402
from autodeep.search import BayesianOptimization, Greedy, Hyperband, NetworkMorphism, RandomSearch  # noqa: E402

__all__ += ["BayesianOptimization", "CUSTOM_OBJECTS", "CastToFloat32", "ExpandLastDim", "Flatten", "Greedy",
            "Hyperband", "NetworkMorphism", "RandomSearch"]

# Time series
from autodeep.blocks import TimeseriesBlock  # noqa: E402
from autodeep.graph import TimeseriesInput  # noqa: E402
from autodeep.tasks import TimeseriesForecaster  # noqa: E402

__all__ += ["TimeseriesBlock", "TimeseriesForecaster", "TimeseriesInput"]

# Last, so every layer registered above (time series included) is in it.
CUSTOM_OBJECTS = _custom_objects()
