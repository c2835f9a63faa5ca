"""The project directory: ``<directory>/<project_name>/`` with the study, trials and the export."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import numpy as np

from autodeep.storage.files import atomic_write_bytes, atomic_write_json, read_json


class Project:
    """Where one search keeps everything it must not lose.

    Layout::

        <directory>/<project_name>/
            study.db              Optuna study (SQLite) unless a storage URL is given
            trials/trial_0007/    config.json, metrics.json, history.json (loss and metrics per epoch),
                                  model.weights.h5, val_pred_<head>.npy; 0007 is Optuna's trial number
            report/               what the report needs beyond the trials (autodeep.report.record)
            out_of_fold.npz       the bagged folds' out-of-fold predictions of a binary head whose decision
                                  threshold is tuned (autodeep.fit.out_of_fold), when the final stage bagged
            best_model/           the exported artifact (manifest.json + model files)

    Example:
        >>> import tempfile
        >>> project = Project(tempfile.mkdtemp(), "demo", overwrite=True)
        >>> project.trial_dir(3).name
        'trial_0003'
    """

    def __init__(self, directory: str | os.PathLike | None, project_name: str, overwrite: bool = False):
        self.root = Path(directory if directory is not None else "autodeep_runs")
        self.path = self.root / project_name
        if overwrite and self.path.exists():
            shutil.rmtree(self.path)
        (self.path / "trials").mkdir(parents=True, exist_ok=True)

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Project":
        """An existing project folder, read as it is (nothing is created); a missing one raises
        ``FileNotFoundError`` naming it.

        Example:
            >>> import tempfile
            >>> Project.open(Project(tempfile.mkdtemp(), "demo").path).path.name
            'demo'
        """
        path = Path(path)
        if not (path / "trials").is_dir() and not (path / "study.db").is_file():
            raise FileNotFoundError(f"{path} is not an autodeep project folder: it has neither study.db nor "
                                    f"trials/ (give the folder <directory>/<project_name> of a search).")
        project = cls.__new__(cls)
        project.root, project.path = path.parent, path
        return project

    def __getstate__(self) -> dict:
        """Pickled for worker processes: absolute paths, so a worker started elsewhere finds the folder."""
        return {**self.__dict__, "root": self.root.absolute(), "path": self.path.absolute()}

    @property
    def study_url(self) -> str:
        return f"sqlite:///{(self.path / 'study.db').resolve()}"

    @property
    def artifact_dir(self) -> Path:
        return self.path / "best_model"

    def trial_dir(self, number: int) -> Path:
        return self.path / "trials" / f"trial_{number:04d}"

    def weights_file(self, number: int) -> Path:
        """Where trial ``number`` saves its weights (``save_trial``)."""
        return self.trial_dir(number) / "model.weights.h5"

    def save_trial(self, number: int, config: dict, metrics: dict, model=None,
                   val_predictions: list[np.ndarray] | None = None, history: dict | None = None) -> Path:
        """Persist a finished trial: weights and predictions first, metrics last (metrics mark completion).

        ``history`` is Keras' ``History.history`` (loss and metrics per epoch), kept as ``history.json``."""
        folder = self.trial_dir(number)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(folder / "config.json", config)
        if history is not None:
            atomic_write_json(folder / "history.json", history)
        if model is not None:
            tmp = folder / ".model.weights.h5.tmp.weights.h5"
            model.save_weights(tmp)
            os.replace(tmp, self.weights_file(number))
        if val_predictions is not None:
            for i, pred in enumerate(val_predictions):
                buffer = _npy_bytes(np.asarray(pred, dtype="float32"))
                atomic_write_bytes(folder / f"val_pred_{i}.npy", buffer)
        atomic_write_json(folder / "metrics.json", metrics)
        return folder

    def load_trial_metrics(self, number: int) -> dict | None:
        """The validation metrics a trial saved (``metrics.json``), or None when it saved none."""
        path = self.trial_dir(number) / "metrics.json"
        return read_json(path) if path.exists() else None

    def load_trial_history(self, number: int) -> dict[str, list[float]]:
        """Loss and metrics per epoch of a trial (empty when the trial saved none)."""
        path = self.trial_dir(number) / "history.json"
        return read_json(path) if path.exists() else {}

    def load_val_predictions(self, number: int) -> list[np.ndarray]:
        folder = self.trial_dir(number)
        return [np.load(p) for p in sorted(folder.glob("val_pred_*.npy"))]

    def save_out_of_fold(self, arrays: dict[str, np.ndarray] | None) -> None:
        """Keep the final stage's out-of-fold predictions as ``out_of_fold.npz``; None removes an earlier fit's."""
        path = self.path / "out_of_fold.npz"
        if arrays is None:
            path.unlink(missing_ok=True)
            return
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        atomic_write_bytes(path, buffer.getvalue())


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()
