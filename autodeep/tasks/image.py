"""Task classes for images: ``ImageClassifier`` and ``ImageRegressor``, from arrays or folders.

The image modality (preprocessor, default block, first configurations) is declared in
``autodeep.modalities``.
"""

from __future__ import annotations

import os

from autodeep.blocks import ClassificationHead, RegressionHead
from autodeep.data.images import as_image_array, check_image_files, check_on_error, image_folder_labels, \
    is_path_input, list_image_files
from autodeep.graph.image_input import ImageInput
from autodeep.modalities import initial_configs
from autodeep.tasks.auto_model import AutoModel

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
        return initial_configs(graph.inputs[0], specs)

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
        tuner: As in ``AutoModel`` (``"greedy"`` when ``None``). ``"morph"`` beat greedy on CIFAR-10 at 600 s on
            every seed but trails it slightly on MNIST (see the README's benchmarks).
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
