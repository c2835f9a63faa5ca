"""Blocks built from ``keras.applications``: ``ResNetBlock``, ``XceptionBlock``, ``EfficientNetBlock``.

Weights are never downloaded: the networks start from random weights, or from
a local weights file (``weights="path/to/file.h5"``) for transfer learning.
Images smaller than a network's minimum size are upsampled inside the model.
"""

from __future__ import annotations

import os

import keras

from autodeep.graph import Block

RESNETS = {"resnet50": "ResNet50", "resnet101": "ResNet101", "resnet152": "ResNet152",
           "resnet50_v2": "ResNet50V2", "resnet101_v2": "ResNet101V2", "resnet152_v2": "ResNet152V2"}
EFFICIENTNETS = {f"b{i}": f"EfficientNetB{i}" for i in range(8)}


class _ApplicationBlock(Block):
    min_size = 32
    versions: dict = {}
    searched_versions: list = []
    version_groups: dict = {}  # AutoKeras' family names (ResNet "v1"/"v2"): the version is searched within
    # how pixels in [0, 1] become what pretrained weights expect: (scale, offset)
    pixel_scaling: tuple = (255.0, 0.0)

    def _pixel_scaling(self, application: str) -> tuple:
        return self.pixel_scaling

    def __init__(self, version: str | None = None, pretrained: bool | None = None, weights: str | None = None,
                 trainable: bool = True, **kwargs):
        super().__init__(**kwargs)
        if version is not None and self.versions and version not in {**self.versions, **self.version_groups}:
            raise ValueError(f"{type(self).__name__}: version must be one of "
                             f"{list(self.version_groups) + list(self.versions)}; received {version!r}.")
        if pretrained and weights is None:
            raise ValueError(f"{type(self).__name__}: pretrained=True needs weights='path/to/weights.h5' "
                             f"(weights are never downloaded).")
        if weights is not None and not os.path.isfile(weights):
            raise FileNotFoundError(f"{type(self).__name__}: weights must be a local weights file; "
                                    f"no such file {weights!r}.")
        self.version = version
        self.pretrained = pretrained
        self.weights = weights
        self.trainable = trainable

    def _constructor(self, hp):
        if not self.versions:
            return self.application
        searched = self.version_groups.get(self.version, self.searched_versions)
        version = self.version if self.version in self.versions else \
            hp.Choice("version", searched, default=searched[0])
        return self.versions[version]

    def build(self, hp, inputs):
        if len(inputs.shape) != 4:
            raise ValueError(f"{type(self).__name__} takes images (batch, height, width, channels); "
                             f"received a tensor of shape {tuple(inputs.shape)}.")
        application = self._constructor(hp)
        x = inputs
        height, width, channels = (int(v) for v in inputs.shape[1:])
        if min(height, width) < self.min_size:
            factor = self.min_size / min(height, width)
            height, width = round(height * factor + 0.49), round(width * factor + 0.49)
            x = keras.layers.Resizing(height, width)(x)
        if self.weights is not None:
            if channels == 1:
                x = keras.layers.Concatenate()([x, x, x])
                channels = 3
            scale, offset = self._pixel_scaling(application)
            x = keras.layers.Rescaling(scale, offset=offset)(x)
        net = getattr(keras.applications, application)(
            include_top=False, weights=self.weights, input_shape=(height, width, channels), pooling=None)
        net.trainable = self.trainable
        return net(x)

    def get_config(self):
        return {**super().get_config(), "version": self.version, "pretrained": self.pretrained,
                "weights": self.weights, "trainable": self.trainable}


class ResNetBlock(_ApplicationBlock):
    """A ResNet (v1 or v2) from ``keras.applications``, without its classifier.

    Args:
        version: One of ``resnet50``, ``resnet101``, ``resnet152`` and their ``_v2``; or AutoKeras' ``"v1"`` /
            ``"v2"``, searched within that family; searched among the 50-layer ones when ``None`` (the deeper
            ones are slow on a CPU).
        pretrained: ``True`` with ``weights`` to start from a local weights file.
        weights: Path of a Keras weights file for this network (``include_top=False``); feed pixels
            in ``[0, 1]`` (``ImageBlock(normalize=False)``), they are scaled as the weights expect.
        trainable: ``False`` freezes the network (feature extraction).

    Example:
        >>> import autodeep as ak
        >>> out = ak.ClassificationHead()(ak.ResNetBlock(version="resnet50_v2")(ak.ImageInput()))
    """

    versions = RESNETS
    searched_versions = ["resnet50", "resnet50_v2"]
    version_groups = {"v1": ["resnet50", "resnet101", "resnet152"],
                      "v2": ["resnet50_v2", "resnet101_v2", "resnet152_v2"]}

    def _pixel_scaling(self, application: str) -> tuple:
        # v2 weights expect [-1, 1]; v1 weights expect 0..255 centred (about 120 is the mean of the channel means)
        return (2.0, -1.0) if application.endswith("V2") else (255.0, -120.0)


class XceptionBlock(_ApplicationBlock):
    """Xception from ``keras.applications``, without its classifier (images upsampled to 71 px at least).

    Args:
        pretrained, weights, trainable: As in ``ResNetBlock``.

    Example:
        >>> import autodeep as ak
        >>> out = ak.ClassificationHead()(ak.XceptionBlock()(ak.ImageInput()))
    """

    min_size = 71
    application = "Xception"
    pixel_scaling = (2.0, -1.0)


class EfficientNetBlock(_ApplicationBlock):
    """An EfficientNet (B0-B7) from ``keras.applications``, without its classifier.

    Args:
        version: ``"b0"`` ... ``"b7"``; searched among ``b0``-``b2`` when ``None``.
        pretrained, weights, trainable: As in ``ResNetBlock`` (EfficientNet rescales 0..255 pixels itself).

    Example:
        >>> import autodeep as ak
        >>> out = ak.ClassificationHead()(ak.EfficientNetBlock(version="b0")(ak.ImageInput()))
    """

    versions = EFFICIENTNETS
    searched_versions = ["b0", "b1", "b2"]
