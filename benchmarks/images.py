"""Image benchmark: ak.ImageClassifier on MNIST, CIFAR-10 and scikit-learn digits, plus a run from a folder.

    python benchmarks/images.py --time-limit 600 --datasets mnist cifar10 digits cifar10_folder

- mnist: MNIST t10k, first 8,000 images to train, last 2,000 to test.
- cifar10: the CIFAR-10 test set (npz, JPEG-rebuilt), first 8,000 / last 2,000.
- digits: scikit-learn's 8x8 digits (csv.gz), stratified 80/20 split (seed 0).
- cifar10_folder: the same 10,000 CIFAR images written as PNG files into class sub-folders of a
  temporary directory; fit streams the 8,000 training files from the folder, predict reads the
  2,000 test files by path.
Each dataset runs in its own process, so "peak_rss_mb" is that run's own peak resident memory.
Accuracy is on the held-out images; wall_s covers fit + predict. Writes
benchmarks/results/images_<backend>_<time limit>.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import _common as C

DATASETS = ("mnist", "cifar10", "digits", "cifar10_folder")
COLUMNS = ["dataset", "train", "test", "image_shape", "accuracy", "wall_s", "peak_rss_mb", "trials", "final",
           "best_params", "error"]


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(root: Path, name: str):
    if name == "mnist":
        x = _idx(root / "image/mnist_t10k-images-idx3-ubyte.gz")
        y = _idx(root / "image/mnist_t10k-labels-idx1-ubyte.gz")
        return x[:8000], y[:8000], x[8000:], y[8000:]
    if name.startswith("cifar10"):
        d = np.load(root / "image/cifar10_test_jpeg.npz", allow_pickle=False)
        x, y = d["x"], np.asarray(d["class_names"])[d["y"]]
        return x[:8000], y[:8000], x[8000:], y[8000:]
    frame = pd.read_csv(root / "image/sklearn_digits.csv.gz", header=None)
    x = frame.iloc[:, :-1].to_numpy("float32").reshape(-1, 8, 8)
    y = frame.iloc[:, -1].to_numpy()
    x_tr, x_te, y_tr, y_te = C.split(x, y, seed=0)
    return x_tr, y_tr, x_te, y_te


def write_folder(x, y, root: Path, prefix: str) -> list[str]:
    from PIL import Image

    paths = []
    for i, (image, label) in enumerate(zip(x, y)):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{prefix}_{i:05d}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    return paths


def run_one(args) -> dict:
    import autodeep as ak

    root = C.data_dir(args.data_dir)
    x_tr, y_tr, x_te, y_te = load(root, args.one)
    row = {"dataset": args.one, "train": len(x_tr), "test": len(x_te), "image_shape": "x".join(map(str, x_tr.shape[1:]))}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clf = ak.ImageClassifier(max_trials=args.max_trials, time_limit=args.time_limit, directory=tmp / "runs",
                                 overwrite=True, seed=0, verbose=1)
        if args.one == "cifar10_folder":
            write_folder(x_tr, y_tr, tmp / "train", "train")
            test_paths = write_folder(x_te, y_te, tmp / "test", "test")
            del x_tr, x_te  # only files from here on
            with C.Timer() as timer:
                clf.fit(str(tmp / "train"))
                predicted = clf.predict(test_paths)
        else:
            with C.Timer() as timer:
                clf.fit(x_tr, y_tr)
                predicted = clf.predict(x_te)
        manifest = json.loads((clf.predictor_.path / "manifest.json").read_text())
        info = manifest["info"]
        row.update(accuracy=float(np.mean(np.asarray(predicted).astype(str) == np.asarray(y_te).astype(str))),
                   wall_s=timer.seconds, trials=len(clf.tuner_results), final=info["final"]["kind"],
                   best_params=json.dumps({k.split("/")[-1]: v for k, v in info["params"].items()}))
    row["peak_rss_mb"] = C.peak_rss_mb()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--time-limit", type=float, default=600)
    parser.add_argument("--max-trials", type=int, default=10)
    C.add_io_arguments(parser, "images_{backend}_{time_limit}")
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "jax"), choices=("jax", "torch"),
                        help="Keras backend of the runs (torch convolutions are ~2x faster on this CPU)")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.out = C.result_path(args)
    os.environ["KERAS_BACKEND"] = args.backend  # the --one subprocesses inherit it
    if args.one:
        print("RESULT " + json.dumps(run_one(args)), flush=True)
        return
    rows = []
    for name in args.datasets:
        cmd = [sys.executable, __file__, "--one", name, "--time-limit", str(args.time_limit),
               "--max-trials", str(args.max_trials)] + (["--data-dir", args.data_dir] if args.data_dir else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        sys.stdout.write(proc.stdout[-3000:])
        found = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        row = json.loads(found[-1][7:]) if found else {"dataset": name, "error": proc.stderr[-500:]}
        rows.append(row)
        print(C.md_row(row.get(c) for c in COLUMNS), flush=True)
    targets = ("Targets with --time-limit 600 on 2 cores: MNIST accuracy >= 0.985, CIFAR-10 >= 0.60 "
               "(2,000 held-out images each); folder run peak RSS < 2 GB.\n")
    markdown = (C.header("Images: ak.ImageClassifier", ("keras", args.backend, "numpy", "pillow")) +
                f"- backend: {args.backend}\n- time_limit: {args.time_limit:g} s per dataset, max_trials {args.max_trials}\n\n" + targets + "\n" +
                C.md_table(rows, COLUMNS))
    C.write_report(args.out, markdown, rows)
    print(markdown)


if __name__ == "__main__":
    main()
