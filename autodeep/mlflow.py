"""MLflow: log a fitted autodeep model as an MLflow ``pyfunc`` model (``pip install 'autodeep[mlflow]'``).

The artifact folder (manifest, preprocessing state, ``model.keras``) is logged as it is; loading it runs
``ak.load_model``, so ``mlflow.pyfunc.load_model(uri).predict(raw_df)`` and ``mlflow models serve`` take the
same raw tables, images or texts as ``predict`` and answer with the same predictions (class labels, or values).
"""

from __future__ import annotations

try:
    import mlflow
except ImportError:
    raise ImportError("autodeep.mlflow needs MLflow: pip install 'autodeep[mlflow]'.") from None

ARTIFACT_KEY = "autodeep_model"


class AutodeepPyfunc(mlflow.pyfunc.PythonModel):
    """An autodeep artifact behind MLflow's ``pyfunc`` interface: ``predict`` is the model's ``predict``.

    Example:
        >>> AutodeepPyfunc().predict(None, [[1.0]])  # doctest: +SKIP
    """

    def load_context(self, context):
        import autodeep as ak

        self.model = ak.load_model(context.artifacts[ARTIFACT_KEY])

    def predict(self, context, model_input, params=None):
        return self.model.predict(model_input)


def log_model(model, name: str = "model", input_example=None, **kwargs):
    """Log ``model`` (a fitted autodeep task or ``ak.load_model``'s result) to the active MLflow run (one is
    started if none is) as a ``pyfunc`` model named ``name``; returns MLflow's ``ModelInfo``
    (``.model_uri`` loads it). ``input_example`` (a few raw rows) lets MLflow record the input signature;
    other keyword arguments go to ``mlflow.pyfunc.log_model`` (e.g. ``registered_model_name``).

    Example:
        >>> import autodeep as ak, autodeep.mlflow, mlflow
        >>> info = autodeep.mlflow.log_model(clf, "model")                     # doctest: +SKIP
        >>> mlflow.pyfunc.load_model(info.model_uri).predict(raw_df)          # doctest: +SKIP
    """
    from autodeep.fit.artifact import Predictor

    predictor = getattr(model, "predictor_", model)
    if not isinstance(predictor, Predictor):
        raise TypeError(f"model must be a fitted autodeep task (after fit) or the result of ak.load_model; "
                        f"received {type(model).__name__}.")
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string (the model's name in the run); received {name!r}.")
    kwargs.setdefault("pip_requirements", _requirements())
    return mlflow.pyfunc.log_model(name=name, python_model=AutodeepPyfunc(),
                                   artifacts={ARTIFACT_KEY: str(predictor.path)}, input_example=input_example,
                                   **kwargs)


def _requirements() -> list[str]:
    """What the serving environment needs: autodeep and the Keras backend it runs, pinned to this process's."""
    from importlib import metadata

    import keras

    names = ["autodeep", "keras", {"torch": "torch", "jax": "jax", "tensorflow": "tensorflow"}.get(
        keras.backend.backend(), "jax")]
    found = []
    for name in names:
        try:
            found.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(name)
    return found
