"""Cohorts: a planned trial and its siblings, trained together (``AutoModel(cohort_size=...)``).

A sibling has its leader's values except for names that do not change the compiled program (the learning rate,
values read only when weights are initialised): the Trainer can then train the leader and its siblings as one
program (``autodeep.train.cohort``). Each sibling is an Optuna trial of its own, with its own score, so
ensembles, resume and reports see ordinary trials; a sibling records its leader as ``sibling_of``, and does
not take a place in the planned order (known-good configurations, greedy's draws).
"""

from __future__ import annotations

from typing import Any

SIBLING_OF = "sibling_of"  # a sibling trial's user attribute: its leader's number
COHORT = "cohort"  # a trial's user attribute when it trained in a cohort: the numbers of its members, leader first


def sibling_values(values: dict[str, Any], space: dict, names: list[str], count: int) -> list[dict[str, Any]]:
    """``count`` siblings of a trial with ``values``: each takes the next choices of ``names`` after the
    leader's (in the order the space lists them), so a cohort tries as many distinct values as it can.

    Example:
        >>> from autodeep.graph.hyperparameters import Spec
        >>> space = {"learning_rate": Spec("choice", "learning_rate", choices=(1e-3, 3e-3, 3e-4), default=1e-3)}
        >>> [v["learning_rate"] for v in sibling_values({"learning_rate": 3e-3, "units": 8}, space,
        ...                                             ["learning_rate"], 3)]
        [0.0003, 0.001, 0.003]
    """
    siblings = []
    for j in range(1, count + 1):
        sibling = dict(values)
        for name in names:
            choices = list(space[name].choices)
            sibling[name] = choices[(choices.index(values[name]) + j) % len(choices)]
        siblings.append(sibling)
    return siblings


def once_per_cohort(trials, attribute: str) -> float:
    """The sum of a time ``attribute`` (``"fit_seconds"``, ``"seconds"``) over ``trials``, a cohort's trials
    counted once (their longest): they spent the same seconds together.

    Example:
        >>> from types import SimpleNamespace as T
        >>> once_per_cohort([T(number=0, user_attrs={"seconds": 2.0}),
        ...                  T(number=1, user_attrs={"seconds": 3.0, "cohort": [1, 2]}),
        ...                  T(number=2, user_attrs={"seconds": 2.5, "cohort": [1, 2]})], "seconds")
        5.0
    """
    seconds: dict = {}
    for t in trials:
        key = t.user_attrs.get(COHORT, [t.number])[0]
        seconds[key] = max(seconds.get(key, 0.0), t.user_attrs.get(attribute, 0.0))
    return sum(seconds.values())
