"""The hyperparameter facade through which blocks declare their search space.

Blocks never talk to a search library. They ask ``hp`` for a value
(``hp.Choice``, ``hp.Int``, ``hp.Float``, ``hp.Boolean``) and get one back; where
the value comes from (a default, a fixed value, a random draw, an Optuna
trial) is decided by whoever made the ``hp`` object. Names are scoped, so a
block's hyperparameters read ``structured_data_block_1/dense_block_1/units_0``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from typing import Any, Callable, Sequence

_PRIMITIVES = (type(None), bool, int, float, str)


@dataclasses.dataclass(frozen=True)
class Spec:
    """One declared hyperparameter: its kind, range and default.

    Example:
        >>> Spec("int", "units", low=16, high=512, step=16, default=64).random_value(
        ...     __import__("random").Random(0)) % 16
        0
    """

    kind: str  # "choice" | "int" | "float" | "boolean" | "fixed"
    name: str
    choices: tuple = ()
    low: float | int | None = None
    high: float | int | None = None
    step: float | int | None = None
    log: bool = False
    default: Any = None

    def random_value(self, rng) -> Any:
        """Draw a value uniformly (log-uniformly where ``log``) from this spec."""
        if self.kind in ("choice", "boolean"):
            return self.choices[rng.randrange(len(self.choices))]
        if self.kind == "fixed":
            return self.default
        if self.kind == "int":
            if self.log:
                value = int(round(math.exp(rng.uniform(math.log(self.low), math.log(self.high)))))
                return min(max(value, self.low), self.high)
            step = self.step or 1
            return self.low + step * rng.randrange((self.high - self.low) // step + 1)
        if self.log:
            return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        if self.step:
            n = int(round((self.high - self.low) / self.step))
            return self.low + self.step * rng.randrange(n + 1)
        return rng.uniform(self.low, self.high)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a legal value of this spec."""
        if self.kind in ("choice", "boolean", "fixed"):
            return value in (self.choices or (self.default,))
        try:
            return self.low <= value <= self.high
        except TypeError:
            return False


Source = Callable[[Spec], Any]


class HyperParameters:
    """Hands out hyperparameter values to blocks and records what it handed out.

    Args:
        values: Values fixed by full name; they win over any source.
        source: Callable ``Spec -> value`` consulted for names not in ``values``
            (an Optuna trial, a random draw). ``None`` means "use the default".

    The method names follow KerasTuner (``Choice``, ``Int``, ``Float``,
    ``Boolean``, ``Fixed``) so AutoKeras blocks run unchanged; lower-case
    aliases (``hp.choice`` ...) are provided too.

    Example:
        >>> hp = HyperParameters(values={"block/units": 32})
        >>> with hp.name_scope("block"):
        ...     hp.Int("units", 16, 128, default=64), hp.Boolean("dropout")
        (32, False)
        >>> hp.values
        {'block/units': 32, 'block/dropout': False}
    """

    #: Set by the Searcher of ``tuner="morph"`` on a trial's values: ``{}`` for a network trained from scratch,
    #: a child's plan otherwise (``autodeep.search.morphing``); ``None`` in any other search.
    lineage: dict | None = None

    def __init__(self, values: dict[str, Any] | None = None, source: Source | None = None):
        self.values: dict[str, Any] = {}
        self.space: dict[str, Spec] = {}
        self._fixed = dict(values or {})
        self._source = source
        self._scopes: list[str] = []

    # -- scoping -------------------------------------------------------------
    @contextlib.contextmanager
    def name_scope(self, name: str):
        """Prefix every name declared inside the ``with`` block by ``name/``."""
        self._scopes.append(name)
        try:
            yield
        finally:
            self._scopes.pop()

    @contextlib.contextmanager
    def conditional_scope(self, parent_name: str, parent_values: Sequence[Any]):
        """KerasTuner compatibility: conditions are implicit in define-by-run."""
        yield

    def fix(self, values: dict[str, Any]) -> "HyperParameters":
        """Fix more values by full name (they win over the source); returns ``self``.

        Example:
            >>> HyperParameters().fix({"units": 8}).Int("units", 1, 64)
            8
        """
        self._fixed.update(values)
        return self

    def full_name(self, name: str) -> str:
        return "/".join(self._scopes + [name])

    def get(self, name: str) -> Any:
        """The value already handed out under ``name`` (full or scope-relative)."""
        for key in (self.full_name(name), name):
            if key in self.values:
                return self.values[key]
        raise KeyError(f"No hyperparameter named {name!r} has been declared; declared: {sorted(self.values)}")

    # -- declarations --------------------------------------------------------
    def _declare(self, spec: Spec) -> Any:
        name = spec.name
        if name in self.values:
            return self.values[name]
        if name in self._fixed:
            value = self._fixed[name]
        elif self._source is not None and spec.kind != "fixed":
            value = self._source(spec)
        else:
            value = spec.default
        self.space[name] = spec
        self.values[name] = value
        return value

    def Choice(self, name: str, values: Sequence[Any], ordered: bool | None = None, default: Any = None) -> Any:
        values = tuple(values)
        if not values:
            raise ValueError(f"hp.Choice({name!r}): values must be a non-empty sequence, received {values!r}.")
        for value in values:
            if not isinstance(value, _PRIMITIVES):
                raise TypeError(
                    f"hp.Choice({name!r}): values must be None, bool, int, float or str; "
                    f"received {value!r} of type {type(value).__name__}.")
        if default is None:
            default = values[0]
        elif default not in values:
            raise ValueError(f"hp.Choice({name!r}): default {default!r} is not one of {list(values)}.")
        return self._declare(Spec("choice", self.full_name(name), choices=values, default=default))

    def Int(self, name: str, min_value: int, max_value: int, step: int | None = None,
            sampling: str | None = "linear", default: int | None = None) -> int:
        if min_value > max_value:
            raise ValueError(f"hp.Int({name!r}): min_value {min_value} is greater than max_value {max_value}.")
        log = sampling == "log"
        default = min_value if default is None else default
        return self._declare(Spec("int", self.full_name(name), low=int(min_value), high=int(max_value),
                                  step=None if log else (step or 1), log=log, default=int(default)))

    def Float(self, name: str, min_value: float, max_value: float, step: float | None = None,
              sampling: str | None = "linear", default: float | None = None) -> float:
        if min_value > max_value:
            raise ValueError(f"hp.Float({name!r}): min_value {min_value} is greater than max_value {max_value}.")
        log = sampling == "log"
        default = min_value if default is None else default
        return self._declare(Spec("float", self.full_name(name), low=float(min_value), high=float(max_value),
                                  step=None if log else step, log=log, default=float(default)))

    def Boolean(self, name: str, default: bool = False) -> bool:
        return self._declare(Spec("boolean", self.full_name(name), choices=(False, True), default=bool(default)))

    def Fixed(self, name: str, value: Any) -> Any:
        return self._declare(Spec("fixed", self.full_name(name), default=value))

    choice, int, float, boolean, fixed = Choice, Int, Float, Boolean, Fixed


def random_source(rng) -> Source:
    """A source that draws every value at random from its spec, with ``rng`` (a ``random.Random``).

    Example:
        >>> import random
        >>> hp = HyperParameters(source=random_source(random.Random(0)))
        >>> hp.Choice("act", ["relu", "gelu"]) in ("relu", "gelu")
        True
    """
    return lambda spec: spec.random_value(rng)
