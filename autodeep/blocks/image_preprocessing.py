"""Preprocessing blocks inside the model: ``Normalization`` and ``ImageAugmentation``.

Keras' random preprocessing layers are active only in training, so the exported
model applies no augmentation at inference.
"""

from __future__ import annotations

import keras

from autodeep.blocks.layers import RandomShift
from autodeep.graph import Block
from autodeep.graph.image_input import carry_image_statistics, image_statistics


class Normalization(Block):
    """Standardise each channel with the mean and deviation of the training images.

    Right after ``ak.ImageInput`` (or after augmentation) it uses the statistics the
    preprocessor measured on the training data; elsewhere it learns them as a
    non-affine batch normalisation does.

    Args:
        axis: The channel axis (only ``-1`` is supported).

    Example:
        >>> import autodeep as ak
        >>> out = ak.ClassificationHead()(ak.ConvBlock()(ak.Normalization()(ak.ImageInput())))
    """

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        if axis != -1:
            raise ValueError(f"Normalization: axis must be -1 (channels last); received {axis!r}.")
        self.axis = axis

    def build(self, hp, inputs):
        stats = image_statistics(inputs)
        if stats is None:
            return keras.layers.BatchNormalization(center=False, scale=False)(inputs)
        variance = [s * s for s in stats["std"]]
        return keras.layers.Normalization(axis=-1, mean=stats["mean"], variance=variance)(inputs)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class ImageAugmentation(Block):
    """Random flips, rotations, translations, zooms and contrast changes, in training only.

    Every argument left ``None`` is searched; ``0`` or ``False`` turns a transform off.

    Args:
        translation_factor: Largest shift as a fraction of the image size.
        vertical_flip, horizontal_flip: Random flips.
        rotation_factor: Largest rotation as a fraction of a full turn.
        zoom_factor: Largest zoom in or out, as a fraction.
        contrast_factor: Largest contrast change, as a fraction (pixels in ``[0, 1]``).

    Example:
        >>> import autodeep as ak
        >>> augmented = ak.ImageAugmentation(horizontal_flip=True, rotation_factor=0.0)(ak.ImageInput())
    """

    def __init__(self, translation_factor: float | None = None, vertical_flip: bool | None = None,
                 horizontal_flip: bool | None = None, rotation_factor: float | None = None,
                 zoom_factor: float | None = None, contrast_factor: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.translation_factor = translation_factor
        self.vertical_flip = vertical_flip
        self.horizontal_flip = horizontal_flip
        self.rotation_factor = rotation_factor
        self.zoom_factor = zoom_factor
        self.contrast_factor = contrast_factor

    def _factor(self, hp, name, default):
        value = getattr(self, name)
        return value if value is not None else hp.Choice(name, [0.0, 0.05, 0.1, 0.2], default=default)

    def build(self, hp, inputs):
        if len(inputs.shape) != 4:
            raise ValueError(f"ImageAugmentation takes images (batch, height, width, channels); "
                             f"received a tensor of shape {tuple(inputs.shape)}.")
        translation = self._factor(hp, "translation_factor", 0.1)
        rotation = self._factor(hp, "rotation_factor", 0.0)
        zoom = self._factor(hp, "zoom_factor", 0.0)
        contrast = self._factor(hp, "contrast_factor", 0.0)
        horizontal = self.horizontal_flip if self.horizontal_flip is not None else hp.Boolean("horizontal_flip", True)
        vertical = self.vertical_flip if self.vertical_flip is not None else hp.Boolean("vertical_flip", False)
        x = inputs
        if horizontal or vertical:
            mode = "horizontal_and_vertical" if horizontal and vertical else "horizontal" if horizontal else "vertical"
            x = keras.layers.RandomFlip(mode)(x)
        if translation and None not in tuple(x.shape[1:3]):
            x = RandomShift(translation)(x)  # whole-pixel shifts: ~10x cheaper than an affine resampling on a CPU
        elif translation:
            x = keras.layers.RandomTranslation(translation, translation, fill_mode="nearest")(x)
        if rotation:
            x = keras.layers.RandomRotation(rotation, fill_mode="nearest")(x)
        if zoom:
            x = keras.layers.RandomZoom(zoom, zoom, fill_mode="nearest")(x)
        if contrast:
            x = keras.layers.RandomContrast(contrast, value_range=(0, 1))(x)
        return carry_image_statistics(inputs, x)

    def get_config(self):
        return {**super().get_config(), "translation_factor": self.translation_factor,
                "vertical_flip": self.vertical_flip, "horizontal_flip": self.horizontal_flip,
                "rotation_factor": self.rotation_factor, "zoom_factor": self.zoom_factor,
                "contrast_factor": self.contrast_factor}
