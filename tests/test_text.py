"""Texts: the vectoriser, text layers and blocks, TextClassifier/TextRegressor, folders, sentence pairs, bad input."""

from __future__ import annotations

import json

import keras
import numpy as np
import pandas as pd
import pytest

import autodeep as ak
from autodeep.blocks.text_layers import ColumnGather, ColumnSlices, GroupCosine, TokenClip, TokenRemap
from autodeep.data.text import TextVectorizer
from autodeep.graph import Graph, GraphError, HyperParameters
from tests.conftest import data_file

FAST = dict(max_trials=1, verbose=0, seed=0, ensemble_size=1)
POS = ["a great and fun film", "loved it, great acting", "fun fun fun", "wonderful story, great cast",
       "superb and moving", "great music and fun"]
NEG = ["a boring and bad film", "hated it, awful acting", "bad bad bad", "terrible story, awful cast",
       "dull and slow", "awful music and boring"]


def sentiment(repeat: int = 4):
    return (POS + NEG) * repeat, (["pos"] * len(POS) + ["neg"] * len(NEG)) * repeat


# -- vectoriser --------------------------------------------------------------
def test_vectorizer_handles_unicode_empty_and_unknown_text_and_round_trips_through_json():
    texts = ["Café crème, très bon!", "", "日本語 テキスト", "CAFÉ   crème", "naïve café"]
    v = TextVectorizer(max_features=200).fit(texts)
    out = v.transform(texts + ["zzz unseen"])
    tfidf, tokens = out["tfidf"], out["tokens"]
    assert tfidf.dtype == np.float16 and tokens.dtype == np.int32 and tokens.shape == (6, v.sequence_length_)
    assert not tfidf[1].any() and not tokens[1].any()                # the empty text is all zero / padding
    np.testing.assert_array_equal(tokens[0, :2], tokens[3, :2])      # NFKC + casefold: CAFÉ crème == Café crème
    assert tokens[5, 0] == 1                                          # unknown word -> id 1
    groups = v.groups()
    for start, stop in groups.values():                               # each n-gram group has unit L2 norm
        norms = np.linalg.norm(tfidf[0, start:stop].astype("float32"))
        assert norms == pytest.approx(1.0, abs=1e-2)
    restored = TextVectorizer.from_config(json.loads(json.dumps(v.get_config())))
    again = restored.transform(texts + ["zzz unseen"])
    np.testing.assert_array_equal(again["tfidf"], tfidf)
    np.testing.assert_array_equal(again["tokens"], tokens)


def test_vectorizer_bounds_the_dense_matrix_and_ranks_terms_by_document_frequency():
    texts = [f"common word{i} other{i % 7}" for i in range(300)]
    v = TextVectorizer(max_features=50).fit(texts)
    assert v.groups()["char"][1] <= 50 and v.terms_["word1"][0] == "common"
    assert v.specs()["features"]["tfidf"] == ((v.groups()["char"][1],), "float16")


@pytest.mark.parametrize("bad, error, match", [
    (["fine", 3, "text"], TypeError, r"x\[1\] must be a string"),
    (["ok", None], TypeError, r"x\[1\] must be a string"),
    (["", "  ", "\n"], ValueError, "all 3 texts are empty"),
    ("just one string", TypeError, "single str"),
    (np.array([["a", "b"], ["c", "d"]]), ValueError, "one string per row"),
])
def test_vectorizer_rejects_bad_texts_naming_the_argument(bad, error, match):
    with pytest.raises(error, match=match):
        TextVectorizer().fit(bad)


# -- layers and blocks -------------------------------------------------------
def test_text_layers_select_columns_clip_tokens_and_align_vocabularies():
    x = np.arange(6, dtype="float16").reshape(1, 6)
    np.testing.assert_allclose(np.asarray(ColumnSlices([[0, 2], [4, 5]], scale=0.5)(x)), [[0.0, 0.5, 2.0]])
    np.testing.assert_array_equal(np.asarray(TokenClip(4, 3)(np.array([[3, 4, 9, 2]], "int32"))), [[3, 1, 1]])
    np.testing.assert_array_equal(np.asarray(ColumnGather([2, 0, 3])(np.array([[1., 2., 3.]], "float32"))),
                                  [[3., 1., 0.]])
    np.testing.assert_array_equal(np.asarray(TokenRemap([0, 1, 5, 1], 5)(np.array([[2, 3, 0]], "int32"))),
                                  [[5, 1, 0, 0, 0]])
    cos = np.asarray(GroupCosine([[0, 2]])([np.array([[1., 1.]]), np.array([[1., 0.]])]))
    np.testing.assert_allclose(cos, [[np.sqrt(0.5)]], rtol=1e-4)


def _specs(texts, name="text_input"):
    return {name: TextVectorizer(max_features=300).fit(texts).specs()}


@pytest.mark.parametrize("block_type, values", [
    ("ngram", {"text_block_1/ngrams": "chars", "text_block_1/max_features": 2000}),
    ("sequence", {"text_block_1/sequence_model": "cnn"}),
    ("sequence", {"text_block_1/sequence_model": "rnn"}),
    ("transformer", {}),
])
def test_text_block_types_build_models_on_the_features_they_use(block_type, values):
    texts, _ = sentiment(1)
    node = ak.TextInput(name="text_input")
    out = ak.ClassificationHead(num_classes=2, name="head")(ak.TextBlock(block_type=block_type, name="text_block_1")(node))
    graph = Graph([node], [out])
    graph.heads[0].configure({"num_classes": 2, "multi_label": False})
    hp = HyperParameters(values=values)
    model = graph.build(hp, _specs(texts))
    uses_tfidf = any(isinstance(layer, ColumnSlices) for layer in model.layers)
    uses_tokens = any(isinstance(layer, TokenClip) for layer in model.layers)
    assert (uses_tfidf, uses_tokens) == (block_type == "ngram", block_type != "ngram")
    if block_type == "ngram":  # only the character n-gram columns are kept
        kept = [layer for layer in model.layers if isinstance(layer, ColumnSlices)][0].ranges
        start, stop = _specs(texts)["text_input"]["meta"]["groups"]["char"]
        assert kept == [[start, stop]]
    arrays = {f"text_input__{k}": v for k, v in TextVectorizer(max_features=300).fit(texts).transform(texts).items()}
    assert model.predict(arrays, verbose=0).shape == (len(texts), 1)


def test_wired_embedding_conv_rnn_transformer_and_reduction_blocks():
    texts, _ = sentiment(1)
    node = ak.TextInput(name="text_input")
    conv = ak.TemporalReduction("global_max")(ak.ConvBlock(num_blocks=1, filters=8)(ak.Embedding(embedding_dim=16)(node)))
    rnn = ak.RNNBlock(layer_type="lstm", bidirectional=True, units=8)(node)
    trans = ak.TemporalReduction("global_avg")(ak.Transformer(embedding_dim=16, num_heads=2)(node))
    out = ak.RegressionHead(output_dim=1, name="head")(ak.Merge(merge_type="concatenate")([conv, rnn, trans]))
    graph = Graph([node], [out])
    graph.heads[0].configure({"output_dim": 1, "mean": [0.0], "scale": [1.0]})
    model = graph.build(HyperParameters(), _specs(texts))
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"Conv1D", "Bidirectional", "MultiHeadAttention", "GlobalMaxPooling1D"} <= kinds
    with pytest.raises(ValueError, match="downloads nothing"):
        ak.Embedding(pretraining="glove")
    with pytest.raises(ValueError, match="block_type must be one of"):
        ak.TextBlock(block_type="lstm")
    fresh = ak.TextInput(name="text_input")
    bert = ak.ClassificationHead(num_classes=2)(ak.BertBlock(name="bert")(fresh))
    with pytest.raises(GraphError, match="weights_path"):
        bert_graph = Graph([fresh], [bert])
        bert_graph.heads[0].configure({"num_classes": 2, "multi_label": False})
        bert_graph.build(HyperParameters(), _specs(texts))


# -- tasks end to end --------------------------------------------------------
def test_text_classifier_learns_exports_and_loads_a_model_that_takes_raw_strings(tmp_path):
    x, y = sentiment(4)
    clf = ak.TextClassifier(directory=tmp_path, epochs=25, **FAST)
    clf.fit(pd.Series(x), np.array(y))
    first = clf.study_.trials[0].params
    assert first["text_block_1/block_type"] == "ngram"  # the known-good n-gram MLP is tried first
    test = ["great fun", "awful and boring", "", "ünïcödé only"]
    labels = clf.predict(test)
    assert list(labels[:2]) == ["pos", "neg"]
    proba = clf.predict_proba(test)
    assert proba.shape == (4, 2) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    loss, accuracy = clf.evaluate(x, y)
    assert accuracy >= 0.9
    assert isinstance(clf.export_model(), keras.Model)
    saved = clf.save(tmp_path / "exported")
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["inputs"][0]["preprocessor"]["class"] == "TextVectorizer"
    assert not list(saved.glob("*.pkl")) and not list(saved.glob("*.pickle"))
    loaded = ak.load_model(saved)
    np.testing.assert_allclose(loaded.predict_proba(np.array(test)), proba, rtol=1e-5, atol=1e-6)


def test_text_classifier_reads_a_folder_of_class_subfolders(tmp_path):
    x, y = sentiment(2)
    for i, (text, label) in enumerate(zip(x, y)):
        folder = tmp_path / "data" / label
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i}.txt").write_text(text, encoding="utf-8")
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "a.txt").write_text("great fun", encoding="utf-8")
    clf = ak.TextClassifier(directory=tmp_path, epochs=2, **FAST)
    clf.fit(str(tmp_path / "data"))
    assert list(clf.classes_) == ["neg", "pos"]
    assert clf.predict(str(tmp_path / "new")).shape == (1,)
    # the folder's files are x: evaluating the folder scores what predict says of x
    assert clf.evaluate(str(tmp_path / "data"))[1] == pytest.approx(float((clf.predict(x) == y).mean()), abs=1e-6)
    with pytest.raises(ValueError, match="do not pass y"):
        clf.fit(str(tmp_path / "data"), y)


def test_text_regressor_and_sentence_pair_auto_model(tmp_path):
    words = "cat dog bird fish horse cow sheep goat lion tiger bear wolf".split()
    rng = np.random.default_rng(0)
    first, second, score = [], [], []
    for _ in range(80):
        a = list(rng.choice(words, 4, replace=False))
        keep = int(rng.integers(0, 5))
        b = a[:keep] + list(rng.choice([w for w in words if w not in a], 4 - keep, replace=False))
        first.append(" ".join(a)); second.append(" ".join(rng.permutation(b))); score.append(float(keep))
    pair = ak.AutoModel(inputs=[ak.TextInput(), ak.TextInput()], outputs=ak.RegressionHead(), directory=tmp_path,
                        project_name="pair", **FAST)
    pair.fit([first, second], np.array(score), epochs=30)
    assert [type(b).__name__ for b in pair.graph_.blocks] == ["TextBlock", "RegressionHead"]  # one shared encoder
    predicted = pair.predict([first, second])
    assert np.corrcoef(predicted, score)[0, 1] > 0.8  # the TF-IDF overlap of the two texts is learned
    loaded = ak.load_model(pair.save(tmp_path / "pair_model"))
    np.testing.assert_allclose(loaded.predict([first[:5], second[:5]]), predicted[:5], rtol=1e-4, atol=1e-4)

    reg = ak.TextRegressor(directory=tmp_path, epochs=2, **FAST)
    assert reg.fit(first, score).predict(first[:3]).shape == (3,)


def test_text_tasks_reject_bad_input_naming_the_argument(tmp_path):
    clf = ak.TextClassifier(directory=tmp_path, epochs=1, **FAST)
    with pytest.raises(TypeError, match=r"x\[2\] must be a string"):
        clf.fit(["a", "b", 3.0, "d"], ["p", "n", "p", "n"])
    with pytest.raises(ValueError, match="empty"):
        clf.fit(["", " "] * 10, ["p", "n"] * 10)
    with pytest.raises(ValueError, match="x has 4 rows but y has 3"):
        clf.fit(["a", "b", "c", "d"], ["p", "n", "p"])
    with pytest.raises(ValueError, match="single class"):
        clf.fit(["a b", "c d", "e f"] * 5, ["p"] * 15)
    with pytest.raises(ValueError, match="y is required"):
        clf.fit(["a", "b"])


def test_text_classifier_on_a_slice_of_sms_spam(tmp_path):
    frame = pd.read_csv(data_file("sms_spam_120.csv.gz"))  # 40 spam and 80 ham messages
    clf = ak.TextClassifier(directory=tmp_path, epochs=20, **FAST)
    clf.fit(frame.text.to_numpy(), frame.label.to_numpy())
    assert set(clf.predict(frame.text.head(10).tolist())) <= {"ham", "spam"}
    assert clf.evaluate(frame.text.tolist(), frame.label.to_numpy())[1] >= 0.9
