import random

import pytest

from autodeep.graph import HyperParameters, random_source
from autodeep.search.space import distribution


def test_defaults_fixed_values_and_scopes():
    hp = HyperParameters(values={"b/units": 32})
    with hp.name_scope("b"):
        assert hp.Int("units", 16, 128, default=64) == 32          # fixed value wins
        assert hp.Choice("act", ["relu", "gelu"], default="gelu") == "gelu"  # default otherwise
        assert hp.Int("units", 1, 2) == 32                           # same name, same value
    assert hp.values == {"b/units": 32, "b/act": "gelu"}
    assert hp.get("b/act") == "gelu"


def test_random_source_stays_in_range_and_is_seeded():
    def draw(seed):
        hp = HyperParameters(source=random_source(random.Random(seed)))
        return [hp.Float("lr", 1e-4, 1e-1, sampling="log"), hp.Int("n", 1, 9, step=2), hp.Boolean("b")]

    values = draw(3)
    assert 1e-4 <= values[0] <= 1e-1 and values[1] in (1, 3, 5, 7, 9) and values[2] in (True, False)
    assert draw(3) == values
    assert any(draw(s) != values for s in range(4, 10))


def test_bad_declarations_name_the_hyperparameter():
    hp = HyperParameters()
    with pytest.raises(ValueError, match="'units'.*min_value 5 is greater"):
        hp.Int("units", 5, 1)
    with pytest.raises(ValueError, match="default 'x' is not one of"):
        hp.Choice("act", ["relu"], default="x")
    with pytest.raises(TypeError, match="must be None, bool, int, float or str"):
        hp.Choice("layers", [[1, 2]])


def test_specs_map_to_optuna_distributions():
    hp = HyperParameters()
    hp.Float("lr", 1e-4, 1e-2, sampling="log")
    hp.Choice("units", [16, 32])
    dists = {name: distribution(spec) for name, spec in hp.space.items()}
    assert dists["lr"].log and dists["lr"].low == 1e-4
    assert list(dists["units"].choices) == [16, 32]
