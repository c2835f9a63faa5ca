"""Argument checks at the API boundary: each error names the argument, the expectation and what came."""

from __future__ import annotations

import difflib
import numbers


def check_int(name: str, value, minimum: int = 1, allow_none: bool = False):
    """``value`` must be an int >= ``minimum``.

    Example:
        >>> check_int("max_trials", 3)
        3
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}; received {value!r} of type {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; received {value}.")
    return int(value)


def check_number(name: str, value, minimum: float = 0.0, allow_none: bool = True):
    """``value`` must be a number > ``minimum`` (or ``None`` where allowed).

    Example:
        >>> check_number("time_limit", 60)
        60.0
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number > {minimum}; received {value!r} of type {type(value).__name__}.")
    if not value > minimum:
        raise ValueError(f"{name} must be a number > {minimum}; received {value}.")
    return float(value)


def check_fraction(name: str, value) -> float:
    """``value`` must be strictly between 0 and 1.

    Example:
        >>> check_fraction("validation_split", 0.2)
        0.2
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number strictly between 0 and 1; received {value!r}.")
    return float(value)


def check_str(name: str, value, allow_none: bool = False):
    """``value`` must be a string (or ``None`` where allowed).

    Example:
        >>> check_str("objective", 3)
        Traceback (most recent call last):
        TypeError: objective must be a string; received 3 of type int.
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string; received {value!r} of type {type(value).__name__}.")
    return value


def fixed_values(hyperparameters) -> dict:
    """``{full_name: value}`` from a dict or from an object with a ``.values`` dict (KerasTuner's ``HyperParameters``).

    Example:
        >>> fixed_values({"dense_block_1/num_layers": 1})
        {'dense_block_1/num_layers': 1}
    """
    if hyperparameters is None:
        return {}
    values = hyperparameters if isinstance(hyperparameters, dict) else getattr(hyperparameters, "values", None)
    if not isinstance(values, dict) or not all(isinstance(k, str) for k in values):
        raise TypeError(f"hyperparameters must be a dict {{full_name: value}} or an object with such a .values "
                        f"dict; received {hyperparameters!r} of type {type(hyperparameters).__name__}.")
    return dict(values)


def check_keywords(where: str, kwargs: dict, valid, ignored=()) -> None:
    """Raise ``TypeError`` for a keyword argument that is neither ``valid`` nor in ``ignored`` (accepted for
    compatibility and not used), naming it and the closest valid name.

    Example:
        >>> check_keywords("AutoModel()", {"max_trial": 5}, ["max_trials", "seed"])
        Traceback (most recent call last):
        TypeError: AutoModel() got an unexpected keyword argument 'max_trial'; did you mean 'max_trials'?
    """
    for name in kwargs:
        if name in ignored:
            continue
        close = difflib.get_close_matches(name, sorted(valid), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"valid names: {sorted(valid)}."
        raise TypeError(f"{where} got an unexpected keyword argument {name!r}; {hint}")
