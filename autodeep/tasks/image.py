"""Task classes for images: ``ImageClassifier`` and ``ImageRegressor``, from arrays or folders.

Importing this module registers the image input kind: its preprocessor (for
artifacts) and its default block (``ImageBlock``).
"""

from __future__ import annotations

import os

import numpy as np

from autodeep.blocks import ClassificationHead, RegressionHead
from autodeep.blocks.image import ImageBlock
from autodeep.data.image_preprocessor import ImagePreprocessor
from autodeep.data.images import as_image_array, check_image_files, check_on_error, image_folder_labels, \
    is_path_input, list_image_files
from autodeep.graph.image_input import ImageInput
from autodeep.tasks.auto_model import DEFAULT_BLOCKS, AutoModel
from autodeep.tasks.preprocessing import KIND_FACTORIES, register_preprocessor

register_preprocessor(ImagePreprocessor)
KIND_FACTORIES["image"] = lambda node: ImagePreprocessor(image_size=getattr(node, "image_size", None),
                                                         on_error=getattr(node, "on_error", "skip"))
DEFAULT_BLOCKS["image"] = ImageBlock

BLOCK = "image_block_1"
CONV = f"{BLOCK}/conv_block"
AUG = f"{BLOCK}/image_augmentation"

#: Known-good configurations, tried first in this order: small CNNs (fast on a CPU), then keras.applications nets.
#: 3x3 conv stages of one conv + batchnorm (32-64-128... filters, as many stages as the size allows), max-pool,
#: light dropout, then global average pooling (flatten for small maps): the best model a few CPU minutes buy.
SMALL = {f"{CONV}/num_layers": 1, f"{CONV}/dropout": 0.1}
SHIFT = {f"{BLOCK}/augment": True, f"{AUG}/translation_factor": 0.1}  # ak.RandomShift: ~10 % more time per epoch
IMAGE_STARTS = [
    SMALL,
    {**SMALL, **SHIFT, f"{AUG}/horizontal_flip": True},
    {f"{CONV}/num_layers": 1, f"{CONV}/filters": 64, f"{CONV}/dropout": 0.25, "classification_head/dropout": 0.25},
    {**SHIFT, f"{AUG}/horizontal_flip": True},  # two convs per stage, dropout .25
    {f"{BLOCK}/block_type": "resnet", f"{BLOCK}/res_net_block/version": "resnet50_v2"},
    {f"{BLOCK}/block_type": "efficient", f"{BLOCK}/efficient_net_block/version": "b0"},
    {f"{BLOCK}/block_type": "xception"},
]


def image_starts(channels: int) -> list[dict]:
    """The known-good configurations for images with ``channels`` channels, in the order they are tried.

    Colour images (photos) start with the small CNN trained on shifted and mirrored images: on 8,000 CIFAR-10
    images it reached 0.570 test accuracy after 12 epochs, against 0.547 without augmentation and 0.536 with
    shifts alone (torch backend, 12 fixed epochs, seed 0). Grey images are often
    digits or documents, where a mirror image is another symbol: they start without augmentation and are
    only shifted later.

    Example:
        >>> image_starts(3)[0]["image_block_1/image_augmentation/horizontal_flip"]
        True
        >>> image_starts(1)[0].get("image_block_1/augment", False), image_starts(1)[1]["image_block_1/augment"]
        (False, True)
    """
    configs = [dict(c) for c in IMAGE_STARTS]
    if channels == 3:
        configs[0], configs[1] = configs[1], configs[0]
        return configs
    return [{k: (False if k == f"{AUG}/horizontal_flip" else v) for k, v in c.items()} for c in configs]

DEFAULT_BATCH_SIZE = 64


class _CheckedPaths(list):
    """Image paths already listed and verified (so a second adaptation does not read them again)."""


class _ImageTask(AutoModel):
    def __init__(self, head, image_size=None, on_error: str = "skip", epochs=None, **kwargs):
        self.image_size = image_size
        self.on_error = check_on_error(on_error)
        self.epochs = epochs
        node = ImageInput(name="image_input", image_size=image_size, on_error=on_error)
        super().__init__(inputs=node, outputs=head, **kwargs)

    def _initial_configs(self, graph, specs):
        shape, _ = specs["image_input"]["features"]["images"]
        return image_starts(int(shape[-1]))

    def _adapt(self, x, y):
        if not is_path_input(x) or isinstance(x, _CheckedPaths):
            return x, y
        if isinstance(x, (str, os.PathLike)) and y is None:
            if self._head_task() != "classification":
                raise ValueError(f"{type(self).__name__}: a folder gives class labels only; pass y= with one "
                                 f"target per image (in the sorted order of the folder's image files).")
            paths, y = image_folder_labels(x, argument="x")
        else:
            paths = list_image_files(x, argument="x") if isinstance(x, (str, os.PathLike)) else [str(p) for p in x]
            if y is None:
                raise ValueError("y is required when x is a list of image paths; received y=None.")
            if len(y) != len(paths):
                raise ValueError(f"x holds {len(paths)} images but y has {len(y)} targets; they must match.")
        ok = check_image_files(paths, on_error=self.on_error, argument="x")
        if not ok.all():
            paths = [p for p, keep in zip(paths, ok) if keep]
            y = y[ok] if hasattr(y, "shape") or hasattr(y, "iloc") else [t for t, keep in zip(y, ok) if keep]
        return _CheckedPaths(paths), y

    def _head_task(self) -> str:
        return self.outputs.task  # the head this class built

    def fit(self, x=None, y=None, epochs=None, batch_size=None, callbacks=None, validation_split=0.2,
            validation_data=None, **kwargs):
        """Search and train on images.

        Args:
            x: Images ``(n, h, w)`` / ``(n, h, w, c)`` (uint8 or float), a folder with one sub-folder per
                class (streamed from disk, never all in memory), or a list of image paths.
            y: Targets (any label type for classification); omit it for a folder of class sub-folders.
            epochs, batch_size, callbacks, validation_split, validation_data: As in ``AutoModel.fit``
                (batch size 64 when ``None``).
        """
        if x is not None and not is_path_input(x):
            as_image_array(x, argument="x")  # wrong rank or dtype: fail before any work, naming x
        elif x is not None:
            x, y = self._adapt(x, y)  # a folder brings its labels
        return super().fit(x=x, y=y, epochs=epochs if epochs is not None else self.epochs,
                           batch_size=batch_size or DEFAULT_BATCH_SIZE, callbacks=callbacks,
                           validation_split=validation_split, validation_data=validation_data, **kwargs)


class ImageClassifier(_ImageTask):
    """Classify images; AutoKeras' ``ImageClassifier``.

    Args:
        num_classes, multi_label, loss, metrics: As in ``ak.ClassificationHead``.
        image_size: ``(height, width)`` for image files (the most common size when ``None``).
        on_error: Unreadable image files: ``"skip"`` (reported by name, left out) or ``"raise"``.
        epochs: Epochs per trial (early stopping when ``None``).
        **kwargs: ``AutoModel``'s arguments (``max_trials``, ``time_limit``, ``directory``, ...).

    Example:
        >>> import numpy as np, tempfile, autodeep as ak
        >>> x = np.random.randint(0, 255, (40, 8, 8), dtype="uint8"); y = np.repeat(["a", "b"], 20)
        >>> clf = ak.ImageClassifier(max_trials=1, epochs=1, directory=tempfile.mkdtemp(), verbose=0, seed=0)
        >>> _ = clf.fit(x, y)
        >>> clf.predict_proba(x[:3]).shape
        (3, 2)
    """

    _default_project = "image_classifier"

    def __init__(self, num_classes=None, multi_label=False, loss=None, metrics=None, project_name="image_classifier",
                 max_trials=100, directory=None, objective="val_loss", tuner=None, overwrite=False, seed=None,
                 max_model_size=None, image_size=None, on_error="skip", epochs=None, **kwargs):
        head = ClassificationHead(num_classes=num_classes, multi_label=multi_label, loss=loss, metrics=metrics,
                                  name="classification_head")
        super().__init__(head, image_size=image_size, on_error=on_error, epochs=epochs, project_name=project_name,
                         max_trials=max_trials, directory=directory, objective=objective, tuner=tuner,
                         overwrite=overwrite, seed=seed, max_model_size=max_model_size, **kwargs)
        self.num_classes, self.multi_label, self.loss, self.metrics = num_classes, multi_label, loss, metrics


class ImageRegressor(_ImageTask):
    """Predict real values from images; AutoKeras' ``ImageRegressor``.

    Args:
        output_dim, loss, metrics: As in ``ak.RegressionHead``.
        image_size, on_error, epochs: As in ``ImageClassifier``.
        **kwargs: ``AutoModel``'s arguments.

    Example:
        >>> import numpy as np, tempfile, autodeep as ak
        >>> x = np.random.rand(40, 8, 8).astype("float32"); y = x.mean(axis=(1, 2))
        >>> reg = ak.ImageRegressor(max_trials=1, epochs=1, directory=tempfile.mkdtemp(), verbose=0, seed=0)
        >>> reg.fit(x, y).predict(x[:2]).shape
        (2,)
    """

    _default_project = "image_regressor"

    def __init__(self, output_dim=None, loss="mean_squared_error", metrics=None, project_name="image_regressor",
                 max_trials=100, directory=None, objective="val_loss", tuner=None, overwrite=False, seed=None,
                 max_model_size=None, image_size=None, on_error="skip", epochs=None, **kwargs):
        head = RegressionHead(output_dim=output_dim, loss=loss, metrics=metrics, name="regression_head")
        super().__init__(head, image_size=image_size, on_error=on_error, epochs=epochs, project_name=project_name,
                         max_trials=max_trials, directory=directory, objective=objective, tuner=tuner,
                         overwrite=overwrite, seed=seed, max_model_size=max_model_size, **kwargs)
        self.output_dim, self.loss, self.metrics = output_dim, loss, metrics  # get_params (scikit-learn)
