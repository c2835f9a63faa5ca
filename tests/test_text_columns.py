"""Free-text columns in tables: recognised, fed through a text branch, and carried by the exported model."""

import numpy as np
import pandas as pd

import autodeep as ak
from autodeep.data import infer_column_types
from helpers import auc_by_columns

GOOD = ["great", "love", "excellent", "perfect", "comfortable", "recommend", "beautiful", "happy"]
BAD = ["bad", "awful", "broken", "poor", "returned", "cheap", "disappointed", "itchy"]
FILLER = ["the", "dress", "was", "really", "quite", "and", "my", "order", "fit", "size", "colour", "fabric",
          "this", "top", "for", "summer", "it", "is", "a", "bit", "after", "washing", "very", "looks"]


def reviews_table(n: int, seed: int = 0) -> pd.DataFrame:
    """Product reviews beside an age and a department; whether the buyer recommends the product shows in the
    words of the review (one or two sentiment words among filler, flipped for 10 % of the rows), while age and
    department are unrelated to it."""
    rng = np.random.default_rng(seed)
    liked = rng.random(n) < 0.5
    texts = []
    for like in liked:
        words = list(rng.choice(FILLER, rng.integers(5, 12)))
        for _ in range(rng.integers(1, 3)):
            words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(GOOD if like else BAD)))
        texts.append(" ".join(words))
    recommended = np.where(rng.random(n) < 0.9, liked, ~liked)
    return pd.DataFrame({"review": texts, "age": rng.integers(18, 80, n),
                         "department": rng.choice(["dresses", "tops", "knits"], n),
                         "recommended": np.where(recommended, "yes", "no")})


def test_inference_tells_free_text_from_categories_and_column_types_overrides_it():
    df = reviews_table(60)
    df["size"] = np.random.default_rng(1).choice(["extra small petite", "large tall fit", "medium regular fit"], 60)
    assert infer_column_types(df.drop(columns="recommended")) == {
        "review": "text", "age": "numerical", "department": "categorical", "size": "categorical"}
    short = df.head(10)  # too few distinct values to learn words from: a category unless declared
    assert infer_column_types(short)["review"] == "categorical"
    assert infer_column_types(short, column_types={"review": "text"})["review"] == "text"
    assert infer_column_types(df, column_types={"review": "categorical"})["review"] == "categorical"


def test_a_text_column_carries_its_signal_into_the_model_and_the_saved_artifact(tmp_path):
    df = reviews_table(900)
    train, test = df.iloc[:600], df.iloc[600:]
    fits = auc_by_columns(tmp_path, train, test, "recommended", "yes",
                          {"with_text": ["review", "age", "department"], "without_text": ["age", "department"]},
                          epochs=5)
    scores = {name: auc for name, (auc, _) in fits.items()}
    clf = fits["with_text"][1]
    loaded = ak.load_model(clf.save(tmp_path / "reviews_model"))
    raw = test[["review", "age", "department"]].copy()
    raw.loc[raw.index[:3], "review"] = None  # a missing review is an empty text
    np.testing.assert_allclose(loaded.predict_proba(raw), clf.predict_proba(raw), atol=1e-6)
    assert np.isfinite(loaded.predict_proba(raw)).all()
    assert scores["with_text"] > 0.8, scores
    assert scores["with_text"] > scores["without_text"] + 0.2, scores
