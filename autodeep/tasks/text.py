"""Task classes for texts: ``TextClassifier`` and ``TextRegressor``, from strings or a folder of ``.txt`` files.

The text modality (preprocessor, default block, first configurations) is declared in
``autodeep.modalities``.
"""

from __future__ import annotations

from autodeep.blocks import ClassificationHead, RegressionHead
from autodeep.data.text import as_texts, is_folder, read_text_folder
from autodeep.graph.text_input import TextInput
from autodeep.modalities import initial_configs
from autodeep.tasks.auto_model import AutoModel

def read_texts(x, y, argument: str = "x"):
    """``(texts, targets)`` from a folder of class sub-folders, or the checked strings of ``x``."""
    if is_folder(x):
        texts, labels = read_text_folder(x, argument=argument)
        if y is not None:
            raise ValueError(f"{argument} is a folder, whose sub-folders name the classes; do not pass y as well "
                             f"(received y of type {type(y).__name__}).")
        return texts, labels
    return as_texts(x, argument=argument), y


class _TextTask(AutoModel):
    def __init__(self, head, epochs=None, **kwargs):
        self.epochs = epochs
        super().__init__(inputs=TextInput(name="text_input"), outputs=head, **kwargs)

    def _initial_configs(self, graph, specs):
        return initial_configs(graph.inputs[0], specs)

    def _adapt(self, x, y):
        if x is None:
            return x, y
        return read_texts(x, y)

    def _adapt_x(self, x):
        return read_text_folder(x)[0] if is_folder(x) else x

    def fit(self, x=None, y=None, epochs=None, batch_size=None, callbacks=None, validation_split=0.2,
            validation_data=None, **kwargs):
        """Search and train on texts.

        Args:
            x: Strings (list, 1-D numpy array, pandas Series), or a folder with one sub-folder of
                ``.txt`` files per class (then leave ``y`` out).
            y: One target per text.
            epochs, batch_size, callbacks, validation_split, validation_data: As in ``AutoModel.fit``.
        """
        if x is not None:
            x, y = self._adapt(x, y)
            if y is None:
                raise ValueError("y is required: pass one target per text (or x as a folder of class sub-folders).")
        return super().fit(x=x, y=y, epochs=epochs if epochs is not None else self.epochs, batch_size=batch_size,
                           callbacks=callbacks, validation_split=validation_split, validation_data=validation_data,
                           **kwargs)


class TextClassifier(_TextTask):
    """Classify texts; AutoKeras' ``TextClassifier``.

    Args:
        num_classes, multi_label, loss, metrics: As in ``ak.ClassificationHead``.
        epochs: Epochs per trial (early stopping when ``None``).
        **kwargs: ``AutoModel``'s arguments (``max_trials``, ``time_limit``, ``directory``, ...).

    Example:
        >>> import tempfile, autodeep as ak
        >>> x = ["great fun film", "loved it", "boring and bad", "awful plot"] * 10
        >>> y = ["pos", "pos", "neg", "neg"] * 10
        >>> clf = ak.TextClassifier(max_trials=1, epochs=2, directory=tempfile.mkdtemp(), verbose=0, seed=0)
        >>> clf.fit(x, y).predict(["what fun"]).shape
        (1,)
    """

    _default_project = "text_classifier"

    def __init__(self, num_classes=None, multi_label=False, loss=None, metrics=None, project_name="text_classifier",
                 max_trials=100, directory=None, objective="val_loss", tuner=None, overwrite=False, seed=None,
                 max_model_size=None, epochs=None, **kwargs):
        head = ClassificationHead(num_classes=num_classes, multi_label=multi_label, loss=loss, metrics=metrics,
                                  name="classification_head")
        super().__init__(head, epochs=epochs, project_name=project_name, max_trials=max_trials, directory=directory,
                         objective=objective, tuner=tuner, overwrite=overwrite, seed=seed,
                         max_model_size=max_model_size, **kwargs)
        self.num_classes, self.multi_label, self.loss, self.metrics = num_classes, multi_label, loss, metrics


class TextRegressor(_TextTask):
    """Predict real values from texts; AutoKeras' ``TextRegressor``.

    Args:
        output_dim, loss, metrics: As in ``ak.RegressionHead``.
        epochs: Epochs per trial (early stopping when ``None``).
        **kwargs: ``AutoModel``'s arguments.

    Example:
        >>> import tempfile, autodeep as ak
        >>> x = ["one", "two two", "three three three"] * 10; y = [1.0, 2.0, 3.0] * 10
        >>> reg = ak.TextRegressor(max_trials=1, epochs=2, directory=tempfile.mkdtemp(), verbose=0, seed=0)
        >>> reg.fit(x, y).predict(["two two"]).shape
        (1,)
    """

    _default_project = "text_regressor"

    def __init__(self, output_dim=None, loss="mean_squared_error", metrics=None, project_name="text_regressor",
                 max_trials=100, directory=None, objective="val_loss", tuner=None, overwrite=False, seed=None,
                 max_model_size=None, epochs=None, **kwargs):
        head = RegressionHead(output_dim=output_dim, loss=loss, metrics=metrics, name="regression_head")
        super().__init__(head, epochs=epochs, project_name=project_name, max_trials=max_trials, directory=directory,
                         objective=objective, tuner=tuner, overwrite=overwrite, seed=seed,
                         max_model_size=max_model_size, **kwargs)
        self.output_dim, self.loss, self.metrics = output_dim, loss, metrics  # get_params (scikit-learn)
