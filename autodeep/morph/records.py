"""``replay``: rebuild a child from its parent and the records of the morphs that made it."""

from __future__ import annotations

from autodeep.morph.description import MorphError
from autodeep.morph.operations import add_skip, deepen
from autodeep.morph.widen import widen


def _position(model, named: dict, where: str) -> int:
    """The recorded layer position, checked against the model's layer class there."""
    position = named.get("at") if isinstance(named, dict) else None
    if not isinstance(position, int) or not 0 <= position < len(model.layers):
        raise MorphError(f"record {where}: expected {{'at': <layer position>, ...}} within the model's "
                         f"{len(model.layers)} layers; received {named!r}.")
    found = type(model.layers[position]).__name__
    if found != named.get("class"):
        raise MorphError(f"record {where}: layer {position} of this model is a {found}, the record says "
                         f"{named.get('class')} ({named.get('layer')}): the record was made on another architecture.")
    return position


def apply(model, record: dict):
    """Apply one morph ``record`` (as ``deepen``/``widen``/``add_skip`` return it) to ``model``.

    Returns ``(child, record)`` like the operation itself.
    """
    op = record.get("op") if isinstance(record, dict) else None
    if op == "deepen":
        return deepen(model, _position(model, record["after"], "after"), kernel_size=record["kernel_size"],
                      batchnorm=record["batchnorm"], dropout=record["dropout"])
    if op == "widen":
        return widen(model, _position(model, record["layer"], "layer"), units=record["units"][1],
                     sources=record["sources"], seed=record["seed"])
    if op == "skip":
        return add_skip(model, _position(model, record["source"], "source"),
                        _position(model, record["target"], "target"))
    raise MorphError(f"record must be a dict with op 'deepen', 'widen' or 'skip'; received {record!r}.")


def replay(model, records: list[dict]):
    """The child that ``records`` (applied in order) make of ``model``, e.g. a parent rebuilt from its weights file.

    Example:
        >>> import json, keras, numpy as np
        >>> inputs = keras.Input((3,)); hidden = keras.layers.Dense(4, activation="relu")(inputs)
        >>> parent = keras.Model(inputs, keras.layers.Dense(1)(hidden))
        >>> child, record = deepen(parent, after=1)
        >>> again = replay(parent, json.loads(json.dumps([record])))
        >>> x = np.ones((2, 3), "float32")
        >>> bool(np.allclose(child.predict(x, verbose=0), again.predict(x, verbose=0)))
        True
    """
    if not isinstance(records, (list, tuple)):
        raise MorphError(f"records must be a list of morph records; received {type(records).__name__}.")
    for record in records:
        model, _ = apply(model, record)
    return model
