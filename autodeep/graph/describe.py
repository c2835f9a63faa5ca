"""A trial's architecture in words, read from its hyperparameter names (``block/name``): what log lines, the
leaderboard, the report and optuna-dashboard show."""

from __future__ import annotations

#: Hyperparameters that name a block's kind, in the order they are looked for.
KIND_NAMES = ("block_type", "sequence_model", "layer_type", "version", "reduction_type", "merge_type")


def describe_architecture(params: dict) -> str:
    """A trial's architecture in words, from its hyperparameters (``block/name`` keys; the optimizer's
    settings, without a block, are left out).

    Example:
        >>> describe_architecture({"structured_data_block_1/block_type": "mlp",
        ...     "structured_data_block_1/num_layers": 3, "structured_data_block_1/units": 256,
        ...     "structured_data_block_1/numerical_encoding": "periodic", "structured_data_block_1/dropout": 0.1,
        ...     "classification_head/dropout": 0.0, "learning_rate": 0.001})
        'mlp 3x256, periodic embeddings, dropout 0.1'
    """
    groups: dict[str, dict] = {}
    for key, value in params.items():
        if "/" in key:
            block, name = key.rsplit("/", 1)
            groups.setdefault(block, {})[name] = value
    phrases = {block: _describe_block(values) for block, values in groups.items()}
    phrases = {block: text for block, text in phrases.items() if text}
    if len(phrases) == 1:
        return next(iter(phrases.values()))
    return "; ".join(f"{block}: {text}" for block, text in phrases.items())


def _describe_block(values: dict) -> str:
    words = []
    kind = next((str(values[k]) for k in KIND_NAMES if k in values), "")
    layers = values.get("num_layers", values.get("num_blocks"))
    units = [values[k] for k in sorted(values) if k.startswith("units_")] or \
        ([values["units"]] if "units" in values else [])
    if layers is not None and len(units) == 1:
        size = f"{layers}x{units[0]}"
    elif units:
        size = "-".join(str(u) for u in units)
    else:
        size = f"{layers} layers" if layers is not None else ""
    words.append(" ".join(w for w in (kind, size) if w))
    encoding = values.get("numerical_encoding")
    if encoding not in (None, "none"):
        words.append(f"{encoding} embeddings")
    if values.get("dropout"):
        words.append(f"dropout {values['dropout']:g}")
    return ", ".join(w for w in words if w)
