"""Neighbour blending of the final model: choose each head's blend on the validation rows
(``autodeep.ensemble.neighbours``) and wrap the model in ``NeighbourBlend`` layers that carry all rows."""

from __future__ import annotations

import numpy as np

from autodeep.data.rows import is_lazy
from autodeep.ensemble import neighbours
from autodeep.fit.members import member_predictions
from autodeep.fit.prepare import PreparedData
from autodeep.graph import Graph, HyperParameters


def blend_keys(retrieval, graph: Graph, data: PreparedData) -> list[tuple[str, str]]:
    """The inputs neighbour blending measures distances on; empty when it is not to be tried (``retrieval``
    is ``AutoModel``'s setting: ``"auto"`` tries in-memory data of at most ``neighbours.MAX_ROWS`` rows)."""
    n_rows = data.n_tr + data.n_va
    if retrieval is False or is_lazy(data.arrays_tr) or (retrieval == "auto" and n_rows > neighbours.MAX_ROWS):
        return []
    return neighbours.retrieval_keys(graph, data.specs)


def choose_blends(keys: list, graph: Graph, data: PreparedData, members: list[tuple], project,
                  seed: int = 0) -> tuple[list, list[dict]]:
    """``(keys, choices)``: the inputs (``blend_keys``) and each head's blend (``used`` False when none helps
    enough; chosen with the validation rows' weights);
    ``([], [])`` when blending is not tried (no ``keys``) or a member's validation predictions are missing."""
    predictions = member_predictions(graph, members, project) if keys else None
    if predictions is None:
        return [], []
    return keys, neighbours.choose_blends(graph, keys, predictions, data.arrays_tr, data.targets_tr,
                                          data.arrays_va, data.targets_va, seed=seed, weights_va=data.weights_va)


def attach_blends(graph: Graph, specs: dict, model, keys, choices: list[dict], x_all: dict, y_all):
    """``model`` wrapped so that each head with a used blend passes through a ``NeighbourBlend`` that holds
    ``x_all``'s rows and targets; other heads pass through unchanged. The result is compiled like the model."""
    import keras

    from autodeep.blocks.layers import NeighbourBlend

    inputs = graph.keras_inputs(specs)
    outputs = model(inputs)
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    final = []
    for head, output, choice, y in zip(graph.heads, outputs, choices, neighbours.per_head(graph, y_all)):
        if not choice["used"]:
            final.append(keras.layers.Identity(name=head.name)(output))
            continue
        targets = neighbours.reference_targets(head, y)
        references = [np.asarray(x_all[k], dtype="float32").reshape(len(targets), -1) for k, _ in keys]
        layer = NeighbourBlend(choice["tau"], choice["prior"], [kind for _, kind in keys],
                               reference_rows=len(targets), columns=[r.shape[1] for r in references],
                               outputs=targets.shape[1], name=head.name)
        final.append(layer([output] + [inputs[k] for k, _ in keys]))
        layer.set_weights(references + [targets])
    wrapped = keras.Model(inputs=inputs, outputs=final if len(final) > 1 else final[0])
    graph.compile(wrapped, HyperParameters())
    return wrapped
