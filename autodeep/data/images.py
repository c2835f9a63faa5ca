"""Images from arrays and from files: validation, folder listing, decoding and resizing (Pillow).

Files are never all decoded at once: ``ImageFiles`` is a ``LazyRows`` that
decodes and resizes the rows a batch asks for, so memory stays bounded by a
few batches whatever the size of the folder.
"""

from __future__ import annotations

import collections
import os
import warnings
from pathlib import Path

import numpy as np

from autodeep.data.rows import LazyRows

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
ON_ERROR = ("skip", "raise")
MAX_SIDE = 256  # the inferred common size is scaled down to fit; pass image_size= to go larger


def _pil():
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a dependency
        raise ImportError("Reading image files needs Pillow: pip install pillow") from None
    return Image


def check_on_error(on_error: str) -> str:
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {list(ON_ERROR)}; received {on_error!r}.")
    return on_error


def is_path_input(x) -> bool:
    """Whether ``x`` names image files: a path, or a non-empty list/array of path strings."""
    if isinstance(x, (str, os.PathLike)):
        return True
    if isinstance(x, (list, tuple)) and x and all(isinstance(p, (str, os.PathLike)) for p in x):
        return True
    return isinstance(x, np.ndarray) and x.ndim == 1 and x.dtype.kind in "OUS" and len(x) > 0 and \
        all(isinstance(p, (str, os.PathLike)) for p in x[:10])


def _is_image_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES


def list_image_files(path, argument: str = "x") -> list[str]:
    """Every image file under ``path`` (recursively), sorted by relative path; a file is itself.

    Example:
        >>> list_image_files("no/such/folder")
        Traceback (most recent call last):
        ...
        FileNotFoundError: x: no such file or folder 'no/such/folder'.
    """
    path = Path(path)
    if path.is_file():
        return [str(path)]
    if not path.is_dir():
        raise FileNotFoundError(f"{argument}: no such file or folder {str(path)!r}.")
    files = sorted(str(p) for p in path.rglob("*") if _is_image_file(p))
    if not files:
        raise ValueError(f"{argument}: the folder {str(path)!r} holds no image files "
                         f"(looked for {', '.join(IMAGE_SUFFIXES)}).")
    return files


def image_folder_labels(path, argument: str = "x") -> tuple[list[str], np.ndarray]:
    """``(paths, labels)`` from a folder with one sub-folder of images per class.

    Example:
        >>> image_folder_labels("no/such/folder")
        Traceback (most recent call last):
        ...
        FileNotFoundError: x: no such folder 'no/such/folder'.
    """
    path = Path(path)
    if not path.is_dir():
        raise FileNotFoundError(f"{argument}: no such folder {str(path)!r}.")
    paths, labels = [], []
    classes = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    for folder in classes:
        files = sorted(str(p) for p in folder.rglob("*") if _is_image_file(p))
        paths += files
        labels += [folder.name] * len(files)
    if not paths:
        loose = [p.name for p in path.iterdir() if _is_image_file(p)]
        hint = (f" It holds {len(loose)} image file(s) directly; put them into one sub-folder per class, "
                f"or pass x=list_of_paths with y=labels.") if loose else ""
        raise ValueError(f"{argument}: the folder {str(path)!r} has no class sub-folders with images "
                         f"(expected {path.name}/<class>/<image>.png).{hint}")
    found = sorted(set(labels))
    if len(found) < 2:
        raise ValueError(f"{argument}: the folder {str(path)!r} has images of a single class {found[0]!r}; "
                         f"classification needs at least two class sub-folders.")
    return paths, np.asarray(labels)


def image_header(path) -> tuple[int, int, str]:
    """``(height, width, mode)`` of an image file, reading only its header."""
    with _pil().open(path) as image:
        width, height = image.size
        return int(height), int(width), image.mode


def check_image_files(paths: list[str], on_error: str = "skip", argument: str = "x") -> np.ndarray:
    """Boolean mask of the files Pillow can open and verify; bad ones are reported by name.

    ``on_error="skip"`` warns and leaves them out; ``"raise"`` raises ``ValueError``.
    """
    check_on_error(on_error)
    image_cls = _pil()
    ok = np.ones(len(paths), dtype=bool)
    bad = []
    for i, path in enumerate(paths):
        try:
            with image_cls.open(path) as image:
                image.verify()
        except Exception as error:  # noqa: BLE001 - any decoding error means a corrupt file
            ok[i] = False
            bad.append(f"{path} ({type(error).__name__}: {error})")
    if bad:
        listing = "; ".join(bad[:10]) + (f"; and {len(bad) - 10} more" if len(bad) > 10 else "")
        if on_error == "raise":
            raise ValueError(f"{argument}: {len(bad)} image file(s) cannot be read: {listing}. "
                             f"Remove them or pass on_error='skip'.")
        warnings.warn(f"Skipping {len(bad)} unreadable image file(s): {listing}", stacklevel=3)
    if not ok.any():
        raise ValueError(f"{argument}: none of the {len(paths)} image files can be read.")
    return ok


def infer_image_format(paths: list[str], image_size=None, max_side: int = MAX_SIDE) -> tuple[tuple, int]:
    """``((height, width), channels)`` for files: ``image_size`` or the most common size; RGB if any is colour.

    Example:
        >>> infer_image_format([], image_size=(8, 8))
        Traceback (most recent call last):
        ...
        ValueError: x: no image files to infer the format from.
    """
    if not len(paths):
        raise ValueError("x: no image files to infer the format from.")
    sizes, channels = collections.Counter(), 1
    for path in paths:
        height, width, mode = image_header(path)
        sizes[(height, width)] += 1
        if mode not in GRAY_MODES:
            channels = 3
    if image_size is None:
        height, width = sizes.most_common(1)[0][0]
        factor = min(1.0, max_side / max(height, width))
        image_size = (max(1, round(height * factor)), max(1, round(width * factor)))
    return check_image_size(image_size), channels


def check_image_size(image_size) -> tuple[int, int]:
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    if not (isinstance(image_size, (list, tuple)) and len(image_size) == 2
            and all(isinstance(v, (int, np.integer)) and v > 0 for v in image_size)):
        raise ValueError(f"image_size must be (height, width) of positive ints or one int; received {image_size!r}.")
    return int(image_size[0]), int(image_size[1])


def read_image(path, size: tuple[int, int], channels: int) -> np.ndarray:
    """Decode one file to ``uint8 (height, width, channels)``, converted and resized (bilinear)."""
    image_cls = _pil()
    with image_cls.open(path) as image:
        image = image.convert("L" if channels == 1 else "RGB")
        if image.size != (size[1], size[0]):
            image = image.resize((size[1], size[0]), image_cls.BILINEAR)
        array = np.asarray(image, dtype=np.uint8)
    return array[..., None] if channels == 1 else array


class ImageFiles(LazyRows):
    """Image files as rows ``(height, width, channels)``, decoded and resized only when read.

    ``dtype`` is ``uint8`` (pixel values as stored) or ``float32`` (values times ``factor``).
    A file that fails to decode is an error with ``on_error="raise"``; with ``"skip"`` it is
    reported by name and read as a black image (a row cannot vanish from a batch).

    Example:
        >>> files = ImageFiles([], size=(8, 8), channels=1)
        >>> files.shape
        (0, 8, 8, 1)
    """

    def __init__(self, paths, size: tuple[int, int], channels: int, on_error: str = "skip",
                 dtype: str = "uint8", factor: float = 1.0):
        self.paths = [str(p) for p in paths]
        self.size, self.channels, self.on_error = tuple(size), int(channels), check_on_error(on_error)
        self.row_shape = (*self.size, self.channels)
        self.dtype = np.dtype(dtype)
        self.factor = factor

    def __len__(self) -> int:
        return len(self.paths)

    def read(self, index: np.ndarray) -> np.ndarray:
        out = np.zeros((len(index), *self.row_shape), dtype=np.uint8)
        for row, i in enumerate(np.asarray(index, dtype="int64")):
            try:
                out[row] = read_image(self.paths[i], self.size, self.channels)
            except Exception as error:  # noqa: BLE001
                if self.on_error == "raise":
                    raise ValueError(f"The image file {self.paths[i]} cannot be read: {error}") from error
                warnings.warn(f"The image file {self.paths[i]} cannot be read ({error}); using a black image.",
                              stacklevel=2)
        if self.dtype == np.uint8:
            return out
        return out.astype(self.dtype) * np.asarray(self.factor, dtype=self.dtype)


def as_image_array(x, argument: str = "x") -> np.ndarray:
    """Check an image array and return it as ``(n, height, width, channels)``; uint8 stays uint8.

    Example:
        >>> as_image_array(np.zeros((2, 8, 8), "uint8")).shape
        (2, 8, 8, 1)
    """
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{argument} must be an array of images; received {type(x).__name__} ({error}).") from None
    if x.dtype == bool:
        x = x.astype("uint8")
    if x.dtype.kind not in "uif":
        raise TypeError(f"{argument} must hold numbers (uint8 or float pixels), or be a folder / list of image "
                        f"paths; received an array of dtype {x.dtype}.")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"{argument} must be images of shape (n, height, width) or (n, height, width, channels); "
                         f"received an array of shape {x.shape}.")
    if len(x) == 0:
        raise ValueError(f"{argument} holds no images (shape {x.shape}).")
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise ValueError(f"{argument} contains {int((~np.isfinite(x)).sum())} NaN or infinite pixel values.")
    if x.dtype != np.uint8 and x.dtype != np.float32:
        x = x.astype("float32")
    return x
