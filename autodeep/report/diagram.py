"""A Keras functional model's layer graph drawn with matplotlib (no graphviz needed)."""

from __future__ import annotations

ROW_INCHES = 0.8  # vertical room per row of layers
BOX_HALF_HEIGHT = 0.24  # of a two-line layer box, in rows: arrows run from box edge to box edge


def layer_graph(model) -> tuple[list, dict[str, list[str]]]:
    """The model's layers (in order) and, per layer name, the names of the layers feeding it.

    Example:
        >>> import keras
        >>> inputs = keras.Input((3,), name="x")
        >>> model = keras.Model(inputs, keras.layers.Dense(2, name="d")(inputs))
        >>> [l.name for l in layer_graph(model)[0]], layer_graph(model)[1]["d"]
        (['x', 'd'], ['x'])
    """
    layers = list(model.layers)
    names = {layer.name for layer in layers}
    parents = {}
    for layer in layers:
        found = [p.operation.name for node in layer._inbound_nodes for p in node.parent_nodes]
        parents[layer.name] = [n for n in dict.fromkeys(found) if n in names]
    return layers, parents


def _depths(layers, parents) -> dict[str, int]:
    """Longest path from an input to each layer (its row in the drawing)."""
    depth: dict[str, int] = {}
    for _ in range(len(layers)):  # relax until stable; layers are few
        changed = False
        for layer in layers:
            d = max((depth.get(p, 0) + 1 for p in parents[layer.name]), default=0)
            if depth.get(layer.name) != d:
                depth[layer.name], changed = d, True
        if not changed:
            break
    return depth


def _label(layer) -> str:
    try:
        shape = tuple(layer.output.shape)[1:]
    except (AttributeError, ValueError, TypeError):
        shape = ()
    kind = type(layer).__name__
    shape_text = "x".join("?" if s is None else str(s) for s in shape)
    return f"{layer.name}\n{kind}" + (f" ({shape_text})" if shape_text else "")


def draw_model(model, title: str = ""):
    """A matplotlib ``Figure`` of ``model``'s layers as boxes in rows (inputs on top) joined by arrows."""
    from matplotlib.figure import Figure

    layers, parents = layer_graph(model)
    depth = _depths(layers, parents)
    rows: dict[int, list] = {}
    for layer in layers:
        rows.setdefault(depth[layer.name], []).append(layer)
    width = max(len(r) for r in rows.values())
    fig = Figure(figsize=(max(4.4, 2.9 * width), ROW_INCHES * len(rows) + 0.6))
    ax = fig.add_axes((0, 0, 1, 0.96 if title else 1))
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.axis("off")
    position = {}
    for d, row in rows.items():
        offset = (width - len(row)) / 2
        for i, layer in enumerate(row):
            position[layer.name] = (offset + i, d)
    for layer in layers:
        for parent in parents[layer.name]:
            skips = depth[layer.name] - depth[parent] > 1  # bend around the rows in between
            (x, y), (px, py) = position[layer.name], position[parent]
            ax.annotate("", xy=(x, y - BOX_HALF_HEIGHT), xytext=(px, py + BOX_HALF_HEIGHT),
                        arrowprops={"arrowstyle": "-|>", "color": "#667", "shrinkA": 0, "shrinkB": 0,
                                    "connectionstyle": f"arc3,rad={-0.35 if skips else 0.0}"})
    for layer in layers:
        x, y = position[layer.name]
        colour = "#dbe9f6" if type(layer).__name__ == "InputLayer" else "#f4f1e8"
        ax.text(x, y, _label(layer), ha="center", va="center", fontsize=8,
                bbox={"boxstyle": "round,pad=0.4", "facecolor": colour, "edgecolor": "#556"})
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
