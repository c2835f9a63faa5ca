"""Graph: nodes, blocks, heads, the hyperparameter facade and the DAG that builds Keras models."""

from autodeep.graph.block import Block, Head
from autodeep.graph.graph import Graph, GraphError, as_list
from autodeep.graph.hyperparameters import HyperParameters, Spec, random_source
from autodeep.graph.nodes import Input, Node, StructuredDataInput, TabularFeatures, unique_name
from autodeep.graph.image_input import ImageInput  # noqa: E402

__all__ = ["Block", "Graph", "GraphError", "Head", "HyperParameters", "Input", "Node", "Spec",
           "StructuredDataInput", "TabularFeatures", "as_list", "random_source", "unique_name"]
__all__ += ["ImageInput"]
from autodeep.graph.text_input import TextFeatures, TextInput  # noqa: E402

__all__ += ["TextFeatures", "TextInput"]
from autodeep.graph.timeseries_input import TimeseriesInput  # noqa: E402

__all__ += ["TimeseriesInput"]
