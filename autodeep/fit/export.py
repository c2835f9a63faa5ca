"""Export: write the final model, each input's preprocessor and each head's target codec as one artifact
folder (``autodeep.fit.artifact``), with what the search found in the manifest's ``info``, and load it back
as the ``Predictor`` that serves ``predict``."""

from __future__ import annotations

import time

from autodeep.fit.artifact import Predictor, save_artifact
from autodeep.fit.metrics import objective_name
from autodeep.fit.prepare import PreparedData
from autodeep.graph import Graph
from autodeep.train import free_memory


def export(path, model, graph: Graph, data: PreparedData, info: dict, thresholds: list | None = None,
           threshold_sources: list | None = None) -> Predictor:
    """Save the artifact at ``path`` and return it loaded (predictions come from exactly what was saved).

    ``info`` goes to the manifest as it is (the best trial, its score, the objective, the ``final`` record);
    ``thresholds``: per head, the decision threshold of a binary head (``autodeep.fit.metrics``), or None;
    ``threshold_sources``: per head, where it comes from (``"out_of_fold"``, ``"validation"``, ``"fixed"``), or None.
    """
    thresholds = thresholds or [None] * len(graph.heads)
    threshold_sources = threshold_sources or [None] * len(graph.heads)
    inputs = [{"name": node.name, "kind": node.kind, "preprocessor": p}
              for node, p in zip(graph.inputs, data.preprocessors)]
    outputs = [{"name": h.name, "task": h.task, "codec": c, "target_format": h.target_format,
                "num_classes": getattr(h, "num_classes", None), "threshold": t, "threshold_source": source}
               for h, c, t, source in zip(graph.heads, data.codecs, thresholds, threshold_sources)]
    save_artifact(path, model, inputs, outputs, info)
    free_memory()
    return Predictor.load(path)


def search_info(best, objective: str, final: dict, task: str) -> dict:
    """The manifest's ``info``: the best trial's number, score and parameters, the objective, the ``final``
    record and the task class."""
    return {"best_trial": best.number, "best_score": best.value, "objective": objective,
            "params": best.params, "final": final, "task": task}


def done_line(started: float, best, objective, final: dict, path) -> str:
    """The line ``fit`` prints at the end (``verbose``); ``objective`` a name or an ``ak.Metric``."""
    return (f"[autodeep] done in {time.time() - started:.1f}s: best trial {best.number} {objective_name(objective)}="
            f"{best.value:.5g}; final model: {final['kind']} of {len(final['members'])} trial(s); exported to {path}")
