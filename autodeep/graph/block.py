"""``Block`` and ``Head``: the units a user wires like Keras layers.

Calling a block on nodes records an edge of the graph and returns the output
node; ``build(hp, inputs)`` later turns the block into Keras layers, asking
``hp`` for every choice it leaves open.
"""

from __future__ import annotations

import re
from typing import Any

from autodeep.graph.nodes import Node, unique_name


def snake_case(name: str) -> str:
    """A CamelCase class name in snake_case, as block names are.

    Example:
        >>> snake_case("StructuredDataBlock")
        'structured_data_block'
    """
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Block:
    """The base class of every searchable unit of the graph.

    Subclasses implement ``build(self, hp, inputs)`` returning a Keras tensor;
    arguments left as ``None`` are searched, arguments given are fixed.

    Example:
        >>> import keras, autodeep as ak
        >>> class TwoDense(ak.Block):
        ...     def build(self, hp, inputs):
        ...         units = hp.Int("units", 8, 64, default=16)
        ...         x = keras.layers.Dense(units, activation="relu")(inputs)
        ...         return keras.layers.Dense(units, activation="relu")(x)
        >>> node = TwoDense()(ak.Input())
    """

    def __init__(self, name: str | None = None, **kwargs):
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.inputs: list[Node] = []
        self.outputs: list[Node] = []

    def __call__(self, inputs):
        nodes = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        for node in nodes:
            if not isinstance(node, Node):
                raise TypeError(
                    f"{self.name}: blocks are called on nodes (ak.Input(), ak.ImageInput(), "
                    f"or another block's output); received {type(node).__name__}.")
            node.out_blocks.append(self)
        self.inputs = nodes
        output = Node(name=f"{self.name}_output")
        output.in_blocks.append(self)
        self.outputs = [output]
        return output

    def build(self, hp, inputs) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement build(hp, inputs).")

    def get_config(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class Head(Block):
    """A block that ends the graph: it makes the prediction and names the loss.

    ``configure(target_meta)`` is called by the task layer once the targets have
    been analysed (number of classes, output width) and before ``build``.

    Example:
        >>> import autodeep as ak
        >>> head = ak.RegressionHead(metrics=["mae"])
        >>> head.configure({"output_dim": 1}); head.output_dim
        1
    """

    task = "regression"

    def __init__(self, loss=None, metrics=None, name: str | None = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.loss = loss
        self.metrics = metrics

    def configure(self, target_meta: dict) -> None:
        raise NotImplementedError

    def get_loss(self):
        return self.loss

    def get_metrics(self) -> list:
        return list(self.metrics or [])

    def compiled_loss(self):
        """The loss ``compile`` gets for the model built last (heads over ensemble members wrap theirs)."""
        return self.get_loss()

    def compiled_metrics(self) -> list:
        """The metrics ``compile`` gets for the model built last."""
        return self.keras_metrics()

    def keras_metrics(self) -> list:
        """``get_metrics()`` less those Keras does not compute: an ``ak.Metric`` or a name only autodeep knows
        (``"f1"``, ``"r2"``, ...), computed on each trial's validation predictions instead
        (``autodeep.fit.metrics``)."""
        return [m for m in self.get_metrics() if not _computed_by_autodeep(m)]


def _computed_by_autodeep(metric) -> bool:
    import keras

    if getattr(metric, "on_predictions", False):
        return True
    if not isinstance(metric, str):
        return False
    try:
        keras.metrics.get(metric)
    except ValueError:
        return True
    return False
