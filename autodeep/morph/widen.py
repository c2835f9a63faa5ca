"""``widen``: Net2WiderNet on a Dense or convolution layer of a built, trained functional model."""

from __future__ import annotations

import math

import numpy as np

from autodeep.morph.description import Description, MorphError
from autodeep.morph.layers import ELEMENTWISE_ACTIVATIONS, UNIT_LAYERS, activation_of, channelwise
from autodeep.morph.operations import describe, resolve


def split_shares(index: np.ndarray, seed: int) -> np.ndarray:
    """For each unit of the widened layer, its share of the original unit it copies (shares of a unit sum to 1).

    Net2WiderNet (Chen, Goodfellow, Shlens, ICLR 2016) divides the outgoing weights of a unit and
    its copies equally and adds noise to break their symmetry, which makes the child's function
    only approximately equal. Here the division is unequal instead (random shares in proportion to
    ``U(0.5, 1.5)`` draws): still exact, and the copies receive different gradients from the start.

    Example:
        >>> shares = split_shares(np.array([0, 1, 0]), seed=0)
        >>> round(float(shares[0] + shares[2]), 6), float(shares[1])
        (1.0, 1.0)
    """
    draws = np.random.default_rng(seed).uniform(0.5, 1.5, size=len(index))
    totals = np.bincount(index, weights=draws)
    return (draws / totals[index]).astype("float32")


def _incoming(weights: list, index: np.ndarray) -> list:
    """The widened layer's kernel and bias: output unit ``j`` copies unit ``index[j]``."""
    return [weights[0][..., index], *[w[index] for w in weights[1:]]]


def _outgoing(weights: list, index: np.ndarray, shares: np.ndarray, positions: int) -> list:
    """A reading layer's kernel: input channel ``j`` gets the rows of ``index[j]`` times ``shares[j]``.

    ``positions`` > 1 when a Flatten came between: the kernel's rows are ``position * channels + c``.
    """
    kernel = weights[0]
    if positions > 1:
        kernel = kernel.reshape(positions, -1, kernel.shape[-1])
    widened = kernel[..., index, :] * shares[:, None]
    if positions > 1:
        widened = widened.reshape(-1, kernel.shape[-1])
    return [widened.astype(weights[0].dtype), *weights[1:]]


def _check_norm(description: Description, name: str) -> None:
    axis = description.layer_config(name).get("axis", -1)
    rank = len(description.output_shape(name))
    if axis not in (-1, rank - 1, [-1], [rank - 1]):
        raise MorphError(f"widen reaches {name!r}, a BatchNormalization over axis {axis}, not the channels.")


def _widen_branch(description: Description, add: str, widened: str, index: np.ndarray) -> bool:
    """Widen the other input of ``add`` like ``widened`` when it is a Dense/convolution read by nothing else (the
    projection of a skip ``add_skip`` made): its output units are copied by the same ``index``."""
    inputs = description.inputs_of(add)
    other = inputs[1 - inputs.index(widened)] if len(inputs) == 2 and widened in inputs else None
    kind = description.class_name(other) if other else None
    if kind not in UNIT_LAYERS or description.consumers(other) != [add] or other in description.overrides:
        return False
    description.overrides[other] = _incoming(description.weights[other], index)
    description.layer_config(other)[UNIT_LAYERS[kind]] = len(index)
    return True


def _propagate(description: Description, start: str, index: np.ndarray, shares: np.ndarray) -> list[str]:
    """Carry the widening from ``start``'s output to the layers that read it; returns the layers touched.

    Channel-wise layers and batch normalisation pass it on (BN's four vectors copied like the units),
    Flatten multiplies the positions, an Add passes it on when its other input is a skip's projection
    (widened alike); a Dense or convolution reading it takes the divided weights.
    """
    touched, frontier = [], [(start, 1)]
    while frontier:
        current, positions = frontier.pop()
        if description.is_output(current):
            raise MorphError(f"widening {start!r} would change the model's output {current!r}.")
        for reader in description.consumers(current):
            kind = description.class_name(reader)
            touched.append(reader)
            if kind in UNIT_LAYERS:
                description.overrides[reader] = _outgoing(description.weights[reader], index, shares, positions)
            elif kind == "BatchNormalization":
                _check_norm(description, reader)
                description.overrides[reader] = [w[index] for w in description.weights[reader]]
                frontier.append((reader, positions))
            elif kind == "Flatten":
                frontier.append((reader, positions * math.prod(description.output_shape(current)[1:-1])))
            elif channelwise(description, reader):
                frontier.append((reader, positions))
            elif kind == "Add" and _widen_branch(description, reader, current, index):
                touched.append(description.inputs_of(reader)[1 - description.inputs_of(reader).index(current)])
                frontier.append((reader, positions))
            else:
                raise MorphError(f"widening {start!r} reaches {reader!r} ({kind}), which widen does not handle: "
                                 f"it handles batch normalisation, channel-wise layers, Flatten, and Dense or "
                                 f"convolution layers reading the widened units.")
    return touched


def widen(model, layer, units: int, sources=None, seed: int = 0):
    """Net2WiderNet: give ``layer`` (a Dense, Conv1D or Conv2D) ``units`` units, copying existing ones.

    New unit ``n + k`` copies the incoming weights and bias of unit ``sources[k]`` (random when
    ``None``, as in Net2WiderNet); batch normalisation between the layer and its readers gets the
    same copies of its scale, offset and moving statistics; the layers that read the units
    (through activations, pooling, dropout or a Flatten) divide each original unit's outgoing
    weights among it and its copies (``split_shares``), so the function is unchanged.

    Returns ``(child, record)``.

    Example:
        >>> import keras, numpy as np
        >>> inputs = keras.Input((3,)); hidden = keras.layers.Dense(4, activation="relu")(inputs)
        >>> model = keras.Model(inputs, keras.layers.Dense(2)(hidden))
        >>> child, record = widen(model, 1, units=6)
        >>> x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
        >>> same = np.allclose(model.predict(x, verbose=0), child.predict(x, verbose=0), atol=1e-6)
        >>> child.layers[1].units, len(record["sources"]), bool(same)
        (6, 2, True)
    """
    description = Description(model)
    position, name = resolve(model, layer, "layer")
    kind = description.class_name(name)
    if kind not in UNIT_LAYERS:
        raise MorphError(f"layer={name!r} is a {kind}; widen takes a {', '.join(UNIT_LAYERS)} layer.")
    if activation_of(description, name) not in ELEMENTWISE_ACTIVATIONS:
        raise MorphError(f"layer={name!r} has activation {activation_of(description, name)!r}, which mixes units.")
    config = description.layer_config(name)
    current = int(config[UNIT_LAYERS[kind]])
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= current:
        raise MorphError(f"units must be an integer above {name!r}'s current {current}; received {units!r}.")
    if sources is None:
        sources = np.random.default_rng(seed).integers(0, current, size=int(units) - current)
    sources = np.asarray(sources, dtype=int)
    if sources.shape != (int(units) - current,) or sources.min() < 0 or sources.max() >= current:
        raise MorphError(f"sources must list {int(units) - current} unit indices in 0..{current - 1}; "
                         f"received {sources.tolist()}.")
    index = np.concatenate([np.arange(current), sources])
    shares = split_shares(index, seed)
    description.overrides[name] = _incoming(description.weights[name], index)
    config[UNIT_LAYERS[kind]] = int(units)
    for touched in [name, *_propagate(description, name, index, shares)]:
        description.forget_build(touched)
    record = {"op": "widen", "layer": describe(description, position, name), "units": [current, int(units)],
              "sources": sources.tolist(), "seed": int(seed)}
    return description.build(), record
