"""What the morph operations know about layer kinds: which carry units, which act channel by channel."""

from __future__ import annotations

import numpy as np

from autodeep.morph.description import Description, MorphError

# Layers with a kernel whose last axis is the output units/filters and whose second-to-last is the input's.
UNIT_LAYERS = {"Dense": "units", "Conv1D": "filters", "Conv2D": "filters"}
# Layers that act on each channel alone (and keep the channel axis last): a widened channel passes through.
CHANNELWISE = {"ReLU", "LeakyReLU", "ELU", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianDropout",
               "GaussianNoise", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
               "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D"}
# Layers a non-negative input leaves non-negative (so a ReLU after an inserted identity changes nothing).
SIGN_KEEPING = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "MaxPooling1D", "MaxPooling2D",
                "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
                "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Flatten", "Identity"}
ELEMENTWISE_ACTIVATIONS = {"linear", "relu", "gelu", "tanh", "sigmoid", "elu", "selu", "swish", "silu",
                           "softplus", "leaky_relu", "relu6", "hard_sigmoid", "hard_swish"}


def activation_of(description: Description, name: str) -> str | None:
    """The activation a layer applies (``"relu"`` for a ``ReLU`` layer), or ``None`` when it has none."""
    config = description.layer_config(name)
    kind = description.class_name(name)
    if kind == "ReLU":
        plain = not config.get("max_value") and not config.get("negative_slope") and not config.get("threshold")
        return "relu" if plain else "relu_variant"
    if kind == "Activation" or "activation" in config:
        activation = config.get("activation")
        return activation if isinstance(activation, str) else "custom"
    return None


def non_negative(description: Description, name: str) -> bool:
    """Whether ``name``'s output is ``>= 0`` by construction: a ReLU, or a sign-keeping layer after one."""
    while True:
        if activation_of(description, name) == "relu":
            return True
        if description.class_name(name) not in SIGN_KEEPING or len(description.inputs_of(name)) != 1:
            return False
        name = description.inputs_of(name)[0]


def channelwise(description: Description, name: str) -> bool:
    """Whether ``name`` acts on each channel of its input alone."""
    kind = description.class_name(name)
    if kind == "Activation":
        return activation_of(description, name) in ELEMENTWISE_ACTIVATIONS
    return kind in CHANNELWISE


def identity_kernel(kind: str, channels: int, kernel_size: int) -> np.ndarray:
    """The kernel of a Dense/Conv1D/Conv2D layer (``same`` padding, odd ``kernel_size``) that computes ``y = x``.

    Example:
        >>> identity_kernel("Conv1D", 2, 3)[:, 0, 0].tolist()
        [0.0, 1.0, 0.0]
    """
    eye = np.eye(channels, dtype="float32")
    if kind == "Dense":
        return eye
    if kernel_size % 2 != 1:
        raise MorphError(f"kernel_size must be odd for an identity convolution; received {kernel_size}.")
    spatial = (kernel_size,) * (1 if kind == "Conv1D" else 2)
    kernel = np.zeros(spatial + (channels, channels), dtype="float32")
    kernel[tuple(s // 2 for s in spatial)] = eye
    return kernel


def unit_layer(kind: str, units: int, name: str, kernel_size: int = 1, activation=None, use_bias: bool = True):
    """A new, unbuilt Dense/Conv1D/Conv2D layer (``same`` padding for convolutions)."""
    import keras

    if kind == "Dense":
        return keras.layers.Dense(units, activation=activation, use_bias=use_bias, name=name)
    conv = keras.layers.Conv1D if kind == "Conv1D" else keras.layers.Conv2D
    return conv(units, kernel_size, padding="same", activation=activation, use_bias=use_bias, name=name)


def kind_for_rank(rank: int) -> str:
    """The unit layer that maps a tensor of this rank to one of the same shape: Dense, Conv1D or Conv2D."""
    kinds = {2: "Dense", 3: "Conv1D", 4: "Conv2D"}
    if rank not in kinds:
        raise MorphError(f"morphs handle vectors (rank 2), sequences (rank 3) and images (rank 4); "
                         f"received a tensor of rank {rank}.")
    return kinds[rank]
