"""Function-preserving morphs of a built, trained functional model: ``deepen`` and ``add_skip``.

Each takes a model and returns ``(child, record)``: a new ``keras.Model`` that computes what the
parent computes (in inference mode, up to float rounding) and a JSON-serialisable record from which
``replay`` rebuilds the child from the parent. Layers are named in records by their position in
``model.layers`` (``"at"``), which is the same each time the same architecture is built, while the
automatic layer names (``dense_7``) depend on what the process built before; the name and class are
recorded too, for reading and as a check.
"""

from __future__ import annotations

import numpy as np

from autodeep.morph.description import Description, MorphError
from autodeep.morph.layers import identity_kernel, kind_for_rank, non_negative, unit_layer


def resolve(model, layer, argument: str) -> tuple[int, str]:
    """``(position in model.layers, name)`` of a layer given by position or name.

    Example:
        >>> import keras
        >>> inputs = keras.Input((3,)); model = keras.Model(inputs, keras.layers.Dense(1, name="out")(inputs))
        >>> resolve(model, "out", "layer"), resolve(model, 1, "layer")
        ((1, 'out'), (1, 'out'))
    """
    names = [item.name for item in model.layers]
    if isinstance(layer, (int, np.integer)) and not isinstance(layer, bool):
        if not 0 <= layer < len(names):
            raise MorphError(f"{argument} must be a layer position in 0..{len(names) - 1} or a layer name; "
                             f"received {layer}.")
        return int(layer), names[layer]
    if isinstance(layer, str) and layer in names:
        return names.index(layer), layer
    raise MorphError(f"{argument} must be a layer position or one of the model's layer names {names}; "
                     f"received {layer!r}.")


def describe(description: Description, position: int, name: str) -> dict:
    """How a record names a layer: its position, name and class."""
    return {"at": position, "layer": name, "class": description.class_name(name)}


def _check_body(description: Description, name: str, argument: str) -> tuple:
    """The float output shape of a layer inside the network (not a model output)."""
    if description.is_output(name):
        raise MorphError(f"{argument}={name!r} is an output of the model; morph a layer before the head's output.")
    shape = description.output_shape(name)
    if shape[-1] is None or len(shape) not in (2, 3, 4):
        raise MorphError(f"{argument}={name!r} gives a tensor of shape {shape}; morphs need vectors, sequences "
                         f"or images with a known number of channels.")
    if "float" not in str(description.model.get_layer(name).output.dtype):
        raise MorphError(f"{argument}={name!r} gives {description.model.get_layer(name).output.dtype} values; "
                         f"morphs need float tensors.")
    return shape


def deepen(model, after, kernel_size: int = 3, batchnorm: bool = False, dropout: float = 0.0):
    """Insert a layer computing the identity after layer ``after`` (Net2DeeperNet, Auto-Keras' deeper morph).

    The new layer is a Dense for vectors, a Conv1D for sequences, a Conv2D for images (``same``
    padding, ``kernel_size``, the centre tap the identity matrix, zero bias), keeping the width.

    - Activation: when ``after``'s output is non-negative by construction (a ReLU, or pooling/dropout/
      flatten of one), the new layer is followed by a ReLU: ``relu(I x) = x`` exactly for ``x >= 0``,
      and the deeper network gains a non-linearity. Otherwise (e.g. after a Dense before its batch
      normalisation) it stays linear, which is exact for any input.
    - ``batchnorm=True`` adds a BatchNormalization after the new layer (before its ReLU) with
      ``gamma = 1, beta = 0``, moving mean 0 and moving variance ``1 - epsilon``, so it computes the
      identity in inference mode exactly (Auto-Keras inits its BN so, without the epsilon). In training
      mode it normalises with the batch's statistics, so training starts from a standardised copy of
      the input. (Moving statistics set to the data's, with ``gamma``/``beta`` undoing them, would keep
      the identity in training mode too; tried, it trained slower: one epoch on 400 digits after a
      deepened Conv2D, loss 2.078/2.114/2.209 against 2.019/2.001/2.147 for these weights, seeds 0-2.)
    - ``dropout > 0`` adds a Dropout after it: the identity at inference, noise in training.

    Returns ``(child, record)``.

    Example:
        >>> import keras, numpy as np
        >>> inputs = keras.Input((3,)); hidden = keras.layers.Dense(4, activation="relu")(inputs)
        >>> model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
        >>> child, record = deepen(model, after=1)
        >>> x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
        >>> same = np.allclose(model.predict(x, verbose=0), child.predict(x, verbose=0), atol=1e-6)
        >>> record["activation"], len(child.layers), bool(same)
        ('relu', 4, True)
    """
    import keras

    description = Description(model)
    position, name = resolve(model, after, "after")
    shape = _check_body(description, name, "after")
    kind, channels = kind_for_rank(len(shape)), int(shape[-1])
    activation = "relu" if non_negative(description, name) else "linear"
    kernel = identity_kernel(kind, channels, kernel_size)
    main = unit_layer(kind, channels, description.fresh_name(f"morph_{kind.lower()}"), kernel_size,
                      activation=None if batchnorm else activation, use_bias=not batchnorm)
    chain = [main]
    description.overrides[main.name] = [kernel] if batchnorm else [kernel, np.zeros(channels, "float32")]
    if batchnorm:
        norm = keras.layers.BatchNormalization(name=description.fresh_name("morph_batch_normalization"))
        ones, zeros = np.ones(channels, "float32"), np.zeros(channels, "float32")
        description.overrides[norm.name] = [ones, zeros, zeros, ones - np.float32(norm.epsilon)]
        chain.append(norm)
        if activation == "relu":
            chain.append(keras.layers.ReLU(name=description.fresh_name("morph_re_lu")))
    if dropout:
        chain.append(keras.layers.Dropout(float(dropout), name=description.fresh_name("morph_dropout")))
    _insert_chain(description, name, chain, shape)
    record = {"op": "deepen", "after": describe(description, position, name), "kernel_size": int(kernel_size),
              "batchnorm": bool(batchnorm), "dropout": float(dropout), "activation": activation,
              "added": [layer.name for layer in chain]}
    return description.build(), record


def _insert_chain(description: Description, anchor: str, chain: list, shape: tuple) -> None:
    """Put ``chain`` (shape-keeping layers) between ``anchor`` and everything that read it."""
    description.redirect(anchor, chain[-1].name)
    previous = anchor
    for layer in chain:
        description.add(layer, [description.ref(previous, shape)], after=previous)
        previous = layer.name


def _pool_sizes(source_shape: tuple, target_shape: tuple, source: str, target: str) -> tuple | None:
    """Pooling sizes that bring the source's positions to the target's (``None`` when already equal)."""
    if len(source_shape) != len(target_shape):
        raise MorphError(f"a skip from {source!r} {source_shape} to {target!r} {target_shape} joins tensors of "
                         f"different ranks.")
    sizes = []
    for a, b in zip(source_shape[1:-1], target_shape[1:-1]):
        if a is None or b is None or b > a or a // max(a // b, 1) != b:
            raise MorphError(f"a skip from {source!r} {source_shape} to {target!r} {target_shape}: the source's "
                             f"positions cannot be pooled to the target's.")
        sizes.append(a // b)
    return None if all(s == 1 for s in sizes) else tuple(sizes)


def add_skip(model, source, target):
    """Add ``target``'s output and a projection of ``source``'s whose weights start at zero.

    The projection is a Dense (vectors) or a 1x1 convolution (sequences, images) from the source's
    channels to the target's, with zero kernel and bias, after a max pooling when the source has
    more positions than the target (a whole multiple). Everything that read ``target`` reads
    ``target + projection`` instead: the same values until training moves the projection
    (Auto-Keras' add-skip morph, whose branch is also zero-initialised). ``source`` must come
    before ``target`` on a path of the network, and ``target`` must not be a model output.

    Returns ``(child, record)``.

    Example:
        >>> import keras, numpy as np
        >>> inputs = keras.Input((3,)); a = keras.layers.Dense(4, activation="relu")(inputs)
        >>> b = keras.layers.Dense(5, activation="relu")(a)
        >>> model = keras.Model(inputs, keras.layers.Dense(1)(b))
        >>> child, record = add_skip(model, source=1, target=2)
        >>> x = np.ones((2, 3), "float32")
        >>> same = np.allclose(model.predict(x, verbose=0), child.predict(x, verbose=0))
        >>> record["added"][-1].startswith("morph_add"), bool(same)
        (True, True)
    """
    import keras

    description = Description(model)
    (s_at, s_name), (t_at, t_name) = resolve(model, source, "source"), resolve(model, target, "target")
    s_shape, t_shape = _check_body(description, s_name, "source"), _check_body(description, t_name, "target")
    if not description.is_ancestor(s_name, t_name):
        raise MorphError(f"source={s_name!r} must come before target={t_name!r} on a path of the network.")
    pools = _pool_sizes(s_shape, t_shape, s_name, t_name)
    kind, channels = kind_for_rank(len(t_shape)), int(t_shape[-1])
    branch, previous, shape = [], s_name, s_shape
    if pools:
        pool = (keras.layers.MaxPooling1D if len(pools) == 1 else keras.layers.MaxPooling2D)(
            pools, name=description.fresh_name("morph_max_pooling"))
        description.add(pool, [description.ref(previous, shape)], after=previous)
        branch, previous, shape = [pool.name], pool.name, (s_shape[0], *t_shape[1:-1], s_shape[-1])
    projection = unit_layer(kind, channels, description.fresh_name(f"morph_skip_{kind.lower()}"))
    description.add(projection, [description.ref(previous, shape)], after=previous)
    description.overrides[projection.name] = [np.zeros((*(1,) * (len(t_shape) - 2), s_shape[-1], channels),
                                                       "float32"), np.zeros(channels, "float32")]
    add = keras.layers.Add(name=description.fresh_name("morph_add"))
    description.redirect(t_name, add.name)
    description.add(add, [[description.ref(t_name), description.ref(projection.name, t_shape)]], after=t_name)
    record = {"op": "skip", "source": describe(description, s_at, s_name),
              "target": describe(description, t_at, t_name), "added": branch + [projection.name, add.name]}
    return description.build(), record
