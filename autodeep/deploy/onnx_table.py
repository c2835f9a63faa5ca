"""The ONNX graph of a fitted ``TablePreprocessor``: raw columns in, the network's two table arrays out.

Built with ``onnx.helper`` node by node, and matching ``TabularPreprocessor.transform``:

- a numeric column (a ``double`` input ``(n, 1)``): NaN and infinities are gaps; a missing flag where the
  column had gaps in training; gaps take the training median; the quantile transform is a piecewise-linear
  interpolation over the stored quantiles (the mean of the upward and downward ones ``_normal_scores`` takes,
  ``tied_segments``), then
  the standard normal quantile function (Acklam's rational approximation, relative error below 1.2e-9),
  clipped to +-5;
- a categorical column (a ``string`` input ``(n, 1)``): ``LabelEncoder`` from the vocabulary to codes 1..K,
  with every other string (unseen or rare in training) to 0, as ``predict`` maps them;
- an ID code (``autodeep.data.category_stats``): its count and target statistics are ``LabelEncoder`` lookups of
  its input in the stored levels (an unseen level: count 0, the prior), then numeric columns as above. A numerical
  column that is a code keeps its one ``double`` input: its levels are looked up as numbers (a gap as the
  training level of gaps), for the statistics and for its embedding's codes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from onnx import TensorProto, helper, numpy_helper
from scipy.special import ndtr

from autodeep.data.category_stats import statistic_names, statistic_tables
from autodeep.data.tabular import CLIP, MISSING

# Acklam's coefficients for the inverse of the standard normal distribution function.
_A = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02, 1.383577518672690e02,
      -3.066479806614716e01, 2.506628277459239e00)
_B = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02, 6.680131188771972e01,
      -1.328068155288572e01, 1.0)
_C = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00, -2.549732539343734e00,
      4.374664141464968e00, 2.938163982698783e00)
_D = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00, 3.754408661907416e00, 1.0)
_P_LOW = 0.02425


class GraphBuilder:
    """Collects ONNX nodes and constants under unique names (a thin layer over ``onnx.helper``).

    Example:
        >>> g = GraphBuilder("t")
        >>> g.op("Add", g.const(np.ones(1)), g.const(np.ones(1))).startswith("t_")
        True
    """

    def __init__(self, prefix: str):
        self.prefix, self.nodes, self.initializers, self._count = prefix, [], [], 0

    def name(self, hint: str = "v") -> str:
        self._count += 1
        return f"{self.prefix}_{hint}_{self._count}"

    def const(self, value) -> str:
        name = self.name("c")
        self.initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, output: str | None = None, domain: str = "", **attrs) -> str:
        output = output or self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], domain=domain, **attrs))
        return output

    def polynomial(self, x: str, coefficients) -> str:
        """``c0 * x^(n-1) + ... + c_last`` by Horner's rule."""
        out = self.const(np.float64(coefficients[0]))
        for c in coefficients[1:]:
            out = self.op("Add", self.op("Mul", out, x), self.const(np.float64(c)))
        return out


def tied_segments(knots: np.ndarray, values: np.ndarray) -> dict[str, np.ndarray]:
    """The mean of ``np.interp`` upwards and downwards (``_normal_scores``) as segments over the distinct knots.

    Between distinct knots both directions draw the same line, from the value at the last copy of the left
    knot to the value at the first copy of the right one; on a knot shared by several quantiles they differ
    (upwards the last copy's value, downwards the first's), so the mean takes the middle. Segment ``j``
    (0 .. number of distinct knots) starts at distinct knot ``j - 1``; segment 0 is the flat part below the
    first knot, the last segment the flat part from the last knot on. Returns per segment its ``start`` knot,
    the ``value`` there, its ``slope``, and ``at_knot``, the value of ``x`` equal to its start knot.

    Example:
        >>> tied_segments(np.array([0.0, 1.0, 1.0, 2.0]), np.array([0.1, 0.3, 0.5, 0.7]))["at_knot"].tolist()
        [0.1, 0.1, 0.4, 0.7]
    """
    distinct, first = np.unique(knots, return_index=True)
    last = len(knots) - 1 - np.unique(knots[::-1], return_index=True)[1]
    first_value, last_value = values[first], values[last]
    slope = np.zeros(len(distinct) + 1)
    slope[1:-1] = (first_value[1:] - last_value[:-1]) / np.diff(distinct)
    return {"start": np.concatenate([[distinct[0]], distinct]),
            "value": np.concatenate([[first_value[0]], last_value]),
            "slope": slope,
            "at_knot": np.concatenate([[first_value[0]], 0.5 * (first_value + last_value)])}


def interpolate_tied(g: GraphBuilder, x: str, knots: np.ndarray, values: np.ndarray) -> str:
    """The graph of ``tied_segments``' function at ``x`` (``(n, 1)`` double): the segment is the number of
    distinct knots ``<= x``; one comparison with the distinct knots per row."""
    segments = tied_segments(knots, values)
    distinct = segments["start"][1:]
    at_or_below = g.op("Cast", g.op("LessOrEqual", g.const(distinct[None, :]), x), to=TensorProto.INT64)
    index = g.op("ReduceSum", at_or_below, g.const(np.array([1], dtype="int64")), keepdims=1)
    pick = {name: g.op("Gather", g.const(array), index, axis=0) for name, array in segments.items()}
    line = g.op("Add", pick["value"], g.op("Mul", g.op("Sub", x, pick["start"]), pick["slope"]))
    return g.op("Where", g.op("Equal", x, pick["start"]), pick["at_knot"], line)


def normal_quantile(g: GraphBuilder, p: str) -> str:
    """The standard normal quantile of ``p`` (double), clipped to +-``CLIP`` (``p`` is clipped first)."""
    bound = float(ndtr(-CLIP))
    p = g.op("Clip", p, g.const(np.float64(bound)), g.const(np.float64(1.0 - bound)))
    q = g.op("Sub", p, g.const(np.float64(0.5)))
    r = g.op("Mul", q, q)
    central = g.op("Div", g.op("Mul", g.polynomial(r, _A), q), g.polynomial(r, _B))

    def tail(probability: str) -> str:
        s = g.op("Sqrt", g.op("Mul", g.const(np.float64(-2.0)), g.op("Log", probability)))
        return g.op("Div", g.polynomial(s, _C), g.polynomial(s, _D))

    lower = tail(p)
    upper = g.op("Neg", tail(g.op("Sub", g.const(np.float64(1.0)), p)))
    is_lower = g.op("Less", p, g.const(np.float64(_P_LOW)))
    is_upper = g.op("Greater", p, g.const(np.float64(1.0 - _P_LOW)))
    z = g.op("Where", is_lower, lower, g.op("Where", is_upper, upper, central))
    return g.op("Clip", z, g.const(np.float64(-CLIP)), g.const(np.float64(CLIP)))


def normal_scores(g: GraphBuilder, x: str, quantiles: np.ndarray) -> str:
    """``_normal_scores``: the mean of the upward and downward interpolation, through the normal quantile."""
    n = len(quantiles)
    return normal_quantile(g, interpolate_tied(g, x, quantiles, (np.arange(n) + 0.5) / n))


def _numeric_column(g: GraphBuilder, name: str, median: float, quantiles: np.ndarray) -> tuple[str, str]:
    """``(score, gap flag)`` of one numeric input column, both float32 ``(n, 1)``."""
    gaps = g.op("Or", g.op("IsNaN", name), g.op("IsInf", name))
    flag = g.op("Cast", gaps, to=TensorProto.FLOAT)
    if quantiles[0] == quantiles[-1]:
        return g.op("Mul", flag, g.const(np.float32(0.0))), flag  # constant in training: always 0
    filled = g.op("Where", gaps, g.const(np.float64(median)), name)
    return g.op("Cast", normal_scores(g, filled, quantiles), to=TensorProto.FLOAT), flag


def table_graph(table, prefix: str, numerical_out: str, categorical_out: str):
    """``(inputs, builder)``: the value infos of the raw column inputs and the nodes that compute
    ``numerical_out`` (float32 ``(n, F)``) and ``categorical_out`` (int32 ``(n, C)``) from them, for a fitted
    ``TabularPreprocessor`` ``table``."""
    g = GraphBuilder(prefix)
    numbers, strings = raw_columns(table)
    inputs = ([helper.make_tensor_value_info(name, TensorProto.DOUBLE, ["n", 1]) for name in numbers]
              + [helper.make_tensor_value_info(name, TensorProto.STRING, ["n", 1]) for name in strings])
    statistics = {}  # statistic column -> its double values
    for state in table.statistics_:
        statistics.update(_statistics(g, state, numeric=state["name"] in numbers))
    scores, flags = [], []
    for name, median, quantiles in zip(table.numerical_columns_, table.medians_, table.quantiles_):
        score, flag = _numeric_column(g, statistics.get(name, name), median, np.asarray(quantiles, dtype="float64"))
        scores.append(score)
        if name in table.missing_indicator_columns_:
            flags.append((table.missing_indicator_columns_.index(name), flag))
    numerical = scores + [flag for _, flag in sorted(flags)]
    codes = [g.op("Cast", lookup(g, name, vocabulary, np.arange(1, len(vocabulary) + 1), 0, name in numbers),
                  to=TensorProto.INT32)
             for name, vocabulary in zip(table.categorical_columns_, table.vocabularies_)]
    _concat(g, numerical, numerical_out, TensorProto.FLOAT, inputs[0].name)
    _concat(g, codes, categorical_out, TensorProto.INT32, inputs[0].name)
    return inputs, g


def raw_columns(table) -> tuple[list[str], list[str]]:
    """``(numbers, strings)``: the raw columns a fitted ``TabularPreprocessor`` reads, as ``double`` and as
    ``string`` inputs (a numerical column that is also an ID code is read once, as a number)."""
    added = {name for state in table.statistics_ for name in statistic_names(state)}
    numbers = [name for name in table.numerical_columns_ if name not in added]
    strings = [name for name in table.categorical_columns_ if name not in numbers]
    strings += [state["name"] for state in table.statistics_ if state["name"] not in numbers + strings]
    return numbers, strings


def _statistics(g: GraphBuilder, state: dict, numeric: bool) -> dict[str, str]:
    """The statistic columns of one ID code's ``state`` (``statistics_values``), each a double ``(n, 1)``."""
    return {name: lookup(g, state["name"], state["levels"], per_level, unseen, numeric)
            for name, per_level, unseen in statistic_tables(state)}


def lookup(g: GraphBuilder, x: str, levels: list, values: np.ndarray, default, numeric: bool) -> str:
    """``values[i]`` where input ``x`` is ``levels[i]`` (level names as ``_category_strings`` writes them),
    ``default`` elsewhere; a ``numeric`` input is matched by value (levels that name no number, which its
    ``double`` input cannot hold, are left out), and its gaps (NaN) take the value of the level ``MISSING`` when
    there is one. Integer ``values`` give an int64 tensor, others a double one."""
    values = np.asarray(values, dtype="int64" if np.issubdtype(np.asarray(values).dtype, np.integer) else "float64")
    levels = np.asarray(levels, dtype=object)
    keys, rows = levels, np.arange(len(levels))
    if numeric:
        numbers = pd.to_numeric(pd.Series(levels), errors="coerce").to_numpy(dtype="float64")
        keys, rows = np.unique(numbers[~np.isnan(numbers)], return_index=True)  # one value per key
        rows = np.flatnonzero(~np.isnan(numbers))[rows]
    found = g.op("LabelEncoder", x, domain="ai.onnx.ml", keys_tensor=numpy_helper.from_array(keys, "keys"),
                 values_tensor=numpy_helper.from_array(values[rows], "values"),
                 default_tensor=numpy_helper.from_array(np.array([default], dtype=values.dtype), "default"))
    gap = np.flatnonzero(levels == MISSING)
    if not numeric or not len(gap):
        return found
    return g.op("Where", g.op("IsNaN", x), g.const(values[gap[:1]]), found)


def _concat(g: GraphBuilder, parts: list[str], output: str, dtype: int, rows_from: str) -> None:
    """``output``: the columns ``parts`` side by side; ``(n, 0)`` when there are none (``n``: the rows of the
    input ``rows_from``)."""
    if parts:
        g.op("Concat", *parts, axis=1, output=output)
        return
    shape = g.op("Concat", g.op("Shape", rows_from, end=1), g.const(np.array([0], dtype="int64")), axis=0)
    g.op("Cast", g.op("ConstantOfShape", shape), to=dtype, output=output)
