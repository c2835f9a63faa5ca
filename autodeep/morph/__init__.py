"""Network morphism (Jin, Song, Hu, "Auto-Keras", KDD 2019): function-preserving edits of trained networks.

``deepen`` inserts an identity layer, ``widen`` copies units (Net2WiderNet), ``add_skip`` adds a
zero-initialised skip connection. Each takes a built functional Keras model (as autodeep's ``Graph``
builds it) and returns ``(child, record)``: a new model that predicts what its parent predicts before
any training, and a JSON-serialisable record; ``replay(parent, records)`` rebuilds the child.
``autodeep.morph.gp`` chooses the next morph: an edit-distance kernel GP over architectures and UCB.
"""

from autodeep.morph.description import MorphError
from autodeep.morph.gp import Architecture, ArchitectureGP, architecture, distance, propose
from autodeep.morph.operations import add_skip, deepen
from autodeep.morph.records import apply, replay
from autodeep.morph.widen import widen

__all__ = ["Architecture", "ArchitectureGP", "MorphError", "add_skip", "apply", "architecture", "deepen", "distance",
           "propose", "replay", "widen"]
