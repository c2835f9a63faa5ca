"""Where a user's wiring ends: the nodes downstream of the inputs that no block consumes.

AutoKeras programs often wire blocks from the inputs to a last node and then give
the heads unconnected (``outputs=[ak.ClassificationHead()]``). That last node is
where the heads belong; ``open_ends`` finds it.
"""

from __future__ import annotations

from autodeep.graph.graph import GraphError
from autodeep.graph.nodes import Node


def open_ends(inputs: list[Node]) -> list[Node]:
    """Block outputs reachable from ``inputs`` that no block consumes, in the order they were wired.

    Example:
        >>> import autodeep as ak
        >>> x = ak.Input(name="x")
        >>> end = ak.DenseBlock(name="dense")(x)
        >>> [n.name for n in open_ends([x])]
        ['dense_output']
    """
    ends: list[Node] = []
    seen: set[int] = set()
    frontier = [block for node in inputs for block in node.out_blocks]
    while frontier:
        block = frontier.pop(0)
        if id(block) in seen:
            continue
        seen.add(id(block))
        for out in block.outputs:
            if out.out_blocks:
                frontier.extend(out.out_blocks)
            elif out not in ends:
                ends.append(out)
    return ends


def attach_heads(inputs: list[Node], heads: list) -> list[Node] | None:
    """Call unconnected ``heads`` on the one open end of the user's wiring; ``None`` when nothing is wired.

    Raises ``GraphError`` naming the blocks when the wiring ends in several nodes.

    Example:
        >>> import autodeep as ak
        >>> x = ak.Input(name="x")
        >>> _ = ak.DenseBlock(name="mlp")(x)
        >>> [n.name for n in attach_heads([x], [ak.RegressionHead(name="price")])]
        ['price_output']
    """
    ends = open_ends(inputs)
    if not ends:
        return None
    if len(ends) > 1:
        blocks = ", ".join(end.in_blocks[0].name for end in ends)
        raise GraphError(f"The heads were given unconnected, so they go where your wiring ends, but it ends in "
                         f"{len(ends)} places (the outputs of {blocks}). Join them with ak.Merge(), or call each "
                         f"head on the node it should read and pass the heads' outputs as outputs=.")
    return [head(ends[0]) for head in heads]
