"""Bayesian choice of the next morph: an edit-distance kernel GP over architectures and UCB over morph sequences.

Follows Jin, Song, Hu, "Auto-Keras" (KDD 2019), section 3, with these choices (each marked in the code):

- Architecture: the body's Dense/convolution layers in topological order as ``(kind, width)`` and the
  skip connections as ``(u, v)`` layer indices (paper: layers and skip connections of the graph).
- Layer distance: ``|w_a - w_b| / max(w_a, w_b)`` per matched pair (paper), 1 for layers of different
  kinds (ours: the paper's search space had one kind per task), plus 1 per unmatched layer (paper).
  The matching is the optimal assignment (Hungarian, ``scipy.optimize.linear_sum_assignment``); the
  paper requires it to keep the layers' order (a dynamic programme). Ours ignores the order, so it
  is a lower bound of the paper's distance.
- Skip distance: ``(|u_a - u_b| + |delta_a - delta_b|) / (max(u_a, u_b) + max(delta_a, delta_b))`` with
  ``delta = v - u``, Hungarian matching, 1 per unmatched skip (paper; the denominator is the paper's
  up to +1 for skips from the first layer, ``u = 0``, which would divide by zero).
- Kernel ``exp(-(d / length_scale)^2)``. An edit distance is not Euclidean, so this matrix can have
  negative eigenvalues. The paper embeds the architectures with Bourgain's algorithm first. Ours
  (a documented equivalent): the joint kernel matrix of the observed and candidate architectures is
  projected onto the positive semi-definite cone (negative eigenvalues set to 0, Higham 1988's
  nearest PSD matrix in Frobenius norm), which makes it a valid GP covariance over exactly the
  architectures the acquisition looks at.
- Acquisition: UCB ``mean + beta * std`` (paper) or expected improvement (ours, an option), maximised over
  the morph sequences of up to ``depth`` operations from the best observed architectures (paper: simulated
  annealing and A* over a tree of morphs; ours enumerates the small tree, then scores a seeded random subset
  of ``max_candidates``).
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
from scipy.optimize import linear_sum_assignment

from autodeep.morph.description import Description, MorphError
from autodeep.morph.layers import UNIT_LAYERS, channelwise
from autodeep.morph.operations import add_skip, deepen
from autodeep.morph.widen import widen

SKIP_PREFIX = "morph_skip_"  # add_skip's projections: branches of a skip, not layers of the body


@dataclasses.dataclass(frozen=True)
class Architecture:
    """A network as the GP sees it: ``layers`` ``((kind, width), ...)`` in order, ``skips`` ``((u, v), ...)``.

    Example:
        >>> a = Architecture((("Dense", 64), ("Dense", 32)))
        >>> a.apply({"op": "deepen", "layer": 0}).layers
        (('Dense', 64), ('Dense', 64), ('Dense', 32))
        >>> a.apply({"op": "skip", "source": 0, "target": 1}).skips
        ((0, 1),)
    """

    layers: tuple = ()
    skips: tuple = ()

    def apply(self, op: dict) -> "Architecture":
        """The architecture after one abstract morph ``{"op": "deepen"|"widen"|"skip", ...}`` (layer indices)."""
        kind = op.get("op")
        if kind == "deepen":
            i = self._index(op["layer"])
            layers = self.layers[:i + 1] + (self.layers[i],) + self.layers[i + 1:]
            # as realise() does it: whatever read layer i's block (a skip's add or projection) reads the new layer
            skips = tuple((u + (u >= i), v + (v >= i)) for u, v in self.skips)
            return Architecture(layers, tuple(sorted(skips)))
        if kind == "widen":
            i = self._index(op["layer"])
            layers = self.layers[:i] + ((self.layers[i][0], int(op["width"])),) + self.layers[i + 1:]
            return Architecture(layers, self.skips)
        if kind == "skip":
            edge = (self._index(op["source"]), self._index(op["target"]))
            if edge[0] >= edge[1] or edge in self.skips:
                raise MorphError(f"a skip needs source < target and must be new; received {edge}.")
            return Architecture(self.layers, tuple(sorted(self.skips + (edge,))))
        raise MorphError(f"op must be 'deepen', 'widen' or 'skip'; received {op!r}.")

    def _index(self, i) -> int:
        if not isinstance(i, (int, np.integer)) or not 0 <= i < len(self.layers):
            raise MorphError(f"layer index must be in 0..{len(self.layers) - 1}; received {i!r}.")
        return int(i)


def _nearest_unit(description: Description, name: str, body: list[str]) -> int:
    """Index in ``body`` of the last body layer at or before ``name`` (-1 when none)."""
    frontier = [name]
    while frontier:
        current = frontier.pop()
        if current in body:
            return body.index(current)
        frontier.extend(description.inputs_of(current))
    return -1


def _heads(description: Description, model) -> set[str]:
    """The Dense/convolution layers that make the model's outputs (the last ones before each output)."""
    heads, frontier = set(), [layer.name for layer in model.layers if description.is_output(layer.name)]
    while frontier:
        name = frontier.pop()
        if description.class_name(name) in UNIT_LAYERS:
            heads.add(name)
        else:
            frontier.extend(description.inputs_of(name))
    return heads


def _body(description: Description, model) -> list[str]:
    """Names of the body's Dense/convolution layers (not heads, not skip projections), in ``model.layers`` order."""
    heads = _heads(description, model)
    return [layer.name for layer in model.layers if type(layer).__name__ in UNIT_LAYERS
            and not layer.name.startswith(SKIP_PREFIX) and layer.name not in heads]


def architecture(model) -> Architecture:
    """The ``Architecture`` of a built functional model: its body's Dense/convolution layers and skips.

    Layers producing a model output (the heads) and ``add_skip``'s projections are not body layers.
    Each ``Add`` whose inputs come after different body layers is a skip from the earlier to the later.

    Example:
        >>> import keras
        >>> inputs = keras.Input((3,)); h = keras.layers.Dense(8, activation="relu")(inputs)
        >>> architecture(keras.Model(inputs, keras.layers.Dense(1)(h)))
        Architecture(layers=(('Dense', 8),), skips=())
    """
    description = Description(model)
    body = _body(description, model)
    layers = tuple((description.class_name(n), int(description.layer_config(n)[UNIT_LAYERS[
        description.class_name(n)]])) for n in body)
    skips = set()
    for entry in description.config["layers"]:
        if entry["class_name"] == "Add":
            ends = sorted({_nearest_unit(description, n, body) for n in description.inputs_of(entry["name"])})
            if len(ends) == 2 and ends[0] >= 0:
                skips.add((ends[0], ends[1]))
    return Architecture(layers, tuple(sorted(skips)))


def _block_output(description: Description, name: str) -> str:
    """The last layer of ``name``'s block: follow its single reader through batch normalisation and channel-wise
    layers (activation, dropout, pooling) that keep the tensor's rank: a global pooling after an image network's
    last convolution ends the block before it, so a skip or a deeper layer there stays a feature map."""
    while True:
        readers = description.consumers(name)
        if len(readers) != 1 or description.is_output(name) or not (
                description.class_name(readers[0]) == "BatchNormalization" or channelwise(description, readers[0])):
            return name
        if len(description.output_shape(readers[0])) != len(description.output_shape(name)):
            return name
        name = readers[0]


def realise(model, morph: dict):
    """Apply an abstract morph (as ``Architecture.apply`` and ``propose`` use them) to a built model.

    Layer ``i`` is the ``i``-th body layer of ``architecture(model)``; deepen inserts after its block
    (its batch normalisation, activation, pooling and dropout), a skip joins two blocks' outputs.
    Returns ``(child, record)`` of the concrete operation; ``architecture(child)`` equals
    ``architecture(model).apply(morph)``.

    Example:
        >>> import keras
        >>> inputs = keras.Input((3,)); h = keras.layers.Dense(8, activation="relu")(inputs)
        >>> child, record = realise(keras.Model(inputs, keras.layers.Dense(1)(h)), {"op": "widen", "layer": 0,
        ...                                                                         "width": 16})
        >>> architecture(child).layers, record["op"]
        ((('Dense', 16),), 'widen')
    """
    description = Description(model)
    body = _body(description, model)
    Architecture(tuple(("", 1) for _ in body)).apply(morph)  # checks the op and its indices
    if morph["op"] == "widen":
        return widen(model, body[morph["layer"]], units=int(morph["width"]), seed=int(morph.get("seed", 0)))
    if morph["op"] == "deepen":
        return deepen(model, after=_block_output(description, body[morph["layer"]]))
    return add_skip(model, _block_output(description, body[morph["source"]]),
                    _block_output(description, body[morph["target"]]))


def _matched_cost(cost: np.ndarray) -> float:
    """Optimal assignment cost of a rectangular matrix plus 1 per row or column left unmatched."""
    if cost.size == 0:
        return float(max(cost.shape))
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].sum() + abs(cost.shape[0] - cost.shape[1]))


def layer_distance(a: Architecture, b: Architecture) -> float:
    """The paper's layer term: matched width differences (relative) plus unmatched layers.

    Example:
        >>> layer_distance(Architecture((("Dense", 64),)), Architecture((("Dense", 32), ("Dense", 8))))
        1.5
    """
    cost = np.array([[abs(wa - wb) / max(wa, wb, 1) if ka == kb else 1.0 for kb, wb in b.layers]
                     for ka, wa in a.layers]).reshape(len(a.layers), len(b.layers))
    return _matched_cost(cost)


def skip_distance(a: Architecture, b: Architecture) -> float:
    """The paper's skip term: matched differences of start and length (relative) plus unmatched skips.

    Example:
        >>> skip_distance(Architecture(skips=((0, 2),)), Architecture(skips=((0, 2), (1, 3))))
        1.0
    """
    def pair(s, t):
        (ua, va), (ub, vb) = s, t
        da, db = va - ua, vb - ub
        return (abs(ua - ub) + abs(da - db)) / (max(ua, ub) + max(da, db) + (max(ua, ub) == 0))

    cost = np.array([[pair(s, t) for t in b.skips] for s in a.skips]).reshape(len(a.skips), len(b.skips))
    return _matched_cost(cost)


def distance(a: Architecture, b: Architecture, skip_weight: float = 1.0) -> float:
    """``layer_distance + skip_weight * skip_distance`` (the paper's ``D_l + lambda D_s``).

    Example:
        >>> a = Architecture((("Conv2D", 32), ("Conv2D", 64)))
        >>> distance(a, a), distance(a, a.apply({"op": "skip", "source": 0, "target": 1}))
        (0.0, 1.0)
    """
    return layer_distance(a, b) + skip_weight * skip_distance(a, b)


def psd_kernel(distances: np.ndarray, length_scale: float = 1.0) -> np.ndarray:
    """``exp(-(d / length_scale)^2)`` projected onto the positive semi-definite cone (see the module docstring).

    Example:
        >>> d = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0.0]])
        >>> bool(np.linalg.eigvalsh(psd_kernel(d)).min() > -1e-12)
        True
    """
    kernel = np.exp(-(np.asarray(distances, "float64") / length_scale) ** 2)
    values, vectors = np.linalg.eigh((kernel + kernel.T) / 2)
    return (vectors * np.clip(values, 0.0, None)) @ vectors.T


class ArchitectureGP:
    """GP regression of scores over architectures with the edit-distance kernel.

    Args:
        length_scale: Distances are divided by it inside the kernel (the paper uses 1).
        noise: Variance of the observation noise, relative to the standardised scores.
        skip_weight: Weight of the skip term in the distance (the paper's lambda).

    Example:
        >>> archs = [Architecture((("Dense", w),)) for w in (16, 64, 256)]
        >>> gp = ArchitectureGP().fit(archs, [0.6, 0.8, 0.7])
        >>> mean, std = gp.predict([Architecture((("Dense", 64),)), Architecture((("Conv2D", 8),) * 4)])
        >>> round(float(mean[0]), 3), bool(std[1] > std[0])
        (0.8, True)
    """

    def __init__(self, length_scale: float = 1.0, noise: float = 1e-6, skip_weight: float = 1.0):
        self.length_scale, self.noise, self.skip_weight = length_scale, noise, skip_weight
        self.observed: list[Architecture] = []

    def fit(self, architectures, scores) -> "ArchitectureGP":
        scores = np.asarray(scores, "float64")
        if len(architectures) != len(scores) or len(scores) == 0:
            raise ValueError(f"fit needs one score per architecture, at least one; received {len(architectures)} "
                             f"architectures and {len(scores)} scores.")
        self.observed = list(architectures)
        self.mean_, self.scale_ = float(scores.mean()), float(scores.std()) or 1.0
        self.targets_ = (scores - self.mean_) / self.scale_
        return self

    def predict(self, candidates) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the score of each candidate architecture."""
        if not self.observed:
            raise RuntimeError("ArchitectureGP.predict needs fit() first.")
        everything = self.observed + list(candidates)
        d = np.array([[distance(a, b, self.skip_weight) for b in everything] for a in everything])
        kernel = psd_kernel(d, self.length_scale)
        n = len(self.observed)
        train = kernel[:n, :n] + self.noise * np.eye(n)
        cross, prior = kernel[:n, n:], np.diag(kernel)[n:]
        factor = np.linalg.cholesky(train + 1e-10 * np.eye(n))
        solved = np.linalg.solve(factor, cross)
        alpha = np.linalg.solve(factor.T, np.linalg.solve(factor, self.targets_))
        mean = cross.T @ alpha
        variance = np.clip(prior - (solved ** 2).sum(axis=0), 0.0, None)
        return self.mean_ + self.scale_ * mean, self.scale_ * np.sqrt(variance)


def single_morphs(arch: Architecture, widen_factor: int = 2) -> list[dict]:
    """Every abstract morph of ``arch``: deepen or widen (times ``widen_factor``) each layer, each new skip.

    Example:
        >>> [m["op"] for m in single_morphs(Architecture((("Dense", 8), ("Dense", 8))))]
        ['deepen', 'deepen', 'widen', 'widen', 'skip']
    """
    count = len(arch.layers)
    morphs = [{"op": "deepen", "layer": i} for i in range(count)]
    morphs += [{"op": "widen", "layer": i, "width": arch.layers[i][1] * widen_factor} for i in range(count)]
    morphs += [{"op": "skip", "source": u, "target": v} for u, v in itertools.combinations(range(count), 2)
               if (u, v) not in arch.skips and arch.layers[u][0] == arch.layers[v][0]]
    return morphs


def candidate_sequences(arch: Architecture, depth: int = 2, max_candidates: int = 2000) -> list[tuple]:
    """``(sequence of morphs, resulting architecture)`` for every sequence of 1..``depth`` morphs (distinct results).

    Example:
        >>> len(candidate_sequences(Architecture((("Dense", 8),)), depth=1))
        2
    """
    found: dict[Architecture, list] = {}
    frontier = [([], arch)]
    for _ in range(depth):
        grown = []
        for sequence, current in frontier:
            for morph in single_morphs(current):
                child = current.apply(morph)
                if child not in found and child != arch and len(found) < max_candidates:
                    found[child] = sequence + [morph]
                    grown.append((sequence + [morph], child))
        frontier = grown
    return [(sequence, child) for child, sequence in found.items()]


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """``E[max(score - best - xi, 0)]`` under the GP's normal posterior (higher scores are better).

    Example:
        >>> ei = expected_improvement(np.array([1.0, 1.0, 0.0]), np.array([0.0, 1.0, 1.0]), best=1.0)
        >>> [round(float(v), 3) for v in ei]
        [0.0, 0.399, 0.083]
    """
    from scipy.stats import norm

    std = np.maximum(std, 1e-12)
    gain = mean - best - xi
    z = gain / std
    return np.where(std > 1e-9, gain * norm.cdf(z) + std * norm.pdf(z), np.maximum(gain, 0.0))


def _options(history, parents: int, depth: int, max_width: int | None) -> list[tuple]:
    """``(parent index, sequence, child)`` of every new child of the ``parents`` best architectures."""
    seen = {a for a, _ in history}
    ranked = sorted(range(len(history)), key=lambda i: -history[i][1])[:parents]
    return [(i, sequence, child) for i in ranked for sequence, child in candidate_sequences(history[i][0], depth)
            if child not in seen and (max_width is None or max(w for _, w in child.layers) <= max_width)]


def propose(history, beta: float = 2.576, depth: int = 2, parents: int = 3, gp: ArchitectureGP | None = None,
            acquisition: str = "ucb", max_candidates: int | None = None, max_width: int | None = None,
            seed: int = 0):
    """The next child to train: ``(parent index, morph sequence, acquisition value)``.

    ``history`` lists ``(Architecture, score)`` of the trained networks (higher is better); the
    candidates are the morph sequences of up to ``depth`` morphs from the ``parents`` best ones
    (the paper also starts from the best architectures), without widths over ``max_width``.
    ``acquisition``: ``"ucb"``, mean + ``beta`` * std (the paper's, ``beta`` 2.576 its default), or
    ``"ei"``, the expected improvement over the best score (ours, an option). ``max_candidates``: score
    a random subset of that many (drawn with ``seed``; ours: the kernel matrix over every candidate grows
    with their square, and the paper searches its tree with simulated annealing instead).

    Example:
        >>> history = [(Architecture((("Dense", 16),)), 0.70), (Architecture((("Dense", 16),) * 2), 0.75)]
        >>> parent, sequence, score = propose(history, depth=1)
        >>> parent, sequence[0]["op"] in ("deepen", "widen", "skip")
        (1, True)
    """
    if not history:
        raise ValueError("propose needs at least one trained architecture in history.")
    if acquisition not in ("ucb", "ei"):
        raise ValueError(f"acquisition must be 'ucb' or 'ei'; received {acquisition!r}.")
    gp = (gp or ArchitectureGP()).fit([a for a, _ in history], [s for _, s in history])
    options = _options(history, parents, depth, max_width)
    if not options:
        raise ValueError("every candidate of the best architectures was trained already or too wide; raise depth.")
    if max_candidates and len(options) > max_candidates:
        keep = np.random.default_rng(seed).choice(len(options), size=max_candidates, replace=False)
        options = [options[k] for k in sorted(keep)]
    mean, std = gp.predict([child for _, _, child in options])
    if acquisition == "ucb":
        scores = mean + beta * std
    else:
        scores = expected_improvement(mean, std, max(s for _, s in history))
    best = int(np.argmax(scores))
    return options[best][0], options[best][1], float(scores[best])
