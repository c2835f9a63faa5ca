"""The search graph: a DAG of input nodes, blocks and heads that builds Keras models.

A ``Graph`` is wired once by the user (or the task class) and built many
times, once per trial, with different hyperparameters.
"""

from __future__ import annotations

from typing import Any

from autodeep.graph.block import Block, Head
from autodeep.graph.hyperparameters import HyperParameters
from autodeep.graph.nodes import Input, Node


def as_list(value) -> list:
    """``value`` as a list: a list or tuple's items, ``[]`` for ``None``, else ``[value]``.

    Example:
        >>> as_list((1, 2)), as_list(None), as_list("a")
        ([1, 2], [], ['a'])
    """
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


class GraphError(ValueError):
    """A wiring mistake in a user's graph; the message names the blocks involved."""


class Graph:
    """A wired search space: ``inputs`` -> blocks -> ``outputs`` (head output nodes).

    Args:
        inputs: The ``Input`` nodes, in the order data is given to ``fit``.
        outputs: Output nodes of heads, in the order targets are given to ``fit``.

    Example:
        >>> import autodeep as ak
        >>> from autodeep.graph import Graph, HyperParameters
        >>> x = ak.Input(); y = ak.RegressionHead()(ak.DenseBlock()(x))
        >>> graph = Graph(inputs=[x], outputs=[y])
        >>> [type(b).__name__ for b in graph.blocks]
        ['DenseBlock', 'RegressionHead']
    """

    def __init__(self, inputs, outputs):
        self.inputs: list[Input] = as_list(inputs)
        self.outputs: list[Node] = as_list(outputs)
        if not self.inputs:
            raise GraphError("The graph has no inputs: pass inputs=ak.Input() (or a list of input nodes).")
        if not self.outputs:
            raise GraphError("The graph has no outputs: pass outputs=ak.ClassificationHead() or a head's output node.")
        for node in self.inputs:
            if not isinstance(node, Input):
                raise GraphError(f"inputs must be input nodes such as ak.Input(); received {node!r}.")
        self.heads: list[Head] = []
        for node in self.outputs:
            producer = node.in_blocks[0] if isinstance(node, Node) and node.in_blocks else None
            if not isinstance(producer, Head):
                raise GraphError(
                    f"Every output must be the output of a head (ak.ClassificationHead(), ak.RegressionHead()); "
                    f"{node!r} is produced by {producer!r}.")
            self.heads.append(producer)
        self.blocks = self._topological_blocks()
        self._check_reachability()

    def _topological_blocks(self) -> list[Block]:
        order: list[Block] = []
        state: dict[int, str] = {}

        def visit(block: Block):
            mark = state.get(id(block))
            if mark == "done":
                return
            if mark == "visiting":
                raise GraphError(f"The graph has a cycle through {block.name}.")
            state[id(block)] = "visiting"
            for node in block.inputs:
                if node.in_blocks:
                    visit(node.in_blocks[0])
                elif node not in self.inputs:
                    raise GraphError(
                        f"{block.name} consumes {node.name}, which is neither an output of another block nor "
                        f"one of the graph's inputs ({[n.name for n in self.inputs]}). Add it to inputs=.")
            state[id(block)] = "done"
            order.append(block)

        for head in self.heads:
            visit(head)
        return order

    def _check_reachability(self) -> None:
        on_path = {id(b) for b in self.blocks}
        for node in self.inputs:
            if not any(id(b) in on_path for b in node.out_blocks):
                raise GraphError(f"Input {node.name} has no path to any head: wire it into a block that leads to a head.")
        # A block fed from the graph but leading nowhere is almost always a wiring mistake.
        frontier = [b for node in self.inputs for b in node.out_blocks]
        seen: set[int] = set()
        while frontier:
            block = frontier.pop()
            if id(block) in seen:
                continue
            seen.add(id(block))
            if id(block) not in on_path:
                raise GraphError(
                    f"{block.name} has no path to any head: its output is not used by a head. "
                    f"Connect it (for example through ak.Merge()) or remove it.")
            frontier.extend(b for out in block.outputs for b in out.out_blocks)

    def keras_inputs(self, input_specs: dict[str, dict]) -> dict:
        """One ``keras.Input`` per input node and preprocessor key, named ``<node>__<key>``."""
        import keras

        return {f"{node.name}__{key}": keras.Input(shape=tuple(shape), dtype=dtype, name=f"{node.name}__{key}")
                for node in self.inputs
                for key, (shape, dtype) in input_specs[node.name]["features"].items()}

    def build(self, hp: HyperParameters, input_specs: dict[str, dict], compile: bool = True):
        """Build one Keras model for the values ``hp`` hands out.

        Args:
            hp: The hyperparameter facade of this trial.
            input_specs: Per input node name: ``{"features": {key: (shape, dtype)}, "meta": {...}}``
                as produced by the fitted preprocessors.
            compile: Also compile with the heads' losses and a searched optimizer.
        """
        import keras

        keras_inputs = self.keras_inputs(input_specs)
        values: dict[int, Any] = {}
        for node in self.inputs:
            spec = input_specs[node.name]
            tensors = {key: keras_inputs[f"{node.name}__{key}"] for key in spec["features"]}
            values[id(node)] = node.to_block_input(tensors, spec.get("meta", {}))
        outputs = []
        for block in self.blocks:
            args = [values[id(n)] for n in block.inputs]
            with hp.name_scope(block.name):
                try:
                    result = block.build(hp, args[0] if len(args) == 1 else args)
                except GraphError:
                    raise
                except (ValueError, TypeError) as error:
                    inputs = ", ".join(n.name for n in block.inputs)
                    raise GraphError(f"{block.name} could not be built on its inputs ({inputs}): {error}") from error
            values[id(block.outputs[0])] = result
            if isinstance(block, Head):
                outputs.append(keras.layers.Identity(name=block.name)(result))
        model = keras.Model(inputs=keras_inputs, outputs=outputs if len(outputs) > 1 else outputs[0])
        if compile:
            self.compile(model, hp)
        return model

    def declare(self, hp: HyperParameters, input_specs: dict[str, dict]) -> None:
        """Declare the names and values ``build`` would read from ``hp``, at a fraction of its cost: the model is
        built symbolically, its weights left uninitialised (a ``keras.StatelessScope`` that does not initialise
        them), and not compiled (the optimizer is made, for its names). Call ``keras.backend.clear_session`` after
        it, as after any build, to drop the uninitialised weights.

        Example:
            >>> import autodeep as ak
            >>> from autodeep.graph import HyperParameters
            >>> node = ak.Input()
            >>> graph = ak.graph.Graph([node], [ak.RegressionHead(output_dim=1)(ak.DenseBlock()(node))])
            >>> hp = HyperParameters()
            >>> graph.declare(hp, {node.name: {"features": {"x": ((3,), "float32")}}})
            >>> sorted(name.rsplit("/", 1)[-1] for name in hp.values)  # doctest: +NORMALIZE_WHITESPACE
            ['dropout', 'dropout', 'learning_rate', 'num_layers', 'optimizer', 'units_0', 'units_1',
             'use_batchnorm', 'weight_decay']
        """
        import keras

        with keras.StatelessScope(initialize_variables=False):
            self.build(hp, input_specs, compile=False)
        self.optimizer(hp)

    def optimizer(self, hp: HyperParameters):
        """The searched optimizer (declares ``optimizer``, ``learning_rate`` and, for AdamW, ``weight_decay``)."""
        import keras

        optimizer_name = hp.Choice("optimizer", ["adamw", "adam"], default="adamw")
        learning_rate = hp.Choice("learning_rate", [1e-3, 3e-3, 3e-4, 1e-4], default=1e-3)
        if optimizer_name == "adamw":
            weight_decay = hp.Choice("weight_decay", [1e-4, 1e-5, 1e-3, 1e-2], default=1e-4)
            return keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)
        return keras.optimizers.Adam(learning_rate=learning_rate)

    def compile(self, model, hp: HyperParameters) -> None:
        """Compile ``model`` with each head's loss and metrics and a searched optimizer."""
        optimizer = self.optimizer(hp)
        losses = {h.name: h.compiled_loss() for h in self.heads}
        metrics = {h.name: h.compiled_metrics() for h in self.heads}
        if len(self.heads) == 1:
            losses, metrics = losses[self.heads[0].name], metrics[self.heads[0].name]
        model.compile(optimizer=optimizer, loss=losses, metrics=metrics)
