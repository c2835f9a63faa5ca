"""``ImagePreprocessor``: image arrays or image files -> the model's image input, with its statistics.

Fit learns the image format (size, channels, pixel dtype and scale) and
per-channel mean and standard deviation from a bounded sample of the training
images; blocks use them for normalisation. Arrays pass through as arrays;
files become ``ImageFiles``, decoded batch by batch during training.
"""

from __future__ import annotations

import numpy as np

from autodeep.data.images import (
    ImageFiles,
    as_image_array,
    check_image_size,
    check_on_error,
    infer_image_format,
    is_path_input,
    list_image_files,
)
from autodeep.data.rows import read_rows

STATS_SAMPLE = 2000  # images decoded to estimate the channel statistics
STATS_BATCH = 256


def _paths(raw) -> list[str]:
    if isinstance(raw, (list, tuple, np.ndarray)):
        return [str(p) for p in raw]
    return list_image_files(raw)


class ImagePreprocessor:
    """Raw images (an array ``(n, h, w[, c])``, a folder, or a list of paths) -> the model's image input.

    Args:
        image_size: ``(height, width)`` files are resized to; the most common size when ``None``.
        on_error: ``"skip"`` (report and use a black image) or ``"raise"`` for files that fail to decode.

    Example:
        >>> import numpy as np
        >>> p = ImagePreprocessor().fit(np.random.randint(0, 255, (10, 8, 8), dtype="uint8"))
        >>> p.specs()["features"]["images"], p.specs()["meta"]["scale"]
        (((8, 8, 1), 'uint8'), 255.0)
    """

    def __init__(self, image_size=None, on_error: str = "skip"):
        self.image_size = None if image_size is None else check_image_size(image_size)
        self.on_error = check_on_error(on_error)
        self.size_: tuple = ()
        self.channels_ = 0
        self.dtype_ = "uint8"
        self.scale_ = 255.0
        self.mean_: list[float] = []
        self.std_: list[float] = []

    def fit(self, raw) -> "ImagePreprocessor":
        if is_path_input(raw):
            self.size_, self.channels_ = infer_image_format(_paths(raw), self.image_size)
            self.dtype_, self.scale_ = "uint8", 255.0
        else:
            array = as_image_array(raw)
            self.size_, self.channels_ = tuple(int(v) for v in array.shape[1:3]), int(array.shape[3])
            self.dtype_ = "uint8" if array.dtype == np.uint8 else "float32"
            peak = 255.0 if array.dtype == np.uint8 else float(np.abs(array).max())
            self.scale_ = peak if peak > 1.5 else 1.0  # e.g. 16 for 0..16 digits, 1 for [0, 1] floats
        self._fit_statistics(self.transform(raw)["images"])
        return self

    def _fit_statistics(self, rows) -> None:
        n = len(rows)
        index = np.unique(np.linspace(0, n - 1, min(n, STATS_SAMPLE)).astype("int64"))
        total = np.zeros(self.channels_, "float64")
        squares = np.zeros(self.channels_, "float64")
        count = 0
        for start in range(0, len(index), STATS_BATCH):
            batch = read_rows(rows, index[start:start + STATS_BATCH]).astype("float64") / self.scale_
            flat = batch.reshape(-1, self.channels_)
            total += flat.sum(axis=0)
            squares += (flat ** 2).sum(axis=0)
            count += len(flat)
        mean = total / count
        std = np.sqrt(np.maximum(squares / count - mean ** 2, 0.0))
        self.mean_, self.std_ = mean.tolist(), np.maximum(std, 1e-3).tolist()

    def transform(self, raw) -> dict:
        """``{"images": ...}``: an array for arrays; ``ImageFiles`` (decoded on demand) for a folder or paths."""
        if is_path_input(raw):
            factor = 1.0 if self.dtype_ == "uint8" else self.scale_ / 255.0
            return {"images": ImageFiles(_paths(raw), self.size_, self.channels_, self.on_error,
                                         dtype=self.dtype_, factor=factor)}
        array = as_image_array(raw)
        if tuple(array.shape[1:3]) != self.size_:
            raise ValueError(f"x has images of size {tuple(array.shape[1:3])}; the model takes {self.size_} "
                             f"(height, width). Resize them, or pass image files, which are resized for you.")
        channels = array.shape[3]
        if channels != self.channels_:
            if channels == 1 and self.channels_ == 3:
                array = np.repeat(array, 3, axis=3)
            elif channels == 3 and self.channels_ == 1:
                array = (array.astype("float32") @ np.array([0.299, 0.587, 0.114], "float32"))[..., None]
            else:
                raise ValueError(f"x has {channels} channels per pixel; the model takes {self.channels_}.")
        if self.dtype_ == "uint8" and array.dtype != np.uint8:
            array = np.clip(np.rint(array), 0, 255).astype("uint8")
        elif self.dtype_ == "float32" and array.dtype != np.float32:
            array = array.astype("float32")
        return {"images": array}

    def specs(self) -> dict:
        return {"features": {"images": ((*self.size_, self.channels_), self.dtype_)},
                "meta": {"scale": self.scale_, "mean": list(self.mean_), "std": list(self.std_)}}

    def n_rows(self, raw) -> int:
        return len(_paths(raw)) if is_path_input(raw) else len(as_image_array(raw))

    def get_config(self) -> dict:
        return {"image_size": list(self.image_size) if self.image_size else None, "on_error": self.on_error,
                "size": list(self.size_), "channels": self.channels_, "dtype": self.dtype_, "scale": self.scale_,
                "mean": self.mean_, "std": self.std_}

    @classmethod
    def from_config(cls, config: dict) -> "ImagePreprocessor":
        p = cls(image_size=config.get("image_size"), on_error=config.get("on_error", "skip"))
        p.size_, p.channels_ = tuple(config["size"]), int(config["channels"])
        p.dtype_, p.scale_ = config["dtype"], float(config["scale"])
        p.mean_, p.std_ = list(config["mean"]), list(config["std"])
        return p
