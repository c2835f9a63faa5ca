"""A built functional Keras model as an editable description: its config (JSON) and its weights by layer name.

Morph operations edit the config (insert layers, change widths, redirect connections), compute the
weights of the layers they touch, and rebuild with ``keras.Model.from_config``: the functional API
run from the description, so the child is an ordinary functional model that saves and loads like
its parent. Layers the morph did not touch get their parent's weights unchanged.
"""

from __future__ import annotations

import copy
import json

import numpy as np

TENSOR = "__keras_tensor__"


class MorphError(ValueError):
    """A morph that cannot apply to this model; the message names the layer and the reason."""


def _history_refs(value, found: list) -> list:
    """Every ``keras_history`` list (``[layer, node, tensor]``) inside a node's serialised arguments."""
    if isinstance(value, dict):
        if value.get("class_name") == TENSOR:
            found.append(value["config"]["keras_history"])
        else:
            for item in value.values():
                _history_refs(item, found)
    elif isinstance(value, list):
        for item in value:
            _history_refs(item, found)
    return found


def _output_refs(value, found: list) -> list:
    """Every ``[layer, node, tensor]`` triple of a config's ``output_layers`` (a list, dict or one triple)."""
    if isinstance(value, dict):
        for item in value.values():
            _output_refs(item, found)
    elif isinstance(value, list):
        if len(value) == 3 and isinstance(value[0], str):
            found.append(value)
        else:
            for item in value:
                _output_refs(item, found)
    return found


class Description:
    """The config and weights of a functional model, with the edits morph operations need.

    Args:
        model: A built functional ``keras.Model`` (what ``Graph.build`` returns).

    Example:
        >>> import keras
        >>> inputs = keras.Input((3,)); hidden = keras.layers.Dense(4, name="hidden")(inputs)
        >>> description = Description(keras.Model(inputs, keras.layers.Dense(1, name="out")(hidden)))
        >>> description.consumers("hidden"), description.is_output("out")
        (['out'], True)
    """

    def __init__(self, model):
        import keras

        config = json.loads(model.to_json()).get("config") if isinstance(model, keras.Model) else None
        if not isinstance(config, dict) or "layers" not in config:
            raise MorphError(f"model must be a built functional keras.Model (as autodeep's Graph builds it); "
                             f"received {type(model).__name__}.")
        self.model = model
        self.config = config  # through JSON: plain lists and dicts, as a saved model holds it
        self.weights = {layer.name: layer.get_weights() for layer in model.layers}
        self.overrides: dict[str, list[np.ndarray]] = {}

    # -- reading ---------------------------------------------------------------
    def entry(self, name: str) -> dict:
        for entry in self.config["layers"]:
            if entry["name"] == name:
                return entry
        raise MorphError(f"the model has no layer named {name!r}.")

    def class_name(self, name: str) -> str:
        return self.entry(name)["class_name"]

    def layer_config(self, name: str) -> dict:
        return self.entry(name)["config"]

    def inputs_of(self, name: str) -> list[str]:
        """Names of the layers whose outputs ``name`` reads (in its first call)."""
        nodes = self.entry(name)["inbound_nodes"]
        return [ref[0] for ref in _history_refs(nodes[0], [])] if nodes else []

    def consumers(self, name: str) -> list[str]:
        """Names of the layers that read ``name``'s output."""
        return [e["name"] for e in self.config["layers"]
                if any(ref[0] == name for ref in _history_refs(e["inbound_nodes"], []))]

    def is_output(self, name: str) -> bool:
        return any(ref[0] == name for ref in _output_refs(self.config["output_layers"], []))

    def output_shape(self, name: str) -> tuple:
        return tuple(self.model.get_layer(name).output.shape)

    def is_ancestor(self, ancestor: str, name: str) -> bool:
        """Whether ``name``'s output depends on ``ancestor``'s (strictly)."""
        frontier, seen = list(self.inputs_of(name)), set()
        while frontier:
            current = frontier.pop()
            if current == ancestor:
                return True
            if current not in seen:
                seen.add(current)
                frontier.extend(self.inputs_of(current))
        return False

    def fresh_name(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3``... : the first name no layer of the model uses."""
        names = {e["name"] for e in self.config["layers"]}
        name, k = base, 1
        while name in names:
            k += 1
            name = f"{base}_{k}"
        return name

    # -- editing ---------------------------------------------------------------
    def ref(self, name: str, shape=None) -> dict:
        """The serialised Keras tensor of ``name``'s output, as a node's arguments hold it."""
        if shape is None:
            shape = self.output_shape(name)
        return {"class_name": TENSOR, "config": {"shape": list(shape), "dtype": "float32",
                                                  "keras_history": [name, 0, 0]}}

    def redirect(self, old: str, new: str) -> None:
        """Every reader of ``old``'s output (and the model's outputs) reads ``new``'s instead."""
        for entry in self.config["layers"]:
            for ref in _history_refs(entry["inbound_nodes"], []):
                if ref[0] == old:
                    ref[0] = new
        for ref in _output_refs(self.config["output_layers"], []):
            if ref[0] == old:
                ref[0] = new

    def add(self, layer, args: list, after: str) -> str:
        """Insert ``layer`` (unbuilt, named) called on ``args`` (serialised tensors) after entry ``after``."""
        import keras

        entry = keras.saving.serialize_keras_object(layer)
        entry.pop("build_config", None)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [{"args": args, "kwargs": {}}]
        names = [e["name"] for e in self.config["layers"]]
        self.config["layers"].insert(names.index(after) + 1, entry)
        return layer.name

    def forget_build(self, name: str) -> None:
        """Drop ``name``'s recorded input shape, so it builds for the (changed) shape it is called on."""
        self.entry(name).pop("build_config", None)

    # -- rebuilding ------------------------------------------------------------
    def build(self):
        """The edited model, with the parent's weights where unchanged and ``overrides`` elsewhere."""
        import keras

        child = keras.Model.from_config(copy.deepcopy(self.config))
        for layer in child.layers:
            weights = self.overrides.get(layer.name, self.weights.get(layer.name))
            if weights:
                expected = [tuple(w.shape) for w in layer.weights]
                if expected != [tuple(np.shape(w)) for w in weights]:
                    raise MorphError(f"layer {layer.name}: computed weights {[np.shape(w) for w in weights]} do "
                                     f"not fit its variables {expected}.")
                layer.set_weights(weights)
        compile_config = self.model.get_compile_config() if self.model.compiled else None
        if compile_config:
            child.compile_from_config(compile_config)
        return child
