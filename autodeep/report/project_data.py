"""Read a project folder as the report sees it: the study, the trials' files, the records and the export."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from autodeep.storage import Project, read_json


@dataclasses.dataclass
class SearchRecord:
    """Everything a project folder holds about one search.

    ``trials`` are Optuna's frozen trials (all states), ``manifest`` the exported artifact's manifest
    (None when nothing was exported: an interrupted or failed search), ``data`` and ``timing`` the
    records of ``autodeep.report.record`` (None when absent).
    """

    project: Project
    study_name: str
    direction: str
    trials: list
    manifest: dict | None
    data: dict | None
    timing: dict | None

    @property
    def path(self) -> Path:
        return self.project.path

    @property
    def objective(self) -> str:
        """The optimised metric's name (``"score"`` when no record names it)."""
        for source in (self.data, (self.manifest or {}).get("info")):
            if source and source.get("objective"):
                return source["objective"]
        return "score"

    @property
    def completed(self) -> list:
        return [t for t in self.trials if t.state.name == "COMPLETE" and t.value is not None]

    def best_trial(self):
        """The best completed trial, or None."""
        if not self.completed:
            return None
        pick = min if self.direction == "minimize" else max
        return pick(self.completed, key=lambda t: t.value)

    def members(self) -> dict[int, float]:
        """Trial number -> weight in the exported model (empty when nothing was exported)."""
        final = ((self.manifest or {}).get("info") or {}).get("final") or {}
        members, weights = final.get("members") or [], final.get("weights") or []
        total = sum(weights) or 1.0
        return {int(m): float(w) / total for m, w in zip(members, weights)}

    def heads(self) -> list[dict]:
        """Per head: name, task, target_format, codec config (and class balance), from the records or the
        manifest."""
        if self.data:
            return self.data["heads"]
        return list((self.manifest or {}).get("outputs") or [])

    def validation_targets(self, k: int) -> np.ndarray | None:
        """Head ``k``'s encoded validation targets, or None when they were not recorded."""
        path = self.path / "report" / f"validation_y_{k}.npy"
        return np.load(path, allow_pickle=False) if path.is_file() else None

    def validation_predictions(self) -> tuple[list[np.ndarray], str] | None:
        """Per head, the validation predictions of the exported ensemble before its refit (the members'
        saved predictions averaged with their weights), or of the best trial when nothing was exported;
        with words saying which. None when no trial saved predictions."""
        members = self.members()
        how = "the exported members' validation predictions, averaged with their weights"
        if not members:
            best = self.best_trial()
            if best is None:
                return None
            members, how = {best.number: 1.0}, f"the best trial's (trial {best.number}) validation predictions"
        outputs = None
        for number, weight in members.items():
            predictions = self.project.load_val_predictions(number)
            if not predictions:
                return None
            scaled = [np.asarray(p, dtype="float64") * weight for p in predictions]
            outputs = scaled if outputs is None else [a + b for a, b in zip(outputs, scaled)]
        return outputs, how


def load_search(path) -> SearchRecord:
    """Read the project folder ``path``; a missing folder or an unreadable study raises an error naming it.

    Example:
        >>> load_search("/no/such/project")
        Traceback (most recent call last):
        ...
        FileNotFoundError: /no/such/project is not an autodeep project folder: ...
    """
    project = Project.open(path)
    study = _load_study(project.path / "study.db")
    return SearchRecord(project=project, study_name=study.study_name, direction=study.direction.name.lower(),
                        trials=study.get_trials(deepcopy=False), manifest=_read(project.artifact_dir / "manifest.json"),
                        data=_read(project.path / "report" / "data.json"),
                        timing=_read(project.path / "report" / "timing.json"))


def _read(path: Path) -> dict | None:
    return read_json(path) if path.is_file() else None


def _load_study(db: Path):
    import optuna

    if not db.is_file():
        raise FileNotFoundError(f"{db} does not exist: the project folder has no study (a search run with a "
                                f"storage URL keeps its study there instead).")
    if db.stat().st_size and db.read_bytes()[:16] != b"SQLite format 3\x00":
        raise ValueError(f"{db} is not an SQLite database (corrupt or not written by autodeep).")
    url = f"sqlite:///{db.resolve()}"
    try:
        names = optuna.get_all_study_names(url)
        name = names[0] if len(names) == 1 else db.parent.name
        return optuna.load_study(study_name=name, storage=url)
    except Exception as error:  # sqlalchemy/optuna errors of a damaged or foreign file
        raise ValueError(f"{db} could not be read as an Optuna study ({type(error).__name__}: {error}).") from error
