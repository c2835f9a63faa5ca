"""Time-series benchmark: autodeep's TimeseriesForecaster vs naive and seasonal-naive forecasts.

    python benchmarks/timeseries.py --time-limit 60 --series co2 sunspots --horizon 1

Series (statsmodels' bundled copies, read offline): ``co2``, Mauna Loa CO2 resampled to months (526 steps,
season 12, gaps forward-filled); ``sunspots``, yearly sunspot numbers 1700-2008 (309 steps, an 11-year cycle).
Per series: the last --test-share of the steps is the test part; autodeep fits on the rest (its own
validation split is the end of that part) with lookback = two seasons, then forecasts 1..--horizon steps
ahead from every window ending in the test part (history before the test part is given as context, as
it would be known). Scores are MAE and RMSE over every forecast step whose target lies in the test part.
Baselines: naive (the last value) and seasonal naive (the value one season before the target step).
--data-dir is unused (the data ship with statsmodels).
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile

import numpy as np
import pandas as pd

import _common as C

SYSTEMS = ("autodeep", "seasonal_naive", "naive")
COLUMNS = ["series", "steps", "test_steps", "horizon", "system", "mae", "rmse", "wall_s", "peak_rss_mb", "error"]


def load_series(name: str) -> tuple[pd.Series, int]:
    """``(values in time order, season length)`` of a statsmodels dataset."""
    from statsmodels import datasets

    if name == "co2":
        return datasets.co2.load_pandas().data["co2"].resample("MS").mean().ffill().reset_index(drop=True), 12
    if name == "sunspots":
        return datasets.sunspots.load_pandas().data["SUNACTIVITY"].reset_index(drop=True), 11
    raise ValueError(f"unknown series {name!r}; choose from co2, sunspots")


def targets(values: np.ndarray, ends: np.ndarray, horizon: int) -> np.ndarray:
    return np.stack([values[ends + k] for k in range(1, horizon + 1)], axis=1)


def naive(values, ends, horizon, season):
    return np.repeat(values[ends][:, None], horizon, axis=1)


def seasonal_naive(values, ends, horizon, season):
    """Step k after t: the value at t + k - season * ceil(k / season), the last observed one of that season."""
    return np.stack([values[ends + k - season * math.ceil(k / season)] for k in range(1, horizon + 1)], axis=1)


def run_autodeep(series: pd.Series, test_start: int, ends: np.ndarray, horizon: int, season: int, args, seed: int):
    import autodeep as ak

    frame = series.rename("value").to_frame()
    lookback = 2 * season
    with tempfile.TemporaryDirectory(prefix="autodeep_bench_") as tmp:
        model = ak.TimeseriesForecaster(lookback=lookback, predict_from=1, predict_until=horizon,
                                        time_limit=args.time_limit, max_trials=1000, seed=seed, directory=tmp,
                                        overwrite=True, verbose=0)
        model.fit(frame.iloc[:test_start], "value")
        history = frame.iloc[ends[0] - lookback + 1: ends[-1] + 1]  # windows ending at each of ends
        forecast = np.asarray(model.predict(history)).reshape(len(ends), horizon)
    return forecast


def errors(truth: np.ndarray, forecast: np.ndarray) -> dict:
    diff = forecast - truth
    return {"mae": float(np.mean(np.abs(diff))), "rmse": float(np.sqrt(np.mean(diff ** 2)))}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--series", nargs="+", default=["co2", "sunspots"], choices=["co2", "sunspots"])
    p.add_argument("--horizon", type=int, default=1, help="forecast steps 1..H after each window (default 1)")
    p.add_argument("--test-share", type=float, default=0.2, help="last share of the steps held out (default 0.2)")
    p.add_argument("--time-limit", type=float, default=60, help="autodeep time limit per series, s (default 60)")
    p.add_argument("--seed", type=int, default=0)
    C.add_io_arguments(p, "timeseries_h{horizon}_{time_limit}")
    args = p.parse_args(argv)
    args.out = C.result_path(args)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    print(C.md_table([], COLUMNS), end="", flush=True)
    rows = []
    for name in args.series:
        series, season = load_series(name)
        values = series.to_numpy(dtype="float64")
        test_start = len(values) - int(round(len(values) * args.test_share))
        ends = np.arange(test_start - 1, len(values) - args.horizon)  # every window whose targets are test steps
        truth = targets(values, ends, args.horizon)
        for system in SYSTEMS:
            row = dict.fromkeys(COLUMNS) | {"series": name, "steps": len(values), "horizon": args.horizon,
                                            "test_steps": len(values) - test_start, "system": system}
            try:
                with C.Timer() as t:
                    if system == "autodeep":
                        forecast = run_autodeep(series, test_start, ends, args.horizon, season, args, args.seed)
                    else:
                        forecast = {"naive": naive, "seasonal_naive": seasonal_naive}[system](
                            values, ends, args.horizon, season)
                row |= errors(truth, forecast) | {"wall_s": t.seconds}
            except Exception as e:  # one failure is a row, not the end of the run
                row["error"] = f"{type(e).__name__}: {e}"[:300]
            row["peak_rss_mb"] = C.peak_rss_mb()
            rows.append(row)
            print(C.md_row(row.values()), flush=True)

    report = (C.header("Time-series benchmark: autodeep vs naive and seasonal-naive forecasts",
                       ("keras", "jax", "statsmodels"))
              + f"- time limit (autodeep, per series): {args.time_limit:g} s; horizon: {args.horizon}; "
                f"test share: {args.test_share:g}; seed: {args.seed}\n"
              + "\n## Runs\n\n" + C.md_table(rows, COLUMNS))
    md, csv = C.write_report(args.out, report, rows)
    print(f"wrote {md} and {csv}")


if __name__ == "__main__":
    sys.exit(main())
