"""The ``autodeep`` command on images and texts, run as a user runs it: a folder of class sub-folders of
images, a table with a text column, a table with a column of image paths; ``predict`` to match. The folder
of images is fit in a subprocess, as a user runs the command; the other runs call ``main`` in this process
(each subprocess imports Keras and the backend again)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import autodeep as ak
from autodeep.cli import main

REPO = Path(__file__).resolve().parents[1]
QUICK = ["--max-trials", "1", "--epochs", "1", "--quiet", "--seed", "0"]
POSITIVE = ["great fun film", "loved it", "wonderful acting", "a joy to watch", "brilliant and moving"]
NEGATIVE = ["boring and bad", "awful plot", "terrible acting", "a waste of time", "dull and slow"]


def _cli(*args, cwd) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "autodeep.cli", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env={**__import__("os").environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _run(*args) -> None:
    """The command in this process (one subprocess, ``photo_model``'s fit, runs it as a user does)."""
    assert main([str(a) for a in args]) == 0


def _photos(folder: Path) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, level in (("bright", 200), ("dark", 40)):
        (folder / "photos" / name).mkdir(parents=True)
        for i in range(10):
            pixels = np.clip(level + rng.normal(0, 20, (8, 8, 3)), 0, 255).astype("uint8")
            Image.fromarray(pixels).save(folder / "photos" / name / f"{i}.png")
    return folder / "photos"


def _reviews(folder: Path) -> Path:
    rows = [(t, "pos", 5) for t in POSITIVE * 4] + [(t, "neg", 1) for t in NEGATIVE * 4]
    path = folder / "reviews.csv"
    pd.DataFrame(rows, columns=["review", "label", "stars"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def photo_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    photos = _photos(folder)
    _cli("fit", photos, "--task", "image", "--out", folder / "model", "--directory", folder / "runs", *QUICK,
         cwd=folder)
    return folder, photos, folder / "model"


def test_fit_a_folder_of_images_and_predict_another(photo_model):
    folder, photos, model_dir = photo_model
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["inputs"][0]["kind"] == "image" and manifest["info"]["task"] == "ImageClassifier"
    _run("predict", model_dir, photos, "--output", folder / "preds.csv", "--proba")
    preds = pd.read_csv(folder / "preds.csv")
    files = sorted(str(p) for p in photos.rglob("*.png"))
    assert preds["path"].tolist() == files and set(preds["prediction"]) <= {"bright", "dark"}
    np.testing.assert_allclose(preds[["proba_bright", "proba_dark"]].sum(axis=1), 1.0, atol=1e-5)
    # the command predicts what the Python API predicts with the same saved model
    assert preds["prediction"].tolist() == ak.load_model(model_dir).predict(files).tolist()


def test_fit_a_table_column_of_image_paths_as_regression(photo_model, tmp_path, monkeypatch, capsys):
    _, photos, _ = photo_model
    files = sorted(photos.rglob("*.png"))
    table = pd.DataFrame({"file": [str(p.relative_to(photos)) for p in files],
                          "level": [200.0 if p.parent.name == "bright" else 40.0 for p in files]})
    table["level"] += np.arange(len(table)) * 0.37  # many distinct values: inferred as regression
    table.to_csv(photos / "levels.csv", index=False)  # paths relative to the table's folder
    monkeypatch.chdir(tmp_path)
    _run("fit", photos / "levels.csv", "--target", "level", "--image-column", "file", "--out", tmp_path / "model",
         "--directory", tmp_path / "runs", *QUICK)
    assert json.loads((tmp_path / "model" / "manifest.json").read_text())["info"]["task"] == "ImageRegressor"
    capsys.readouterr()
    _run("predict", tmp_path / "model", photos / "levels.csv")  # column remembered
    out = capsys.readouterr().out
    preds = pd.read_csv(__import__("io").StringIO(out))
    expected = ak.load_model(tmp_path / "model").predict([str(p) for p in files])
    np.testing.assert_allclose(preds["prediction"], expected, rtol=1e-4)


def test_fit_a_text_column_and_predict_with_the_remembered_column(tmp_path, monkeypatch):
    reviews = _reviews(tmp_path)
    monkeypatch.chdir(tmp_path)
    _run("fit", reviews, "--target", "label", "--text-column", "review", "--out", tmp_path / "model",
         "--directory", tmp_path / "runs", *QUICK)
    assert json.loads((tmp_path / "model" / "manifest.json").read_text())["info"]["task"] == "TextClassifier"
    _run("predict", tmp_path / "model", reviews, "--output", tmp_path / "preds.csv")
    preds = pd.read_csv(tmp_path / "preds.csv")
    texts = pd.read_csv(reviews)["review"].tolist()
    assert len(preds) == len(texts) and set(preds["prediction"]) <= {"pos", "neg"}
    assert preds["prediction"].tolist() == ak.load_model(tmp_path / "model").predict(texts).tolist()
    # new data may name its text column differently
    pd.DataFrame({"comment": ["loved it", "awful plot"]}).to_csv(tmp_path / "new.csv", index=False)
    _run("predict", tmp_path / "model", tmp_path / "new.csv", "--text-column", "comment", "--output",
         tmp_path / "new_preds.csv")
    assert pd.read_csv(tmp_path / "new_preds.csv")["prediction"].tolist() == \
        ak.load_model(tmp_path / "model").predict(["loved it", "awful plot"]).tolist()


@pytest.mark.parametrize("args, words", [
    (["fit", "{reviews}", "--target", "label", "--text-column", "reveiw"],
     ["--text-column", "no column 'reveiw'", "'review'"]),
    (["fit", "{reviews}", "--target", "label", "--task", "image"], ["--task image with a table", "--image-column"]),
    (["fit", "{reviews}", "--text-column", "review"], ["--target is required with --text-column"]),
    (["fit", "{reviews}", "--target", "label", "--text-column", "review", "--image-column", "review"],
     ["--text-column and --image-column", "received both"]),
    (["fit", "{reviews}", "--target", "label", "--image-column", "review"],
     ["--image-column 'review'", "40 of 40 image files do not exist"]),
    (["fit", "{photos}", "--task", "image", "--target", "label"], ["--target:", "sub-folders name the classes"]),
    (["fit", "{photos}", "--task", "regression"], ["--task regression:", "--image-column"]),
    (["fit", "{photos}", "--text-column", "review"], ["--text-column:", "names a column of a CSV/Parquet table"]),
    (["predict", "{model}", "{reviews}"], ["--image-column is required", "the model reads images"]),
], ids=["misspelt-column", "image-task-without-column", "no-target", "two-columns", "missing-image-files",
        "target-with-folder", "regression-on-folder", "column-with-folder", "predict-without-column"])
def test_bad_options_get_an_error_naming_the_option(photo_model, tmp_path, capsys, args, words):
    _, photos, model_dir = photo_model
    (model_dir / "cli.json").rename(tmp_path / "cli.json")  # a model saved by the Python API has no remembered column
    try:
        paths = {"reviews": _reviews(tmp_path), "photos": photos, "model": model_dir}
        code = main([a.format(**paths) for a in args] + (["--out", str(tmp_path / "m")] if args[0] == "fit" else []))
    finally:
        (tmp_path / "cli.json").rename(model_dir / "cli.json")
    error = capsys.readouterr().err
    assert code == 2 and error.startswith(f"autodeep {args[0]}: error: "), error
    for word in words:
        assert word in error, (word, error)
