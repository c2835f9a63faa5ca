"""``ImageInput``: the input node for images, from arrays, a folder, or a list of image paths."""

from __future__ import annotations

from typing import Any

from autodeep.graph.nodes import Input, unique_name

_STATS = "_autodeep_image_stats"


def image_statistics(tensor) -> dict | None:
    """Per-channel ``{"mean", "std"}`` of the pixel values an image tensor carries, or ``None``.

    ``ImageInput`` attaches the statistics its preprocessor measured on the training
    images; ``ak.Normalization`` uses them, and blocks that keep pixel statistics
    (augmentation) pass them on with ``carry_image_statistics``.
    """
    return getattr(tensor, _STATS, None)


def carry_image_statistics(source, target):
    """Attach ``source``'s pixel statistics (if any) to ``target``; returns ``target``."""
    stats = image_statistics(source)
    if stats is not None:
        try:
            setattr(target, _STATS, stats)
        except AttributeError:  # a backend tensor that takes no attributes: normalisation falls back
            pass
    return target


class ImageInput(Input):
    """Images: ``(n, height, width)`` or ``(n, height, width, channels)`` arrays, a folder, or image paths.

    Blocks receive a float tensor scaled to about ``[0, 1]`` (uint8 pixels divided by 255),
    carrying the per-channel statistics of the training images for ``ak.Normalization``.

    Args:
        image_size: ``(height, width)`` image files are resized to; the most common size when ``None``.
        on_error: For unreadable image files: ``"skip"`` (report by name and leave out) or ``"raise"``.

    Example:
        >>> import autodeep as ak
        >>> node = ak.ImageInput()
        >>> node.kind
        'image'
    """

    kind = "image"

    def __init__(self, name: str | None = None, image_size=None, on_error: str = "skip", **kwargs):
        super().__init__(name or unique_name("image_input"))
        self.image_size = image_size
        self.on_error = on_error

    def to_block_input(self, tensors: dict[str, Any], meta: dict) -> Any:
        import keras

        images = tensors["images"]
        scaled = keras.layers.Rescaling(1.0 / float(meta.get("scale", 1.0)), name=f"{self.name}_rescale")(images)
        if meta.get("mean"):
            setattr(scaled, _STATS, {"mean": list(meta["mean"]), "std": list(meta["std"])})
        return scaled
